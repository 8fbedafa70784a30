// apt: argv builders and dpkg-query parsing. The query samples are real dpkg-query 1.21.22
// output captured on the Debian 12 development host with the exact --showformat query_argv uses;
// the error samples are real `apt-get -s install` output from the same host.
#include <catch2/catch.hpp>

#include <algorithm>

#include "karapace/pkg/package_manager.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/process.hpp"

using namespace karapace;
using namespace karapace::pkg;

namespace {

bool contains(const Argv& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

}  // namespace

TEST_CASE("apt installs without prompts or recommends, after refreshing its lists") {
    auto apt = make_package_manager(Kind::apt);
    CHECK(apt->name() == "apt");
    auto refresh = apt->refresh_argv();
    REQUIRE_FALSE(refresh.empty());
    CHECK(refresh.front() == "apt-get");
    CHECK(refresh.back() == "update");

    auto install = apt->install_argv({"hello", "jq"});
    CHECK(install.front() == "apt-get");
    CHECK(contains(install, "install"));
    CHECK(contains(install, "-y"));
    CHECK(contains(install, "--no-install-recommends"));
    CHECK(std::vector<std::string>(install.end() - 2, install.end()) ==
          std::vector<std::string>{"hello", "jq"});
    CHECK_FALSE(contains(install, "APT::Sandbox::User=root"));
}

TEST_CASE("an empty package list means nothing to run") {
    auto apt = make_package_manager(Kind::apt);
    CHECK(apt->install_argv({}).empty());
    CHECK(apt->install_exact_argv({}).empty());
    CHECK(apt->query_argv({}).empty());
}

TEST_CASE("apt under a single uid mapping keeps its downloads as root") {
    auto apt = make_package_manager(Kind::apt, {.single_uid_mapping = true});
    for (const auto& argv : {apt->refresh_argv(), apt->install_argv({"hello"}),
                             apt->install_exact_argv({{"hello", "2.10-3", "amd64"}})}) {
        auto it = std::find(argv.begin(), argv.end(), "APT::Sandbox::User=root");
        REQUIRE(it != argv.end());
        CHECK(*(it - 1) == "-o");
        // An apt-get option must come before the command word.
        CHECK(it < std::find_if(
                       argv.begin(), argv.end(),
                       [](const std::string& a) { return a == "update" || a == "install"; }));
    }
}

TEST_CASE("apt exact installs pin name:arch=version and allow downgrades") {
    auto apt = make_package_manager(Kind::apt);
    auto argv = apt->install_exact_argv({{"hello", "2.10-3", "amd64"},
                                         {"ca-certificates", "20230311", "all"},
                                         {"libc6", "2.36-9+deb12u14", "i386"},
                                         {"tzdata", "2024a-0+deb12u1", ""}});
    CHECK(contains(argv, "--allow-downgrades"));
    CHECK(contains(argv, "hello:amd64=2.10-3"));
    CHECK(contains(argv, "ca-certificates=20230311"));
    CHECK(contains(argv, "libc6:i386=2.36-9+deb12u14"));
    CHECK(contains(argv, "tzdata=2024a-0+deb12u1"));
}

TEST_CASE("apt runs non-interactively in the C locale") {
    auto env = make_package_manager(Kind::apt)->environment();
    CHECK(contains(env, "DEBIAN_FRONTEND=noninteractive"));
    CHECK(contains(env, "LC_ALL=C"));
}

TEST_CASE("dpkg-query output gives exactly the requested installed packages") {
    auto apt = make_package_manager(Kind::apt);
    // Real output of query_argv({"hello","libc6","bash","coreutils","nonexistent-pkg",
    // "ca-certificates"}) on the host (dpkg-query prints in its own order, not the request's;
    // the missing packages go to stderr).
    const std::string out =
        "bash\t5.2.15-2+b8\tamd64\tii \n"
        "ca-certificates\t20230311+deb12u1\tall\tii \n"
        "coreutils\t9.1-1\tamd64\tii \n"
        "libc6\t2.36-9+deb12u14\tamd64\tii \n";
    auto r = apt->parse_versions(out, {"coreutils", "bash", "nonexistent-pkg", "ca-certificates"});
    REQUIRE(r.installed.size() == 3);
    CHECK(r.installed[0] == PackageVersion{"coreutils", "9.1-1", "amd64"});
    CHECK(r.installed[1] == PackageVersion{"bash", "5.2.15-2+b8", "amd64"});
    CHECK(r.installed[2] == PackageVersion{"ca-certificates", "20230311+deb12u1", "all"});
    CHECK(r.not_installed == std::vector<std::string>{"nonexistent-pkg"});
}

TEST_CASE("dpkg-query records of removed packages do not count as installed") {
    auto apt = make_package_manager(Kind::apt);
    // "rc": removed, configuration files remain; "un": known but not installed (empty version).
    const std::string out =
        "hello\t2.10-3\tamd64\trc \n"
        "jq\t\tamd64\tun \n"
        "bash\t5.2.15-2+b8\tamd64\tii \n";
    auto r = apt->parse_versions(out, {"hello", "jq", "bash"});
    REQUIRE(r.installed.size() == 1);
    CHECK(r.installed[0].name == "bash");
    CHECK(r.not_installed == std::vector<std::string>{"hello", "jq"});
}

TEST_CASE("apt requests with an architecture match only that architecture") {
    auto apt = make_package_manager(Kind::apt);
    CHECK(apt->split_request("libc6:i386") == PackageVersion{"libc6", "", "i386"});
    const std::string out =
        "libc6\t2.36-9+deb12u14\tamd64\tii \n"
        "libc6\t2.36-9+deb12u14\ti386\tii \n";
    auto foreign = apt->parse_versions(out, {"libc6:i386"});
    REQUIRE(foreign.installed.size() == 1);
    CHECK(foreign.installed[0].arch == "i386");
    // A bare name installed for two architectures is recorded once per architecture.
    auto both = apt->parse_versions(out, {"libc6"});
    CHECK(both.installed.size() == 2);
    auto missing = apt->parse_versions(out, {"libc6:arm64"});
    CHECK(missing.installed.empty());
    CHECK(missing.not_installed == std::vector<std::string>{"libc6:arm64"});
}

TEST_CASE("apt's own E: lines are what a failed install shows") {
    auto apt = make_package_manager(Kind::apt);
    // Real `apt-get -s install karapace-no-such-pkg hello=9.9-bogus` output (exit 100).
    const std::string out =
        "Reading package lists...\n"
        "Building dependency tree...\n"
        "Reading state information...\n"
        "Package hello is a virtual package provided by:\n"
        "  hello-traditional 2.10-6\n"
        "\n"
        "E: Unable to locate package karapace-no-such-pkg\n"
        "E: Version '9.9-bogus' for 'hello' was not found\n";
    CHECK(apt->error_lines(out) ==
          std::vector<std::string>{"E: Unable to locate package karapace-no-such-pkg",
                                   "E: Version '9.9-bogus' for 'hello' was not found"});
    CHECK(apt->error_lines("Reading package lists...\nDone\n").empty());
}

TEST_CASE("package names that a tool would read as options are refused") {
    auto apt = make_package_manager(Kind::apt);
    try {
        apt->install_argv({"hello", "--allow-unauthenticated"});
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::manifest);
        CHECK(std::string(e.what()).find("--allow-unauthenticated") != std::string::npos);
    }
    CHECK_THROWS_AS(apt->install_argv({"two words"}), Error);
    CHECK_THROWS_AS(apt->install_exact_argv({{"hello", "", "amd64"}}), Error);
    CHECK_THROWS_AS(apt->query_argv({""}), Error);
}

