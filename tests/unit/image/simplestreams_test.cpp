#include <catch2/catch.hpp>

#include "karapace/image/simplestreams.hpp"
#include "karapace/util/error.hpp"

using namespace karapace::image;
using karapace::Errc;
using karapace::Error;

namespace {

// Shaped like https://images.linuxcontainers.org/streams/v1/images.json: product ids
// "<distro>:<release>:<arch>:<variant>", dated versions, and per version the LXD metadata, the
// rootfs tarball, a squashfs and (for VMs) a disk image.
const char* catalogue_json = R"json({
 "content_id": "images", "datatype": "image-downloads", "format": "products:1.0",
 "products": {
  "fedora:40:amd64:default": {"aliases": "fedora/40/default,fedora/40", "arch": "amd64",
   "os": "Fedora", "release": "40", "release_title": "40", "variant": "default",
   "versions": {"20261120_20:33": {"items": {
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/fedora/40/amd64/default/20261120_20:33/rootfs.tar.xz",
       "sha256": "4000000000000000000000000000000000000000000000000000000000000000", "size": 90000000}}}}},
  "fedora:41:amd64:default": {"aliases": "fedora/41/default,fedora/41", "arch": "amd64",
   "os": "Fedora", "release": "41", "release_title": "41", "variant": "default",
   "versions": {
    "20261126_20:33": {"items": {
     "lxd.tar.xz": {"ftype": "lxd.tar.xz", "path": "images/fedora/41/amd64/default/20261126_20:33/lxd.tar.xz",
       "sha256": "1111111111111111111111111111111111111111111111111111111111111111", "size": 500,
       "combined_rootxz_sha256": "2222222222222222222222222222222222222222222222222222222222222222",
       "combined_squashfs_sha256": "3333333333333333333333333333333333333333333333333333333333333333"},
     "root.squashfs": {"ftype": "squashfs", "path": "images/fedora/41/amd64/default/20261126_20:33/rootfs.squashfs",
       "sha256": "4444444444444444444444444444444444444444444444444444444444444444", "size": 80000000},
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/fedora/41/amd64/default/20261126_20:33/rootfs.tar.xz",
       "sha256": "5555555555555555555555555555555555555555555555555555555555555555", "size": 95000000}}},
    "20261127_20:33": {"items": {
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/fedora/41/amd64/default/20261127_20:33/rootfs.tar.xz",
       "sha256": "6666666666666666666666666666666666666666666666666666666666666666", "size": 96000000}}},
    "20261128_20:33": {"items": {
     "lxd.tar.xz": {"ftype": "lxd.tar.xz", "path": "images/fedora/41/amd64/default/20261128_20:33/lxd.tar.xz",
       "sha256": "7777777777777777777777777777777777777777777777777777777777777777", "size": 500},
     "disk.qcow2": {"ftype": "disk-kvm.img", "path": "images/fedora/41/amd64/default/20261128_20:33/disk.qcow2",
       "sha256": "8888888888888888888888888888888888888888888888888888888888888888", "size": 400000000}}}}},
  "fedora:41:arm64:default": {"aliases": "fedora/41/default,fedora/41", "arch": "arm64",
   "os": "Fedora", "release": "41", "release_title": "41", "variant": "default",
   "versions": {"20261126_20:33": {"items": {
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/fedora/41/arm64/default/20261126_20:33/rootfs.tar.xz",
       "sha256": "9999999999999999999999999999999999999999999999999999999999999999", "size": 93000000}}}}},
  "fedora:41:amd64:cloud": {"aliases": "fedora/41/cloud", "arch": "amd64",
   "os": "Fedora", "release": "41", "release_title": "41", "variant": "cloud",
   "versions": {"20261126_20:33": {"items": {
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/fedora/41/amd64/cloud/20261126_20:33/rootfs.tar.xz",
       "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "size": 99000000}}}}},
  "fedora:42:amd64:default": {"aliases": "fedora/42/default,fedora/42", "arch": "amd64",
   "os": "Fedora", "release": "42", "release_title": "42", "variant": "default",
   "versions": {"20261128_20:33": {"items": {
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/fedora/42/amd64/default/20261128_20:33/rootfs.tar.xz",
       "sha256": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "size": 97000000}}}}},
  "debian:bookworm:amd64:default": {"aliases": "debian/bookworm/default,debian/bookworm,debian/12/default,debian/12",
   "arch": "amd64", "os": "Debian", "release": "bookworm", "release_title": "bookworm", "variant": "default",
   "versions": {"20261128_05:24": {"items": {
     "root.tar.xz": {"ftype": "root.tar.xz", "path": "images/debian/bookworm/amd64/default/20261128_05:24/rootfs.tar.xz",
       "sha256": "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc", "size": 100000000}}}}},
  "alpine:3.20:riscv64:default": {"aliases": "alpine/3.20", "arch": "riscv64", "os": "Alpine",
   "release": "3.20", "release_title": "3.20", "variant": "default",
   "versions": {"20261128_13:00": {"items": {
     "root.squashfs": {"ftype": "squashfs", "path": "images/alpine/3.20/riscv64/default/20261128_13:00/rootfs.squashfs",
       "sha256": "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd", "size": 3000000}}}}}
 }
})json";

const std::string server = "https://images.example.org";

std::string error_text(const Catalogue& cat, const char* ref, const char* arch) {
    try {
        (void)select_image(cat, ImageRef::parse(ref), arch, server);
    } catch (const Error& e) {
        CHECK(e.code() == Errc::image);
        return e.what();
    }
    FAIL("selected an image for " << ref);
    return {};
}

}  // namespace

