// Comparing what a locked install produced with the lock.
#include <catch2/catch.hpp>

#include "karapace/pkg/package_manager.hpp"

using namespace karapace::pkg;

TEST_CASE("installed versions equal to the lock leave nothing missing") {
    QueryResult q{{{"hello", "2.10-3", "amd64"}, {"jq", "1.6-2.1", "amd64"}}, {}};
    CHECK(missing_versions(q, {{"hello", "2.10-3", "amd64"}, {"jq", "1.6-2.1", "amd64"}}).empty());
}

TEST_CASE("a different or absent version is reported with what is installed") {
    QueryResult q{{{"hello", "2.10-4", "amd64"}}, {"jq"}};
    auto m = missing_versions(q, {{"hello", "2.10-3", "amd64"}, {"jq", "1.6-2.1", "amd64"}});
    REQUIRE(m.size() == 2);
    CHECK(m[0].locked.name == "hello");
    CHECK(m[0].installed == "2.10-4");
    CHECK(m[1].locked.name == "jq");
    CHECK_FALSE(m[1].installed.has_value());
    CHECK(describe(m) ==
          "hello 2.10-3 (amd64): installed 2.10-4\n"
          "jq 1.6-2.1 (amd64): not installed");
}

TEST_CASE("a locked architecture must match the installed one") {
    QueryResult q{{{"libc6", "2.36-9", "amd64"}}, {}};
    auto m = missing_versions(q, {{"libc6", "2.36-9", "i386"}});
    REQUIRE(m.size() == 1);
    CHECK_FALSE(m[0].installed.has_value());
    // A lock entry without an arch matches any architecture.
    CHECK(missing_versions(q, {{"libc6", "2.36-9", ""}}).empty());
}

TEST_CASE("one matching instance among several architectures is enough") {
    QueryResult q{{{"libc6", "2.36-8", "i386"}, {"libc6", "2.36-9", "amd64"}}, {}};
    CHECK(missing_versions(q, {{"libc6", "2.36-9", ""}}).empty());
}
