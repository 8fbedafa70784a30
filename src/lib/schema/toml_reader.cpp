#include "schema/toml_reader.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <sstream>

#include "karapace/util/log.hpp"
#include "karapace/util/utf8.hpp"
#include "schema/text.hpp"
#include "schema/toml_scan.hpp"

namespace karapace::schema::detail {

namespace {

bool is_bare_key_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::vector<std::string> split_lines(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t nl = text.find('\n', start);
        if (nl == std::string_view::npos) {
            out.emplace_back(text.substr(start));
            break;
        }
        out.emplace_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    return out;
}

// One "  7 | source line" / "    |   ^--- note" pair of toml11's formatted error text.
struct Marker {
    Position pos;
    std::string note;
};

// toml11 reports syntax errors as formatted text whose underline markers are more precise than
// the exception's own location (which often points at the start of the line), so read them back.
std::vector<Marker> markers_of(std::string_view formatted) {
    std::vector<Marker> out;
    auto lines = split_lines(formatted);
    for (std::size_t i = 0; i + 1 < lines.size(); ++i) {
        const std::string& l = lines[i];
        std::size_t p = 0;
        while (p < l.size() && l[p] == ' ')
            ++p;
        std::size_t digits = p;
        while (digits < l.size() && l[digits] >= '0' && l[digits] <= '9')
            ++digits;
        if (digits == p || l.compare(digits, 3, " | ") != 0) {
            if (!(digits > p && l.size() == digits + 2 && l.compare(digits, 2, " |") == 0))
                continue;
        }
        const std::size_t content = digits + 3;
        const std::string& m = lines[i + 1];
        if (m.size() <= digits + 1 || m[digits + 1] != '|') continue;
        std::size_t caret = m.find_first_of("^~", digits + 2);
        if (caret == std::string::npos) continue;
        Marker mk;
        mk.pos.line = static_cast<unsigned>(std::stoul(l.substr(p, digits - p)));
        mk.pos.column = caret >= content ? static_cast<unsigned>(caret - content + 1) : 1;
        std::size_t note = m.find_first_not_of("^~-", caret);
        if (note != std::string::npos) mk.note = trim(std::string_view(m).substr(note));
        out.push_back(mk);
    }
    return out;
}

// The table header in force at `line` (1-based), e.g. "runtime.resource_limits", or "".
std::string header_before(const std::vector<std::string>& lines, unsigned line) {
    for (unsigned i = line; i-- > 0;) {
        if (i >= lines.size()) continue;
        std::string t = trim(lines[i]);
        if (t.empty() || t.front() != '[') continue;
        std::size_t close = t.find(']');
        if (close == std::string::npos) return {};
        std::string name = t.substr(0, close);
        name.erase(0, name.find_first_not_of("[ \t"));
        return trim(name);
    }
    return {};
}

[[noreturn]] void throw_syntax(const std::string& what, Position fallback, std::string_view text,
                               const TomlSource& src) {
    std::string first = what.substr(0, what.find('\n'));
    if (first.rfind("[error] ", 0) == 0) first.erase(0, 8);
    if (first.rfind("toml::", 0) == 0) {
        std::size_t colon = first.find(": ");
        if (colon != std::string::npos) first.erase(0, colon + 2);
    }
    while (!first.empty() && first.back() == '.')
        first.pop_back();

    auto marks = markers_of(what);
    Position pos = marks.empty() ? fallback : marks.back().pos;

    if (first.find("already exists") != std::string::npos ||
        first.find("cannot be defined") != std::string::npos) {
        auto lines = split_lines(text);
        std::string line = pos.line <= lines.size() ? trim(lines[pos.line - 1]) : std::string();
        std::string key;
        if (!line.empty() && line.front() == '[') {
            key = header_before(lines, pos.line);
        } else {
            std::string prefix = header_before(lines, pos.line);
            std::string name = trim(line.substr(0, line.find('=')));
            // Point at the key, like every other key error, not at the value toml11 marks.
            const std::string& raw = lines[pos.line - 1];
            std::size_t first = raw.find_first_not_of(" \t");
            if (first != std::string::npos && raw.find('=') != std::string::npos)
                pos.column = static_cast<unsigned>(first + 1);
            key = prefix.empty() ? name : prefix + "." + name;
        }
        std::string msg = !line.empty() && line.front() == '['
                              ? "table [" + key + "] is defined twice"
                              : "duplicate key '" + key + "'";
        if (marks.size() >= 2)
            msg += " (first defined at line " +
                   std::to_string(source_position(src, marks.front().pos).line) + ")";
        fail_at(src, pos, msg, "TOML allows each key and table once; remove one of them");
    }
    std::string msg = "TOML syntax error: " + first;
    const std::string& note = marks.empty() ? std::string() : marks.back().note;
    if (!note.empty() && note != "here" && note.rfind("should be", 0) != 0)
        msg += " (" + note + ")";
    fail_at(src, pos, msg, "fix the TOML syntax at that position");
}

// Levenshtein distance, to suggest the key a typo was meant to be.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diag = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diag = up;
        }
    }
    return row[b.size()];
}

