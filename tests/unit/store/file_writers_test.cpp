#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "karapace/store/tar.hpp"
#include "karapace/store/tree_digest.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "store/file_writers.hpp"
#include "support.hpp"
#include "tar_support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

UnpackOptions opts_here() {
    UnpackOptions o;
    o.keep_ownership = is_root();
    return o;
}

std::string pattern(std::size_t size, unsigned seed) {
    std::string s(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        s[i] = static_cast<char>((i * 131 + seed * 7 + i / 4099) & 0xff);
    return s;
}

struct stat lst(const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

std::size_t threads_now() { return entries("/proc/self/task").size(); }
std::size_t fds_now() { return entries("/proc/self/fd").size(); }

const WrittenContent* written_for(const WrittenContents& w, const std::string& path) {
    auto st = lst(path);
    auto it =
        w.find({static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)});
    return it == w.end() ? nullptr : &it->second;
}

// Cancels once the unpacker has reported progress `after` times.
struct CancellingSink : ProgressSink {
    int after;
    int seen = 0;
    explicit CancellingSink(int n) : after(n) {}
    void step(std::string_view, std::uint64_t, ProgressUnit) override {}
    void finish(bool) override {}
    void advance(std::uint64_t) override { ++seen; }
    bool cancelled() const override { return seen >= after; }
};

// Counts this process's threads each time the unpacker reports progress.
struct ThreadCountingSink : ProgressSink {
    std::size_t most = 0;
    void step(std::string_view, std::uint64_t, ProgressUnit) override {}
    void finish(bool) override {}
    void advance(std::uint64_t) override { most = std::max(most, threads_now()); }
};

// Sets a resource limit for the scope of a test and puts the old one back.
struct ScopedLimit {
    int resource;
    rlimit old{};
    ScopedLimit(int r, rlim_t soft) : resource(r) {
        REQUIRE(::getrlimit(r, &old) == 0);
        rlimit now = old;
        now.rlim_cur = soft;
        REQUIRE(::setrlimit(r, &now) == 0);
    }
    ~ScopedLimit() { ::setrlimit(resource, &old); }
};

}  // namespace

TEST_CASE(
    "files written on writer threads keep archive order: replaced names, hard links, "
    "files larger than a batch, read-only directories") {
    TempDir dir;
    std::vector<TarEntry> tar{{.path = "d/", .type = AE_IFDIR, .perm = 0555, .mtime = 1000}};
    for (unsigned i = 0; i < 300; ++i)
        tar.push_back({.path = "d/f" + std::to_string(i),
                       .data = pattern(100 + i * 37, i),
                       .perm = i % 2 == 0 ? 0600u : 0755u,
                       .mtime = 2000 + i});
    const std::string big = pattern(std::size_t{5} << 20, 99);  // ten batches of data
    tar.push_back({.path = "d/big", .data = big, .mtime = 3000});
    // A hard link to a file whose data may still be in flight, then the name it links to is
    // given to another file: the link keeps the first contents.
    tar.push_back({.path = "d/link", .hardlink = "d/f7"});
    tar.push_back({.path = "d/f7", .data = "replaced", .mtime = 4000});
    tar.push_back({.path = "d/f8", .type = AE_IFLNK, .link = "f9"});
    write_text(dir / "t.tar", make_tar(tar));

    WrittenContents written;
    UnpackOptions o = opts_here();
    o.written = &written;
    auto stats = unpack_tar_file(dir / "t.tar", dir / "out", o);
    CHECK(stats.entries == tar.size());

    for (unsigned i = 0; i < 300; ++i) {
        if (i == 7 || i == 8) continue;
        const std::string p = dir / ("out/d/f" + std::to_string(i));
        INFO(p);
        CHECK(read_file(p) == pattern(100 + i * 37, i));
        CHECK((lst(p).st_mode & 07777) == (i % 2 == 0 ? 0600u : 0755u));
        CHECK(lst(p).st_mtim.tv_sec == 2000 + i);
    }
    CHECK(read_file(dir / "out/d/big") == big);
    CHECK(lst(dir / "out/d/big").st_mtim.tv_sec == 3000);
    CHECK(read_file(dir / "out/d/link") == pattern(100 + 7 * 37, 7));
    CHECK(read_file(dir / "out/d/f7") == "replaced");
    CHECK(S_ISLNK(lst(dir / "out/d/f8").st_mode));
    // The directory's mode and mtime are set once every file in it is done.
    CHECK((lst(dir / "out/d").st_mode & 07777) == 0555);
    CHECK(lst(dir / "out/d").st_mtim.tv_sec == 1000);

    // Each file's hash was taken over its data in order, on whichever thread wrote it.
    const WrittenContent* w = written_for(written, dir / "out/d/big");
    REQUIRE(w != nullptr);
    CHECK(w->digest == sha256(big));
    w = written_for(written, dir / "out/d/link");
    REQUIRE(w != nullptr);
    CHECK(w->digest == sha256(pattern(100 + 7 * 37, 7)));
    CHECK(digest_unpacked_tree(dir / "out", written).digest == digest_tree(dir / "out").digest);
    ::chmod((dir / "out/d").c_str(), 0755);
}

