#include <catch2/catch.hpp>

#include "karapace/image/reference.hpp"
#include "karapace/util/error.hpp"

using karapace::Errc;
using karapace::Error;
using karapace::image::ImageRef;
using karapace::image::RefKind;

namespace {
const std::string hex64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

Errc error_of(const std::string& text) {
    try {
        (void)ImageRef::parse(text);
    } catch (const Error& e) {
        return e.code();
    }
    return Errc::failed;
}
}  // namespace

TEST_CASE("seed aliases map to simplestreams products") {
    struct Row {
        const char* text;
        const char* product;
    };
    const Row rows[] = {
        {"rolling", "opensuse:tumbleweed:amd64:default"},
        {"tumbleweed", "opensuse:tumbleweed:amd64:default"},
        {"opensuse/tumbleweed", "opensuse:tumbleweed:amd64:default"},
        {"opensuse/leap", "opensuse:15.6:amd64:default"},
        {"ubuntu", "ubuntu:noble:amd64:default"},
        {"ubuntu/24.04", "ubuntu:noble:amd64:default"},
        {"Ubuntu/Noble", "ubuntu:noble:amd64:default"},
        {"ubuntu/22.04", "ubuntu:jammy:amd64:default"},
        {"debian", "debian:bookworm:amd64:default"},
        {"debian/bookworm", "debian:bookworm:amd64:default"},
        {"debian/trixie", "debian:trixie:amd64:default"},
        {"fedora/41", "fedora:41:amd64:default"},
        {"fedora/42", "fedora:42:amd64:default"},
        {"arch", "archlinux:current:amd64:default"},
        {"archlinux", "archlinux:current:amd64:default"},
        {"alpine/3.20", "alpine:3.20:amd64:default"},
        {"ubuntu/noble/cloud", "ubuntu:noble:amd64:cloud"},
        {"images:busybox/1.36", "busybox:1.36:amd64:default"},
    };
    for (const auto& row : rows) {
        INFO(row.text);
        auto ref = ImageRef::parse(row.text);
        CHECK(ref.kind == RefKind::alias);
        CHECK(ref.product_id("amd64") == row.product);
        CHECK_FALSE(ref.is_pinned());
        CHECK(ImageRef::parse(ref.str()) == ref);
    }
    CHECK(ImageRef::parse("fedora/41").product_id("arm64") == "fedora:41:arm64:default");
}

TEST_CASE("an unknown alias is an image error listing the known aliases") {
    try {
        (void)ImageRef::parse("gentoo-ish");
        FAIL("parsed an unknown alias");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::image);
        std::string msg = e.what();
        CHECK(msg.find("gentoo-ish") != std::string::npos);
        CHECK(msg.find("rolling") != std::string::npos);
        CHECK(msg.find("debian/bookworm") != std::string::npos);
    }
    CHECK(error_of("nosuchdistro/1") == Errc::image);
    CHECK(error_of("") == Errc::image);
    CHECK(error_of("ftp://example.org/x.tar") == Errc::image);
}

TEST_CASE("pinnedness follows the reference kind") {
    struct Row {
        std::string text;
        RefKind kind;
        bool pinned;
    };
    const Row rows[] = {
        {"https://example.org/rootfs.tar.xz", RefKind::url, false},
        {"https://example.org/rootfs.tar.xz#sha256=" + hex64, RefKind::url, true},
        {"http://127.0.0.1:8080/a/B.tar.gz#sha256=" + hex64, RefKind::url, true},
        {"file:///srv/images/rootfs.tar", RefKind::url, false},
        {"file:///srv/images/rootfs.tar#sha256=" + hex64, RefKind::url, true},
        {"docker://docker.io/library/debian:bookworm", RefKind::oci, false},
        {"docker://quay.io/fedora/fedora@sha256:" + hex64, RefKind::oci, true},
        {"docker://localhost:5000/team/img:1.0@sha256:" + hex64, RefKind::oci, true},
        {"bootstrap:debian/bookworm", RefKind::bootstrap, false},
        {"bootstrap:debian/bookworm@20261128T000000Z", RefKind::bootstrap, true},
        {"bootstrap:ubuntu/noble@20240301T120000Z", RefKind::bootstrap, true},
        {"debian/bookworm", RefKind::alias, false},
    };
    for (const auto& row : rows) {
        INFO(row.text);
        auto ref = ImageRef::parse(row.text);
        CHECK(ref.kind == row.kind);
        CHECK(ref.is_pinned() == row.pinned);
        CHECK(ImageRef::parse(ref.str()) == ref);
    }
}

TEST_CASE("URLs keep their case and carry the sha256 fragment") {
    auto ref = ImageRef::parse("  HTTPS://Example.org/Images/RootFS.tar.zst#sha256=" + hex64 + " ");
    CHECK(ref.url == "https://Example.org/Images/RootFS.tar.zst");
    REQUIRE(ref.sha256);
    CHECK(ref.sha256->hex() == hex64);
    CHECK(ref.str() == "https://Example.org/Images/RootFS.tar.zst#sha256=" + hex64);
    CHECK(error_of("https://example.org/x.tar#sha256=abc") == Errc::image);
    CHECK(error_of("https://example.org/x.tar#md5=abc") == Errc::image);
    CHECK(error_of("https:///x.tar") == Errc::image);
    CHECK(error_of("file://relative/x.tar") == Errc::image);
}

TEST_CASE("OCI references default the registry and tag") {
    auto short_name = ImageRef::parse("docker://debian");
    CHECK(short_name.registry == "docker.io");
    CHECK(short_name.repository == "library/debian");
    CHECK(short_name.tag == "latest");
    auto full = ImageRef::parse("docker://localhost:5000/team/img:1.0");
    CHECK(full.registry == "localhost:5000");
    CHECK(full.repository == "team/img");
    CHECK(full.tag == "1.0");
    CHECK(error_of("docker://debian@md5:00") == Errc::image);
}

TEST_CASE("bootstrap references name a Debian or Ubuntu suite and a valid snapshot") {
    auto ref = ImageRef::parse("bootstrap:debian/bookworm@20261128t000000z");
    CHECK(ref.distro == "debian");
    CHECK(ref.suite == "bookworm");
    CHECK(ref.snapshot == "20261128T000000Z");
    CHECK(error_of("bootstrap:fedora/41") == Errc::image);
    CHECK(error_of("bootstrap:debian/bookworm@2026-11-28") == Errc::image);
    CHECK(error_of("bootstrap:debian/bookworm@20261328T000000Z") == Errc::image);
    CHECK(error_of("bootstrap:debian") == Errc::image);
}