std::optional<std::string> closest(std::string_view key, const std::vector<std::string>& known) {
    std::optional<std::string> best;
    std::size_t best_distance = 3;  // suggest only near misses
    for (const auto& k : known) {
        std::size_t d = edit_distance(key, k);
        if (d < best_distance && 2 * d < key.size()) {
            best_distance = d;
            best = k;
        }
    }
    return best;
}

}  // namespace

namespace {

// Where `text` stops being valid UTF-8 (overlong forms, surrogates and code points past U+10FFFF
// included), or nullopt when all of it is valid.
std::optional<std::size_t> invalid_utf8_at(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        char32_t cp = 0;
        std::size_t len = utf8_sequence(text.substr(i), cp);
        if (len == 0) return i;
        i += len;
    }
    return std::nullopt;
}

// Line and column (counted in characters) of byte `offset` of `text`.
Position position_at(std::string_view text, std::size_t offset) {
    Position pos{1, 1};
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++pos.line;
            pos.column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
            ++pos.column;
        }
    }
    return pos;
}

// Where parse_toml breaks lines: after each array comma of a source line longer than
// long_line_bytes. `too_long_at`: where a piece of a line that is not broken passes
// max_line_bytes (comments, which hold no values, not counted).
struct LineBreaks {
    std::vector<std::size_t> after;
    std::optional<std::size_t> too_long_at;
};

LineBreaks plan_line_breaks(std::string_view text, const TomlScan& scan) {
    LineBreaks plan;
    auto comma = scan.array_commas.begin();
    auto comment = scan.comments.begin();
    for (std::size_t start = 0; start < text.size();) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const bool long_line = end - start > long_line_bytes;
        while (comment != scan.comments.end() && *comment < start)
            ++comment;
        const std::size_t values_end =
            comment != scan.comments.end() && *comment < end ? *comment : end;
        std::size_t piece = start;  // where the piece being measured starts
        bool too_long = false;
        for (; comma != scan.array_commas.end() && *comma < end; ++comma) {
            if (!long_line || too_long) continue;
            too_long = *comma + 1 - piece > max_line_bytes;
            if (too_long) continue;
            plan.after.push_back(*comma + 1);
            piece = *comma + 1;
        }
        if (too_long || (values_end > piece && values_end - piece > max_line_bytes)) {
            plan.too_long_at = piece + max_line_bytes;
            return plan;
        }
        start = end + 1;
    }
    return plan;
}

// `text` with a line break at each of `after`; the lines this starts are recorded in `src`.
std::string insert_line_breaks(std::string_view text, const std::vector<std::size_t>& after,
                               TomlSource& src) {
    std::string out;
    out.reserve(text.size() + after.size());
    std::size_t copied = 0;
    std::size_t line_start = 0;
    unsigned line = 1;
    unsigned added = 0;
    for (std::size_t at : after) {
        for (std::size_t nl; (nl = text.find('\n', line_start)) < at;) {
            line_start = nl + 1;
            ++line;
        }
        out.append(text.substr(copied, at - copied));
        out += '\n';
        copied = at;
        ++added;
        src.broken_lines.push_back(
            {line + added, {line, static_cast<unsigned>(at - line_start + 1)}});
    }
    out.append(text.substr(copied));
    return out;
}

}  // namespace

Position source_position(const TomlSource& src, Position parsed) {
    const auto& broken = src.broken_lines;
    auto after =
        std::upper_bound(broken.begin(), broken.end(), parsed.line,
                         [](unsigned line, const BrokenLine& b) { return line < b.parsed_line; });
    if (after == broken.begin()) return parsed;
    const BrokenLine& b = *std::prev(after);
    if (parsed.line == b.parsed_line) return {b.source.line, b.source.column + parsed.column - 1};
    return {b.source.line + (parsed.line - b.parsed_line), parsed.column};
}

