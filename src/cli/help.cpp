#include "cli/help.hpp"

#include <algorithm>
#include <vector>

#include "cli/suggest.hpp"

namespace karapace::cli {

namespace {

constexpr std::size_t text_width = 80;

// Two-column rows: "  label   help", help wrapped under itself.
// `col` 0 sizes the label column to the longest label.
std::string rows(const std::vector<std::pair<std::string, std::string>>& items,
                 std::size_t col = 0) {
    for (const auto& [label, _] : items)
        col = std::max(col, label.size());
    col = std::min<std::size_t>(col, 28);
    std::string out;
    for (const auto& [label, help] : items) {
        std::string line = "  " + label;
        if (label.size() > col) {
            line += "\n" + std::string(col + 4, ' ');
        } else {
            line += std::string(col - label.size() + 2, ' ');
        }
        line += wrap(help, col + 4, text_width);
        out += line + "\n";
    }
    return out;
}

std::string flag_help(const FlagSpec& f) {
    std::string h(f.help);
    if (f.choices != nullptr) h += " (" + join(f.choices()) + ")";
    if (!f.default_value.empty()) h += " [default: " + std::string(f.default_value) + "]";
    return h;
}

std::string flags_section(std::string_view title, std::span<const FlagSpec> flags) {
    std::vector<std::pair<std::string, std::string>> items;
    for (const auto& f : flags)
        items.emplace_back(flag_label(f), flag_help(f));
    return std::string(title) + ":\n" + rows(items);
}

}  // namespace

std::string wrap(std::string_view text, std::size_t indent, std::size_t width) {
    std::string out;
    std::size_t col = indent;
    std::size_t i = 0;
    bool first = true;
    while (i < text.size()) {
        std::size_t j = text.find(' ', i);
        if (j == std::string_view::npos) j = text.size();
        std::string_view word = text.substr(i, j - i);
        i = j + 1;
        if (word.empty()) continue;
        if (!first && col + 1 + word.size() > width) {
            out += "\n" + std::string(indent, ' ');
            col = indent;
        } else if (!first) {
            out += ' ';
            ++col;
        }
        out += word;
        col += word.size();
        first = false;
    }
    return out;
}

std::string main_help() {
    std::string out =
        "karapace - reproducible, rootless development environments\n\n"
        "Usage: karapace [GLOBAL OPTIONS] COMMAND [ARGS...]\n";
    // One label column for all sections, so the summaries line up.
    std::size_t col = 0;
    for (const auto& c : commands())
        col = std::max(col, c.name.size());
    std::string_view section;
    std::vector<std::pair<std::string, std::string>> items;
    auto flush = [&] {
        if (!items.empty()) out += "\n" + std::string(section) + ":\n" + rows(items, col);
        items.clear();
    };
    for (const auto& c : commands()) {
        if (c.section != section) {
            flush();
            section = c.section;
        }
        items.emplace_back(std::string(c.name), std::string(c.summary));
    }
    flush();
    out += "\n" + flags_section("Global options (before or after the command)", global_flags());
    out += "\nEnvironment: KARAPACE_STORE (store root), KARAPACE_LOG (log level), NO_COLOR.\n";
    out += "Run `karapace help COMMAND` for a command's arguments and options.\n";
    return out;
}

std::string command_help(const CommandSpec& cmd) {
    std::string out = "Usage: " + usage_line(cmd) + "\n\n";
    out += wrap(std::string(cmd.summary) + ".", 0, text_width) + "\n\n";
    out += wrap(cmd.description, 0, text_width) + "\n";
    if (!cmd.positionals.empty() || cmd.trailing != Trailing::none) {
        std::vector<std::pair<std::string, std::string>> items;
        for (const auto& p : cmd.positionals) {
            const std::string label = positional_label(p);
            std::string help(p.help);
            if (p.choices != nullptr) help += " (" + join(p.choices()) + ")";
            if (!p.default_value.empty())
                help += " [default: " + std::string(p.default_value) + "]";
            items.emplace_back(label, help);
        }
        if (cmd.trailing != Trailing::none)
            items.emplace_back(std::string(cmd.trailing_name) + "...",
                               cmd.trailing == Trailing::required
                                   ? "command line to run, after --"
                                   : "command line to run instead of a shell, after --");
        out += "\nArguments:\n" + rows(items);
    }
    if (!cmd.flags.empty()) out += "\n" + flags_section("Options", cmd.flags);
    out += "\n" + flags_section("Global options", global_flags());
    if (!cmd.json_shape.empty())
        out += "\n" + wrap("With --json: " + std::string(cmd.json_shape), 0, text_width) + "\n";
    return out;
}

}  // namespace karapace::cli
