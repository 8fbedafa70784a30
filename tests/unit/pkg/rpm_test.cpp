// dnf and zypper: argv builders and the rpm query they share. No rpm-based tool runs on the
// Debian development host, so the samples are written in the documented formats:
// - query output: the query format query_argv passes, as rpm(8) --queryformat expands it; rpm
//   prints "(none)" for an unset EPOCH tag and "package X is not installed" on stdout for a name
//   it does not know (rpm 4.x behaviour, also on Fedora 40 and openSUSE Tumbleweed);
// - dnf4 errors: as reported in kubernetes-sigs/kubespray#4802 and fastfetch-cli/fastfetch#1057;
//   dnf5 errors: dnf5's "Failed to resolve the transaction" block (rpm-software-management/dnf5);
// - zypper errors: zypper 1.14's messages for an unknown name or an unavailable version.
#include <catch2/catch.hpp>

#include <algorithm>

#include "karapace/pkg/package_manager.hpp"

using namespace karapace::pkg;

namespace {

bool contains(const Argv& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

const std::string rpm_output =
    "bash\t(none):5.2.26-3.fc40\tx86_64\n"
    "package karapace-nope is not installed\n"
    "glibc\t(none):2.39-22.fc40\tx86_64\n"
    "glibc\t(none):2.39-22.fc40\ti686\n"
    "shadow-utils\t2:4.15.1-3.fc40\tx86_64\n"
    "python3.12\t(none):3.12.7-1.fc40\tx86_64\n";

}  // namespace

TEST_CASE("dnf installs without weak dependencies and refreshes with makecache") {
    auto dnf = make_package_manager(Kind::dnf);
    CHECK(dnf->name() == "dnf");
    CHECK(dnf->refresh_argv() == Argv{"dnf", "-y", "makecache"});
    CHECK(dnf->install_argv({"hello", "jq"}) ==
          Argv{"dnf", "install", "-y", "--setopt=install_weak_deps=False", "hello", "jq"});
}

TEST_CASE("dnf exact installs name the full NEVRA") {
    auto dnf = make_package_manager(Kind::dnf);
    auto argv = dnf->install_exact_argv({{"bash", "5.2.26-3.fc40", "x86_64"},
                                         {"shadow-utils", "2:4.15.1-3.fc40", "x86_64"},
                                         {"tzdata", "2024a-5.fc40", "noarch"},
                                         {"hello", "2.12.1-4.fc40", ""}});
    CHECK(contains(argv, "bash-5.2.26-3.fc40.x86_64"));
    CHECK(contains(argv, "shadow-utils-2:4.15.1-3.fc40.x86_64"));
    CHECK(contains(argv, "tzdata-2024a-5.fc40.noarch"));
    CHECK(contains(argv, "hello-2.12.1-4.fc40"));
}

TEST_CASE("zypper puts --non-interactive before the command and pins with name.arch=version") {
    auto zypper = make_package_manager(Kind::zypper);
    CHECK(zypper->name() == "zypper");
    CHECK(zypper->refresh_argv() == Argv{"zypper", "--non-interactive", "refresh"});
    CHECK(zypper->install_argv({"hello"}) ==
          Argv{"zypper", "--non-interactive", "install", "--no-recommends", "hello"});
    auto exact = zypper->install_exact_argv(
        {{"hello", "2.12.1-3.4", "x86_64"}, {"shadow", "2:4.15.1-1.1", ""}});
    CHECK(exact[1] == "--non-interactive");
    CHECK(contains(exact, "--oldpackage"));
    CHECK(contains(exact, "hello.x86_64=2.12.1-3.4"));
    CHECK(contains(exact, "shadow=2:4.15.1-1.1"));
}

TEST_CASE("both rpm managers query rpm with epoch and arch") {
    for (Kind k : {Kind::dnf, Kind::zypper}) {
        auto pm = make_package_manager(k);
        auto argv = pm->query_argv({"bash", "glibc.i686"});
        REQUIRE(argv.size() == 7);
        CHECK(argv[0] == "rpm");
        CHECK(argv[2] == "--qf");
        CHECK(argv[3] == "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n");
        CHECK(argv[5] == "bash");
        CHECK(argv[6] == "glibc.i686");
        CHECK(pm->environment() == std::vector<std::string>{"LC_ALL=C"});
        auto all = pm->list_installed_argv();
        CHECK(all == std::vector<std::string>{"rpm", "-q", "--qf", argv[3], "-a"});
    }
}

TEST_CASE("rpm query output drops an unset epoch and keeps a set one") {
    auto dnf = make_package_manager(Kind::dnf);
    auto r = dnf->parse_versions(rpm_output, {"bash", "shadow-utils", "karapace-nope"});
    REQUIRE(r.installed.size() == 2);
    CHECK(r.installed[0] == PackageVersion{"bash", "5.2.26-3.fc40", "x86_64"});
    CHECK(r.installed[1] == PackageVersion{"shadow-utils", "2:4.15.1-3.fc40", "x86_64"});
    CHECK(r.not_installed == std::vector<std::string>{"karapace-nope"});
}

TEST_CASE("rpm name.arch requests match one architecture; dotted names stay names") {
    auto zypper = make_package_manager(Kind::zypper);
    CHECK(zypper->split_request("glibc.i686") == PackageVersion{"glibc", "", "i686"});
    CHECK(zypper->split_request("python3.12") == PackageVersion{"python3.12", "", ""});
    auto i686 = zypper->parse_versions(rpm_output, {"glibc.i686"});
    REQUIRE(i686.installed.size() == 1);
    CHECK(i686.installed[0].arch == "i686");
    auto all = zypper->parse_versions(rpm_output, {"glibc", "python3.12"});
    CHECK(all.installed.size() == 3);
    CHECK(all.not_installed.empty());
}

TEST_CASE("dnf4 and dnf5 failures show dnf's own lines") {
    auto dnf = make_package_manager(Kind::dnf);
    const std::string dnf4 =
        "Last metadata expiration check: 0:00:18 ago on Fri 24 May 2019 03:07:03 PM UTC.\n"
        "No match for argument: python2-dnf\n"
        "Error: Unable to find a match: python2-dnf\n";
    CHECK(dnf->error_lines(dnf4) ==
          std::vector<std::string>{"No match for argument: python2-dnf",
                                   "Error: Unable to find a match: python2-dnf"});
    const std::string dnf5 =
        "Updating and loading repositories:\n"
        "Repositories loaded.\n"
        "Failed to resolve the transaction:\n"
        "No match for argument: karapace-nope\n"
        "You can try to add to command line:\n"
        "  --skip-unavailable to skip unavailable packages\n";
    CHECK(dnf->error_lines(dnf5) ==
          std::vector<std::string>{"Failed to resolve the transaction:",
                                   "No match for argument: karapace-nope"});
    const std::string problem =
        "Error: \n"
        " Problem: conflicting requests\n"
        "  - nothing provides libfoo.so.1()(64bit) needed by bar-1.0-1.fc40.x86_64\n"
        "(try to add '--skip-broken' to skip uninstallable packages)\n";
    auto lines = dnf->error_lines(problem);
    REQUIRE(lines.size() == 3);
    CHECK(lines[1] == " Problem: conflicting requests");
    CHECK(lines[2].find("nothing provides libfoo") != std::string::npos);
}

TEST_CASE("zypper failures show which package had no provider") {
    auto zypper = make_package_manager(Kind::zypper);
    const std::string out =
        "Loading repository data...\n"
        "Reading installed packages...\n"
        "'karapace-nope' not found in package names. Trying capabilities.\n"
        "No provider of 'karapace-nope' found.\n"
        "No provider of 'hello = 9.9' found.\n"
        "Resolving package dependencies...\n";
    CHECK(zypper->error_lines(out) ==
          std::vector<std::string>{"No provider of 'karapace-nope' found.",
                                   "No provider of 'hello = 9.9' found."});
}
