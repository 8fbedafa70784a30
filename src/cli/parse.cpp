#include "cli/parse.hpp"

#include <boost/program_options.hpp>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "cli/suggest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* positional_key = "__positional";

std::string help_hint(const CommandSpec* cmd) {
    if (cmd == nullptr) return "see `karapace --help`";
    return "see `karapace help " + std::string(cmd->name) + "`";
}

// The hint is the specific advice (if any) on its first line, then where to read more.
[[noreturn]] void usage_error(const CommandSpec* cmd, const std::string& message,
                              const std::string& extra_hint = {}) {
    std::string hint = extra_hint.empty() ? help_hint(cmd) : extra_hint + "\n" + help_hint(cmd);
    throw Error(Errc::usage, message, hint);
}

const FlagSpec* find_flag(std::span<const FlagSpec> flags, std::string_view long_name) {
    for (const auto& f : flags)
        if (f.name == long_name) return &f;
    return nullptr;
}

// The global option `token` names, if any ("--store", "--store=x", "-v", "-vv", "-h").
const FlagSpec* global_for_token(std::string_view token) {
    if (token.starts_with("--")) {
        std::string_view name = token.substr(2);
        name = name.substr(0, name.find('='));
        return find_flag(global_flags(), name);
    }
    if (token.size() >= 2 && token[0] == '-') {
        // Short globals are switches; a cluster like -vv is valid only if every letter is one.
        const FlagSpec* first = nullptr;
        for (char c : token.substr(1)) {
            const FlagSpec* match = nullptr;
            for (const auto& f : global_flags())
                if (f.short_name == c) match = &f;
            if (match == nullptr || match->kind != FlagKind::boolean) return nullptr;
            if (first == nullptr) first = match;
        }
        return first;
    }
    return nullptr;
}

std::vector<std::string> flag_candidates(const CommandSpec* cmd) {
    std::vector<std::string> names;
    for (const auto& f : global_flags())
        names.emplace_back(f.name);
    if (cmd != nullptr)
        for (const auto& f : cmd->flags)
            names.emplace_back(f.name);
    return names;
}

// `ahead` is the command word that follows an option given before it, if any.
[[noreturn]] void unknown_option(const CommandSpec* cmd, const std::string& token,
                                 const CommandSpec* ahead = nullptr) {
    std::string bare = token;
    while (!bare.empty() && bare.front() == '-')
        bare.erase(0, 1);
    bare = bare.substr(0, bare.find('='));
    std::string where = cmd == nullptr ? "karapace" : "karapace " + std::string(cmd->name);
    std::string extra;
    if (auto m = closest_match(bare, flag_candidates(cmd)); m && bare.size() > 1)
        extra = "did you mean --" + *m + "?";
    else if (cmd == nullptr && ahead != nullptr && find_flag(ahead->flags, bare) != nullptr)
        // A command's own option given before the command.
        extra = "command options go after the command: `karapace " + std::string(ahead->name) +
                " --" + bare + " ...`";
    usage_error(cmd, "unknown option '" + token + "' for `" + where + "`", extra);
}

void check_number(const CommandSpec* cmd, const FlagSpec& f, const std::string& text) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0' || errno != 0 || !std::isfinite(v) ||
        v < 0 || !(std::isdigit(static_cast<unsigned char>(text.front())) || text.front() == '.'))
        usage_error(cmd, "--" + std::string(f.name) + " expects a non-negative number of " +
                             std::string(f.value_name) + ", not '" + text + "'");
}

void check_choice(const CommandSpec* cmd, std::string_view what, ChoiceList choices,
                  const std::string& value) {
    if (choices == nullptr) return;
    const std::vector<std::string> known = choices();
    for (const auto& k : known)
        if (k == value) return;
    std::string extra = "expected one of: " + join(known);
    if (auto m = closest_match(value, known)) extra = "did you mean '" + *m + "'? " + extra;
    usage_error(cmd, "unknown " + std::string(what) + " '" + value + "'", extra);
}

void check_value(const CommandSpec* cmd, const FlagSpec& f, const std::string& value) {
    if (f.type == ValueType::number) check_number(cmd, f, value);
    if (f.type == ValueType::choice)
        check_choice(cmd, "--" + std::string(f.name), f.choices, value);
    if (f.kind != FlagKind::boolean && value.empty())
        usage_error(cmd,
                    "--" + std::string(f.name) + " needs a non-empty " + std::string(f.value_name));
}