TEST_CASE("a plain tar's files are written by threads other than the one reading it") {
    TempDir dir;
    std::vector<TarEntry> tar;
    for (unsigned i = 0; i < 200; ++i)
        tar.push_back({.path = "f" + std::to_string(i), .data = pattern(5000, i)});
    write_text(dir / "t.tar", make_tar(tar));
    ThreadCountingSink sink;
    UnpackOptions o = opts_here();
    o.progress = &sink;
    const std::size_t before = threads_now();
    unpack_tar_file(dir / "t.tar", dir / "out", o);
    CHECK(sink.most >= before + 1);
    CHECK(threads_now() == before);
}

TEST_CASE(
    "a writer thread's failure is the extraction's error; no thread or open file outlives "
    "it and the destination can be removed whole") {
    TempDir dir;
    std::vector<TarEntry> tar;
    for (unsigned i = 0; i < 100; ++i)
        tar.push_back({.path = "a/f" + std::to_string(i), .data = pattern(3000, i)});
    tar.push_back({.path = "a/too-big", .data = pattern(std::size_t{3} << 20, 5)});
    for (unsigned i = 0; i < 100; ++i)
        tar.push_back({.path = "b/f" + std::to_string(i), .data = pattern(3000, i)});
    write_text(dir / "t.tar", make_tar(tar));
    make_dirs(dir / "parent");

    // A file size limit makes the write of the large file fail (EFBIG) on the thread writing it.
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    REQUIRE(::sigaction(SIGXFSZ, &ignore, &old) == 0);
    const std::size_t threads = threads_now(), fds = fds_now();
    {
        ScopedLimit limit(RLIMIT_FSIZE, rlim_t{1} << 20);
        WrittenContents written;
        UnpackOptions o = opts_here();
        o.written = &written;
        try {
            unpack_tar_file(dir / "t.tar", dir / "parent/dest", o);
            FAIL("the extraction succeeded although a file could not be written");
        } catch (const Error& e) {
            INFO(e.what());
            CHECK(std::string(e.what()).find("a/too-big") != std::string::npos);
            CHECK(std::string(e.what()).find("writing its data") != std::string::npos);
        }
    }
    ::sigaction(SIGXFSZ, &old, nullptr);
    CHECK(threads_now() == threads);
    CHECK(fds_now() == fds);
    remove_tree(dir / "parent/dest");
    CHECK(entries(dir / "parent").empty());
    ::usleep(50000);  // nothing is written there afterwards either
    CHECK(entries(dir / "parent").empty());
}

TEST_CASE("a cancelled extraction stops its writer threads and leaves no file open") {
    TempDir dir;
    std::vector<TarEntry> tar;
    for (unsigned i = 0; i < 2000; ++i)
        tar.push_back({.path = "f" + std::to_string(i), .data = pattern(20000, i)});
    write_text(dir / "t.tar", make_tar(tar));
    CancellingSink sink(300);
    UnpackOptions o = opts_here();
    o.progress = &sink;
    const std::size_t threads = threads_now(), fds = fds_now();
    try {
        unpack_tar_file(dir / "t.tar", dir / "out", o);
        FAIL("the extraction was not cancelled");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::cancelled);
    }
    CHECK(threads_now() == threads);
    CHECK(fds_now() == fds);
    CHECK(entries(dir / "out").size() < 2000);
}

TEST_CASE("an extraction stays within a low open-file limit, however far the writers lag") {
    TempDir dir;
    std::vector<TarEntry> tar;
    for (unsigned i = 0; i < 3000; ++i)
        tar.push_back({.path = "f" + std::to_string(i), .data = pattern(100, i)});
    write_text(dir / "t.tar", make_tar(tar));
    ScopedLimit limit(RLIMIT_NOFILE, 64);
    auto stats = unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK(stats.entries == 3000);
    CHECK(read_file(dir / "out/f2999") == pattern(100, 2999));
}

