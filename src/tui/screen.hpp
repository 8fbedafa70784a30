// The terminal while the TUI runs. Construction starts curses (alternate screen, keypad, no echo,
// colours unless NO_COLOR, the mouse if wanted); destruction gives the terminal back as it was.
// SIGINT, SIGTERM and SIGHUP end the main loop through a pipe, so the normal path restores the
// terminal; a fatal signal (a crash) restores what it can from the handler and dies of the signal.
// While curses owns the screen, stderr goes to a pipe the TUI reads, so log lines from the engine
// turn up on the status line instead of scribbling over the screen.
#pragma once

#include <string>
#include <vector>

#include "karapace/util/fd.hpp"

namespace karapace::tui {

class Screen {
public:
    explicit Screen(bool mouse);
    ~Screen();
    Screen(const Screen&) = delete;
    Screen& operator=(const Screen&) = delete;

    // Hands the terminal to another program (a shell): curses ends, stderr is the terminal again.
    void suspend();
    // Takes it back and repaints everything.
    void resume();

    bool color() const noexcept { return color_; }
    // The terminal's character set is UTF-8 (else the TUI draws with ASCII only).
    bool utf8() const noexcept { return utf8_; }
    bool mouse() const noexcept { return mouse_; }

    // Readable when SIGINT, SIGTERM or SIGHUP arrived.
    static int quit_fd() noexcept;
    static bool quit_requested() noexcept;
    // The signal that asked to quit; 0 when none did.
    static int quit_signal_number() noexcept;
    // Readable when something was written to stderr; complete lines come out of log_lines().
    int log_fd() const noexcept { return log_read_.get(); }
    std::vector<std::string> log_lines();

private:
    void capture_stderr();
    void release_stderr();

    bool color_ = false;
    bool utf8_ = false;
    bool mouse_ = false;
    bool active_ = false;
    UniqueFd saved_stderr_;
    UniqueFd log_read_, log_write_;
    std::string partial_;
};

}  // namespace karapace::tui