void add_flags(po::options_description& desc, std::span<const FlagSpec> flags) {
    for (const auto& f : flags) {
        std::string spec(f.name);
        if (f.short_name != 0) {
            spec += ',';
            spec += f.short_name;
        }
        if (f.kind == FlagKind::boolean)
            desc.add_options()(spec.c_str(), po::value<std::string>()->zero_tokens(), "");
        else
            desc.add_options()(spec.c_str(), po::value<std::string>(), "");
    }
}

void apply_global(Globals& g, const CommandSpec* cmd, const FlagSpec& f,
                  const std::vector<std::string>& values, bool seen_before) {
    const std::string value = values.empty() ? std::string() : values.front();
    if (f.kind == FlagKind::value && seen_before)
        usage_error(cmd, "--" + std::string(f.name) + " was given more than once");
    check_value(cmd, f, value);
    if (f.name == "store")
        g.store = lexically_absolute(value, std::filesystem::current_path().string());
    else if (f.name == "json")
        g.json = true;
    else if (f.name == "verbose")
        ++g.verbosity;
    else if (f.name == "trace")
        g.trace = true;
    else if (f.name == "lock-timeout")
        g.lock_timeout = std::strtod(value.c_str(), nullptr);
    else if (f.name == "version")
        g.version = true;
    else if (f.name == "help")
        g.help = true;
}

void check_positionals(Invocation& inv) {
    const CommandSpec* cmd = inv.command;
    const auto& specs = cmd->positionals;
    const bool variadic = !specs.empty() && specs.back().variadic;
    if (inv.positionals.size() > specs.size() && !variadic) {
        const std::string& extra = inv.positionals[specs.size()];
        std::string hint;
        if (cmd->trailing != Trailing::none) {
            std::string example = "karapace " + std::string(cmd->name);
            for (std::size_t i = 0; i < inv.positionals.size(); ++i)
                example += (i == specs.size() ? " -- " : " ") + inv.positionals[i];
            hint = "the command to run goes after --: `" + example + "`";
        }
        usage_error(
            cmd,
            "unexpected argument '" + extra + "' for `karapace " + std::string(cmd->name) + "`",
            hint);
    }
    for (std::size_t i = 0; i < specs.size(); ++i) {
        const PositionalSpec& p = specs[i];
        if (i >= inv.positionals.size()) {
            if (p.required && !inv.globals.help)
                usage_error(cmd,
                            "`karapace " + std::string(cmd->name) + "` needs " +
                                positional_label(p) + " (" + std::string(p.help) + ")",
                            "usage: " + usage_line(*cmd));
            continue;
        }
        const std::string& v = inv.positionals[i];
        if (v.empty()) usage_error(cmd, positional_label(p) + " must not be empty");
        if (p.variadic)
            for (std::size_t j = i + 1; j < inv.positionals.size(); ++j)
                if (inv.positionals[j].empty())
                    usage_error(cmd, positional_label(p) + " must not be empty");
        if (p.type == ValueType::choice) check_choice(cmd, std::string(p.name), p.choices, v);
        if (p.type == ValueType::command && find_command(v) == nullptr)
            check_choice(cmd, "command", command_names, v);
    }
}

}  // namespace

bool Invocation::flag(std::string_view name) const { return options.find(name) != options.end(); }

std::string Invocation::value(std::string_view name, std::string_view fallback) const {
    if (auto it = options.find(name); it != options.end() && !it->second.empty())
        return it->second.back();
    if (command != nullptr)
        if (const FlagSpec* f = find_flag(command->flags, name); f && !f->default_value.empty())
            return std::string(f->default_value);
    return std::string(fallback);
}

std::vector<std::string> Invocation::values(std::string_view name) const {
    if (auto it = options.find(name); it != options.end()) return it->second;
    return {};
}

std::string Invocation::positional(std::string_view name) const {
    if (command == nullptr) return {};
    for (std::size_t i = 0; i < command->positionals.size(); ++i) {
        if (command->positionals[i].name != name) continue;
        if (i < positionals.size()) return positionals[i];
        return std::string(command->positionals[i].default_value);
    }
    return {};
}

std::vector<std::string> Invocation::positional_list(std::string_view name) const {
    if (command == nullptr) return {};
    for (std::size_t i = 0; i < command->positionals.size(); ++i) {
        if (command->positionals[i].name != name) continue;
        if (i >= positionals.size()) return {};
        return {positionals.begin() + static_cast<std::ptrdiff_t>(i), positionals.end()};
    }
    return {};
}

