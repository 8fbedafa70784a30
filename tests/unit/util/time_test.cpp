#include <catch2/catch.hpp>

#include "karapace/util/time.hpp"

using namespace std::chrono;

TEST_CASE("timestamps are RFC 3339 in UTC") {
    auto t = system_clock::from_time_t(1764357000);  // 2025-11-28T19:10:00Z
    CHECK(karapace::format_rfc3339(t) == "2025-11-28T19:10:00Z");
    CHECK(karapace::format_rfc3339_nanos(t + nanoseconds(5)) == "2025-11-28T19:10:00.000000005Z");
}

TEST_CASE("RFC 3339 parsing accepts offsets and fractions and refuses garbage") {
    auto t = system_clock::from_time_t(1764357000);
    CHECK(karapace::parse_rfc3339("2025-11-28T19:10:00Z") == t);
    CHECK(karapace::parse_rfc3339("2025-11-28T20:10:00+01:00") == t);
    CHECK(karapace::parse_rfc3339("2025-11-28T19:10:00.5Z") == t + milliseconds(500));
    CHECK_FALSE(karapace::parse_rfc3339("2025-11-28 junk").has_value());
    CHECK_FALSE(karapace::parse_rfc3339("2025-13-28T19:10:00Z").has_value());
    CHECK_FALSE(karapace::parse_rfc3339("2025-11-28T19:10:00").has_value());
}
