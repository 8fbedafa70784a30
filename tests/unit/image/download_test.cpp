#include <catch2/catch.hpp>

#include <fstream>

#include "fixture.hpp"
#include "karapace/image/download.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"

using namespace karapace::image;
using image_test::FixtureServer;
using image_test::TempDir;

namespace {

DownloadOptions fast_options() {
    DownloadOptions o;
    o.backoff = std::chrono::milliseconds(10);
    o.attempts = 3;
    o.connect_timeout = std::chrono::seconds(5);
    return o;
}

const std::string rootfs_path = "/images/busybox/1.36/";

std::string newest_rootfs(const std::string& arch) {
    return rootfs_path + arch + "/default/20261128_00:00/rootfs.tar.xz";
}

std::string error_of(const DownloadRequest& req, karapace::Errc expected) {
    try {
        (void)download(req, fast_options(), karapace::null_progress());
    } catch (const karapace::Error& e) {
        CHECK(e.code() == expected);
        return e.what();
    }
    FAIL("download of " << req.url << " succeeded");
    return {};
}

}  // namespace

TEST_CASE("a download cut in the middle resumes with a Range request") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree, {"--cut-once", "rootfs.tar.xz"});
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + newest_rootfs(fx.arch);
    req.dest = dir.path() + "/rootfs.tar.xz";
    req.expected_sha256 = karapace::sha256_file(fx.tarball);
    auto got = download(req, fast_options(), karapace::null_progress());
    CHECK(got.digest == *req.expected_sha256);
    CHECK(got.resumed);
    CHECK(karapace::sha256_file(req.dest) == *req.expected_sha256);
    CHECK_FALSE(image_test::exists(req.dest + ".partial"));
    auto lines = server.requests();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].find(" -") != std::string::npos);
    CHECK(lines[1].find("bytes=") != std::string::npos);
    CHECK(lines[1].find("bytes=0-") == std::string::npos);
}

TEST_CASE("a partial file left by an earlier run is resumed, not downloaded again") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + newest_rootfs(fx.arch);
    req.dest = dir.path() + "/rootfs.tar.xz";
    req.expected_sha256 = karapace::sha256_file(fx.tarball);
    std::string whole = image_test::read_text(fx.tarball);
    std::ofstream(req.dest + ".partial", std::ios::binary) << whole.substr(0, whole.size() / 3);
    auto got = download(req, fast_options(), karapace::null_progress());
    CHECK(got.resumed);
    CHECK(got.size == whole.size());
    CHECK(server.count("bytes=" + std::to_string(whole.size() / 3) + "-") == 1);
}

TEST_CASE("a sha256 mismatch is refused and nothing is kept") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + newest_rootfs(fx.arch);
    req.dest = dir.path() + "/rootfs.tar.xz";
    req.expected_sha256 = karapace::sha256("something else");
    req.what = "busybox/1.36";
    auto msg = error_of(req, karapace::Errc::image);
    CHECK(msg.find("sha256 mismatch") != std::string::npos);
    CHECK(msg.find(req.url) != std::string::npos);
    CHECK(msg.find(req.expected_sha256->str()) != std::string::npos);
    CHECK_FALSE(image_test::exists(req.dest));
    CHECK_FALSE(image_test::exists(req.dest + ".partial"));
}

TEST_CASE("HTTP 404 names the URL and the server") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + "/images/busybox/9.99/rootfs.tar.xz";
    req.dest = dir.path() + "/x.tar";
    req.what = "busybox/9.99";
    req.server = server.url();
    auto msg = error_of(req, karapace::Errc::image);
    CHECK(msg ==
          "busybox/9.99: no such file on " + server.url() + " (HTTP 404 for " + req.url + ")");
    CHECK(server.count("9.99") == 1);  // not retried
}

TEST_CASE("an unreachable server is a clear error after the retries") {
    TempDir dir;
    DownloadRequest req;
    const std::string base = "http://127.0.0.1:" + std::to_string(image_test::closed_port());
    req.url = base + "/images/x/rootfs.tar.xz";
    req.dest = dir.path() + "/x.tar";
    req.what = "debian/bookworm";
    req.server = base;
    auto msg = error_of(req, karapace::Errc::image);
    CHECK(msg.find("debian/bookworm: cannot reach " + base) != std::string::npos);
    CHECK(msg.find(req.url) != std::string::npos);
    CHECK(msg.find("after 3 attempts") != std::string::npos);
}

TEST_CASE("the size cap stops a download that is too large") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + newest_rootfs(fx.arch);
    req.dest = dir.path() + "/rootfs.tar.xz";
    auto opts = fast_options();
    opts.max_bytes = 1000;
    try {
        (void)download(req, opts, karapace::null_progress());
        FAIL("downloaded past the cap");
    } catch (const karapace::Error& e) {
        CHECK(std::string(e.what()).find("larger than the limit") != std::string::npos);
    }
    CHECK_FALSE(image_test::exists(req.dest));
}

TEST_CASE("file URLs are copied with their hash verified") {
    const auto& fx = image_test::fixtures();
    TempDir dir;
    DownloadRequest req;
    req.url = "file://" + fx.tarball;
    req.dest = dir.path() + "/copy.tar.xz";
    req.expected_sha256 = karapace::sha256_file(fx.tarball);
    auto got = download(req, fast_options(), karapace::null_progress());
    CHECK(got.digest == *req.expected_sha256);
    CHECK(image_test::read_text(req.dest) == image_test::read_text(fx.tarball));

    req.dest = dir.path() + "/bad.tar.xz";
    req.expected_sha256 = karapace::sha256("x");
    CHECK(error_of(req, karapace::Errc::image).find("sha256 mismatch") != std::string::npos);
    CHECK_FALSE(image_test::exists(req.dest));
    CHECK(file_url_path("file:///a%20b/c") == std::optional<std::string>("/a b/c"));
    CHECK_FALSE(file_url_path("https://x/y").has_value());
}

TEST_CASE("progress is reported in bytes up to the file size") {
    struct Recorder : karapace::ProgressSink {
        std::uint64_t total = 0, last = 0;
        bool ok = false;
        void step(std::string_view, std::uint64_t t, karapace::ProgressUnit) override { total = t; }
        void advance(std::uint64_t done) override { last = done; }
        void finish(bool good) override { ok = good; }
    } rec;
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree);
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + newest_rootfs(fx.arch);
    req.dest = dir.path() + "/rootfs.tar.xz";
    std::uint64_t size = image_test::read_text(fx.tarball).size();
    req.expected_size = size;
    (void)download(req, fast_options(), rec);
    CHECK(rec.total == size);
    CHECK(rec.last == size);
    CHECK(rec.ok);
}

TEST_CASE("a server that ignores Range makes the download start over cleanly") {
    const auto& fx = image_test::fixtures();
    FixtureServer server(fx.tree, {"--no-range", "rootfs.tar.xz"});
    TempDir dir;
    DownloadRequest req;
    req.url = server.url() + newest_rootfs(fx.arch);
    req.dest = dir.path() + "/rootfs.tar.xz";
    req.expected_sha256 = karapace::sha256_file(fx.tarball);
    // A stale partial file whose bytes are not even a prefix of the real file.
    std::ofstream(req.dest + ".partial", std::ios::binary) << std::string(4096, 'x');
    auto got = download(req, fast_options(), karapace::null_progress());
    CHECK(got.digest == *req.expected_sha256);
    CHECK_FALSE(got.resumed);
    CHECK(karapace::sha256_file(req.dest) == *req.expected_sha256);
    CHECK(server.count("rootfs.tar.xz") == 2);
}
