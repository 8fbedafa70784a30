// Timestamps: RFC 3339 in UTC ("2026-11-28T19:10:00Z", optional fractional seconds); durations as
// people type them on a command line ("0", "90s", "10m", "1h30m").
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace karapace {

using SystemTime = std::chrono::system_clock::time_point;

// Seconds precision, "Z" suffix.
std::string format_rfc3339(SystemTime t);
// Nanosecond precision, used where ordering within a second matters (WAL, sessions).
std::string format_rfc3339_nanos(SystemTime t);
std::string now_rfc3339();
// Accepts "Z" or "+HH:MM"/"-HH:MM" offsets and 0-9 fractional digits.
std::optional<SystemTime> parse_rfc3339(std::string_view text);

// "0", "90" (seconds), "90s", "10m", "2h", "7d", or such parts in a row ("1h30m"). nullopt for
// anything else: no unit after a part but the last, an unknown unit, a sign, a fraction, or more
// than 100 years.
std::optional<std::chrono::seconds> parse_duration(std::string_view text);
// The shortest such text for `d` ("0s", "45s", "15m", "1h30m", "2d"); what parse_duration reads.
std::string format_duration(std::chrono::seconds d);

}  // namespace karapace
