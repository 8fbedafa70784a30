// What the merged root will show, read from the layer directories (sandbox/layer_view.hpp): the
// remembering LayerView answers as the one-off lookup does, also when asked twice.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "sandbox/layer_view.hpp"

using namespace karapace::sandbox;
namespace fs = std::filesystem;

namespace {

struct Layers {
    fs::path dir;
    Layers() {
        char tmpl[] = "/tmp/kp-layer-view.XXXXXX";
        dir = ::mkdtemp(tmpl);
    }
    ~Layers() { fs::remove_all(dir); }
    std::string upper() const { return (dir / "upper").string(); }
    std::string lower() const { return (dir / "lower").string(); }
};

void touch(const fs::path& p) {
    fs::create_directories(p.parent_path());
    std::ofstream(p).put('x');
}

}  // namespace

TEST_CASE("LayerView finds what the merged root shows, as often as asked") {
    Layers t;
    touch(t.lower() + "/etc/hosts");
    touch(t.lower() + "/etc/hostname");
    touch(t.lower() + "/usr/lib/ld.so");
    fs::create_symlink("usr/lib", t.lower() + "/lib");
    fs::create_symlink("../run/resolv.conf", t.lower() + "/etc/resolv.conf");
    touch(t.lower() + "/opt/tool/a");
    touch(t.upper() + "/opt/tool/b");
    touch(t.upper() + "/etc/hostname");
    bool xattrs =
        ::setxattr((t.upper() + "/opt/tool").c_str(), "user.overlay.opaque", "y", 1, 0) == 0;
    std::vector<std::string> layers{t.upper(), t.lower()};
    LayerView view(layers);

    for (int round = 0; round < 2; ++round) {
        auto hosts = view.find("etc/hosts");
        CHECK(hosts.seen == Seen::file);
        CHECK(hosts.layer == 1);
        auto hostname = view.find("etc/hostname");
        CHECK(hostname.seen == Seen::file);
        CHECK(hostname.layer == 0);
        CHECK(view.find("etc/resolv.conf").seen == Seen::symlink);
        auto loader = view.find("lib/ld.so");  // through the directory link
        CHECK(loader.seen == Seen::file);
        CHECK(loader.path == t.lower() + "/usr/lib/ld.so");
        CHECK(view.find("etc/missing").seen == Seen::absent);
        CHECK_FALSE(view.find("etc/missing").hidden);
        CHECK(view.find("opt/tool/b").seen == Seen::file);
        if (xattrs) {
            // The upper layer's opaque directory hides the lower one's contents.
            auto a = view.find("opt/tool/a");
            CHECK(a.seen == Seen::absent);
            CHECK(a.hidden);
        }
        for (const char* rel : {"etc/hosts", "etc/hostname", "lib/ld.so", "opt/tool/a",
                                "etc/missing", "etc/resolv.conf"}) {
            auto once = find_in_layers(layers, rel);
            auto remembered = view.find(rel);
            CHECK(once.seen == remembered.seen);
            CHECK(once.path == remembered.path);
            CHECK(once.layer == remembered.layer);
            CHECK(once.hidden == remembered.hidden);
        }
    }
    if (!xattrs) WARN("skipped the opaque directory: user xattrs are not supported on /tmp");
}
