// What each package manager contributes to lean, reproducible layers: its own clean-up command,
// its table of paths left out of layers, archive checksums (apt: `apt-cache show` records, the
// samples below are real apt 2.6 output from the Debian 12 development host, shortened to the
// fields that matter) and the names apt gives downloaded archives.
#include <catch2/catch.hpp>

#include <fnmatch.h>
#include <algorithm>

#include "karapace/pkg/package_manager.hpp"

using namespace karapace;
using namespace karapace::pkg;

namespace {

constexpr Kind all_kinds[] = {Kind::apt, Kind::dnf, Kind::zypper, Kind::pacman, Kind::apk};

bool excluded(const PackageManager& pm, const std::string& path) {
    return std::any_of(
        pm.layer_exclusions().begin(), pm.layer_exclusions().end(), [&](const LayerExclusion& e) {
            return ::fnmatch(std::string(e.pattern).c_str(), path.c_str(), FNM_PATHNAME) == 0;
        });
}

// `apt-cache show hello=2.10-3 bash:amd64=5.2.15-2+b8`: the first record comes from the index,
// the second from dpkg's status file (an installed version no index offers any more).
constexpr const char* apt_cache_show =
    "Package: hello\n"
    "Version: 2.10-3\n"
    "Installed-Size: 277\n"
    "Architecture: amd64\n"
    "Tag: devel::debian, devel::examples, devel::lang:c, devel::lang:posix-shell,\n"
    " devel::packaging, implemented-in::c, interface::commandline,\n"
    "Filename: pool/main/h/hello/hello_2.10-3_amd64.deb\n"
    "Size: 53080\n"
    "MD5sum: d04c2e9639dee67aa836d8232b1ca658\n"
    "SHA256: 2e6e2f1a0007dc43bc91c273fd36e91e40a4f1c2765a03eca68b70a42103878a\n"
    "\n"
    "Package: bash\n"
    "Essential: yes\n"
    "Status: install ok installed\n"
    "Architecture: amd64\n"
    "Version: 5.2.15-2+b8\n"
    "\n";

}  // namespace

TEST_CASE("every package manager has a table of paths left out of layers, each with a reason") {
    for (Kind k : all_kinds) {
        auto pm = make_package_manager(k);
        INFO(pm->name());
        REQUIRE_FALSE(pm->layer_exclusions().empty());
        for (const auto& e : pm->layer_exclusions()) {
            INFO(e.pattern);
            CHECK_FALSE(e.pattern.empty());
            CHECK(e.pattern.front() != '/');
            CHECK_FALSE(e.reason.empty());
            CHECK(e.reason.find('\n') == std::string_view::npos);
        }
    }
}

TEST_CASE("apt's table drops its indexes, caches and install logs, and keeps its package state") {
    auto apt = make_package_manager(Kind::apt);
    for (const char* gone :
         {"var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
          "var/cache/apt/pkgcache.bin", "var/cache/apt/srcpkgcache.bin", "var/cache/apt/archives",
          "var/log/apt/history.log", "var/log/apt/term.log", "var/log/apt/eipp.log.xz",
          "var/log/dpkg.log", "var/lib/dpkg/status-old", "var/cache/debconf/config.dat-old",
          "var/cache/ldconfig/aux-cache"}) {
        INFO(gone);
        CHECK(excluded(*apt, gone));
    }
    for (const char* kept :
         {"var/lib/dpkg/status", "var/lib/apt/extended_states", "var/cache/debconf/config.dat",
          "var/log/user-app.log", "usr/bin/hello", "etc/apt/sources.list"}) {
        INFO(kept);
        CHECK_FALSE(excluded(*apt, kept));
    }
}

TEST_CASE("the other managers' tables drop their caches and logs") {
    CHECK(excluded(*make_package_manager(Kind::dnf), "var/log/dnf.rpm.log"));
    CHECK(excluded(*make_package_manager(Kind::dnf), "var/cache/dnf/fedora-filenames.solvx"));
    CHECK(excluded(*make_package_manager(Kind::zypper), "var/log/zypper.log"));
    CHECK(excluded(*make_package_manager(Kind::zypper), "var/cache/zypp/raw"));
    CHECK(excluded(*make_package_manager(Kind::pacman), "var/log/pacman.log"));
    CHECK(excluded(*make_package_manager(Kind::pacman), "var/lib/pacman/sync/core.db"));
    CHECK(excluded(*make_package_manager(Kind::apk), "var/cache/apk/APKINDEX.2c4ac24e.tar.gz"));
    CHECK_FALSE(excluded(*make_package_manager(Kind::pacman), "var/lib/pacman/local"));
}

