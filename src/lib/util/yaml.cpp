// Block structure is read from indentation, line by line; everything on one line (a scalar or a
// flow collection) by a small recursive-descent reader. A sequence may sit at the same indent as
// the key that holds it, as generators write it ("devices:\n- name: x").
#include "karapace/util/yaml.hpp"

#include <charconv>
#include <cstdint>
#include <vector>

#include "karapace/util/error.hpp"

namespace karapace::yaml {

namespace bj = boost::json;

namespace {

struct Line {
    std::size_t number = 0;  // 1-based, for messages
    std::size_t indent = 0;
    std::string text;  // without indentation and comment
};

class Parser {
public:
    Parser(std::string_view text, const std::string& what) : what_(what) { split(text); }

    bj::value document() {
        if (lines_.empty()) return nullptr;
        std::size_t i = 0;
        auto v = node(i, lines_[0].indent);
        if (i < lines_.size())
            bad(lines_[i], "this line does not continue the document's top-level block");
        return v;
    }

private:
    [[noreturn]] void bad(const Line& line, const std::string& why) const { bad(line.number, why); }
    [[noreturn]] void bad(std::size_t number, const std::string& why) const {
        throw Error(Errc::runtime, what_ + ": line " + std::to_string(number) + ": " + why);
    }

    // Lines with content, their indentation measured and comments removed.
    void split(std::string_view text) {
        std::size_t number = 0, pos = 0;
        bool started = false;
        while (pos <= text.size()) {
            auto nl = text.find('\n', pos);
            if (nl == std::string_view::npos) nl = text.size();
            std::string_view raw = text.substr(pos, nl - pos);
            pos = nl + 1;
            ++number;
            if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
            std::size_t indent = 0;
            while (indent < raw.size() && raw[indent] == ' ')
                ++indent;
            if (indent < raw.size() && raw[indent] == '\t')
                bad(number, "a tab in the indentation (YAML indents with spaces)");
            std::string content = strip_comment(raw.substr(indent), number);
            if (content.empty()) continue;
            if (indent == 0 && (content == "---" || content.starts_with("--- "))) {
                if (started) bad(number, "a second document; only one is read");
                if (content != "---") bad(number, "content after the document marker");
                continue;
            }
            if (indent == 0 && content == "...") break;
            if (content.front() == '%') bad(number, "YAML directives are not read");
            started = true;
            lines_.push_back({number, indent, std::move(content)});
        }
    }

    // The text before a comment ('#' at the start or after a space, outside quotes), trimmed.
    std::string strip_comment(std::string_view s, std::size_t number) const {
        char quote = 0;
        std::size_t end = s.size();
        for (std::size_t i = 0; i < s.size(); ++i) {
            char c = s[i];
            if (quote == '"' && c == '\\') {
                ++i;
            } else if (quote) {
                if (c == quote) {
                    if (quote == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
                        ++i;
                    } else {
                        quote = 0;
                    }
                }
            } else if ((c == '"' || c == '\'') && (i == 0 || is_opening(s[i - 1]))) {
                quote = c;
            } else if (c == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) {
                end = i;
                break;
            }
        }
        if (quote) bad(number, "a quoted string that does not end on its line");
        std::string out(s.substr(0, end));
        while (!out.empty() && (out.back() == ' ' || out.back() == '\t'))
            out.pop_back();
        return out;
    }
    static bool is_opening(char c) {
        return c == ' ' || c == '\t' || c == '[' || c == '{' || c == ',' || c == ':' || c == '-';
    }

    static bool is_item(const std::string& t) { return t == "-" || t.starts_with("- "); }

    // The ": " (or final ':') that ends a mapping key, outside quotes; npos when there is none.
    static std::size_t key_colon(std::string_view t) {
        char quote = 0;
        int depth = 0;
        for (std::size_t i = 0; i < t.size(); ++i) {
            char c = t[i];
            if (quote) {
                if (quote == '"' && c == '\\') {
                    ++i;
                } else if (c == quote) {
                    quote = 0;
                }
                continue;
            }
            if ((c == '"' || c == '\'') && i == 0) quote = c;
            if (c == '[' || c == '{') ++depth;
            if (c == ']' || c == '}') --depth;
            if (c == ':' && depth == 0 && (i + 1 == t.size() || t[i + 1] == ' ')) return i;
        }
        return std::string_view::npos;
    }

