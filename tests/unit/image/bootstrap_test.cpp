#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>

#include "fixture.hpp"
#include "karapace/image/bootstrap.hpp"
#include "karapace/image/download.hpp"
#include "karapace/image/resolve.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"

using namespace karapace::image;

TEST_CASE("mmdebstrap is asked for a minbase tar in the right mode") {
    BootstrapRequest req;
    req.distro = "debian";
    req.suite = "bookworm";
    req.output = "/tmp/out.tar";
    auto argv = bootstrap_argv(req, "http://deb.debian.org/debian", false);
    CHECK(argv == std::vector<std::string>{"mmdebstrap", "--variant=minbase", "--mode=unshare",
                                           "--format=tar", "--skip=output/dev", "bookworm",
                                           "/tmp/out.tar", "http://deb.debian.org/debian"});
    req.snapshot = "20261128T000000Z";
    auto pinned = bootstrap_argv(req, snapshot_mirror("debian", req.snapshot), true);
    CHECK(pinned[2] == "--mode=root");
    CHECK(pinned.back() == "http://snapshot.debian.org/archive/debian/20261128T000000Z/");
    CHECK(std::find(pinned.begin(), pinned.end(),
                    "--aptopt=Acquire::Check-Valid-Until \"false\"") != pinned.end());
    CHECK(snapshot_mirror("ubuntu", "20240301T000000Z") ==
          "http://snapshot.ubuntu.com/ubuntu/20240301T000000Z/");
}

TEST_CASE("the host's Debian mirror is read from one-line and deb822 apt sources") {
    CHECK(apt_mirror_from_sources("# comment\ndeb [arch=amd64 signed-by=/k.gpg] "
                                  "http://ftp.de.debian.org/debian bookworm main\n",
                                  "debian") == "http://ftp.de.debian.org/debian");
    CHECK(apt_mirror_from_sources("Types: deb\nURIs: http://deb.debian.org/debian-security\n\n"
                                  "Types: deb\nURIs: http://mirror.example/debian/\n"
                                  "Suites: bookworm\n",
                                  "debian") == "http://mirror.example/debian/");
    CHECK(apt_mirror_from_sources("deb http://archive.ubuntu.com/ubuntu noble main\n", "debian")
              .empty());
    CHECK(apt_mirror_from_sources("deb http://archive.ubuntu.com/ubuntu noble main\n", "ubuntu") ==
          "http://archive.ubuntu.com/ubuntu");
}

TEST_CASE("snapshot timestamps convert to epoch seconds") {
    CHECK(snapshot_epoch("19700101T000000Z") == 0);
    CHECK(snapshot_epoch("20261128T000000Z") == 1795824000);
    CHECK(snapshot_now().size() == 16);
    CHECK(ImageRef::parse("bootstrap:debian/bookworm@" + snapshot_now()).is_pinned());
}

TEST_CASE("an unpinned bootstrap reference resolves to the current snapshot without building") {
    auto r =
        resolve(ImageRef::parse("bootstrap:debian/bookworm"), Config{}, karapace::null_progress());
    auto pinned = ImageRef::parse(r.pinned_reference);
    CHECK(pinned.kind == RefKind::bootstrap);
    CHECK(pinned.is_pinned());
    CHECK(pinned.suite == "bookworm");
    CHECK_FALSE(r.digest.has_value());
}

