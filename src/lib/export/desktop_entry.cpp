#include "karapace/export/desktop_entry.hpp"

#include <set>
#include <utility>

#include "karapace/util/error.hpp"

namespace karapace::exports {

namespace {

bool key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

[[noreturn]] void bad_line(const std::string& origin, std::size_t number, const std::string& why) {
    throw Error(Errc::failed, origin + ", line " + std::to_string(number) + ": " + why,
                "the application's desktop entry is not a valid key file; report it to its "
                "packager or export another application");
}

}  // namespace

DesktopEntry DesktopEntry::parse(std::string_view text, const std::string& origin) {
    DesktopEntry entry;
    std::size_t number = 0;
    // Keys (with locale) of the current group. Readers disagree on which of two equal keys wins
    // (GLib takes the last, this parser's get() the first), so a launcher could rewrite one Exec
    // and leave the other to run on the host.
    std::set<std::pair<std::string, std::string>> keys;
    std::set<std::string> group_names;
    while (!text.empty()) {
        auto end = text.find('\n');
        auto raw = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        ++number;
        auto line = trim(raw);
        if (line.empty() || line.front() == '#') {
            DesktopLine l;
            l.text = std::string(line);
            if (entry.groups_.empty())
                entry.preamble_.push_back(l.text);
            else
                entry.groups_.back().lines.push_back(std::move(l));
            continue;
        }
        if (line.front() == '[') {
            if (line.back() != ']' || line.size() < 3)
                bad_line(origin, number, "a group header must look like [Group Name]");
            auto name = std::string(line.substr(1, line.size() - 2));
            for (char c : name)
                if (c == '[' || c == ']' || static_cast<unsigned char>(c) < 0x20)
                    bad_line(origin, number, "invalid group name '" + name + "'");
            // A set, not a scan of the groups: an entry of the environment may hold 1 MiB of them.
            if (!group_names.insert(name).second)
                bad_line(origin, number, "group [" + name + "] appears twice");
            entry.groups_.push_back({name, {}});
            keys.clear();
            continue;
        }
        if (entry.groups_.empty()) bad_line(origin, number, "a key comes before any [group]");
        auto eq = line.find('=');
        if (eq == std::string_view::npos) bad_line(origin, number, "expected Key=Value");
        auto lhs = trim(line.substr(0, eq));
        DesktopLine l;
        l.value = std::string(trim(line.substr(eq + 1)));
        auto bracket = lhs.find('[');
        if (bracket != std::string_view::npos) {
            if (lhs.back() != ']' || bracket + 2 > lhs.size() - 1)
                bad_line(origin, number, "a localised key must look like Key[locale]");
            l.locale = std::string(lhs.substr(bracket + 1, lhs.size() - bracket - 2));
            lhs = lhs.substr(0, bracket);
        }
        if (lhs.empty()) bad_line(origin, number, "empty key");
        for (char c : lhs)
            if (!key_char(c)) bad_line(origin, number, "invalid key '" + std::string(lhs) + "'");
        l.key = std::string(lhs);
        if (!keys.emplace(l.key, l.locale).second)
            bad_line(origin, number,
                     "key '" + l.key + (l.locale.empty() ? "" : "[" + l.locale + "]") +
                         "' appears twice");
        entry.groups_.back().lines.push_back(std::move(l));
    }
    return entry;
}

std::string DesktopEntry::render() const {
    std::string out;
    for (const auto& p : preamble_)
        out += p + "\n";
    for (const auto& g : groups_) {
        out += "[" + g.name + "]\n";
        for (const auto& l : g.lines) {
            if (l.key.empty()) {
                out += l.text + "\n";
                continue;
            }
            out += l.key;
            if (!l.locale.empty()) out += "[" + l.locale + "]";
            out += "=" + l.value + "\n";
        }
    }
    return out;
}

DesktopGroup* DesktopEntry::group(std::string_view name) {
    for (auto& g : groups_)
        if (g.name == name) return &g;
    return nullptr;
}

const DesktopGroup* DesktopEntry::group(std::string_view name) const {
    for (const auto& g : groups_)
        if (g.name == name) return &g;
    return nullptr;
}

std::optional<std::string> DesktopEntry::get(std::string_view group_name,
                                             std::string_view key) const {
    const auto* g = group(group_name);
    if (g == nullptr) return std::nullopt;
    for (const auto& l : g->lines)
        if (l.key == key && l.locale.empty()) return l.value;
    return std::nullopt;
}

void DesktopEntry::set(std::string_view group_name, std::string_view key,
                       const std::string& raw_value) {
    auto* g = group(group_name);
    if (g == nullptr) {
        groups_.push_back({std::string(group_name), {}});
        g = &groups_.back();
    }
    for (auto& l : g->lines)
        if (l.key == key && l.locale.empty()) {
            l.value = raw_value;
            return;
        }
    // After the group's last key, so trailing blank lines stay between the groups.
    auto at = g->lines.end();
    while (at != g->lines.begin() && std::prev(at)->key.empty())
        --at;
    DesktopLine l;
    l.key = std::string(key);
    l.value = raw_value;
    g->lines.insert(at, std::move(l));
}

void DesktopEntry::remove(std::string_view group_name, std::string_view key) {
    auto* g = group(group_name);
    if (g == nullptr) return;
    std::erase_if(g->lines, [&](const DesktopLine& l) { return l.key == key; });
}

std::string unescape_value(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '\\' || i + 1 == raw.size()) {
            out += raw[i];
            continue;
        }
        switch (raw[++i]) {
        case 's': out += ' '; break;
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case '\\': out += '\\'; break;
        // Anything else is kept as written: `\;` belongs to the list syntax.
        default: out += '\\'; out += raw[i];
        }
    }
    return out;
}

std::string escape_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default: out += c;
        }
    }
    // A leading space would be trimmed by readers.
    if (!out.empty() && out.front() == ' ') out.replace(0, 1, "\\s");
    return out;
}

std::vector<std::string> split_list(std::string_view raw) {
    std::vector<std::string> out;
    std::string cur;
    for (std::size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] == '\\' && i + 1 < raw.size() && raw[i + 1] == ';') {
            cur += ';';
            ++i;
        } else if (raw[i] == ';') {
            out.push_back(std::move(cur));
            cur.clear();
        } else {
            cur += raw[i];
        }
    }
    if (!cur.empty()) out.push_back(std::move(cur));
    return out;
}

}  // namespace karapace::exports
