#include "cli/progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

#include <boost/json.hpp>

#include "cli/signals.hpp"
#include "karapace/util/log.hpp"

namespace karapace::cli {

namespace {

constexpr std::array<std::string_view, 10> spinner{"⠋", "⠙", "⠹", "⠸", "⠼",
                                                   "⠴", "⠦", "⠧", "⠇", "⠏"};
constexpr auto tick_interval = std::chrono::milliseconds(80);

void write_fd(int fd, std::string_view s) {
    while (!s.empty()) {
        const ssize_t n = ::write(fd, s.data(), s.size());
        if (n <= 0) return;  // progress is best effort
        s.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string format_duration(double seconds) {
    const auto total = static_cast<unsigned long>(
        std::chrono::round<std::chrono::seconds>(std::chrono::duration<double>(seconds)).count());
    char buf[32];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%lu:%02lu:%02lu", total / 3600, (total / 60) % 60,
                      total % 60);
    else
        std::snprintf(buf, sizeof buf, "%lu:%02lu", total / 60, total % 60);
    return buf;
}

std::string amount(std::uint64_t n, ProgressUnit unit) {
    return unit == ProgressUnit::bytes ? format_bytes(n) : std::to_string(n);
}

// Columns a UTF-8 string takes (every code point counts as one; good enough for our glyphs).
std::size_t columns(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// Cuts `s` to at most `max` columns without splitting a UTF-8 sequence.
std::string clip(std::string_view s, std::size_t max) {
    std::size_t cols = 0;
    std::size_t i = 0;
    for (; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (cols == max) break;
            ++cols;
        }
    }
    return std::string(s.substr(0, i));
}

}  // namespace

std::string format_bytes(std::uint64_t bytes) {
    static constexpr std::array<const char*, 5> units{"B", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < units.size()) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string render_progress_line(std::string_view description, std::uint64_t done,
                                 std::uint64_t total, ProgressUnit unit, double elapsed_seconds,
                                 unsigned frame, std::size_t width) {
    std::string tail;
    const double rate = elapsed_seconds > 0.2 ? static_cast<double>(done) / elapsed_seconds : 0;
    std::string prefix;
    if (total > 0) {
        const std::uint64_t shown = done > total ? total : done;
        const unsigned percent = static_cast<unsigned>(shown * 100 / total);
        constexpr std::size_t bar_width = 20;
        const std::size_t filled = static_cast<std::size_t>(shown * bar_width / total);
        std::string bar =
            "[" + std::string(filled, '#') + std::string(bar_width - filled, '-') + "]";
        char pct[8];
        std::snprintf(pct, sizeof pct, "%3u%%", percent);
        tail = " " + bar + " " + pct + " " + amount(shown, unit) + "/" + amount(total, unit);
        if (unit == ProgressUnit::bytes && rate > 0) {
            tail += "  " + format_bytes(static_cast<std::uint64_t>(rate)) + "/s";
            if (shown < total)
                tail += "  ETA " + format_duration(static_cast<double>(total - shown) / rate);
        }
    } else {
        prefix = std::string(spinner[frame % spinner.size()]) + " ";
        if (done > 0) tail = "  " + amount(done, unit);
        if (unit == ProgressUnit::bytes && rate > 0)
            tail += "  " + format_bytes(static_cast<std::uint64_t>(rate)) + "/s";
    }
    // The description gives way first when the terminal is narrow.
    const std::size_t fixed = columns(prefix) + columns(tail);
    std::string line = prefix;
    if (width > fixed + 4) {
        line += clip(description, width - fixed);
        line += tail;
    } else {
        line += clip(description, width > columns(prefix) ? width - columns(prefix) : 0);
    }
    return clip(line, width);
}

TerminalProgress::TerminalProgress(bool draw, bool color, int fd)
    : draw_(draw), color_(color), fd_(fd) {
    if (draw_) ticker_ = std::thread([this] { tick(); });
}

TerminalProgress::TerminalProgress(Mode mode, bool color, int fd)
    : TerminalProgress(mode == Mode::draw, color, fd) {
    events_ = mode == Mode::events;
}

void TerminalProgress::event_locked(std::string line) {
    line += '\n';
    write_fd(fd_, line);
}

void TerminalProgress::progress_event_locked() {
    const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rate = elapsed > 0.2 ? static_cast<double>(done_) / elapsed : 0;
    boost::json::object o{{"event", "progress"},
                          {"description", description_},
                          {"done", done_},
                          {"total", total_},
                          {"unit", unit_ == ProgressUnit::bytes ? "bytes" : "items"}};
    if (unit_ == ProgressUnit::bytes) o["rate"] = static_cast<std::uint64_t>(rate);
    event_locked(boost::json::serialize(o));
    last_draw_ = Clock::now();
    last_event_done_ = done_;
}

TerminalProgress::~TerminalProgress() {
    {
        std::lock_guard lock(mu_);
        if (active_) end_step_locked(false);
        stopping_ = true;
    }
    cv_.notify_all();
    if (ticker_.joinable()) ticker_.join();
}

std::size_t TerminalProgress::width() const {
    winsize ws{};
    if (::ioctl(fd_, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10) return ws.ws_col - 1;
    return 79;
}

void TerminalProgress::step(std::string_view description, std::uint64_t total, ProgressUnit unit) {
    std::lock_guard lock(mu_);
    if (active_) end_step_locked(true);
    description_ = description;
    total_ = total;
    done_ = 0;
    unit_ = unit;
    started_ = Clock::now();
    active_ = true;
    last_event_done_ = 0;
    last_draw_ = started_;
    if (events_)
        event_locked(boost::json::serialize(
            boost::json::object{{"event", "step"},
                                {"description", description_},
                                {"total", total_},
                                {"unit", unit == ProgressUnit::bytes ? "bytes" : "items"}}));
    if (draw_)
        redraw_locked();
    else
        log::info(description_);
}

void TerminalProgress::advance(std::uint64_t done) {
    std::lock_guard lock(mu_);
    done_ = done;
    if (events_ && active_ && Clock::now() - last_draw_ >= std::chrono::seconds(1))
        progress_event_locked();
    if (draw_ && active_ && Clock::now() - last_draw_ >= tick_interval) redraw_locked();
}

void TerminalProgress::finish(bool ok) {
    std::lock_guard lock(mu_);
    if (active_) end_step_locked(ok);
}

void TerminalProgress::note(std::string_view line) {
    std::lock_guard lock(mu_);
    if (events_)
        event_locked(
            boost::json::serialize(boost::json::object{{"event", "note"}, {"text", line}}));
    if (!draw_) {
        log::info(line);
        return;
    }
    std::string s = "\r\x1b[2K";
    s += line;
    s += '\n';
    write_fd(fd_, s);
    if (active_) redraw_locked();
}

void TerminalProgress::resize(std::uint64_t total) {
    std::lock_guard lock(mu_);
    total_ = total;
}

void TerminalProgress::overall(double fraction) {
    std::lock_guard lock(mu_);
    overall_ = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100);
}

bool TerminalProgress::cancelled() const { return interrupt_requested(); }

void TerminalProgress::redraw_locked() {
    const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    std::string s = "\r\x1b[2K";
    const std::string description =
        overall_ >= 0 ? "[" + std::to_string(overall_) + "%] " + description_ : description_;
    s += render_progress_line(description, done_, total_, unit_, elapsed, frame_, width());
    write_fd(fd_, s);
    last_draw_ = Clock::now();
}

void TerminalProgress::end_step_locked(bool ok) {
    active_ = false;
    const double elapsed = std::chrono::duration<double>(Clock::now() - started_).count();
    if (events_) {
        if (done_ != last_event_done_) progress_event_locked();
        event_locked(boost::json::serialize(boost::json::object{
            {"event", "done"}, {"description", description_}, {"ok", ok}, {"seconds", elapsed}}));
    }
    if (!draw_) {
        if (!ok) log::info(description_, ": failed");
        return;
    }
    std::string mark = ok ? "✓" : "✗";
    if (color_) mark = (ok ? "\x1b[32m" : "\x1b[31m") + mark + "\x1b[0m";
    char took[32];
    std::snprintf(took, sizeof took, " (%.1f s)", elapsed);
    write_fd(fd_, "\r\x1b[2K" + mark + " " + clip(description_, width() - 12) + took + "\n");
}

void TerminalProgress::tick() {
    std::unique_lock lock(mu_);
    while (!stopping_) {
        cv_.wait_for(lock, tick_interval);
        if (stopping_) break;
        if (!active_) continue;
        ++frame_;
        // Bars move with advance(); only spinners need the clock to look alive.
        if (total_ == 0 || Clock::now() - last_draw_ >= std::chrono::seconds(1)) redraw_locked();
    }
}

}  // namespace karapace::cli
