// Logging to stderr only (stdout carries results). The level comes from KARAPACE_LOG
// (error|warn|info|debug|trace), raised by -v and --trace.
#pragma once

#include <sstream>
#include <string>
#include <string_view>

namespace karapace::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3, trace = 4 };

void set_level(Level level) noexcept;
Level level() noexcept;
// Reads KARAPACE_LOG; unknown values are ignored with a warning.
void init_from_env();
bool enabled(Level level) noexcept;
void write(Level level, std::string_view message);

template <typename... Args>
std::string cat(const Args&... args) {
    std::ostringstream out;
    (out << ... << args);
    return out.str();
}

template <typename... Args>
void error(const Args&... a) {
    if (enabled(Level::error)) write(Level::error, cat(a...));
}
template <typename... Args>
void warn(const Args&... a) {
    if (enabled(Level::warn)) write(Level::warn, cat(a...));
}
template <typename... Args>
void info(const Args&... a) {
    if (enabled(Level::info)) write(Level::info, cat(a...));
}
template <typename... Args>
void debug(const Args&... a) {
    if (enabled(Level::debug)) write(Level::debug, cat(a...));
}
template <typename... Args>
void trace(const Args&... a) {
    if (enabled(Level::trace)) write(Level::trace, cat(a...));
}

}  // namespace karapace::log