toml::value parse_toml(std::string_view text, TomlSource& src) {
    src.broken_lines.clear();
    // TOML documents are UTF-8. Checking that first also keeps malformed bytes away from the TOML
    // library, whose string scanner reads past the end of some invalid input.
    if (auto bad = invalid_utf8_at(text))
        fail_at(src, position_at(text, *bad), "not valid UTF-8 (byte " + std::to_string(*bad) + ")",
                "save the file as UTF-8");
    // toml11 reads nested arrays and tables by recursion: deep nesting must not reach it.
    auto scan = scan_toml(text);
    if (scan.too_deep_at)
        fail_at(src, position_at(text, *scan.too_deep_at),
                log::cat("nested more than ", toml_nesting_limit,
                         " levels deep (tables, arrays and inline tables)"),
                "karapace files nest a few levels at most; remove the extra nesting");
    // For each value toml11 copies and scans the value's whole line: a long array on one line
    // would take time quadratic in its length.
    auto breaks = plan_line_breaks(text, scan);
    if (breaks.too_long_at)
        fail_at(src, position_at(text, *breaks.too_long_at),
                log::cat("line longer than ", max_line_bytes,
                         " bytes (only arrays may be longer: they are read one element at a time)"),
                "write a long inline table as a [table] section, one key per line");
    const std::string parsed = insert_line_breaks(text, breaks.after, src);
    std::istringstream in{parsed};
    try {
        return toml::parse(in, src.name);
    } catch (const toml::exception& e) {
        Position fallback{e.location().line(), e.location().column()};
        throw_syntax(e.what(), fallback, parsed, src);
    } catch (const std::exception& e) {
        fail_at(src, {1, 1}, std::string("TOML syntax error: ") + e.what(), "fix the TOML syntax");
    }
}

void fail_at(const TomlSource& src, Position pos, const std::string& message,
             const std::string& hint) {
    pos = source_position(src, pos);
    throw Error(src.code, log::cat(src.name, ':', pos.line, ':', pos.column, ": ", message), hint);
}

Position value_position(const toml::value& v) {
    auto loc = v.location();
    return {loc.line(), loc.column()};
}

Position key_position(const toml::value& v) {
    auto loc = v.location();
    const std::string& line = loc.line_str();
    Position own{loc.line(), loc.column()};
    std::size_t i = loc.column() > 0 ? loc.column() - 1 : 0;
    if (i > line.size()) return own;
    auto skip_blank = [&] {
        while (i > 0 && is_blank(line[i - 1]))
            --i;
    };
    skip_blank();
    if (i == 0 || line[i - 1] != '=') return own;
    --i;
    skip_blank();
    std::size_t start = std::string::npos;
    for (;;) {
        if (i == 0) break;
        char c = line[i - 1];
        if (c == '"' || c == '\'') {
            if (i < 2) break;
            std::size_t open = line.rfind(c, i - 2);
            if (open == std::string::npos) break;
            i = open;
        } else if (is_bare_key_char(c)) {
            while (i > 0 && is_bare_key_char(line[i - 1]))
                --i;
        } else {
            break;
        }
        start = i;
        skip_blank();
        if (i > 0 && line[i - 1] == '.') {
            --i;
            skip_blank();
            continue;
        }
        break;
    }
    if (start == std::string::npos) return own;
    return {loc.line(), static_cast<unsigned>(start + 1)};
}

std::string type_phrase(const toml::value& v) {
    switch (v.type()) {
    case toml::value_t::boolean: return "a boolean";
    case toml::value_t::integer: return "an integer";
    case toml::value_t::floating: return "a float";
    case toml::value_t::string: return "a string";
    case toml::value_t::offset_datetime:
    case toml::value_t::local_datetime: return "a date-time";
    case toml::value_t::local_date: return "a date";
    case toml::value_t::local_time: return "a time";
    case toml::value_t::array: return "an array";
    case toml::value_t::table: return "a table";
    default: return "nothing";
    }
}