TEST_CASE("a file handed over in many pieces is written and hashed in order beside other files") {
    TempDir dir;
    WrittenContents written;
    const std::string big = pattern(std::size_t{6} << 20, 3);
    {
        FileWriters writers(4, &written);
        auto hand_over = [&](const std::string& name, const std::string& data, std::size_t piece) {
            UniqueFd fd(
                ::open((dir / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
            REQUIRE(fd);
            FileAttributes a;
            a.perm = 0640;
            a.size = static_cast<std::int64_t>(data.size());
            writers.open(std::move(fd), name, a);
            for (std::size_t at = 0; at < data.size(); at += piece)
                writers.data(static_cast<std::int64_t>(at), data.data() + at,
                             std::min(piece, data.size() - at));
            writers.close();
        };
        for (unsigned i = 0; i < 50; ++i)
            hand_over("small" + std::to_string(i), pattern(777, i), 100);
        hand_over("big", big, 4096);
        for (unsigned i = 50; i < 100; ++i)
            hand_over("small" + std::to_string(i), pattern(777, i), 100);
        writers.finish();
    }
    CHECK(read_file(dir / "big") == big);
    const WrittenContent* w = written_for(written, dir / "big");
    REQUIRE(w != nullptr);
    CHECK(w->digest == sha256(big));
    CHECK(w->size == big.size());
    for (unsigned i = 0; i < 100; ++i) {
        const std::string p = dir / ("small" + std::to_string(i));
        CHECK(read_file(p) == pattern(777, i));
        CHECK((lst(p).st_mode & 07777) == 0640);
        const WrittenContent* s = written_for(written, p);
        REQUIRE(s != nullptr);
        CHECK(s->digest == sha256(pattern(777, i)));
    }
}

// The files below are small enough to wait in the batch not yet handed to a writer when the next
// entry comes: each entry after them depends on a file that does not exist yet, unless the
// extraction waits for the writers as it must.
TEST_CASE("an entry below a file not yet written is refused as on one thread") {
    TempDir dir;
    write_text(dir / "t.tar",
               make_tar({{.path = "d", .data = "file"}, {.path = "d/x", .data = "x"}}));
    try {
        unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
        FAIL("a file was extracted below a regular file");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find("'d/x'") != std::string::npos);
        CHECK(std::string(e.what()).find("a parent is not a directory") != std::string::npos);
    }
}

TEST_CASE("a directory whose files are not yet written is still not replaced") {
    TempDir dir;
    write_text(dir / "t.tar", make_tar({{.path = "d/", .type = AE_IFDIR, .perm = 0755},
                                        {.path = "d/f", .data = "in d"},
                                        {.path = "d", .type = AE_IFLNK, .link = "elsewhere"}}));
    try {
        unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
        FAIL("a non-empty directory was replaced by a symlink");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find("non-empty directory") != std::string::npos);
    }
}

TEST_CASE("a hard link to a file not yet written links to it") {
    TempDir dir;
    write_text(dir / "t.tar", make_tar({{.path = "a", .data = "shared"},
                                        {.path = "b", .type = AE_IFREG, .hardlink = "a"}}));
    unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK(read_file(dir / "out/b") == "shared");
    CHECK(lst(dir / "out/a").st_ino == lst(dir / "out/b").st_ino);
}

TEST_CASE("a whiteout of a file not yet written takes its place") {
    TempDir dir;
    write_text(dir / "t.tar",
               make_tar({{.path = "a", .data = "hidden"}, {.path = ".wh.a", .perm = 0}}));
    try {
        unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    } catch (const Error& e) {
        // Overlay whiteouts are 0/0 character devices: Linux before 5.8 allows them to root only.
        if (!is_root() && std::string(e.what()).find("CAP_MKNOD") != std::string::npos) {
            WARN("skipped: this kernel creates whiteout devices for root only");
            return;
        }
        throw;
    }
    auto st = lst(dir / "out/a");
    CHECK(S_ISCHR(st.st_mode));
    CHECK(st.st_rdev == 0);
}

TEST_CASE("a name given twice ends as the later entry made it") {
    TempDir dir;
    write_text(dir / "t.tar", make_tar({{.path = "a", .data = "first", .mtime = 100},
                                        {.path = "a", .data = "second", .mtime = 200},
                                        {.path = "s", .data = "file"},
                                        {.path = "s", .type = AE_IFLNK, .link = "a"}}));
    unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK(read_file(dir / "out/a") == "second");
    CHECK(lst(dir / "out/a").st_mtim.tv_sec == 200);
    CHECK(S_ISLNK(lst(dir / "out/s").st_mode));
}
