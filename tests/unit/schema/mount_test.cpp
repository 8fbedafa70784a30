#include <catch2/catch.hpp>

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "karapace/schema/config.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/util/error.hpp"

using karapace::Errc;
using karapace::Error;
using namespace karapace::schema;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/karapace-mount-XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::string cmd = "rm -rf '" + path + "'";
        (void)std::system(cmd.c_str());
    }
};

std::string resolve(const std::string& host, const std::string& dir = "/work/proj",
                    const std::string& home = "/home/alice") {
    return resolve_host_path(parse_mount_spec("m", host + ":/c"), dir, home);
}

}  // namespace

TEST_CASE("mount specs split into host, container and the ro/rw option") {
    CHECK(parse_mount_spec("w", "~/src:/src") == MountSpec{"w", "~/src", "/src", false});
    CHECK(parse_mount_spec("w", " ./data : /data :ro") == MountSpec{"w", "./data", "/data", true});
    CHECK(parse_mount_spec("w", "/a:/b:rw") == MountSpec{"w", "/a", "/b", false});
    CHECK(parse_mount_spec(" w ", "~:/home/me").label == "w");
    CHECK(parse_mount_spec("w", "/a:/b:ro").spec() == "/a:/b:ro");
    CHECK(parse_mount_spec("w", "/a:/b:rw").spec() == "/a:/b");
}

TEST_CASE("bad mount specs are manifest errors naming the label") {
    const char* bad[] = {"/a",      ":/b",  "/a:",      "/a:b",    "/a:/b:rx",   "/a:/b:ro:x",
                         "~bob:/b", "/a:/", "/a:/x/..", "/a\n:/b", "/a:/b/../.."};
    for (const char* spec : bad) {
        INFO(spec);
        try {
            parse_mount_spec("lbl", spec);
            FAIL("expected an error");
        } catch (const Error& e) {
            CHECK(e.code() == Errc::manifest);
            CHECK(std::string(e.what()).rfind("mount 'lbl': ", 0) == 0);
        }
    }
    CHECK_THROWS_WITH(parse_mount_spec("  ", "/a:/b"), Catch::Contains("label must not be empty"));
}

TEST_CASE("~ expands to the home directory and relative paths start at the manifest's directory") {
    CHECK(resolve("~") == "/home/alice");
    CHECK(resolve("~/src") == "/home/alice/src");
    CHECK(resolve("~/src/") == "/home/alice/src");
    CHECK(resolve(".") == "/work/proj");
    CHECK(resolve("./data") == "/work/proj/data");
    CHECK(resolve("data/x") == "/work/proj/data/x");
    CHECK(resolve("../shared") == "/work/shared");
    CHECK(resolve("/srv/./a/../b") == "/srv/b");
    CHECK(resolve("~/../../etc") == "/etc");
    CHECK(resolve("../../../../..") == "/");
}

TEST_CASE("resolution does not depend on the current directory") {
    char* cwd = ::getcwd(nullptr, 0);
    REQUIRE(::chdir("/tmp") == 0);
    std::string a = resolve("./x");
    REQUIRE(::chdir("/") == 0);
    std::string b = resolve("./x");
    REQUIRE(::chdir(cwd) == 0);
    std::free(cwd);
    CHECK(a == "/work/proj/x");
    CHECK(a == b);
}

TEST_CASE("~user is refused, and relative resolution needs absolute directories") {
    MountSpec m{"w", "~bob/src", "/src", false};  // built by hand, bypassing the parser
    CHECK_THROWS_WITH(resolve_host_path(m, "/p", "/home/a"), Catch::Contains("'~user'"));
    CHECK_THROWS_AS(resolve_host_path(parse_mount_spec("w", "x:/x"), "rel", "/h"), Error);
    CHECK_THROWS_AS(resolve_host_path(parse_mount_spec("w", "~/x:/x"), "/p", ""), Error);
}

TEST_CASE("prefixes are compared component by component") {
    CHECK(path_is_under("/home", "/home"));
    CHECK(path_is_under("/home/alice/src", "/home"));
    CHECK(path_is_under("/home/alice/src", "/home/"));
    CHECK_FALSE(path_is_under("/homework", "/home"));
    CHECK_FALSE(path_is_under("/home2/alice", "/home"));
    CHECK_FALSE(path_is_under("/tmpfoo", "/tmp"));
    CHECK_FALSE(path_is_under("/home/../etc", "/home"));
    CHECK(path_is_under("/anything", "/"));
    CHECK_FALSE(path_is_under("relative", "/"));
}

TEST_CASE("the mount policy allows home, /tmp, /media, /mnt and /run/media only") {
    auto allow = default_mount_allowlist("/home/alice");
    CHECK(allow == std::vector<std::string>{"/home/alice", "/tmp", "/media", "/mnt", "/run/media"});
    CHECK_NOTHROW(check_mount_policy("/home/alice/src", allow));
    CHECK_NOTHROW(check_mount_policy("/tmp", allow));
    CHECK_NOTHROW(check_mount_policy("/run/media/alice/usb", allow));
    CHECK_THROWS_AS(check_mount_policy("/home/bob", allow), Error);
    CHECK_THROWS_AS(check_mount_policy("/home/alicex", allow), Error);
    try {
        check_mount_policy("/etc", allow);
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::permission);
        std::string msg = e.what();
        CHECK(msg.find("'/etc'") != std::string::npos);
        CHECK(msg.find("/home/alice, /tmp, /media, /mnt, /run/media") != std::string::npos);
        CHECK(e.hint().find("allow = [\"/etc\"]") != std::string::npos);
        CHECK(e.hint().find("config.toml") != std::string::npos);
    }
}

