// Where command output goes. Results go to stdout only (human text, or one JSON document with
// --json); logs, prompts, progress and errors go to stderr. With --json an error is also printed
// on stdout as {"error": {"category", "message", "hint"}} so scripts can parse every outcome.
#pragma once

#include <boost/json/value.hpp>
#include <string>
#include <string_view>

namespace karapace {
class Error;
}

namespace karapace::cli {

// `text` made safe to print as one line: a backslash becomes `\\`; control characters (C0, DEL
// and C1), Unicode bidirectional controls and bytes that are not UTF-8 become escapes (`\n`,
// `\t`, `\x1b`, `\u202e`). For names that come from inside an environment, which could
// otherwise move the cursor, rewrite the screen or hide in the output; JSON output keeps them
// exact.
std::string printable(std::string_view text);

struct Terminal {
    bool stdin_tty = false;
    bool stdout_tty = false;
    bool stderr_tty = false;
    bool color = false;  // stderr is a terminal, NO_COLOR is unset and TERM is not "dumb"

    static Terminal detect();
};

class Output {
public:
    explicit Output(bool json, Terminal term = Terminal::detect(), int out_fd = 1, int err_fd = 2);

    bool json() const noexcept { return json_; }
    // What the parsed command line says: the first guess (wants_json) cannot tell `--json` the
    // option from `--json` the value of another (`--env --json`).
    void set_json(bool json) noexcept { json_ = json; }
    const Terminal& terminal() const noexcept { return term_; }

    // A human-readable result line (a newline is added); ignored under --json.
    void line(std::string_view text);
    // The JSON result document, pretty-printed; ignored without --json.
    void json_result(const boost::json::value& v);
    // Bytes on stdout whatever the mode (a completion script is the result itself).
    void raw(std::string_view text);
    // A note for the user on stderr ("hint: ..."), never on stdout.
    void hint(std::string_view text);
    // `error: <message>` and `hint: <hint>` on stderr, plus the JSON error object under --json.
    void error(const Error& e);

    // The JSON error object for `e` (also used by tests).
    static boost::json::value error_json(const Error& e);

private:
    void write_out(std::string_view text);
    void write_err(std::string_view text);

    bool json_;
    Terminal term_;
    int out_fd_;
    int err_fd_;
};

}  // namespace karapace::cli
