// pacman: argv builders, -Qi/-Si parsing and the exact-version refusal. The samples follow
// pacman's `-Qi`/`-Si` layout (labels padded to 16 columns, " : ", a blank line between
// packages; as in pacman 6/7 with LC_ALL=C, see oshazard/apacman#6 for a real -Qi block) and its
// "error: target not found: <name>" / "error: package '<name>' was not found" messages.
#include <catch2/catch.hpp>

#include <algorithm>

#include "karapace/pkg/package_manager.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::pkg;

namespace {

bool contains(const Argv& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

const std::string qi_output =
    "Name            : bash\n"
    "Version         : 5.2.037-1\n"
    "Description     : The GNU Bourne Again shell\n"
    "Architecture    : x86_64\n"
    "URL             : https://www.gnu.org/software/bash/bash.html\n"
    "Licenses        : GPL-3.0-or-later\n"
    "Groups          : None\n"
    "Provides        : sh\n"
    "Depends On      : readline  libreadline.so=8-64  glibc  ncurses\n"
    "Optional Deps   : bash-completion: for tab completion\n"
    "                  bash-docs: documentation [installed]\n"
    "Required By     : base  bzip2  gzip\n"
    "Install Reason  : Installed as a dependency for another package\n"
    "\n"
    "Name            : tzdata\n"
    "Version         : 2025a-1\n"
    "Description     : Sources for time zone and daylight saving time data\n"
    "Architecture    : any\n"
    "\n"
    "Name            : libxcrypt\n"
    "Version         : 1:4.4.38-1\n"
    "Architecture    : x86_64\n"
    "\n";

}  // namespace

TEST_CASE("pacman refreshes, then installs with a whole-system upgrade") {
    auto pacman = make_package_manager(Kind::pacman);
    CHECK(pacman->name() == "pacman");
    CHECK(pacman->refresh_argv() == Argv{"pacman", "-Sy", "--noconfirm"});
    CHECK(pacman->install_argv({"hello"}) ==
          Argv{"pacman", "-Su", "--noconfirm", "--needed", "hello"});
    CHECK(pacman->environment() == std::vector<std::string>{"LC_ALL=C"});
}

TEST_CASE("pacman under a single uid mapping does not switch to its download user") {
    auto pacman = make_package_manager(Kind::pacman, {.single_uid_mapping = true});
    CHECK(contains(pacman->refresh_argv(), "--disable-sandbox"));
    CHECK(contains(pacman->install_argv({"hello"}), "--disable-sandbox"));
    CHECK_FALSE(contains(make_package_manager(Kind::pacman)->refresh_argv(), "--disable-sandbox"));
}

TEST_CASE("pacman -Qi blocks give name, version with epoch and arch") {
    auto pacman = make_package_manager(Kind::pacman);
    CHECK(pacman->query_argv({"bash"}) == Argv{"pacman", "-Qi", "--", "bash"});
    CHECK(pacman->list_installed_argv() == Argv{"pacman", "-Qi"});
    CHECK(pacman->parse_installed(qi_output).size() == 3);
    auto r = pacman->parse_versions(qi_output, {"tzdata", "bash", "libxcrypt", "hello"});
    REQUIRE(r.installed.size() == 3);
    CHECK(r.installed[0] == PackageVersion{"tzdata", "2025a-1", "any"});
    CHECK(r.installed[1] == PackageVersion{"bash", "5.2.037-1", "x86_64"});
    CHECK(r.installed[2] == PackageVersion{"libxcrypt", "1:4.4.38-1", "x86_64"});
    CHECK(r.not_installed == std::vector<std::string>{"hello"});
}

TEST_CASE("pacman installs a locked version only as a constraint on the repository") {
    auto pacman = make_package_manager(Kind::pacman);
    auto argv = pacman->install_exact_argv({{"bash", "5.2.037-1", "x86_64"}});
    CHECK(argv == Argv{"pacman", "-S", "--noconfirm", "--needed", "bash=5.2.037-1"});
    CHECK(pacman->available_argv({{"bash", "5.2.037-1", "x86_64"}}) ==
          Argv{"pacman", "-Si", "--", "bash"});
}

TEST_CASE("pacman refuses locked versions its repository no longer offers, listing them all") {
    auto pacman = make_package_manager(Kind::pacman);
    const std::string si =
        "Repository      : core\n"
        "Name            : bash\n"
        "Version         : 5.2.037-2\n"
        "Architecture    : x86_64\n"
        "\n"
        "Repository      : extra\n"
        "Name            : hello\n"
        "Version         : 2.12.1-2\n"
        "Architecture    : x86_64\n"
        "\n";
    // The repository has exactly hello 2.12.1-2: no complaint.
    CHECK_NOTHROW(pacman->check_available(si, {{"hello", "2.12.1-2", "x86_64"}}));
    try {
        pacman->check_available(si, {{"bash", "5.2.037-1", "x86_64"},
                                     {"hello", "2.12.1-2", "x86_64"},
                                     {"karapace-gone", "1.0-1", "any"}});
        FAIL("expected a refusal");
    } catch (const Error& e) {
        std::string what = e.what();
        CHECK(e.code() == Errc::conflict);
        CHECK(what.find("bash 5.2.037-1: the repository has 5.2.037-2") != std::string::npos);
        CHECK(what.find("karapace-gone 1.0-1: not in any repository") != std::string::npos);
        CHECK(what.find("hello") == std::string::npos);
        CHECK(e.hint().find("without --locked") != std::string::npos);
    }
}

TEST_CASE("pacman failures show its error: lines") {
    auto pacman = make_package_manager(Kind::pacman);
    const std::string out =
        ":: Synchronizing package databases...\n"
        " core is up to date\n"
        "error: target not found: karapace-nope\n"
        "error: target not found: hello=2.12.1-1\n";
    CHECK(pacman->error_lines(out) ==
          std::vector<std::string>{"error: target not found: karapace-nope",
                                   "error: target not found: hello=2.12.1-1"});
}
