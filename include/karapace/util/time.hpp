// Timestamps: RFC 3339 in UTC ("2026-11-28T19:10:00Z", optional fractional seconds).
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

}  // namespace karapace