TEST_CASE("bootstrap:debian/bookworm is built with mmdebstrap and cached") {
    if (!karapace::find_program("mmdebstrap")) {
        WARN("skipped: mmdebstrap is not installed");
        return;
    }
    std::string mirror = host_apt_mirror("debian");
    if (mirror.empty()) mirror = "http://deb.debian.org/debian";
    while (mirror.ends_with("/"))
        mirror.pop_back();
    try {
        DownloadOptions quick;
        quick.attempts = 1;
        quick.connect_timeout = std::chrono::seconds(5);
        (void)fetch_text(mirror + "/dists/bookworm/InRelease", quick, 1 << 20, "bookworm", mirror);
    } catch (const karapace::Error& e) {
        WARN("skipped: the Debian mirror is unreachable: " << e.what());
        return;
    }
    image_test::TempDir store;
    struct Notes : karapace::ProgressSink {
        int lines = 0;
        void step(std::string_view, std::uint64_t, karapace::ProgressUnit) override {}
        void advance(std::uint64_t) override {}
        void finish(bool) override {}
        void note(std::string_view) override { ++lines; }
    } notes;
    auto ref = ImageRef::parse("bootstrap:debian/bookworm");
    auto img = ensure(ref, store.path(), Config{}, notes, false);
    CHECK(notes.lines > 0);
    CHECK(img.record.source == "bootstrap");
    CHECK(image_test::exists(img.rootfs + "/usr/bin/apt-get"));
    CHECK(image_test::read_text(img.rootfs + "/etc/os-release").find("bookworm") !=
          std::string::npos);
    auto pinned = ImageRef::parse(img.record.pinned_reference);
    CHECK(pinned.is_pinned());
    // Both the reference and its pinned form now resolve from the cache, without mmdebstrap.
    auto start = std::chrono::steady_clock::now();
    auto again = ensure(ref, store.path(), Config{}, karapace::null_progress(), false);
    auto from_pin = ensure(pinned, store.path(), Config{}, karapace::null_progress(), false);
    auto elapsed = std::chrono::steady_clock::now() - start;
    CHECK(again.record.digest == img.record.digest);
    CHECK(from_pin.record.digest == img.record.digest);
    CHECK(elapsed < std::chrono::seconds(1));
    CHECK(pinned_reference(ref, store.path(), Config{}, karapace::null_progress()) ==
          img.record.pinned_reference);
}

TEST_CASE("a failing mmdebstrap run is quoted in the error and leaves no tar") {
    // A stand-in mmdebstrap that fails the way a broken mirror does.
    image_test::TempDir bin;
    const std::string fake = bin.path() + "/mmdebstrap";
    {
        std::ofstream out(fake);
        out << "#!/bin/sh\n"
               "echo 'I: chroot architecture amd64 is equal to the host architecture' >&2\n"
               "echo 'E: Failed to fetch http://mirror.invalid/debian/dists/bookworm/InRelease' "
               ">&2\n"
               "echo 'E: apt-get update failed' >&2\n"
               "for arg; do case $arg in *.tar) echo partial > \"$arg\";; esac; done\n"
               "exit 1\n";
    }
    ::chmod(fake.c_str(), 0755);
    const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
    ::setenv("PATH", (bin.path() + ":" + old_path).c_str(), 1);
    struct RestorePath {
        std::string value;
        ~RestorePath() { ::setenv("PATH", value.c_str(), 1); }
    } restore{old_path};

    BootstrapRequest req;
    req.distro = "debian";
    req.suite = "bookworm";
    req.mirror = "http://mirror.invalid/debian";
    req.output = bin.path() + "/out.tar";
    try {
        (void)bootstrap(req, karapace::null_progress());
        FAIL("a failing mmdebstrap was reported as success");
    } catch (const karapace::Error& e) {
        std::string msg = e.what();
        CHECK(e.code() == karapace::Errc::image);
        CHECK(msg.find("bootstrap:debian/bookworm") != std::string::npos);
        CHECK(msg.find("E: apt-get update failed") != std::string::npos);
        CHECK(msg.find("http://mirror.invalid/debian") != std::string::npos);
    }
    CHECK_FALSE(image_test::exists(req.output));
}

TEST_CASE("mmdebstrap's stage lines advance a bootstrap in order, other lines do not") {
    using karapace::image::bootstrap_stage_percent;
    const std::vector<std::string> stages{"I: running apt-get update...",
                                          "I: downloading packages with apt...",
                                          "I: extracting archives...",
                                          "I: installing essential packages...",
                                          "I: installing remaining packages inside the chroot...",
                                          "I: cleaning package lists and apt cache...",
                                          "I: creating tarball...",
                                          "I: done"};
    std::uint64_t last = 0;
    for (const auto& line : stages) {
        auto percent = bootstrap_stage_percent(line);
        REQUIRE(percent);
        REQUIRE(*percent > last);
        REQUIRE(*percent < 100);
        last = *percent;
    }
    REQUIRE_FALSE(bootstrap_stage_percent("Get:1 http://deb.debian.org/debian bookworm InRelease"));
    REQUIRE_FALSE(bootstrap_stage_percent("I: automatically chosen format: tar"));
}