std::string key_text(std::string_view key) {
    bool bare = !key.empty() && std::all_of(key.begin(), key.end(), is_bare_key_char);
    if (bare) return std::string(key);
    std::string out = "\"";
    for (char c : key) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

bool integer_literal_fits(const toml::value& v) {
    auto loc = v.location();
    if (loc.column() == 0 || loc.column() - 1 + loc.region() > loc.line_str().size()) return true;
    std::string lit = loc.line_str().substr(loc.column() - 1, loc.region());
    lit.erase(std::remove(lit.begin(), lit.end(), '_'), lit.end());
    bool negative = false;
    if (!lit.empty() && (lit[0] == '+' || lit[0] == '-')) {
        negative = lit[0] == '-';
        lit.erase(0, 1);
    }
    int base = 10;
    if (lit.size() > 2 && lit[0] == '0' && (lit[1] == 'x' || lit[1] == 'o' || lit[1] == 'b')) {
        base = lit[1] == 'x' ? 16 : lit[1] == 'o' ? 8 : 2;
        lit.erase(0, 2);
    }
    std::uint64_t magnitude = 0;
    auto [end, ec] = std::from_chars(lit.data(), lit.data() + lit.size(), magnitude, base);
    if (ec != std::errc() || end != lit.data() + lit.size()) return false;
    const std::uint64_t limit = negative ? std::uint64_t{1} << 63 : (std::uint64_t{1} << 63) - 1;
    return magnitude <= limit;
}

TableReader::TableReader(const TomlSource& src, const toml::value& table, std::string dotted,
                         std::vector<std::string> known, bool any_key)
    : src_(&src), table_(&table), dotted_(std::move(dotted)) {
    if (any_key) return;
    for (const auto& key : keys_in_order()) {
        if (std::find(known.begin(), known.end(), key) != known.end()) continue;
        std::string list;
        for (const auto& k : known)
            list += (list.empty() ? "" : ", ") + k;
        std::string hint;
        if (auto near = closest(key, known)) hint = "did you mean '" + path_of(*near) + "'? ";
        hint += "remove the key or fix its spelling (" + src_->doc + " lists every key)";
        fail_key(
            key,
            "unknown key '" + path_of(key) + "' (known: " + (list.empty() ? "none" : list) + ")",
            hint);
    }
}

std::string TableReader::path_of(std::string_view key) const {
    return dotted_.empty() ? key_text(key) : dotted_ + "." + key_text(key);
}

const toml::value* TableReader::find(std::string_view key) const {
    const auto& t = table_->as_table();
    auto it = t.find(std::string(key));
    return it == t.end() ? nullptr : &it->second;
}

std::vector<std::string> TableReader::keys_in_order() const {
    std::vector<std::pair<std::pair<unsigned, unsigned>, std::string>> keyed;
    for (const auto& [k, v] : table_->as_table()) {
        Position p = key_position(v);
        keyed.push_back({{p.line, p.column}, k});
    }
    std::sort(keyed.begin(), keyed.end());
    std::vector<std::string> out;
    for (auto& kv : keyed)
        out.push_back(std::move(kv.second));
    return out;
}

void TableReader::fail_key(std::string_view key, const std::string& message,
                           const std::string& hint) const {
    const toml::value* v = find(key);
    fail_at(*src_, v != nullptr ? key_position(*v) : position(), message, hint);
}

void TableReader::fail_missing(std::string_view key, const std::string& hint) const {
    fail_at(*src_, position(), "missing required key '" + path_of(key) + "'", hint);
}

void TableReader::fail_type(std::string_view key, const toml::value& v,
                            const char* expected) const {
    fail_at(*src_, value_position(v),
            "key '" + path_of(key) + "' must be " + expected + ", not " + type_phrase(v),
            src_->doc + " gives the type of every key");
}

std::string TableReader::required_string(std::string_view key) const {
    auto s = string(key);
    if (!s) fail_missing(key);
    return *s;
}

std::int64_t TableReader::required_integer(std::string_view key) const {
    auto i = integer(key);
    if (!i) fail_missing(key);
    return *i;
}

std::optional<std::string> TableReader::string(std::string_view key) const {
    const toml::value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_string()) fail_type(key, *v, "a string");
    return v->as_string().str;
}

std::optional<bool> TableReader::boolean(std::string_view key) const {
    const toml::value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_boolean()) fail_type(key, *v, "a boolean (true or false)");
    return v->as_boolean();
}

std::optional<std::int64_t> TableReader::integer(std::string_view key) const {
    const toml::value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_integer()) fail_type(key, *v, "an integer");
    if (!integer_literal_fits(*v))
        fail_at(*src_, value_position(*v),
                "key '" + path_of(key) + "' is out of range (it does not fit in 64 bits)",
                src_->doc + " gives the range of every number");
    return v->as_integer();
}

std::optional<std::uint64_t> TableReader::unsigned_integer(std::string_view key, std::uint64_t min,
                                                           std::uint64_t max) const {
    auto i = integer(key);
    if (!i) return std::nullopt;
    const toml::value& v = *find(key);
    if (*i < 0 || static_cast<std::uint64_t>(*i) < min || static_cast<std::uint64_t>(*i) > max)
        fail_at(
            *src_, value_position(v),
            log::cat("key '", path_of(key), "' must be between ", min, " and ", max, ", not ", *i),
            src_->doc + " gives the range of every number");
    return static_cast<std::uint64_t>(*i);
}

std::optional<std::vector<std::string>> TableReader::string_array(std::string_view key) const {
    const toml::value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_array()) fail_type(key, *v, "an array of strings");
    std::vector<std::string> out;
    std::size_t index = 0;
    for (const auto& e : v->as_array()) {
        if (!e.is_string())
            fail_at(*src_, value_position(e),
                    log::cat("element ", index, " of '", path_of(key), "' must be a string, not ",
                             type_phrase(e)),
                    "quote each element: [\"a\", \"b\"]");
        out.push_back(e.as_string().str);
        ++index;
    }
    return out;
}

std::optional<TableReader> TableReader::table(std::string_view key, std::vector<std::string> known,
                                              bool any_key) const {
    const toml::value* v = find(key);
    if (v == nullptr) return std::nullopt;
    if (!v->is_table()) fail_type(key, *v, "a table");
    return TableReader(*src_, *v, path_of(key), std::move(known), any_key);
}

}  // namespace karapace::schema::detail
