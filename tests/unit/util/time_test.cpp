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

TEST_CASE("durations read as people type them and print the same way") {
    using karapace::format_duration;
    using karapace::parse_duration;
    CHECK(parse_duration("0") == seconds(0));
    CHECK(parse_duration("90") == seconds(90));
    CHECK(parse_duration("90s") == seconds(90));
    CHECK(parse_duration("10m") == minutes(10));
    CHECK(parse_duration("2h") == hours(2));
    CHECK(parse_duration("7d") == hours(7 * 24));
    CHECK(parse_duration("1h30m") == minutes(90));
    CHECK(parse_duration("1d2h3m4s") == seconds(86400 + 7200 + 180 + 4));
    for (const char* bad : {"", "m", "-1", "+5m", "1.5h", "10x", "10 m", " 10m", "1h30", "1w",
                            "99999999999999999999", "36600d"})
        CHECK_FALSE(parse_duration(bad).has_value());
    CHECK(format_duration(seconds(0)) == "0s");
    CHECK(format_duration(seconds(45)) == "45s");
    CHECK(format_duration(minutes(15)) == "15m");
    CHECK(format_duration(minutes(90)) == "1h30m");
    CHECK(format_duration(hours(48)) == "2d");
    CHECK(parse_duration(format_duration(seconds(93784))) == seconds(93784));
}