TEST_CASE("the index names the image catalogue") {
    const char* index =
        R"({"format": "index:1.0", "index": {"images": {"datatype": "image-downloads",
        "path": "streams/v1/images.json", "format": "products:1.0", "products": ["fedora:41:amd64:default"]}}})";
    CHECK(catalogue_path(index, "index.json") == "streams/v1/images.json");
    const char* other_key = R"({"index": {"com.example:download": {"datatype": "image-downloads",
        "path": "streams/v1/example.json"}}})";
    CHECK(catalogue_path(other_key, "index.json") == "streams/v1/example.json");
    CHECK_THROWS_AS(catalogue_path(R"({"index": {}})", "index.json"), Error);
    CHECK_THROWS_AS(catalogue_path("<html>", "index.json"), Error);
    CHECK_THROWS_AS(
        catalogue_path(R"({"index": {"images": {"path": "../../etc/passwd"}}})", "index.json"),
        Error);
}

TEST_CASE("catalogue products carry distro, release, arch, variant, aliases and items") {
    auto cat = parse_catalogue(catalogue_json, "images.json");
    REQUIRE(cat.products.size() == 7);
    const Product* f41 = nullptr;
    for (const auto& p : cat.products)
        if (p.id == "fedora:41:amd64:default") f41 = &p;
    REQUIRE(f41);
    CHECK(f41->distro == "fedora");
    CHECK(f41->release == "41");
    CHECK(f41->arch == "amd64");
    CHECK(f41->variant == "default");
    CHECK(f41->aliases == std::vector<std::string>{"fedora/41/default", "fedora/41"});
    REQUIRE(f41->versions.size() == 3);
    const auto& items = f41->versions.at("20261126_20:33");
    REQUIRE(items.size() == 3);
}

TEST_CASE("the newest version with a rootfs tarball is chosen for the host architecture") {
    auto cat = parse_catalogue(catalogue_json, "images.json");
    // 20261128 only has a VM disk: the newest usable build is 20261127.
    auto sel = select_image(cat, ImageRef::parse("fedora/41"), "amd64", server);
    CHECK(sel.product == "fedora:41:amd64:default");
    CHECK(sel.version == "20261127_20:33");
    CHECK(sel.rootfs.ftype == "root.tar.xz");
    CHECK(sel.rootfs.sha256 == std::string(64, '6'));
    CHECK(sel.rootfs.size == 96000000);
    CHECK(sel.url == server + "/images/fedora/41/amd64/default/20261127_20:33/rootfs.tar.xz");

    auto arm = select_image(cat, ImageRef::parse("fedora/41"), "arm64", server);
    CHECK(arm.product == "fedora:41:arm64:default");
    CHECK(arm.rootfs.sha256 == std::string(64, '9'));

    auto cloud = select_image(cat, ImageRef::parse("fedora/41/cloud"), "amd64", server);
    CHECK(cloud.product == "fedora:41:amd64:cloud");
}

TEST_CASE("server aliases such as debian/12 find their product") {
    auto cat = parse_catalogue(catalogue_json, "images.json");
    auto sel = select_image(cat, ImageRef::parse("images:debian/12"), "amd64", server);
    CHECK(sel.product == "debian:bookworm:amd64:default");
    auto by_name = select_image(cat, ImageRef::parse("debian"), "amd64", server);
    CHECK(by_name.product == "debian:bookworm:amd64:default");
}

TEST_CASE("a missing release lists the available ones") {
    auto cat = parse_catalogue(catalogue_json, "images.json");
    auto msg = error_text(cat, "fedora/99", "amd64");
    CHECK(msg == "fedora/99: no such image on https://images.example.org; available: 40, 41, 42");
}

TEST_CASE("a release without a build for this architecture lists the architectures") {
    auto cat = parse_catalogue(catalogue_json, "images.json");
    auto msg = error_text(cat, "fedora/40", "s390x");
    CHECK(msg.find("fedora/40: no s390x build on https://images.example.org") != std::string::npos);
    CHECK(msg.find("available architectures: amd64") != std::string::npos);
    auto distro = error_text(cat, "alpine/3.19", "amd64");
    CHECK(distro.find("alpine/3.19: no such image") != std::string::npos);
}

TEST_CASE("a product with only squashfs images is refused with a reason") {
    auto cat = parse_catalogue(catalogue_json, "images.json");
    auto msg = error_text(cat, "alpine/3.20", "riscv64");
    CHECK(msg.find("no build with a root filesystem tarball") != std::string::npos);
}

TEST_CASE("a catalogue that is not JSON is an image error naming its URL") {
    try {
        (void)parse_catalogue("{\"products\": ", "https://x/streams/v1/images.json");
        FAIL("parsed broken JSON");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::image);
        CHECK(std::string(e.what()).find("https://x/streams/v1/images.json") != std::string::npos);
    }
}

TEST_CASE("machine names map to Debian architecture names") {
    CHECK(debian_arch("x86_64") == "amd64");
    CHECK(debian_arch("aarch64") == "arm64");
    CHECK(debian_arch("i686") == "i386");
    CHECK(debian_arch("armv7l") == "armhf");
    CHECK(debian_arch("ppc64le") == "ppc64el");
    CHECK(debian_arch("s390x") == "s390x");
    CHECK(debian_arch("riscv64") == "riscv64");
    CHECK_FALSE(host_arch().empty());
}
