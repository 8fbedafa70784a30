#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "karapace/store/store.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "support.hpp"
#include "tar_support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

std::string pack_to_string(const std::string& dir, const PackOptions& opts = {}) {
    std::string out;
    pack_tree(
        dir, [&](const void* d, std::size_t n) { out.append(static_cast<const char*>(d), n); },
        opts);
    return out;
}

// A tree with every kind of entry a layer can hold.
void make_sample_tree(const std::string& root) {
    make_dirs(root + "/etc/conf.d");
    make_dirs(root + "/empty");
    write_text(root + "/etc/hosts", "127.0.0.1 localhost\n");
    write_text(root + "/etc/conf.d/a", "alpha", 0600);
    write_text(root + "/run.sh", "#!/bin/sh\necho hi\n", 0755);
    std::string long_dir = root + "/" + std::string(120, 'd');
    make_dirs(long_dir);
    write_text(long_dir + "/" + std::string(150, 'f'), "long names");
    REQUIRE(::symlink("etc/hosts", (root + "/hosts-link").c_str()) == 0);
    REQUIRE(::symlink("/nonexistent/abs", (root + "/dangling").c_str()) == 0);
    REQUIRE(::link((root + "/run.sh").c_str(), (root + "/run-again.sh").c_str()) == 0);
    REQUIRE(::mkfifo((root + "/pipe").c_str(), 0640) == 0);
    std::string binary(70000, '\0');
    for (std::size_t i = 0; i < binary.size(); ++i)
        binary[i] = static_cast<char>(i * 7);
    write_text(root + "/blob.bin", binary);
    ::chmod((root + "/empty").c_str(), 0750);
}

bool set_xattr(const std::string& path, const char* name, const std::string& value) {
    return ::lsetxattr(path.c_str(), name, value.data(), value.size(), 0) == 0;
}

std::string get_xattr(const std::string& path, const char* name) {
    char buf[256];
    ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof(buf));
    return n < 0 ? std::string("<none>") : std::string(buf, static_cast<std::size_t>(n));
}

struct stat lst(const std::string& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st;
}

// Ownership can only be restored as root (or inside a user namespace); elsewhere the tests
// unpack without it.
UnpackOptions opts_here() {
    UnpackOptions o;
    o.keep_ownership = is_root();
    return o;
}

void expect_refused(const std::string& tar, const std::string& entry_named, const TempDir& dir,
                    const UnpackOptions& opts = opts_here()) {
    write_text(dir / "hostile.tar", tar);
    try {
        unpack_tar_file(dir / "hostile.tar", dir / "dest", opts);
        FAIL("hostile archive unpacked; expected refusal naming " << entry_named);
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find(entry_named) != std::string::npos);
    }
}

}  // namespace

TEST_CASE("packing the same tree twice gives byte-identical tars, whatever the mtimes or pid") {
    TempDir dir;
    make_sample_tree(dir / "tree");
    std::string first = pack_to_string(dir / "tree");
    // Pack again in another process (different pid) after touching every mtime.
    ::utimensat(AT_FDCWD, (dir / "tree/etc/hosts").c_str(), nullptr, 0);
    int rc = run_child([&] {
        write_text(dir / "second.tar", pack_to_string(dir / "tree"));
        return 0;
    });
    REQUIRE(rc == 0);
    std::string second = read_file(dir / "second.tar");
    CHECK(first.size() == second.size());
    CHECK(first == second);
    CHECK(first.size() % 512 == 0);
    // A changed byte of content changes the tar.
    write_text(dir / "tree/etc/hosts", "127.0.0.2 localhost\n");
    CHECK(pack_to_string(dir / "tree") != first);
}