TEST_CASE("the dpkg-query argv works against this host's package database") {
    if (!find_program("dpkg-query")) {
        WARN("skipped: dpkg-query is not installed on this host");
        return;
    }
    auto apt = make_package_manager(Kind::apt);
    auto argv = apt->query_argv({"dpkg", "karapace-no-such-package"});
    auto r = run_process(argv);
    auto parsed = apt->parse_versions(r.out, {"dpkg", "karapace-no-such-package"});
    // dpkg is always installed where dpkg-query runs; its version must be the one dpkg reports.
    auto self = run_process({"dpkg-query", "--version"});
    REQUIRE(parsed.installed.size() == 1);
    CHECK(parsed.installed[0].name == "dpkg");
    CHECK(self.out.find(parsed.installed[0].version.substr(0, 4)) != std::string::npos);
    CHECK_FALSE(parsed.installed[0].arch.empty());
    CHECK(parsed.not_installed == std::vector<std::string>{"karapace-no-such-package"});
}

TEST_CASE("apt's list of every installed package matches dpkg's own count") {
    if (!find_program("dpkg-query")) {
        WARN("skipped: dpkg-query is not installed on this host");
        return;
    }
    auto apt = make_package_manager(Kind::apt);
    auto argv = apt->list_installed_argv();
    CHECK(argv.back() != "--");
    auto r = run_process(argv);
    REQUIRE(r.ok());
    auto all = apt->parse_installed(r.out);
    // `dpkg -l` marks installed packages with "ii" (or "hi" when held).
    auto list = run_process({"sh", "-c", "dpkg -l | grep -c '^[hi]i '"});
    CHECK(std::to_string(all.size()) == std::string(list.out.substr(0, list.out.find('\n'))));
    CHECK(apt->select_requested(all, {"dpkg"}).installed.size() == 1);
}