TEST_CASE("each manager's own clean-up command") {
    CHECK(make_package_manager(Kind::apt)->clean_argv().back() == "clean");
    CHECK(make_package_manager(Kind::dnf)->clean_argv() == Argv{"dnf", "clean", "all"});
    CHECK(make_package_manager(Kind::zypper)->clean_argv() ==
          Argv{"zypper", "--non-interactive", "clean", "-a"});
    auto pacman = make_package_manager(Kind::pacman)->clean_argv();
    CHECK(std::find(pacman.begin(), pacman.end(), "-Scc") != pacman.end());
    // apk keeps no package cache unless one is set up; its indexes are in its table.
    CHECK(make_package_manager(Kind::apk)->clean_argv().empty());
}

TEST_CASE("apt reads archive checksums from the index records of exact versions") {
    auto apt = make_package_manager(Kind::apt);
    auto argv = apt->checksum_argv({{"hello", "2.10-3", "amd64"}, {"tzdata", "2024a-0", "all"}});
    CHECK(argv == Argv{"apt-cache", "show", "--", "hello:amd64=2.10-3", "tzdata=2024a-0"});
    auto sums = apt->parse_checksums(apt_cache_show);
    REQUIRE(sums.size() == 1);  // the status record carries no checksum
    CHECK(sums[0].package == PackageVersion{"hello", "2.10-3", "amd64"});
    CHECK(sums[0].sha256 == "2e6e2f1a0007dc43bc91c273fd36e91e40a4f1c2765a03eca68b70a42103878a");
    CHECK(apt->parse_checksums("").empty());
    CHECK(apt->checksum_argv({}).empty());
}

TEST_CASE("managers without archive checksums give no argv, so their locks carry none") {
    for (Kind k : {Kind::dnf, Kind::zypper, Kind::pacman, Kind::apk}) {
        auto pm = make_package_manager(k);
        INFO(pm->name());
        CHECK(pm->checksum_argv({{"bash", "5.2-1", "x86_64"}}).empty());
        CHECK(pm->download_argv({{"bash", "5.2-1", "x86_64"}}).empty());
    }
}

TEST_CASE("apt downloads exact versions without installing, and names the archives it keeps") {
    auto apt = make_package_manager(Kind::apt);
    auto argv = apt->download_argv({{"libjq1", "1.6-2.1+deb12u2", "amd64"}});
    CHECK(std::find(argv.begin(), argv.end(), "--download-only") != argv.end());
    CHECK(argv.back() == "libjq1:amd64=1.6-2.1+deb12u2");
    CHECK(apt->archive_dir() == "var/cache/apt/archives");
    CHECK(apt->archive_package("libjq1_1.6-2.1+deb12u2_amd64.deb") ==
          PackageVersion{"libjq1", "1.6-2.1+deb12u2", "amd64"});
    // An epoch's ':' is written %3a in the file name.
    CHECK(apt->archive_package("git_1%3a2.39.2-1.1_amd64.deb") ==
          PackageVersion{"git", "1:2.39.2-1.1", "amd64"});
    CHECK_FALSE(apt->archive_package("lock"));
    CHECK_FALSE(apt->archive_package("partial"));
    CHECK_FALSE(apt->archive_package("odd_name.deb"));
}

TEST_CASE("dependencies of an exact install are marked as such again") {
    auto apt = make_package_manager(Kind::apt);
    CHECK(apt->mark_auto_argv(
              {{"libjq1", "1.6-2.1+deb12u2", "amd64"}, {"tzdata", "2024a-0", "all"}}) ==
          Argv{"apt-mark", "auto", "--", "libjq1:amd64", "tzdata"});
    CHECK(apt->mark_auto_argv({}).empty());
    CHECK(make_package_manager(Kind::pacman)->mark_auto_argv({{"zlib", "1:1.3-1", "x86_64"}}) ==
          Argv{"pacman", "-D", "--asdeps", "--", "zlib"});
    CHECK(make_package_manager(Kind::apk)->mark_auto_argv({{"zlib", "1.3-r0", "x86_64"}}).empty());
}