TEST_CASE("tar entries are sorted, directories first, with numeric owners and hard links") {
    TempDir dir;
    make_sample_tree(dir / "tree");
    auto entries = list_tar(pack_to_string(dir / "tree"));
    std::vector<std::string> names;
    for (const auto& e : entries)
        names.push_back(e.path);
    auto pos = [&](const std::string& n) {
        return std::find(names.begin(), names.end(), n) - names.begin();
    };
    CHECK(pos("etc/") < pos("etc/conf.d/"));
    CHECK(pos("etc/conf.d/") < pos("etc/conf.d/a"));
    CHECK(pos("blob.bin") < pos("empty/"));
    bool found_link = false;
    for (const auto& e : entries)
        if (e.path == "run.sh" || e.path == "run-again.sh")
            found_link = found_link || e.hardlink == "run-again.sh" || e.hardlink == "run.sh";
    CHECK(found_link);
}

TEST_CASE("pack then unpack preserves content, modes, symlinks, hard links, fifos and mtimes") {
    TempDir dir;
    make_sample_tree(dir / "tree");
    Store s = Store::open(dir / "store");
    PackOptions popts;
    popts.mtime_clamp = 1700000000;
    ::utimensat(AT_FDCWD, (dir / "tree/etc/hosts").c_str(),
                std::array<timespec, 2>{timespec{1600000000, 0}, timespec{1600000000, 0}}.data(),
                AT_SYMLINK_NOFOLLOW);
    PackResult r = pack_layer(dir / "tree", s.objects(), popts);
    CHECK(r.size == s.objects().size(r.digest));
    CHECK(r.files >= 12);
    UniqueFd fd = s.objects().open(r.digest);
    UnpackStats st = unpack_tar_fd(fd.get(), dir / "out", opts_here());
    CHECK(st.entries == r.files);
    std::string out = dir / "out";
    CHECK(read_file(out + "/etc/hosts") == "127.0.0.1 localhost\n");
    CHECK(read_file(out + "/blob.bin") == read_file(dir / "tree/blob.bin"));
    CHECK(read_file(out + "/" + std::string(120, 'd') + "/" + std::string(150, 'f')) ==
          "long names");
    CHECK((lst(out + "/etc/conf.d/a").st_mode & 07777) == 0600);
    CHECK((lst(out + "/run.sh").st_mode & 07777) == 0755);
    CHECK((lst(out + "/empty").st_mode & 07777) == 0750);
    CHECK(S_ISFIFO(lst(out + "/pipe").st_mode));
    char target[256] = {};
    REQUIRE(::readlink((out + "/hosts-link").c_str(), target, sizeof(target) - 1) > 0);
    CHECK(std::string(target) == "etc/hosts");
    CHECK(lst(out + "/run.sh").st_ino == lst(out + "/run-again.sh").st_ino);
    CHECK(lst(out + "/etc/hosts").st_mtime == 1600000000);  // older than the clamp: kept
    CHECK(lst(out + "/blob.bin").st_mtime == 1700000000);   // newer: clamped
}

TEST_CASE("ownership survives a round trip when run as root") {
    if (!is_root()) {
        WARN("skipped: restoring ownership needs root or a user namespace");
        return;
    }
    TempDir dir;
    make_dirs(dir / "tree/d");
    write_text(dir / "tree/d/f", "x");
    REQUIRE(::chown((dir / "tree/d/f").c_str(), 1234, 5678) == 0);
    REQUIRE(::chown((dir / "tree/d").c_str(), 100000, 100000) == 0);
    write_text(dir / "t.tar", pack_to_string(dir / "tree"));
    unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK(lst(dir / "out/d/f").st_uid == 1234);
    CHECK(lst(dir / "out/d/f").st_gid == 5678);
    CHECK(lst(dir / "out/d").st_uid == 100000);
    UnpackOptions no_owner;
    no_owner.keep_ownership = false;
    unpack_tar_file(dir / "t.tar", dir / "out2", no_owner);
    CHECK(lst(dir / "out2/d/f").st_uid == 0);
}

