#include "cli/parse.hpp"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "cli/suggest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::cli {

namespace {

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

// The option a short letter names among the global options and the command's, if any.
const FlagSpec* find_short(const CommandSpec* cmd, char letter) {
    for (const auto& f : global_flags())
        if (f.short_name == letter) return &f;
    if (cmd != nullptr)
        for (const auto& f : cmd->flags)
            if (f.short_name == letter) return &f;
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
            const FlagSpec* match = find_short(nullptr, c);
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

const FlagSpec* find_long(const CommandSpec* cmd, std::string_view name) {
    if (const FlagSpec* g = find_flag(global_flags(), name)) return g;
    return cmd == nullptr ? nullptr : find_flag(cmd->flags, name);
}

// One option as written: the flag and its value (empty for a switch).
struct GivenOption {
    const FlagSpec* flag;
    std::string value;
};

// Splits the arguments (the command word and everything from `--` on removed) into options and
// positionals. `--name=VALUE` and `--name VALUE`; `-x` switches may be clustered (`-vh`), and
// the last letter of a cluster may take a value, written on (`-eK=V`) or as the next argument.
// A value is taken as written, even when it starts with '-'. A lone "-" is a positional.
void split_arguments(const CommandSpec* cmd, const std::vector<std::string>& args,
                     std::vector<GivenOption>& options, std::vector<std::string>& positionals) {
    auto next_value = [&](std::size_t& i, const FlagSpec& f) {
        if (i + 1 >= args.size())
            usage_error(cmd, "--" + std::string(f.name) + " needs a value (" +
                                 std::string(f.value_name) + ")");
        return args[++i];
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() < 2 || a[0] != '-') {
            positionals.push_back(a);
        } else if (a[1] == '-') {
            const auto eq = a.find('=');
            const std::string_view name = std::string_view(a).substr(2, eq - 2);
            const FlagSpec* f = find_long(cmd, name);
            if (f == nullptr) unknown_option(cmd, a.substr(0, eq));
            if (eq == std::string::npos)
                options.push_back(
                    {f, f->kind == FlagKind::boolean ? std::string() : next_value(i, *f)});
            else if (f->kind == FlagKind::boolean)
                usage_error(cmd, "--" + std::string(f->name) + " takes no value, not '" +
                                     a.substr(eq + 1) + "'");
            else
                options.push_back({f, a.substr(eq + 1)});
        } else {
            for (std::size_t j = 1; j < a.size(); ++j) {
                const FlagSpec* f = find_short(cmd, a[j]);
                if (f == nullptr) unknown_option(cmd, a);
                if (f->kind == FlagKind::boolean) {
                    options.push_back({f, {}});
                    continue;
                }
                options.push_back({f, j + 1 < a.size() ? a.substr(j + 1) : next_value(i, *f)});
                break;
            }
        }
    }
}

void apply_global(Globals& g, const CommandSpec* cmd, const FlagSpec& f, const std::string& value,
                  bool seen_before) {
    if (f.kind == FlagKind::value && seen_before)
        usage_error(cmd, "--" + std::string(f.name) + " was given more than once");
    check_value(cmd, f, value);
    if (f.name == "store")
        g.store = lexically_absolute(value);
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

    std::vector<GivenOption> given;
    split_arguments(inv.command, before, given, inv.positionals);
    std::map<std::string_view, int, std::less<>> seen;
    for (const GivenOption& o : given) {
        const FlagSpec& f = *o.flag;
        const bool seen_before = seen[f.name]++ > 0;
        if (find_flag(global_flags(), f.name) == &f) {
            apply_global(inv.globals, inv.command, f, o.value, seen_before);
            continue;
        }
        if (f.kind == FlagKind::value && seen_before)
            usage_error(inv.command, "--" + std::string(f.name) + " was given more than once");
        const std::string value = f.kind == FlagKind::boolean ? std::string("true") : o.value;
        check_value(inv.command, f, value);
        inv.options[std::string(f.name)].push_back(value);
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
