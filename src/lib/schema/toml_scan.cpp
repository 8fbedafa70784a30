#include "schema/toml_scan.hpp"

namespace karapace::schema::detail {

namespace {

// Offset just past the string (basic or literal, one-line or multi-line) whose opening quote is
// at `i`; an unclosed one-line string ends at its line's end.
std::size_t skip_string(std::string_view t, std::size_t i) {
    const char quote = t[i];
    const bool basic = quote == '"';
    if (t.substr(i, 3) == (basic ? std::string_view("\"\"\"") : std::string_view("'''"))) {
        i += 3;
        while (i < t.size()) {
            if (basic && t[i] == '\\') {
                i += 2;
            } else if (t[i] != quote) {
                ++i;
            } else {
                // A multi-line string may end with up to two quotes of its own before the closing
                // three, so the whole run of quotes belongs to the string.
                std::size_t run = 0;
                while (i + run < t.size() && t[i + run] == quote)
                    ++run;
                i += run;
                if (run >= 3) return i;
            }
        }
        return t.size();
    }
    ++i;
    while (i < t.size() && t[i] != '\n') {
        if (basic && t[i] == '\\' && i + 1 < t.size() && t[i + 1] != '\n') {
            i += 2;
        } else if (t[i++] == quote) {
            return i;
        }
    }
    return i < t.size() ? i : t.size();
}

// An array or inline table not closed yet, and its level.
struct Open {
    bool inline_table;
    unsigned level;
};

}  // namespace

TomlScan scan_toml(std::string_view t, unsigned limit) {
    TomlScan out;
    auto too_deep = [&out](std::size_t at) {
        out.too_deep_at = at;
        return out;
    };
    std::vector<Open> open;
    std::size_t inline_tables = 0;  // how many of `open` are inline tables
    unsigned table_level = 0;       // the table that keys at the top level go into
    bool in_key = true;        // reading a key: on a top-level line, or after '{' or ',' in `{...}`
    unsigned key_base = 0;     // level of the table that the key being read is in
    unsigned key_parts = 1;    // parts of that key so far
    unsigned value_level = 0;  // level an array or inline table starting here would have

    auto start_key = [&](unsigned base) {
        in_key = true;
        key_base = base;
        key_parts = 1;
    };

    std::size_t i = 0;
    while (i < t.size()) {
        const char c = t[i];
        if (c == '#') {
            out.comments.push_back(i);
            while (i < t.size() && t[i] != '\n')
                ++i;
        } else if (c == '\n') {
            if (open.empty()) start_key(table_level);
            ++i;
        } else if (c == '"' || c == '\'') {
            i = skip_string(t, i);
        } else if (in_key && open.empty() && c == '[') {
            // A table header: `[a.b]` is two tables deep, `[[a.b]]` three (the array's element).
            const bool array = t.compare(i, 2, "[[") == 0;
            i += array ? 2 : 1;
            unsigned parts = 1;
            while (i < t.size() && t[i] != '\n' && t[i] != ']') {
                if (t[i] == '"' || t[i] == '\'') {
                    i = skip_string(t, i);
                    continue;
                }
                if (t[i] == '.' && ++parts > limit) return too_deep(i);
                ++i;
            }
            table_level = parts + (array ? 1 : 0);
            if (table_level > limit) return too_deep(i);
            in_key = false;  // the rest of the line holds no key
        } else if (in_key && c == '.') {
            // The part before the dot names a table.
            if (key_base + key_parts > limit) return too_deep(i);
            ++key_parts;
            ++i;
        } else if (in_key && c == '=') {
            in_key = false;
            value_level = key_base + key_parts;
            ++i;
        } else if (c == '[' || c == '{') {
            const unsigned level = in_key ? key_base + key_parts : value_level;
            if (level > limit) return too_deep(i);
            open.push_back({c == '{', level});
            if (c == '{') ++inline_tables;
            if (c == '{') {
                start_key(level);
            } else {
                in_key = false;
                value_level = level + 1;
            }
            ++i;
        } else if ((c == ']' || c == '}') && !open.empty()) {
            if (open.back().inline_table) --inline_tables;
            open.pop_back();
            in_key = false;
            if (!open.empty() && !open.back().inline_table) value_level = open.back().level + 1;
            ++i;
        } else if (c == ',' && !open.empty() && open.back().inline_table) {
            start_key(open.back().level);
            ++i;
        } else if (c == ',' && !open.empty() && inline_tables == 0) {
            out.array_commas.push_back(i);
            ++i;
        } else {
            ++i;
        }
    }
    return out;
}

}  // namespace karapace::schema::detail
