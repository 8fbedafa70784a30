#include <catch2/catch.hpp>

#include "karapace/export/merged_tree.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::exports;
using namespace karapace::exports::test;

TEST_CASE("the topmost layer holding a path wins", "[export][tree]") {
    TempDir t;
    put(t / "base/etc/a", "base");
    put(t / "base/etc/b", "base");
    put(t / "upper/etc/a", "upper");
    MergedTree tree({t / "upper", t / "base"});
    REQUIRE(tree.find("/etc/a"));
    CHECK(tree.find("/etc/a")->path == t / "upper/etc/a");
    CHECK(tree.find("etc/b")->path == t / "base/etc/b");
    CHECK(tree.find("etc/b")->rel == "etc/b");
    CHECK_FALSE(tree.find("etc/c"));
    CHECK(tree.list("/etc") == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a whiteout hides the file, and a directory, of the layers below", "[export][tree]") {
    TempDir t;
    put(t / "base/usr/share/applications/gone.desktop", "x");
    put(t / "base/usr/share/applications/kept.desktop", "x");
    put(t / "base/opt/tool/bin/tool", "x");
    if (!whiteout(t / "upper/usr/share/applications/gone.desktop") ||
        !whiteout(t / "upper/opt/tool")) {
        WARN("cannot create overlay whiteouts here (no mknod, no user xattrs); skipped");
        return;
    }
    MergedTree tree({t / "upper", t / "base"});
    CHECK_FALSE(tree.find("usr/share/applications/gone.desktop"));
    CHECK(tree.find("usr/share/applications/kept.desktop"));
    CHECK(tree.list("usr/share/applications") == std::vector<std::string>{"kept.desktop"});
    CHECK_FALSE(tree.find("opt/tool/bin/tool"));
    CHECK(tree.list("opt").empty());
}

TEST_CASE("an opaque directory hides what the layers below had in it", "[export][tree]") {
    TempDir t;
    put(t / "base/usr/share/icons/old.png", "x");
    put(t / "upper/usr/share/icons/new.png", "x");
    if (!opaque(t / "upper/usr/share/icons")) {
        WARN("cannot set user.overlay.opaque here; skipped");
        return;
    }
    MergedTree tree({t / "upper", t / "base"});
    CHECK_FALSE(tree.find("usr/share/icons/old.png"));
    CHECK(tree.list("usr/share/icons") == std::vector<std::string>{"new.png"});
}

TEST_CASE("a file in an upper layer hides a directory of the same name below", "[export][tree]") {
    TempDir t;
    put(t / "base/srv/dir/file", "x");
    put(t / "upper/srv/dir", "now a file");
    MergedTree tree({t / "upper", t / "base"});
    CHECK_FALSE(tree.find("srv/dir/file"));
    CHECK(tree.list("srv/dir").empty());
}

TEST_CASE("symbolic links resolve inside the view, never on the host", "[export][tree]") {
    TempDir t;
    put(t / "base/usr/bin/busybox", "x", 0755);
    link_to(t / "base/bin", "usr/bin");
    link_to(t / "base/usr/bin/ls", "/usr/bin/busybox");
    link_to(t / "upper/usr/share/pixmaps/app.png", "../../../etc/app.png");
    put(t / "base/etc/app.png", "png");
    link_to(t / "upper/escape", "/../../../../../etc/passwd");
    link_to(t / "upper/loop", "loop");
    MergedTree tree({t / "upper", t / "base"});
    auto ls = tree.find("/bin/ls");
    REQUIRE(ls);
    CHECK(ls->path == t / "base/usr/bin/busybox");
    CHECK(ls->rel == "usr/bin/busybox");
    CHECK(tree.find("/bin/ls", false)->rel == "usr/bin/ls");
    CHECK(tree.find("usr/share/pixmaps/app.png")->path == t / "base/etc/app.png");
    // ".." above the root stays at the root, as in the kernel.
    CHECK_FALSE(tree.find("escape"));
    CHECK_FALSE(tree.find("loop"));
}
