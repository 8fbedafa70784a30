#include "cli/output.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/utf8.hpp"

namespace karapace::cli {

namespace {

// Returns false when the reader went away (EPIPE).
bool write_fd(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

void hex_escape(std::string& out, char prefix, unsigned value, int digits) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '\\';
    out += prefix;
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4)
        out += hex[(value >> shift) & 0xf];
}

// Characters a terminal acts on (C1 controls such as CSI) or that reorder what is shown
// (bidirectional embeddings, overrides and isolates).
bool is_hidden_control(char32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x061c || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

}  // namespace

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        char32_t cp = 0;
        std::size_t len = utf8_sequence(text, cp);
        if (len == 0) {
            hex_escape(out, 'x', static_cast<unsigned char>(text[0]), 2);
            len = 1;
        } else if (cp == '\\') {
            out += "\\\\";
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp < 0x20 || cp == 0x7f) {
            hex_escape(out, 'x', static_cast<unsigned>(cp), 2);
        } else if (is_hidden_control(cp)) {
            hex_escape(out, 'u', static_cast<unsigned>(cp), 4);
        } else {
            out.append(text.substr(0, len));
        }
        text.remove_prefix(len);
    }
    return out;
}

Terminal Terminal::detect() {
    Terminal t;
    t.stdin_tty = ::isatty(STDIN_FILENO) == 1;
    t.stdout_tty = ::isatty(STDOUT_FILENO) == 1;
    t.stderr_tty = ::isatty(STDERR_FILENO) == 1;
    const char* no_color = std::getenv("NO_COLOR");
    const char* term = std::getenv("TERM");
    t.color = t.stderr_tty && (no_color == nullptr || *no_color == '\0') &&
              !(term != nullptr && std::strcmp(term, "dumb") == 0);
    return t;
}

Output::Output(bool json, Terminal term, int out_fd, int err_fd)
    : json_(json), term_(term), out_fd_(out_fd), err_fd_(err_fd) {}

void Output::write_out(std::string_view text) {
    // `karapace list | head -1`: a closed stdout is not an error, the reader simply had enough.
    if (!write_fd(out_fd_, text) && errno == EPIPE) ::_exit(0);
}

void Output::write_err(std::string_view text) { (void)write_fd(err_fd_, text); }

void Output::line(std::string_view text) {
    if (json_) return;
    std::string s(text);
    s += '\n';
    write_out(s);
}

void Output::json_result(const boost::json::value& v) {
    if (json_) write_out(json::pretty(v));
}

void Output::raw(std::string_view text) { write_out(text); }

void Output::hint(std::string_view text) {
    // Every line of a multi-line hint carries the prefix, so `grep hint:` finds all of it.
    const std::string prefix = term_.color ? "\x1b[1mhint:\x1b[0m " : "hint: ";
    std::string s;
    while (!text.empty()) {
        const std::size_t nl = text.find('\n');
        s += prefix;
        s += text.substr(0, nl);
        s += '\n';
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    }
    write_err(s);
}

boost::json::value Output::error_json(const Error& e) {
    boost::json::object inner;
    inner["category"] = errc_name(e.code());
    inner["message"] = e.what();
    if (e.hint().empty())
        inner["hint"] = nullptr;
    else
        inner["hint"] = e.hint();
    boost::json::object outer;
    outer["error"] = std::move(inner);
    return outer;
}

void Output::error(const Error& e) {
    std::string s = term_.color ? "\x1b[1;31merror:\x1b[0m " : "error: ";
    s += e.what();
    s += '\n';
    write_err(s);
    if (!e.hint().empty()) hint(e.hint());
    if (json_) write_out(json::pretty(error_json(e)));
}

}  // namespace karapace::cli
