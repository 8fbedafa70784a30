#include "cli/prompt.hpp"

#include <termios.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <optional>

#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

void say(std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

// A line of stdin without its newline; nullopt at the end of input before any character. Read a
// byte at a time, so nothing after the line is taken from a pipe that a later reader shares.
std::optional<std::string> read_line() {
    std::string line;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(STDIN_FILENO, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (line.empty()) return std::nullopt;
            return line;
        }
        if (c == '\n') return line;
        line += c;
    }
}

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

// The terminal settings to put back if a signal ends the process while echo is off.
struct termios saved_terminal {};

extern "C" void restore_terminal_and_die(int sig) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

// Echo off on stdin for its lifetime (when stdin is a terminal), with the handlers above.
class NoEcho {
public:
    NoEcho() {
        if (::tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return;
        struct sigaction sa {};
        sa.sa_handler = restore_terminal_and_die;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < signals_.size(); ++i)
            ::sigaction(signals_[i], &sa, &previous_[i]);
        installed_ = true;
        struct termios quiet = saved_terminal;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        quiet.c_lflag |= ECHONL;
        active_ = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
    ~NoEcho() {
        if (!installed_) return;
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_terminal);
        for (std::size_t i = 0; i < signals_.size(); ++i)
            ::sigaction(signals_[i], &previous_[i], nullptr);
    }
    NoEcho(const NoEcho&) = delete;
    NoEcho& operator=(const NoEcho&) = delete;
    bool active() const noexcept { return active_; }

private:
    static constexpr std::array<int, 4> signals_{SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    std::array<struct sigaction, 4> previous_{};
    bool installed_ = false;
    bool active_ = false;
};

}  // namespace

std::string ask_secret(std::string_view question) {
    std::optional<std::string> answer;
    {
        // Echo goes off (dropping what was typed ahead) before the question appears, so nothing
        // typed after it is lost or shown.
        NoEcho quiet;
        if (!quiet.active())
            throw Error(Errc::usage,
                        "cannot turn off echo to read the password: stdin is not a terminal",
                        "pass the password on stdin with --password-stdin");
        say(std::string(question) + ": ");
        answer = read_line();
    }
    if (!answer) {
        say("\n");
        throw Error(Errc::cancelled, "no answer to '" + std::string(question) + "' (end of input)",
                    "nothing was written");
    }
    if (!answer->empty() && answer->back() == '\r') answer->pop_back();
    return *answer;
}

std::string ask(std::string_view question, std::string_view default_value) {
    std::string q(question);
    if (!default_value.empty()) q += " [" + std::string(default_value) + "]";
    q += ": ";
    say(q);
    const std::optional<std::string> line = read_line();
    if (!line) {
        say("\n");
        throw Error(Errc::cancelled, "no answer to '" + std::string(question) + "' (end of input)",
                    "nothing was written");
    }
    const std::string answer = trim(*line);
    return answer.empty() ? std::string(default_value) : answer;
}

bool confirm(std::string_view question, bool default_yes) {
    for (;;) {
        const std::string a = ask(std::string(question) + (default_yes ? " (Y/n)" : " (y/N)"));
        if (a.empty()) return default_yes;
        std::string lower;
        for (char c : a)
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "y" || lower == "yes") return true;
        if (lower == "n" || lower == "no") return false;
        say("please answer yes or no\n");
    }
}

}  // namespace karapace::cli
