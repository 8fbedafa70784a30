// Desktop Entry files (freedesktop.org Desktop Entry Specification 1.5): a parser that keeps
// groups, keys, locales and comments in file order, so a launcher rewritten from an application's
// entry differs from it only in the keys that were changed.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::exports {

struct DesktopLine {
    std::string key;     // empty for a comment or blank line
    std::string locale;  // "de_DE" for Name[de_DE]; empty for the unlocalised key
    std::string value;   // raw value, escapes (\s \n \t \r \\) kept as written
    std::string text;    // the whole line when it is a comment or blank
};

struct DesktopGroup {
    std::string name;  // "Desktop Entry", "Desktop Action new-window", ...
    std::vector<DesktopLine> lines;
};

class DesktopEntry {
public:
    // Error(failed) naming `origin` and the line for text that is not a key file.
    static DesktopEntry parse(std::string_view text, const std::string& origin);
    std::string render() const;

    std::vector<std::string>& preamble() noexcept { return preamble_; }
    std::vector<DesktopGroup>& groups() noexcept { return groups_; }
    const std::vector<DesktopGroup>& groups() const noexcept { return groups_; }
    DesktopGroup* group(std::string_view name);
    const DesktopGroup* group(std::string_view name) const;

    // The raw value of `key` (unlocalised) in `group`, or nullopt.
    std::optional<std::string> get(std::string_view group, std::string_view key) const;
    // Sets the unlocalised key, replacing it in place or appending it to the group.
    void set(std::string_view group, std::string_view key, const std::string& raw_value);
    // Removes the key and every localised variant of it.
    void remove(std::string_view group, std::string_view key);

private:
    std::vector<std::string> preamble_;  // comments before the first group
    std::vector<DesktopGroup> groups_;
};

// Value escapes of the `string` and `localestring` types.
std::string unescape_value(std::string_view raw);
std::string escape_value(std::string_view value);

// A `string(s)` list such as `Actions=new;private;` split at unescaped ';'.
std::vector<std::string> split_list(std::string_view raw);

}  // namespace karapace::exports