TEST_CASE("user and capability xattrs travel in layers, overlay bookkeeping does not") {
    TempDir dir;
    make_dirs(dir / "tree/d");
    write_text(dir / "tree/d/f", "x");
    if (!set_xattr(dir / "tree/d/f", "user.karapace.test", "v1")) {
        WARN("skipped: the filesystem of /tmp does not support user xattrs");
        return;
    }
    REQUIRE(set_xattr(dir / "tree/d", "user.mime", "dir"));
    REQUIRE(set_xattr(dir / "tree/d/f", "user.overlay.origin", "junk"));
    bool caps =
        is_root() && set_xattr(dir / "tree/d/f", "security.capability",
                               std::string("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00"
                                           "\x00\x00\x00\x00\x00\x00\x00\x00",
                                           20));
    write_text(dir / "t.tar", pack_to_string(dir / "tree"));
    CHECK(read_file(dir / "t.tar") == pack_to_string(dir / "tree"));
    unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK(get_xattr(dir / "out/d/f", "user.karapace.test") == "v1");
    CHECK(get_xattr(dir / "out/d", "user.mime") == "dir");
    CHECK(get_xattr(dir / "out/d/f", "user.overlay.origin") == "<none>");
    if (caps)
        CHECK(get_xattr(dir / "out/d/f", "security.capability") ==
              get_xattr(dir / "tree/d/f", "security.capability"));
    else
        WARN("security.capability not checked: needs root");
    UnpackOptions no_x = opts_here();
    no_x.keep_xattrs = false;
    unpack_tar_file(dir / "t.tar", dir / "out2", no_x);
    CHECK(get_xattr(dir / "out2/d/f", "user.karapace.test") == "<none>");
}