TEST_CASE("the user configuration adds allowed directories and names the image server") {
    UserConfig cfg = parse_user_config(
        "[mounts]\nallow = [\"/srv/data\", \"~/shared/\", \"/opt/../var/x\"]\n"
        "[images]\nserver = \"https://mirror.example.org/images/\"\n"
        "bootstrap_mirror = \"http://deb.debian.org/debian\"\narch = \"arm64\"\n",
        "config.toml", "/home/alice");
    CHECK(cfg.mount_allow == std::vector<std::string>{"/srv/data", "/home/alice/shared", "/var/x"});
    CHECK(cfg.image_server == "https://mirror.example.org/images");
    CHECK(cfg.bootstrap_mirror == "http://deb.debian.org/debian");
    CHECK(cfg.image_arch == "arm64");
    auto allow = mount_allowlist(cfg, "/home/alice");
    CHECK_NOTHROW(check_mount_policy("/srv/data/set1", allow));
    CHECK_THROWS_AS(check_mount_policy("/srv/database", allow), Error);
    CHECK_THROWS_AS(check_mount_policy("/srv/data", default_mount_allowlist("/home/alice")), Error);
}

TEST_CASE("a user configuration nested deeper than the limit is refused with its position") {
    const std::string text = "[mounts]\nallow = " + std::string(100000, '{') + "\n";
    try {
        parse_user_config(text, "config.toml", "/home/a");
        FAIL("expected an error");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).rfind("config.toml:2:72: nested more than 64 levels", 0) == 0);
    }
}

TEST_CASE("a malformed user configuration names file, key, line and column") {
    auto fails = [](const std::string& text, const std::string& expect) {
        try {
            parse_user_config(text, "config.toml", "/home/a");
            FAIL("expected an error for " << text);
        } catch (const Error& e) {
            CHECK(std::string(e.what()).find(expect) != std::string::npos);
        }
    };
    fails("[mounts]\nallowed = []\n", "config.toml:2:1: unknown key 'mounts.allowed'");
    fails("[mounts]\nallow = \"/srv\"\n", "config.toml:2:9: key 'mounts.allow' must be an array");
    fails("[mounts]\nallow = [\"srv\"]\n", "config.toml:2:10: element 0 of 'mounts.allow'");
    fails("[images]\nserver = \"ftp://x\"\n", "config.toml:2:10: key 'images.server'");
    fails("[other]\n", "config.toml:1:1: unknown key 'other'");
    fails("[images]\narch = \"\"\n", "config.toml:2:8: key 'images.arch' must be");
    fails("[images]\nmirror = \"x\"\n",
          "unknown key 'images.mirror' (known: server, "
          "bootstrap_mirror, arch, registry)");
    fails("[images]\nregistry = \"a b\"\n", "config.toml:2:12: key 'images.registry' must be");
}

TEST_CASE("the user configuration is read from XDG_CONFIG_HOME, and a missing file is empty") {
    TempDir dir;
    const char* old = std::getenv("XDG_CONFIG_HOME");
    std::string saved = old != nullptr ? old : "";
    ::setenv("XDG_CONFIG_HOME", dir.path.c_str(), 1);
    CHECK(user_config_path() == dir.path + "/karapace/config.toml");
    UserConfig none = load_user_config();
    CHECK(none == UserConfig{});
    REQUIRE(::mkdir((dir.path + "/karapace").c_str(), 0755) == 0);
    FILE* f = std::fopen((dir.path + "/karapace/config.toml").c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("[mounts]\nallow = [\"/srv/data\"]\n", f);
    std::fclose(f);
    UserConfig cfg = load_user_config();
    if (old != nullptr)
        ::setenv("XDG_CONFIG_HOME", saved.c_str(), 1);
    else
        ::unsetenv("XDG_CONFIG_HOME");
    CHECK(cfg.mount_allow == std::vector<std::string>{"/srv/data"});
    CHECK(cfg.source == dir.path + "/karapace/config.toml");
    CHECK_FALSE(cfg.image_server.has_value());
}

TEST_CASE("an allowed directory reached through a symlink is allowed under its real path") {
    TempDir dir;
    const std::string real = dir.path + "/real";
    const std::string link = dir.path + "/link";
    REQUIRE(::mkdir(real.c_str(), 0755) == 0);
    REQUIRE(::symlink(real.c_str(), link.c_str()) == 0);
    UserConfig cfg;
    cfg.mount_allow = {link};
    auto allow = mount_allowlist(cfg, "/home/alice");
    char* canonical = ::realpath(link.c_str(), nullptr);
    REQUIRE(canonical != nullptr);
    std::string canonical_real = canonical;
    std::free(canonical);
    CHECK(std::find(allow.begin(), allow.end(), link) != allow.end());
    CHECK(std::find(allow.begin(), allow.end(), canonical_real) != allow.end());
}
