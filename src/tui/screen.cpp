#include "tui/screen.hpp"

#include <fcntl.h>
#include <langinfo.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "karapace/util/error.hpp"

// ncurses (term.h above all) defines macros such as `lines` and `columns`; it comes last.
#include <curses.h>
#include <term.h>

namespace karapace::tui {

namespace {

// What the signal handlers need, set up before any handler is installed.
int quit_pipe[2] = {-1, -1};
std::atomic<int> quit_signal{0};
termios saved_termios{};
bool have_termios = false;
// Leaving the alternate screen, showing the cursor, mouse reporting off: written by the fatal
// signal handler, where curses may not be called.
char restore_sequence[256] = {};
std::size_t restore_length = 0;

extern "C" void on_quit_signal(int sig) {
    quit_signal.store(sig);
    char c = 1;
    ssize_t ignored = ::write(quit_pipe[1], &c, 1);
    (void)ignored;
}

extern "C" void on_ignored_signal(int) {}

extern "C" void on_fatal_signal(int sig) {
    if (have_termios) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
    ssize_t ignored = ::write(STDOUT_FILENO, restore_sequence, restore_length);
    (void)ignored;
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

void append_restore(const char* cap) {
    // tigetstr gives (char*)-1 for a name that is not a string capability, 0 when absent.
    char* s = tigetstr(const_cast<char*>(cap));
    if (s == nullptr || s == reinterpret_cast<char*>(-1)) return;
    std::size_t n = std::strlen(s);
    if (restore_length + n >= sizeof restore_sequence) return;
    std::memcpy(restore_sequence + restore_length, s, n);
    restore_length += n;
}

void install_handlers() {
    if (quit_pipe[0] < 0) {
        if (::pipe2(quit_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
            throw_errno(Errc::failed, "cannot create a pipe for the TUI's signals");
    }
    struct sigaction quit {};
    quit.sa_handler = on_quit_signal;
    sigemptyset(&quit.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &quit, nullptr);
    struct sigaction fatal {};
    fatal.sa_handler = on_fatal_signal;
    sigemptyset(&fatal.sa_mask);
    fatal.sa_flags = SA_RESETHAND;
    for (int sig : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
        ::sigaction(sig, &fatal, nullptr);
}

void remove_handlers() {
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
        ::signal(sig, SIG_DFL);
}

bool env_set(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && *v != '\0';
}

}  // namespace

Screen::Screen(bool mouse) {
    std::setlocale(LC_ALL, "");
    utf8_ = std::string_view(::nl_langinfo(CODESET)) == "UTF-8";
    have_termios = ::tcgetattr(STDIN_FILENO, &saved_termios) == 0;
    if (initscr() == nullptr)
        throw Error(Errc::failed, "cannot start the terminal interface on this terminal",
                    "check TERM (now '" + std::string(env_set("TERM") ? std::getenv("TERM") : "") +
                        "'), or use karapace list");
    active_ = true;
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    if (!env_set("NO_COLOR") && has_colors()) {
        start_color();
        use_default_colors();
        color_ = true;
    }
    if (mouse) {
        mousemask(BUTTON1_CLICKED | BUTTON1_DOUBLE_CLICKED | BUTTON4_PRESSED | BUTTON5_PRESSED,
                  nullptr);
        mouseinterval(200);
        mouse_ = true;
    }
    append_restore("sgr0");
    append_restore("cnorm");
    append_restore("rmcup");
    if (mouse_) {
        // xterm mouse reporting off (what ncurses turns on for the modes above).
        constexpr std::string_view off = "\033[?1000l\033[?1002l\033[?1006l";
        if (restore_length + off.size() < sizeof restore_sequence) {
            std::memcpy(restore_sequence + restore_length, off.data(), off.size());
            restore_length += off.size();
        }
    }
    install_handlers();
    capture_stderr();
}

Screen::~Screen() {
    release_stderr();
    if (active_) {
        if (mouse_) mousemask(0, nullptr);
        endwin();
    }
    remove_handlers();
}

void Screen::suspend() {
    release_stderr();
    if (active_) {
        def_prog_mode();
        endwin();
        active_ = false;
    }
    // The shell gets the keyboard's signals; the TUI waits for it and stays. A handler that does
    // nothing rather than SIG_IGN: an ignored signal would stay ignored in the shell it starts.
    struct sigaction stay {};
    stay.sa_handler = on_ignored_signal;
    sigemptyset(&stay.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP})
        ::sigaction(sig, &stay, nullptr);
}

void Screen::resume() {
    install_handlers();
    reset_prog_mode();
    clearok(stdscr, TRUE);
    refresh();
    active_ = true;
    capture_stderr();
}

int Screen::quit_fd() noexcept { return quit_pipe[0]; }
bool Screen::quit_requested() noexcept { return quit_signal.load() != 0; }
int Screen::quit_signal_number() noexcept { return quit_signal.load(); }

void Screen::capture_stderr() {
    if (saved_stderr_) return;
    Pipe p;
    ::fcntl(p.read.get(), F_SETFL, O_NONBLOCK);
    saved_stderr_.reset(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
    if (!saved_stderr_) return;
    ::dup2(p.write.get(), STDERR_FILENO);
    log_read_ = std::move(p.read);
    log_write_ = std::move(p.write);
}

void Screen::release_stderr() {
    if (!saved_stderr_) return;
    ::dup2(saved_stderr_.get(), STDERR_FILENO);
    saved_stderr_.reset();
    log_write_.reset();
    // Lines still in the pipe are kept for log_lines(); the read end goes with the next capture.
}

std::vector<std::string> Screen::log_lines() {
    std::vector<std::string> out;
    if (!log_read_) return out;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(log_read_.get(), buf, sizeof buf)) > 0)
        partial_.append(buf, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(partial_.substr(start, nl - start));
    partial_.erase(0, start);
    return out;
}

}  // namespace karapace::tui