    bj::value node(std::size_t& i, std::size_t indent) {
        const Line& line = lines_[i];
        Depth guard(*this, line);
        if (is_item(line.text)) return sequence(i, indent);
        if (key_colon(line.text) != std::string_view::npos) return mapping(i, indent);
        ++i;
        if (i < lines_.size() && lines_[i].indent > indent)
            bad(lines_[i], "a scalar that continues on the next line is not read");
        return inline_value(line.text, line);
    }

    // The value of a key or item whose text on its own line is empty: the block below it.
    bj::value nested(std::size_t& i, std::size_t parent_indent, bool sequence_allowed_at_same) {
        if (i >= lines_.size()) return nullptr;
        const Line& next = lines_[i];
        if (next.indent > parent_indent) return node(i, next.indent);
        if (sequence_allowed_at_same && next.indent == parent_indent && is_item(next.text))
            return sequence(i, parent_indent);
        return nullptr;
    }

    bj::value sequence(std::size_t& i, std::size_t indent) {
        bj::array out;
        while (i < lines_.size() && lines_[i].indent == indent && is_item(lines_[i].text)) {
            Line& line = lines_[i];
            std::size_t skip = 1;
            while (skip < line.text.size() && line.text[skip] == ' ')
                ++skip;
            std::string rest = line.text.substr(skip);
            if (rest.empty()) {
                ++i;
                out.push_back(nested(i, indent, false));
            } else if (is_item(rest) || key_colon(rest) != std::string_view::npos) {
                // "- key: value" starts a mapping (or "- - x" a sequence) whose column is that
                // of its first key: the line is re-read as if it began there.
                line.indent = indent + skip;
                line.text = rest;
                out.push_back(node(i, line.indent));
            } else {
                ++i;
                if (i < lines_.size() && lines_[i].indent > indent)
                    bad(lines_[i], "a scalar that continues on the next line is not read");
                out.push_back(inline_value(rest, line));
            }
        }
        if (i < lines_.size() && lines_[i].indent > indent)
            bad(lines_[i], "unexpected indentation");
        return out;
    }

    bj::value mapping(std::size_t& i, std::size_t indent) {
        bj::object out;
        while (i < lines_.size() && lines_[i].indent == indent) {
            const Line& line = lines_[i];
            if (is_item(line.text)) break;  // a sequence at a key's indent ends the mapping
            auto colon = key_colon(line.text);
            if (colon == std::string_view::npos) bad(line, "expected \"key: value\"");
            std::string_view raw_key(line.text.data(), colon);
            if (raw_key.starts_with("? ")) bad(line, "complex mapping keys are not read");
            std::string key = scalar_text(raw_key, line);
            if (out.contains(key)) bad(line, "the key '" + key + "' is given twice");
            std::string rest = line.text.substr(colon + 1);
            while (!rest.empty() && rest.front() == ' ')
                rest.erase(0, 1);
            ++i;
            if (rest.empty()) {
                out[key] = nested(i, indent, true);
            } else {
                out[key] = inline_value(rest, line);
                if (i < lines_.size() && lines_[i].indent > indent)
                    bad(lines_[i], "a value that continues on the next line is not read");
            }
        }
        if (i < lines_.size() && lines_[i].indent > indent)
            bad(lines_[i], "unexpected indentation");
        return out;
    }

    // ---- one line: scalars and flow collections -------------------------------------------

    bj::value inline_value(std::string_view text, const Line& line) const {
        std::size_t pos = 0;
        auto v = flow(text, pos, line, false);
        skip_spaces(text, pos);
        if (pos != text.size()) bad(line, "unexpected text after the value: " + std::string(text));
        return v;
    }

    static void skip_spaces(std::string_view t, std::size_t& pos) {
        while (pos < t.size() && (t[pos] == ' ' || t[pos] == '\t'))
            ++pos;
    }

