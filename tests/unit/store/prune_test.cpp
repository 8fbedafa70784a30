// prune_tree: what a build leaves out of its packages layer (the package managers' tables).
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "karapace/store/prune.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/paths.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

// write_text, creating the parent directories first.
void put(const std::string& path, const std::string& text) {
    make_dirs(parent_dir(path));
    write_text(path, text);
}

bool present(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

}  // namespace

TEST_CASE("prune_tree removes what the patterns match and nothing else") {
    TempDir t;
    make_dirs(t / "var/lib/apt/lists/partial");
    put(t / "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "index");
    put(t / "var/lib/apt/lists/partial/x_Packages", "part");
    make_dirs(t / "var/log/apt");
    put(t / "var/log/apt/history.log", "Start-Date: 2026-12-04  20:17:51\n");
    put(t / "var/log/dpkg.log", "log");
    put(t / "var/log/mine.log", "the user's own");
    put(t / "var/cache/apt/pkgcache.bin", "cache");
    put(t / "var/cache/apt/archives/lock", "");
    put(t / "usr/bin/hello", "binary");

    auto removed = prune_tree(t.path(), {"var/lib/apt/lists/*", "var/log/apt/*", "var/log/dpkg.log",
                                         "var/cache/apt/*.bin", "no/such/dir/*"});
    CHECK(removed == std::vector<std::string>{
                         "var/cache/apt/pkgcache.bin",
                         "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease",
                         "var/lib/apt/lists/partial", "var/log/apt/history.log",
                         "var/log/dpkg.log"});
    CHECK(present(t / "var/lib/apt/lists"));  // the directories named on the way stay
    CHECK(present(t / "var/log/apt"));
    CHECK_FALSE(present(t / "var/lib/apt/lists/partial"));
    CHECK(present(t / "var/log/mine.log"));
    CHECK(present(t / "var/cache/apt/archives/lock"));
    CHECK(present(t / "usr/bin/hello"));
    CHECK(prune_tree(t.path(), {"var/log/apt/*"}).empty());
}

TEST_CASE("prune_tree never follows a symlink out of the tree") {
    TempDir t, outside;
    put(outside / "log/keep.log", "outside");
    make_dirs(t / "var");
    REQUIRE(::symlink((outside.path() + "/log").c_str(), (t / "var/log").c_str()) == 0);
    put(t / "etc/target", "target");
    REQUIRE(::symlink("../etc/target", (t / "var/link.log").c_str()) == 0);
    auto removed = prune_tree(t.path(), {"var/log/*", "var/*.log"});
    CHECK(removed == std::vector<std::string>{"var/link.log"});  // the link, not its target
    CHECK(present(outside / "log/keep.log"));
    CHECK(present(t / "etc/target"));
}

TEST_CASE("prune_tree keeps overlay whiteouts, which hide files of lower layers") {
    TempDir t;
    make_dirs(t / "var/cache/apt");
    if (::mknod((t / "var/cache/apt/pkgcache.bin").c_str(), S_IFCHR | 0600, makedev(0, 0)) != 0) {
        WARN("skipped: cannot create a whiteout (char 0/0) here without CAP_MKNOD");
        return;
    }
    put(t / "var/cache/apt/srcpkgcache.bin", "cache");
    CHECK(prune_tree(t.path(), {"var/cache/apt/*.bin"}) ==
          std::vector<std::string>{"var/cache/apt/srcpkgcache.bin"});
    CHECK(present(t / "var/cache/apt/pkgcache.bin"));
}
