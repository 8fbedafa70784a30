#include "karapace/util/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace karapace::log {

namespace {
std::atomic<int> current{static_cast<int>(Level::warn)};

std::string_view prefix(Level l) {
    switch (l) {
    case Level::error: return "error: ";
    case Level::warn: return "warning: ";
    case Level::info: return "";
    case Level::debug: return "debug: ";
    case Level::trace: return "trace: ";
    }
    return "";
}
}  // namespace

void set_level(Level level) noexcept { current.store(static_cast<int>(level)); }
Level level() noexcept { return static_cast<Level>(current.load()); }
bool enabled(Level l) noexcept { return static_cast<int>(l) <= current.load(); }

void init_from_env() {
    const char* v = std::getenv("KARAPACE_LOG");
    if (v == nullptr || *v == '\0') return;
    std::string s(v);
    if (s == "error")
        set_level(Level::error);
    else if (s == "warn" || s == "warning")
        set_level(Level::warn);
    else if (s == "info")
        set_level(Level::info);
    else if (s == "debug")
        set_level(Level::debug);
    else if (s == "trace")
        set_level(Level::trace);
    else
        warn("KARAPACE_LOG='", s, "' is not one of error, warn, info, debug, trace; ignored");
}

void write(Level l, std::string_view message) {
    // One write() per line so lines from concurrent processes do not interleave.
    std::string line = "karapace: ";
    line += prefix(l);
    line += message;
    line += '\n';
    ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
    (void)ignored;
}

}  // namespace karapace::log