    void refuse_unsupported(char c, const Line& line) const {
        switch (c) {
        case '&': bad(line, "anchors (&) are not read");
        case '*': bad(line, "aliases (*) are not read");
        case '!': bad(line, "tags (!) are not read");
        case '|':
        case '>': bad(line, "block scalars (| and >) are not read");
        case '@':
        case '`': bad(line, std::string("a plain scalar cannot start with ") + c);
        default: break;
        }
    }

    // A value at `pos`; `in_flow` when inside [] or {}, where ',' ']' '}' end a plain scalar.
    bj::value flow(std::string_view t, std::size_t& pos, const Line& line, bool in_flow) const {
        Depth guard(*this, line);
        skip_spaces(t, pos);
        if (pos >= t.size()) return nullptr;
        char c = t[pos];
        refuse_unsupported(c, line);
        if (c == '[') {
            ++pos;
            bj::array a;
            skip_spaces(t, pos);
            if (pos < t.size() && t[pos] == ']') {
                ++pos;
                return a;
            }
            for (;;) {
                a.push_back(flow(t, pos, line, true));
                skip_spaces(t, pos);
                if (pos >= t.size()) bad(line, "a [ ... ] list must end on the line it starts");
                if (t[pos] == ']') {
                    ++pos;
                    return a;
                }
                if (t[pos] != ',') bad(line, "expected ',' or ']' in a [ ... ] list");
                ++pos;
            }
        }
        if (c == '{') {
            ++pos;
            bj::object o;
            skip_spaces(t, pos);
            if (pos < t.size() && t[pos] == '}') {
                ++pos;
                return o;
            }
            for (;;) {
                skip_spaces(t, pos);
                std::size_t start = pos;
                flow_key(t, pos, line);
                std::string key = scalar_text(t.substr(start, pos - start), line);
                skip_spaces(t, pos);
                if (pos >= t.size() || t[pos] != ':') bad(line, "expected ':' in a { ... } map");
                ++pos;
                if (o.contains(key)) bad(line, "the key '" + key + "' is given twice");
                o[key] = flow(t, pos, line, true);
                skip_spaces(t, pos);
                if (pos >= t.size()) bad(line, "a { ... } map must end on the line it starts");
                if (t[pos] == '}') {
                    ++pos;
                    return o;
                }
                if (t[pos] != ',') bad(line, "expected ',' or '}' in a { ... } map");
                ++pos;
            }
        }
        if (c == '"' || c == '\'') {
            std::size_t start = pos;
            skip_quoted(t, pos, line);
            return bj::value(scalar_text(t.substr(start, pos - start), line));
        }
        std::size_t start = pos;
        while (pos < t.size()) {
            char d = t[pos];
            if (in_flow && (d == ',' || d == ']' || d == '}')) break;
            if (in_flow && d == ':' && (pos + 1 == t.size() || t[pos + 1] == ' ')) break;
            ++pos;
        }
        std::string_view plain = t.substr(start, pos - start);
        while (!plain.empty() && (plain.back() == ' ' || plain.back() == '\t'))
            plain.remove_suffix(1);
        return typed(plain);
    }

    // Advances past a key inside { }: a quoted string or plain text up to ':'.
    void flow_key(std::string_view t, std::size_t& pos, const Line& line) const {
        if (pos < t.size() && (t[pos] == '"' || t[pos] == '\'')) {
            skip_quoted(t, pos, line);
            return;
        }
        while (pos < t.size() && t[pos] != ':' && t[pos] != ',' && t[pos] != '}')
            ++pos;
    }

    void skip_quoted(std::string_view t, std::size_t& pos, const Line& line) const {
        char q = t[pos++];
        while (pos < t.size()) {
            if (q == '"' && t[pos] == '\\') {
                pos += 2;
                continue;
            }
            if (t[pos] == q) {
                if (q == '\'' && pos + 1 < t.size() && t[pos + 1] == '\'') {
                    pos += 2;
                    continue;
                }
                ++pos;
                return;
            }
            ++pos;
        }
        bad(line, "a quoted string that does not end on its line");
    }