TEST_CASE("overlay whiteouts become OCI .wh. entries and come back as whiteouts") {
    TempDir dir;
    make_dirs(dir / "upper/opaque");
    make_dirs(dir / "upper/keep");
    write_text(dir / "upper/opaque/new", "n");
    // Linux >= 5.8 lets anyone create a 0/0 whiteout; older kernels want CAP_MKNOD.
    if (::mknod((dir / "upper/keep/gone").c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
        WARN("skipped: this kernel does not let us create char 0/0 whiteouts");
        return;
    }
    if (!set_xattr(dir / "upper/opaque", "user.overlay.opaque", "y")) {
        WARN("skipped: no user xattrs on /tmp");
        return;
    }
    std::string tar = pack_to_string(dir / "upper");
    std::vector<std::string> names;
    for (const auto& e : list_tar(tar)) {
        names.push_back(e.path);
        CHECK(e.type != AE_IFCHR);
    }
    CHECK(std::find(names.begin(), names.end(), "keep/.wh.gone") != names.end());
    CHECK(std::find(names.begin(), names.end(), "opaque/.wh..wh..opq") != names.end());
    write_text(dir / "t.tar", tar);
    unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    struct stat wh = lst(dir / "out/keep/gone");
    CHECK(S_ISCHR(wh.st_mode));
    CHECK(wh.st_rdev == makedev(0, 0));
    CHECK(::access((dir / "out/keep/.wh.gone").c_str(), F_OK) != 0);
    CHECK(get_xattr(dir / "out/opaque", "user.overlay.opaque") == "y");
    CHECK(::access((dir / "out/opaque/.wh..wh..opq").c_str(), F_OK) != 0);
    // Packing the unpacked tree gives the same tar again.
    CHECK(pack_to_string(dir / "out") == tar);

    if (is_root()) {
        UnpackOptions trusted;
        trusted.opaque_xattr = "trusted.overlay.opaque";
        unpack_tar_file(dir / "t.tar", dir / "out-trusted", trusted);
        CHECK(get_xattr(dir / "out-trusted/opaque", "trusted.overlay.opaque") == "y");
    } else {
        WARN("trusted.overlay.opaque not checked: needs root");
    }

    UnpackOptions oci = opts_here();
    oci.whiteouts = WhiteoutFormat::oci;
    unpack_tar_file(dir / "t.tar", dir / "out-oci", oci);
    CHECK(S_ISREG(lst(dir / "out-oci/keep/.wh.gone").st_mode));
    CHECK(S_ISREG(lst(dir / "out-oci/opaque/.wh..wh..opq").st_mode));

    UnpackOptions none = opts_here();
    none.allow_whiteouts = false;
    expect_refused(tar, "keep/.wh.gone", dir, none);
}

TEST_CASE("hostile archives are refused, naming the entry, and nothing lands outside") {
    TempDir dir;
    TempDir outside;
    write_text(outside / "victim", "original");
    auto untouched = [&] {
        CHECK(read_file(outside / "victim") == "original");
        CHECK(entries(outside.path()).size() == 1);
    };
    SECTION("absolute path") {
        expect_refused(make_tar({{.path = outside / "evil", .data = "x"}}), outside / "evil", dir);
    }
    SECTION("dot-dot path") {
        expect_refused(make_tar({{.path = "a/../../evil", .data = "x"}}), "a/../../evil", dir);
    }
    SECTION("symlink to the outside, then a write through it") {
        expect_refused(make_tar({{.path = "link", .type = AE_IFLNK, .link = outside.path()},
                                 {.path = "link/victim", .data = "pwned"}}),
                       "link/victim", dir);
    }
    SECTION("symlink inside the tree, then a write through it") {
        expect_refused(make_tar({{.path = "real", .type = AE_IFDIR, .perm = 0755},
                                 {.path = "link", .type = AE_IFLNK, .link = "real"},
                                 {.path = "link/f", .data = "x"}}),
                       "link/f", dir);
    }
    SECTION("hard link to a file outside") {
        expect_refused(make_tar({{.path = "h", .hardlink = outside / "victim"}}), "'h'", dir);
        expect_refused(make_tar({{.path = "h2", .hardlink = "../victim"}}), "'h2'", dir);
    }
    SECTION("hard link through a symlink") {
        expect_refused(make_tar({{.path = "link", .type = AE_IFLNK, .link = outside.path()},
                                 {.path = "h", .hardlink = "link/victim"}}),
                       "'h'", dir);
    }
    SECTION("device node") {
        expect_refused(make_tar({{.path = "null", .type = AE_IFCHR, .rdev = makedev(1, 3)}}),
                       "null", dir);
        expect_refused(make_tar({{.path = "sda", .type = AE_IFBLK, .rdev = makedev(8, 0)}}), "sda",
                       dir);
    }
    SECTION("huge header") {
        std::string name(70000, 'n');
        expect_refused(make_tar({{.path = name, .data = "x"}}), "refusing", dir);
    }
    SECTION("garbage input") {
        write_text(dir / "junk.tar", std::string(3000, '\x7f'));
        CHECK_THROWS_AS(unpack_tar_file(dir / "junk.tar", dir / "dest", opts_here()), Error);
    }
    untouched();
}

TEST_CASE("a data limit stops oversized archives") {
    TempDir dir;
    write_text(dir / "big.tar", make_tar({{.path = "f", .data = std::string(100000, 'x')}}));
    UnpackOptions opts = opts_here();
    opts.max_bytes = 50000;
    CHECK_THROWS_AS(unpack_tar_file(dir / "big.tar", dir / "out", opts), Error);
    opts.max_bytes = 0;
    CHECK(unpack_tar_file(dir / "big.tar", dir / "out2", opts).bytes == 100000);
}

TEST_CASE("compressed archives unpack: gzip, xz, zstd, bzip2") {
    TempDir dir;
    std::string tar = make_tar({{.path = "d/", .type = AE_IFDIR, .perm = 0755},
                                {.path = "d/f", .data = "compressed content"}});
    write_text(dir / "plain.tar", tar);
    for (const char* tool : {"gzip", "xz", "zstd", "bzip2"}) {
        if (!find_program(tool)) {
            WARN("skipped " << tool << ": not installed");
            continue;
        }
        std::string packed = dir / (std::string("t.") + tool);
        auto r = run_process({tool, "-c", dir / "plain.tar"});
        REQUIRE(r.ok());
        write_text(packed, r.out);
        std::string out = dir / (std::string("out-") + tool);
        unpack_tar_file(packed, out, opts_here());
        CHECK(read_file(out + "/d/f") == "compressed content");
    }
}

// A tar larger than several xz blocks, with content that does not compress to nothing.
std::string multi_block_tar() {
    std::vector<TarEntry> entries{{.path = "d/", .type = AE_IFDIR, .perm = 0755}};
    for (int f = 0; f < 8; ++f) {
        std::string data(200000, '\0');
        std::uint32_t x = 12345u + static_cast<std::uint32_t>(f);
        for (auto& c : data) {
            x = x * 1103515245u + 12345u;
            c = static_cast<char>('a' + (x >> 16) % 16);
        }
        entries.push_back({.path = "d/f" + std::to_string(f), .data = data});
    }
    return make_tar(entries);
}

TEST_CASE("an xz tarball of several blocks unpacks through the threaded decoder, byte for byte") {
    if (!find_program("xz")) {
        WARN("skipped: xz is not installed");
        return;
    }
    TempDir dir;
    std::string tar = multi_block_tar();
    write_text(dir / "plain.tar", tar);
    // 64 KiB blocks: 25 of them, so the decoder has blocks to share between threads.
    auto r = run_process({"xz", "-T2", "--block-size=65536", "-c", dir / "plain.tar"});
    REQUIRE(r.ok());
    write_text(dir / "t.tar.xz", r.out);
    auto stats = unpack_tar_file(dir / "t.tar.xz", dir / "out", opts_here());
    CHECK(stats.bytes == 8 * 200000);
    unpack_tar_file(dir / "plain.tar", dir / "ref", opts_here());
    for (int f = 0; f < 8; ++f)
        CHECK(read_file(dir / ("out/d/f" + std::to_string(f))) ==
              read_file(dir / ("ref/d/f" + std::to_string(f))));
}

// Counts this process's threads each time the unpacker reports progress (on the thread that
// writes the files).
struct ThreadCountingSink : ProgressSink {
    std::size_t most = 0;
    void step(std::string_view, std::uint64_t, ProgressUnit) override {}
    void finish(bool) override {}
    void advance(std::uint64_t) override {
        most = std::max(most, entries("/proc/self/task").size());
    }
};

TEST_CASE("an xz tarball is decoded on other threads while this one writes the files") {
    if (!find_program("xz")) {
        WARN("skipped: xz is not installed");
        return;
    }
    TempDir dir;
    write_text(dir / "plain.tar", multi_block_tar());
    auto r = run_process({"xz", "-T2", "--block-size=65536", "-c", dir / "plain.tar"});
    REQUIRE(r.ok());
    write_text(dir / "t.tar.xz", r.out);
    ThreadCountingSink sink;
    UnpackOptions opts = opts_here();
    opts.progress = &sink;
    const std::size_t before = entries("/proc/self/task").size();
    unpack_tar_file(dir / "t.tar.xz", dir / "out", opts);
    // The read-ahead thread at least, and liblzma's workers when there are several CPUs.
    CHECK(sink.most >= before + 1);
    if (::sysconf(_SC_NPROCESSORS_ONLN) > 1) CHECK(sink.most >= before + 2);
    CHECK(entries("/proc/self/task").size() == before);  // all of them gone again
}

TEST_CASE("a truncated or damaged compressed tarball is refused with what is wrong with it") {
    TempDir dir;
    write_text(dir / "plain.tar", multi_block_tar());
    for (const char* tool : {"xz", "gzip"}) {
        if (!find_program(tool)) {
            WARN("skipped " << tool << ": not installed");
            continue;
        }
        auto r = run_process({tool, "-c", dir / "plain.tar"});
        REQUIRE(r.ok());
        std::string name = std::string("cut.") + tool;
        write_text(dir / name, r.out.substr(0, r.out.size() / 2));
        CHECK_THROWS_WITH(unpack_tar_file(dir / name, dir / (name + "-out"), opts_here()),
                          Catch::Contains(name) && Catch::Contains("decompress"));
        // libarchive skips gzip's trailer without checking its CRC (the image's sha256 guards
        // those files); xz's block checks are verified by liblzma.
        if (std::string(tool) != "xz") continue;
        std::string bad = r.out;
        for (std::size_t i = bad.size() / 3; i < bad.size() / 3 + 64; ++i)
            bad[i] = static_cast<char>(bad[i] ^ 0x5a);
        name = std::string("bad.") + tool;
        write_text(dir / name, bad);
        CHECK_THROWS_WITH(unpack_tar_file(dir / name, dir / (name + "-out"), opts_here()),
                          Catch::Contains(name));
    }
}

TEST_CASE("hostile entries are refused in a compressed tarball too") {
    if (!find_program("xz")) {
        WARN("skipped: xz is not installed");
        return;
    }
    TempDir dir;
    TempDir outside;
    write_text(dir / "hostile.tar",
               make_tar({{.path = "link", .type = AE_IFLNK, .link = outside.path()},
                         {.path = "link/victim", .data = "pwned"}}));
    auto r = run_process({"xz", "-c", dir / "hostile.tar"});
    REQUIRE(r.ok());
    write_text(dir / "hostile.tar.xz", r.out);
    CHECK_THROWS_WITH(unpack_tar_file(dir / "hostile.tar.xz", dir / "dest", opts_here()),
                      Catch::Contains("link/victim"));
    CHECK(entries(outside.path()).empty());
}

TEST_CASE("read-only directories in an archive still receive their files") {
    TempDir dir;
    write_text(dir / "t.tar", make_tar({{.path = "ro/", .type = AE_IFDIR, .perm = 0555},
                                        {.path = "ro/f", .data = "x", .perm = 0444}}));
    unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK((lst(dir / "out/ro").st_mode & 07777) == 0555);
    CHECK(read_file(dir / "out/ro/f") == "x");
    remove_tree(dir / "out");
    CHECK(::access((dir / "out").c_str(), F_OK) != 0);
}

TEST_CASE("an archive can omit parent directory entries") {
    TempDir dir;
    write_text(dir / "t.tar", make_tar({{.path = "./a/b/c/file", .data = "deep"}}));
    UnpackStats st = unpack_tar_file(dir / "t.tar", dir / "out", opts_here());
    CHECK(st.entries == 1);
    CHECK(read_file(dir / "out/a/b/c/file") == "deep");
}

TEST_CASE("the archive's ./ entry sets the destination's own mode") {
    TempDir dir;
    write_text(dir / "t.tar", make_tar({{.path = "./", .type = AE_IFDIR, .perm = 0711},
                                        {.path = "./etc/", .type = AE_IFDIR, .perm = 0755},
                                        {.path = "./etc/os-release", .data = "ID=test\n"}}));
    UnpackOptions o;
    o.keep_ownership = is_root();
    unpack_tar_file(dir / "t.tar", dir / "out", o);
    CHECK((lst(dir / "out").st_mode & 07777) == 0711);
    CHECK(read_file(dir / "out/etc/os-release") == "ID=test\n");
}

TEST_CASE("a layer is verified while it is unpacked, in one pass") {
    TempDir dir;
    make_sample_tree(dir / "tree");
    Store s = Store::open(dir / "store");
    PackResult r = pack_layer(dir / "tree", s.objects());
    UnpackStats st = unpack_layer(s.objects(), r.digest, dir / "ok", opts_here());
    CHECK(st.entries == r.files);
    CHECK(read_file(dir / "ok/etc/hosts") == "127.0.0.1 localhost\n");
    // Damage in file data: the archive still parses, the digest check catches it.
    std::string tar = read_file(s.layout().object_path(r.digest));
    auto pos = tar.find("127.0.0.1 localhost");
    REQUIRE(pos != std::string::npos);
    flip_byte(s.layout().object_path(r.digest), static_cast<off_t>(pos));
    try {
        unpack_layer(s.objects(), r.digest, dir / "bad", opts_here());
        FAIL("corrupt layer unpacked without error");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find(s.layout().object_path(r.digest)) != std::string::npos);
    }
    try {
        unpack_layer(s.objects(), sha256("absent"), dir / "none", opts_here());
        FAIL("missing layer unpacked");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::not_found);
    }
}
