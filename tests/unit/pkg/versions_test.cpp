// Comparing what a locked install produced with the lock.
#include <catch2/catch.hpp>

#include <string>

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

TEST_CASE("only pacman needs an availability check before an exact install") {
    const std::vector<LockedPackage> locked{{"hello", "2.10-3", "amd64"}};
    for (Kind k : {Kind::apt, Kind::dnf, Kind::zypper, Kind::apk}) {
        auto pm = make_package_manager(k);
        CHECK(pm->available_argv(locked).empty());
        CHECK_NOTHROW(pm->check_available("", locked));
    }
    CHECK_FALSE(make_package_manager(Kind::pacman)->available_argv(locked).empty());
}

TEST_CASE("error lines stop at twenty") {
    std::string out;
    for (int i = 0; i < 50; ++i)
        out += "E: Unable to locate package p" + std::to_string(i) + "\n";
    auto lines = make_package_manager(Kind::apt)->error_lines(out);
    REQUIRE(lines.size() == 20);
    CHECK(lines.front() == "E: Unable to locate package p0");
    CHECK(lines.back() == "E: Unable to locate package p19");
}

TEST_CASE("an install's changes are the added, upgraded and downgraded records") {
    std::vector<PackageVersion> before{{"libc6", "2.36-9", "amd64"},
                                       {"libjq1", "1.6-2", "amd64"},
                                       {"zlib1g", "1:1.2.13", "amd64"}};
    std::vector<PackageVersion> after{{"zlib1g", "1:1.2.13", "amd64"},
                                      {"jq", "1.6-2.1", "amd64"},
                                      {"libjq1", "1.6-2.1", "amd64"},
                                      {"libc6", "2.36-9", "amd64"},
                                      {"libonig5", "6.9.8-1", "amd64"}};
    auto changed = changed_packages(before, after);
    CHECK(changed == std::vector<PackageVersion>{{"jq", "1.6-2.1", "amd64"},
                                                 {"libjq1", "1.6-2.1", "amd64"},
                                                 {"libonig5", "6.9.8-1", "amd64"}});
    CHECK(changed_packages(after, after).empty());
    // A package of a second architecture is a new record, not a change of the first.
    auto multiarch = after;
    multiarch.push_back({"libc6", "2.36-9", "i386"});
    CHECK(changed_packages(after, multiarch) ==
          std::vector<PackageVersion>{{"libc6", "2.36-9", "i386"}});
}
