// Package-manager detection from the files of a root filesystem.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "karapace/pkg/package_manager.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::pkg;
namespace fs = std::filesystem;

namespace {

struct TempRoot {
    fs::path path;
    TempRoot() {
        std::string tmpl = (fs::temp_directory_path() / "karapace-pkg-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        path = tmpl;
    }
    ~TempRoot() { fs::remove_all(path); }
    void file(const std::string& rel) {
        fs::create_directories((path / rel).parent_path());
        std::ofstream(path / rel) << "#!/bin/sh\n";
    }
    void link(const std::string& rel, const std::string& target) {
        fs::create_directories((path / rel).parent_path());
        fs::create_symlink(target, path / rel);
    }
};

}  // namespace

TEST_CASE("each package manager is recognised by its program") {
    struct Case {
        const char* file;
        Kind kind;
    };
    for (auto c : {Case{"usr/bin/apt-get", Kind::apt}, Case{"usr/bin/dnf", Kind::dnf},
                   Case{"usr/bin/zypper", Kind::zypper}, Case{"usr/bin/pacman", Kind::pacman},
                   Case{"sbin/apk", Kind::apk}}) {
        TempRoot root;
        root.file(c.file);
        auto kind = detect_kind(root.path.string());
        REQUIRE(kind.has_value());
        CHECK(*kind == c.kind);
        CHECK(detect(root.path.string())->kind() == c.kind);
    }
}

TEST_CASE("an image with only dnf5 runs dnf5") {
    TempRoot root;
    root.file("usr/bin/dnf5");
    auto pm = detect(root.path.string());
    CHECK(pm->name() == "dnf");
    CHECK(pm->refresh_argv().front() == "dnf5");
    CHECK(pm->install_argv({"hello"}).front() == "dnf5");
}

TEST_CASE("symlinks in an image resolve inside the image, not on the host") {
    TempRoot inside;
    // Fedora's /usr/bin/dnf is a symlink to dnf-3; an absolute target must resolve in the image.
    inside.file("usr/bin/dnf-3");
    inside.link("usr/bin/dnf", "/usr/bin/dnf-3");
    CHECK(detect_kind(inside.path.string()) == Kind::dnf);

    TempRoot escaping;
    // A link to a file that exists only on the host (this test binary) must not count.
    auto self = fs::read_symlink("/proc/self/exe").string();
    escaping.link("usr/bin/pacman", self);
    escaping.link("usr/bin/zypper", "../../../../../../.." + self);
    CHECK_FALSE(detect_kind(escaping.path.string()).has_value());
}

TEST_CASE("no package manager is a runtime error naming what was looked for") {
    TempRoot root;
    root.file("bin/busybox");
    CHECK_FALSE(detect_kind(root.path.string()).has_value());
    try {
        detect(root.path.string());
        FAIL("expected an error");
    } catch (const Error& e) {
        std::string what = e.what();
        CHECK(e.code() == Errc::runtime);
        CHECK(what.find(root.path.string()) != std::string::npos);
        for (const char* p : {"/usr/bin/apt-get", "/usr/bin/dnf", "/usr/bin/zypper",
                              "/usr/bin/pacman", "/sbin/apk"})
            CHECK(what.find(p) != std::string::npos);
        CHECK_FALSE(e.hint().empty());
    }
}

TEST_CASE("an image with dpkg but no apt-get is told what is missing") {
    TempRoot root;
    root.file("usr/bin/dpkg");
    try {
        detect(root.path.string());
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.hint().find("apt-get") != std::string::npos);
    }
}

TEST_CASE("a missing root filesystem is an error, not an empty answer") {
    CHECK_THROWS_AS(detect_kind("/nonexistent/karapace-rootfs"), Error);
}

TEST_CASE("manager kinds round-trip through their names") {
    for (Kind k : {Kind::apt, Kind::dnf, Kind::zypper, Kind::pacman, Kind::apk}) {
        CHECK(parse_kind(to_string(k)) == k);
        CHECK(make_package_manager(k)->kind() == k);
    }
    CHECK_FALSE(parse_kind("yum").has_value());
}