bool Invocation::has_positional(std::string_view name) const {
    if (command == nullptr) return false;
    for (std::size_t i = 0; i < command->positionals.size() && i < positionals.size(); ++i)
        if (command->positionals[i].name == name) return true;
    return false;
}

std::string Invocation::store_root() const {
    return globals.store.empty() ? default_store_root() : globals.store;
}

bool wants_json(const std::vector<std::string>& args) {
    for (const auto& a : args) {
        if (a == "--") break;
        if (a == "--json") return true;
    }
    return false;
}

Invocation parse_command_line(const std::vector<std::string>& args) {
    Invocation inv;

    // Split off everything after the first `--`.
    std::vector<std::string> before;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--") {
            inv.has_separator = true;
            inv.trailing.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        before.push_back(args[i]);
    }

    // Find the command word: the first argument that is neither a global option nor its value.
    std::size_t command_index = before.size();
    for (std::size_t i = 0; i < before.size(); ++i) {
        const std::string& a = before[i];
        if (a.size() < 2 || a[0] != '-') {
            command_index = i;
            break;
        }
        const FlagSpec* g = global_for_token(a);
        if (g == nullptr) {
            const CommandSpec* ahead = nullptr;
            for (std::size_t j = i + 1; j < before.size() && ahead == nullptr; ++j)
                if (!before[j].starts_with("-")) ahead = find_command(before[j]);
            unknown_option(nullptr, a, ahead);
        }
        if (g->kind != FlagKind::boolean && a.find('=') == std::string::npos) ++i;
    }
    if (command_index < before.size()) {
        const std::string& word = before[command_index];
        inv.command = find_command(word);
        if (inv.command == nullptr) {
            std::string extra;
            if (auto m = closest_match(word, command_names())) extra = "did you mean `" + *m + "`?";
            usage_error(nullptr, "unknown command '" + word + "'", extra);
        }
        before.erase(before.begin() + static_cast<std::ptrdiff_t>(command_index));
    }

    po::options_description desc;
    add_flags(desc, global_flags());
    if (inv.command != nullptr) add_flags(desc, inv.command->flags);
    po::positional_options_description pos;
    pos.add(positional_key, -1);
    desc.add_options()(positional_key, po::value<std::vector<std::string>>(), "");

    po::parsed_options parsed(&desc);
    try {
        // No abbreviations: `--for` must not silently mean `--force`.
        const int style =
            po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
        parsed = po::command_line_parser(before).options(desc).positional(pos).style(style).run();
    } catch (const po::unknown_option& e) {
        unknown_option(inv.command, e.get_option_name());
    } catch (const po::error& e) {
        usage_error(inv.command, e.what());
    }

    std::map<std::string, int, std::less<>> seen;
    for (const po::option& o : parsed.options) {
        if (o.string_key == positional_key) {
            for (const auto& v : o.value)
                inv.positionals.push_back(v);
            continue;
        }
        const bool seen_before = seen[o.string_key]++ > 0;
        if (const FlagSpec* g = find_flag(global_flags(), o.string_key)) {
            apply_global(inv.globals, inv.command, *g, o.value, seen_before);
            continue;
        }
        const FlagSpec* f = find_flag(inv.command->flags, o.string_key);
        const std::string value = o.value.empty() ? std::string("true") : o.value.front();
        if (f->kind == FlagKind::value && seen_before)
            usage_error(inv.command, "--" + o.string_key + " was given more than once");
        check_value(inv.command, *f, value);
        inv.options[o.string_key].push_back(value);
    }

    if (inv.command == nullptr) {
        if (!inv.positionals.empty() || inv.has_separator)
            usage_error(nullptr, "expected a command before '" +
                                     (inv.positionals.empty() ? "--" : inv.positionals[0]) + "'");
        return inv;
    }

    // Without a command to run, `--` only ends the options: what follows is positional.
    if (inv.command->trailing == Trailing::none && inv.has_separator) {
        inv.positionals.insert(inv.positionals.end(), inv.trailing.begin(), inv.trailing.end());
        inv.trailing.clear();
    }
    check_positionals(inv);
    if (inv.command->trailing == Trailing::required && inv.trailing.empty() && !inv.globals.help)
        usage_error(inv.command,
                    "`karapace " + std::string(inv.command->name) + "` needs a command after --",
                    "usage: " + usage_line(*inv.command));
    return inv;
}

}  // namespace karapace::cli