    // The string a key or quoted scalar stands for.
    std::string scalar_text(std::string_view raw, const Line& line) const {
        while (!raw.empty() && raw.back() == ' ')
            raw.remove_suffix(1);
        if (raw.empty()) return {};
        if (raw.front() == '\'') {
            if (raw.size() < 2 || raw.back() != '\'') bad(line, "an unterminated quoted string");
            std::string out;
            for (std::size_t i = 1; i + 1 < raw.size(); ++i) {
                out.push_back(raw[i]);
                if (raw[i] == '\'') ++i;  // '' stands for '
            }
            return out;
        }
        if (raw.front() == '"') {
            if (raw.size() < 2 || raw.back() != '"') bad(line, "an unterminated quoted string");
            return unescape(raw.substr(1, raw.size() - 2), line);
        }
        refuse_unsupported(raw.front(), line);
        return std::string(raw);
    }

    std::string unescape(std::string_view s, const Line& line) const {
        std::string out;
        for (std::size_t i = 0; i < s.size(); ++i) {
            if (s[i] != '\\') {
                out.push_back(s[i]);
                continue;
            }
            if (++i >= s.size()) bad(line, "a '\\' at the end of a string");
            switch (s[i]) {
            case 'n': out.push_back('\n'); break;
            case 't': out.push_back('\t'); break;
            case 'r': out.push_back('\r'); break;
            case '0': out.push_back('\0'); break;
            case '"': out.push_back('"'); break;
            case '\\': out.push_back('\\'); break;
            case '/': out.push_back('/'); break;
            case ' ': out.push_back(' '); break;
            case 'x':
            case 'u':
            case 'U': {
                std::size_t len = s[i] == 'x' ? 2 : s[i] == 'u' ? 4 : 8;
                std::uint32_t cp = 0;
                auto hex = s.substr(i + 1, len);
                auto r = std::from_chars(hex.data(), hex.data() + hex.size(), cp, 16);
                if (hex.size() != len || r.ptr != hex.data() + hex.size() || cp > 0x10ffff)
                    bad(line, "a bad \\" + std::string(1, s[i]) + " escape");
                append_utf8(out, cp);
                i += len;
                break;
            }
            default: bad(line, std::string("an unknown escape \\") + s[i]);
            }
        }
        return out;
    }

    static void append_utf8(std::string& out, std::uint32_t cp) {
        if (cp < 0x80) {
            out.push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
            out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
            out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        } else {
            out.push_back(static_cast<char>(0xf0 | (cp >> 18)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
            out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
        }
    }

    // A plain scalar's type, as YAML 1.2's core schema reads it (floats stay strings).
    static bj::value typed(std::string_view s) {
        if (s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL") return nullptr;
        if (s == "true" || s == "True" || s == "TRUE") return true;
        if (s == "false" || s == "False" || s == "FALSE") return false;
        std::string_view digits = s;
        int base = 10;
        bool negative = false;
        if (digits.starts_with("0o")) {
            base = 8;
            digits.remove_prefix(2);
        } else if (digits.starts_with("0x")) {
            base = 16;
            digits.remove_prefix(2);
        } else if (digits.starts_with('-') || digits.starts_with('+')) {
            negative = digits.front() == '-';
            digits.remove_prefix(1);
        }
        std::uint64_t n = 0;
        auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n, base);
        if (!digits.empty() && r.ec == std::errc() && r.ptr == digits.data() + digits.size() &&
            n <= static_cast<std::uint64_t>(INT64_MAX))
            return negative ? -static_cast<std::int64_t>(n) : static_cast<std::int64_t>(n);
        return bj::value(std::string(s));
    }

    // Each block and flow collection is read by a call of its own: nesting is bounded, so a
    // file of brackets cannot exhaust the stack.
    static constexpr unsigned kDepthLimit = 64;
    struct Depth {
        const Parser& p;
        Depth(const Parser& parser, const Line& line) : p(parser) {
            if (++p.depth_ > kDepthLimit)
                p.bad(line, "nested more than " + std::to_string(kDepthLimit) + " levels deep");
        }
        ~Depth() { --p.depth_; }
        Depth(const Depth&) = delete;
        Depth& operator=(const Depth&) = delete;
    };

    const std::string& what_;
    std::vector<Line> lines_;
    mutable unsigned depth_ = 0;
};

}  // namespace

bj::value parse(std::string_view text, const std::string& what) {
    return Parser(text, what).document();
}

}  // namespace karapace::yaml
