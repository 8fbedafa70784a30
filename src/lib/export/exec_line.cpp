#include "karapace/export/exec_line.hpp"

#include "karapace/util/error.hpp"

namespace karapace::exports {

namespace {

constexpr std::string_view current_codes = "fFuUick";
constexpr std::string_view reserved = " \t\n\"'\\><~|&;$*?#()`";

bool is_field_code(std::string_view s) {
    return s.size() == 2 && s[0] == '%' && current_codes.find(s[1]) != std::string_view::npos;
}

}  // namespace

std::vector<ExecArg> split_exec(std::string_view exec, const std::string& origin) {
    std::vector<ExecArg> args;
    std::string cur;
    bool in_arg = false;
    bool quoted_any = false;
    auto flush = [&] {
        if (!in_arg) return;
        ExecArg a;
        a.field_code = !quoted_any && is_field_code(cur);
        a.text = std::move(cur);
        args.push_back(std::move(a));
        cur.clear();
        in_arg = false;
        quoted_any = false;
    };
    for (std::size_t i = 0; i < exec.size(); ++i) {
        char c = exec[i];
        if (c == ' ' || c == '\t' || c == '\n') {
            flush();
            continue;
        }
        in_arg = true;
        if (c == '"') {
            quoted_any = true;
            for (++i;; ++i) {
                if (i >= exec.size())
                    throw Error(Errc::failed, origin + ": unterminated quote in Exec",
                                "the application's desktop entry is invalid");
                if (exec[i] == '"') break;
                if (exec[i] == '\\' && i + 1 < exec.size() &&
                    std::string_view("\"`$\\").find(exec[i + 1]) != std::string_view::npos)
                    ++i;
                cur += exec[i];
            }
        } else if (c == '\'') {
            // Not in the specification, but common in the wild and read by GLib like a shell.
            quoted_any = true;
            auto close = exec.find('\'', i + 1);
            if (close == std::string_view::npos)
                throw Error(Errc::failed, origin + ": unterminated quote in Exec",
                            "the application's desktop entry is invalid");
            cur += exec.substr(i + 1, close - i - 1);
            i = close;
        } else if (c == '\\' && i + 1 < exec.size()) {
            cur += exec[++i];
        } else {
            cur += c;
        }
    }
    flush();
    if (args.empty() || args.front().field_code || args.front().text.empty())
        throw Error(Errc::failed, origin + ": Exec names no program",
                    "the application's desktop entry is invalid");
    return args;
}

std::vector<ExecArg> drop_obsolete_codes(std::vector<ExecArg> args) {
    std::vector<ExecArg> out;
    for (auto& a : args) {
        std::string text;
        for (std::size_t i = 0; i < a.text.size(); ++i) {
            if (a.text[i] != '%' || i + 1 == a.text.size()) {
                text += a.text[i];
                continue;
            }
            char code = a.text[++i];
            if (code == '%' || current_codes.find(code) != std::string_view::npos) {
                text += '%';
                text += code;
            }
        }
        if (text.empty() && !a.text.empty()) continue;  // the argument was only an old code
        a.text = std::move(text);
        out.push_back(std::move(a));
    }
    return out;
}

ExecArg literal_arg(std::string_view text) {
    ExecArg a;
    for (char c : text) {
        a.text += c;
        if (c == '%') a.text += '%';
    }
    return a;
}

std::string join_exec(const std::vector<ExecArg>& args) {
    std::string out;
    for (const auto& a : args) {
        if (!out.empty()) out += ' ';
        // A quoted "%U" was read as text, not as a field code: it stays quoted.
        bool quote = a.text.empty() ||
                     (!a.field_code && (a.text.find_first_of(reserved) != std::string::npos ||
                                        is_field_code(a.text)));
        if (!quote) {
            out += a.text;
            continue;
        }
        out += '"';
        for (char c : a.text) {
            if (c == '"' || c == '`' || c == '$' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out;
}

std::vector<std::string> expand_exec(const std::vector<ExecArg>& args,
                                     const std::vector<std::string>& files, const std::string& icon,
                                     const std::string& name, const std::string& location) {
    std::vector<std::string> out;
    for (const auto& a : args) {
        if (a.field_code) {
            switch (a.text[1]) {
            case 'f':
            case 'u':
                if (!files.empty()) out.push_back(files.front());
                break;
            case 'F':
            case 'U': out.insert(out.end(), files.begin(), files.end()); break;
            case 'i':
                if (!icon.empty()) {
                    out.emplace_back("--icon");
                    out.push_back(icon);
                }
                break;
            case 'c': out.push_back(name); break;
            case 'k': out.push_back(location); break;
            default: break;
            }
            continue;
        }
        std::string s;
        for (std::size_t i = 0; i < a.text.size(); ++i) {
            if (a.text[i] != '%' || i + 1 == a.text.size()) {
                s += a.text[i];
                continue;
            }
            char code = a.text[++i];
            if (code == '%')
                s += '%';
            else if (code == 'f' || code == 'u')
                s += files.empty() ? "" : files.front();
            else if (code == 'c')
                s += name;
            else if (code == 'k')
                s += location;
        }
        out.push_back(std::move(s));
    }
    return out;
}

}  // namespace karapace::exports
