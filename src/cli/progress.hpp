// The CLI's ProgressSink: a bar with bytes, rate and ETA (or a spinner when the total is unknown)
// redrawn in place on stderr when stderr is a terminal. Otherwise it draws nothing; steps and
// notes then go to the log (visible with -v) so piped output stays clean.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "karapace/util/progress.hpp"

namespace karapace::cli {

// "12.3 MiB"
std::string format_bytes(std::uint64_t bytes);
// One status line (without terminal control codes), at most `width` columns wide. `frame` picks the
// spinner glyph used when the total is unknown.
std::string render_progress_line(std::string_view description, std::uint64_t done,
                                 std::uint64_t total, ProgressUnit unit, double elapsed_seconds,
                                 unsigned frame, std::size_t width);

class TerminalProgress final : public ProgressSink {
public:
    // `draw`: render on `fd` (normally: stderr is a TTY and --json is off).
    TerminalProgress(bool draw, bool color, int fd = 2);
    ~TerminalProgress() override;
    TerminalProgress(const TerminalProgress&) = delete;
    TerminalProgress& operator=(const TerminalProgress&) = delete;

    void step(std::string_view description, std::uint64_t total, ProgressUnit unit) override;
    void advance(std::uint64_t done) override;
    void finish(bool ok) override;
    void note(std::string_view line) override;
    void resize(std::uint64_t total) override;
    // Shown before the step as "[42%]": the same whole-operation number a D-Bus job reports.
    void overall(double fraction) override;
    bool cancelled() const override;

private:
    using Clock = std::chrono::steady_clock;
    void redraw_locked();
    void end_step_locked(bool ok);
    void tick();
    std::size_t width() const;

    bool draw_;
    bool color_;
    int fd_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool active_ = false;
    bool stopping_ = false;
    std::string description_;
    std::uint64_t total_ = 0;
    std::uint64_t done_ = 0;
    int overall_ = -1;  // percent of the whole operation, -1 unknown
    ProgressUnit unit_ = ProgressUnit::items;
    Clock::time_point started_;
    Clock::time_point last_draw_;
    unsigned frame_ = 0;
    std::thread ticker_;
};

}  // namespace karapace::cli
