// Small text helpers (karapace/util/text.hpp).
#include <catch2/catch.hpp>
#include <cstdint>

#include "karapace/util/text.hpp"

using namespace karapace;

TEST_CASE("parse_number takes a whole decimal number and nothing else", "[text]") {
    std::uint64_t u = 7;
    CHECK(parse_number("18446744073709551615", u));
    CHECK(u == 18446744073709551615ULL);
    long long s = 0;
    CHECK(parse_number("-42", s));
    CHECK(s == -42);
    int i = 0;
    CHECK(parse_number("300", i));
    CHECK(i == 300);

    std::uint64_t v = 5;
    CHECK_FALSE(parse_number("", v));
    CHECK_FALSE(parse_number("-5", v));  // no sign for an unsigned type
    CHECK_FALSE(parse_number("12 ", v));
    CHECK_FALSE(parse_number(" 12", v));
    CHECK_FALSE(parse_number("12abc", v));
    CHECK_FALSE(parse_number("18446744073709551616", v));  // does not fit
    CHECK_FALSE(parse_number("0x10", v));
}

TEST_CASE("ascii_lower changes ASCII letters only", "[text]") {
    CHECK(ascii_lower("Docker.IO/Library") == "docker.io/library");
    CHECK(ascii_lower("\xc3\x84X") == "\xc3\x84x");
}
