#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include "karapace/store/tar.hpp"
#include "karapace/store/tree_digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "support.hpp"
#include "tar_support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

// A small root filesystem: directories, files with odd modes, a symlink, a FIFO, a hard link.
void make_tree(const std::string& root, bool reverse_order = false) {
    auto dirs = [&] {
        make_dirs(root + "/etc");
        make_dirs(root + "/bin");
        make_dirs(root + "/root");
        ::chmod((root + "/root").c_str(), 0700);
    };
    auto files = [&] {
        write_text(root + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n");
        write_text(root + "/etc/shadow", "root:*:19000::::::\n", 0600);
        write_text(root + "/bin/busybox", std::string(3 << 20, 'b'), 0755);
        REQUIRE(::symlink("/bin/busybox", (root + "/bin/sh").c_str()) == 0);
        REQUIRE(::mkfifo((root + "/root/fifo").c_str(), 0600) == 0);
        REQUIRE(::link((root + "/bin/busybox").c_str(), (root + "/bin/ls").c_str()) == 0);
    };
    REQUIRE(::mkdir(root.c_str(), 0755) == 0);
    ::chmod(root.c_str(), 0755);
    if (reverse_order) {
        dirs();
        write_text(root + "/zz-first", "");
        ::unlink((root + "/zz-first").c_str());
        files();
    } else {
        dirs();
        files();
    }
}

}  // namespace

TEST_CASE("a tree digest depends on what the tree holds, not on how or when it was made") {
    TempDir dir;
    make_tree(dir / "a");
    make_tree(dir / "b", true);
    TreeDigest a = digest_tree(dir / "a");
    CHECK(a == digest_tree(dir / "a"));
    CHECK(a == digest_tree(dir / "b"));
    CHECK(a.entries == 10);  // the root, 3 directories, 6 files, links and a FIFO
    CHECK(a.bytes == 2 * (3u << 20) + 30 + 19);
    struct timespec old[2] = {{0, 0}, {0, 0}};
    REQUIRE(::utimensat(AT_FDCWD, (dir / "a/etc/passwd").c_str(), old, 0) == 0);
    CHECK(digest_tree(dir / "a") == a);
}

TEST_CASE("a tree digest changes with a file's contents, mode, owner, type, name or link target") {
    TempDir dir;
    const std::string root = dir / "root";
    make_tree(root);
    TreeDigest before = digest_tree(root);
    SECTION("one flipped byte") { flip_byte(root + "/etc/passwd", 3); }
    SECTION("a flipped byte in a hard-linked file") {
        flip_byte(root + "/bin/ls", 1 << 20);
        REQUIRE(::chmod((root + "/bin/ls").c_str(), 0755) == 0);  // flip_byte made it 0644
    }
    SECTION("a mode") { REQUIRE(::chmod((root + "/etc/passwd").c_str(), 0666) == 0); }
    SECTION("a directory's mode") { REQUIRE(::chmod((root + "/root").c_str(), 0755) == 0); }
    SECTION("a setuid bit") { REQUIRE(::chmod((root + "/bin/busybox").c_str(), 04755) == 0); }
    SECTION("a link target") {
        REQUIRE(::unlink((root + "/bin/sh").c_str()) == 0);
        REQUIRE(::symlink("/bin/evil", (root + "/bin/sh").c_str()) == 0);
    }
    SECTION("a new empty file") { write_text(root + "/etc/new", ""); }
    SECTION("a removed file") { REQUIRE(::unlink((root + "/etc/shadow").c_str()) == 0); }
    SECTION("a renamed file") {
        REQUIRE(::rename((root + "/etc/shadow").c_str(), (root + "/etc/shadox").c_str()) == 0);
    }
    SECTION("a FIFO turned into a file") {
        REQUIRE(::unlink((root + "/root/fifo").c_str()) == 0);
        write_text(root + "/root/fifo", "", 0600);
    }
    SECTION("an owner") {
        if (!is_root()) return;  // only root can give a file away
        REQUIRE(::lchown((root + "/etc/passwd").c_str(), 1000, 1000) == 0);
    }
    CHECK(digest_tree(root).digest != before.digest);
}

TEST_CASE("a tree digest's record round-trips and names what the counts tell") {
    TempDir dir;
    make_tree(dir / "t");
    TreeDigest t = digest_tree(dir / "t");
    auto json = to_json(t);
    CHECK(json.at("scheme").as_string() == tree_digest_scheme);
    CHECK(tree_digest_from_json(json, "image.json") == t);
    json["scheme"] = "karapace-tree-v9";
    CHECK_THROWS_WITH(tree_digest_from_json(json, "image.json"),
                      Catch::Contains("unknown tree digest scheme"));
    CHECK_THROWS_AS(tree_digest_from_json(boost::json::value("x"), "image.json"), Error);

    TreeDigest more = t;
    more.entries += 1;
    more.bytes += 5;
    CHECK(describe_difference(t, more) ==
          "1 entry more than recorded, 5 bytes of file contents more than recorded");
    more = t;
    more.entries -= 2;
    CHECK(describe_difference(t, more) == "2 entries fewer than recorded");
    CHECK(describe_difference(t, t) == "a file's contents, mode, owner or link target differs");
}

TEST_CASE("a tree digest names the directory it cannot read") {
    TempDir dir;
    CHECK_THROWS_WITH(digest_tree(dir / "missing"), Catch::Contains(dir / "missing"));
    if (is_root()) return;  // root reads everything
    make_tree(dir / "t");
    REQUIRE(::chmod((dir / "t/root").c_str(), 0) == 0);
    try {
        digest_tree(dir / "t");
        FAIL("an unreadable directory was digested");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find(dir / "t/root") != std::string::npos);
    }
    ::chmod((dir / "t/root").c_str(), 0700);
}

TEST_CASE("a tree digested from the hashes taken while unpacking equals one read back from disk") {
    using karapace::store::test::make_tar;
    TempDir dir;
    std::string big(300000, 'b');
    for (std::size_t i = 0; i < big.size(); i += 7)
        big[i] = static_cast<char>(i);
    write_text(dir / "t.tar", make_tar({{.path = "d/", .type = AE_IFDIR, .perm = 0755},
                                        {.path = "d/big", .data = big},
                                        {.path = "d/empty", .data = ""},
                                        {.path = "d/twice", .data = "first"},
                                        {.path = "d/twice", .data = "second, longer"},
                                        {.path = "d/link", .hardlink = "d/big"},
                                        {.path = "d/x", .data = "x", .perm = 0600}}));
    WrittenContents written;
    UnpackOptions opts;
    opts.keep_ownership = ::geteuid() == 0;
    opts.written = &written;
    unpack_tar_file(dir / "t.tar", dir / "out", opts);
    CHECK(written.size() >= 4);
    CHECK(digest_unpacked_tree(dir / "out", written) == digest_tree(dir / "out"));
    // A file rewritten in place after the unpack (same inode and size, its mtime moves) is read
    // again, not taken from the record.
    auto before = digest_unpacked_tree(dir / "out", written);
    ::usleep(10000);
    int fd = ::open((dir / "out/d/x").c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, "y", 1) == 1);
    ::close(fd);
    CHECK(digest_unpacked_tree(dir / "out", written) == digest_tree(dir / "out"));
    CHECK(digest_unpacked_tree(dir / "out", written) != before);
}
