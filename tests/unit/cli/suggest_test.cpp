#include <catch2/catch.hpp>

#include "cli/suggest.hpp"

using namespace karapace::cli;

TEST_CASE("edit distance counts insertions, deletions, substitutions and swaps", "[cli][suggest]") {
    CHECK(edit_distance("build", "build") == 0);
    CHECK(edit_distance("bild", "build") == 1);
    CHECK(edit_distance("biuld", "build") == 1);
    CHECK(edit_distance("buidl", "build") == 1);
    CHECK(edit_distance("", "abc") == 3);
    CHECK(edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("closest_match suggests plausible typos and unique prefixes only", "[cli][suggest]") {
    const std::vector<std::string> cmds{"build", "rebuild", "destroy", "diff", "verify-store"};
    CHECK(closest_match("biuld", cmds) == "build");
    CHECK(closest_match("destory", cmds) == "destroy");
    CHECK(closest_match("verify", cmds) == "verify-store");
    CHECK_FALSE(closest_match("xyzzy", cmds).has_value());
    CHECK_FALSE(closest_match("", cmds).has_value());
}
