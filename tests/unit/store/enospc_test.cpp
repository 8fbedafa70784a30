#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/mount.h>

#include "karapace/store/lock.hpp"
#include "karapace/store/store.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/store/verify.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

// Mounts a 1 MiB tmpfs in a private mount namespace of this test process (never visible to the
// host). Returns false with a reason when that is not possible.
bool mount_small_tmpfs(const std::string& at, std::string& why) {
    if (!is_root()) {
        why = "mounting a tmpfs needs root";
        return false;
    }
    static bool unshared = false;
    if (!unshared) {
        if (::unshare(CLONE_NEWNS) != 0 ||
            ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            why = "cannot create a private mount namespace";
            return false;
        }
        unshared = true;
    }
    make_dirs(at);
    if (::mount("tmpfs", at.c_str(), "tmpfs", 0, "size=1m,mode=0700") != 0) {
        why = "mount tmpfs failed";
        return false;
    }
    return true;
}

// Fills the filesystem: returns the path of the filler file.
std::string fill(const std::string& dir) {
    std::string path = dir + "/filler";
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    std::string chunk(4096, 'z');
    while (::write(fd.get(), chunk.data(), chunk.size()) > 0) {}
    while (::write(fd.get(), chunk.data(), 1) > 0) {}
    return path;
}

void expect_disk_full(const std::function<void()>& fn, const char* what) {
    INFO(what);
    try {
        fn();
        FAIL("succeeded on a full disk");
    } catch (const Error& e) {
        INFO(e.what());
        CHECK(std::string(e.what()).find("No space left") != std::string::npos);
        CHECK(e.hint().find("disk space") != std::string::npos);
    }
}

}  // namespace

TEST_CASE("on a full disk every mutation fails cleanly and the store stays valid") {
    TempDir dir;
    std::string mnt = dir / "mnt";
    std::string why;
    if (!mount_small_tmpfs(mnt, why)) {
        WARN("skipped: " << why);
        return;
    }
    struct Unmount {
        std::string at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{mnt};

    Store s = Store::open(mnt + "/root");
    EnvId id = EnvId::parse(std::string(64, 'a'));
    EnvMetadata m = make_metadata(id);
    m.name = "before";
    s.metadata().put(m);
    Digest small = s.objects().put("small");

    // An object larger than the filesystem.
    expect_disk_full([&] { s.objects().put(std::string(2 * 1024 * 1024, 'x')); }, "big object");
    CHECK(temp_files(mnt).empty());

    make_dirs(dir / "tree");
    write_text(dir / "tree/f", std::string(300 * 1024, 'q'));
    std::string filler = fill(mnt);
    expect_disk_full([&] { pack_layer(dir / "tree", s.objects()); }, "pack layer");
    expect_disk_full(
        [&] {
            Layer l{small, LayerKind::base, std::nullopt, 5, std::string(4000, 'c'), 1};
            s.layers().put(l);
        },
        "layer record");
    expect_disk_full(
        [&] {
            EnvMetadata n = s.metadata().get(id);
            n.name = "after";
            n.manifest_dir = "/" + std::string(8000, 'd');
            s.metadata().put(n);
        },
        "metadata record");
    expect_disk_full(
        [&] {
            for (int i = 0; i < 10000; ++i)
                s.wal().begin(std::string(3000, 'k')).commit();
        },
        "WAL entry");
    CHECK(temp_files(mnt).empty());
    CHECK(s.metadata().get(id).name == std::optional<std::string>("before"));
    CHECK(verify_store(s.layout()).ok());

    // Space freed: everything works again.
    REQUIRE(::unlink(filler.c_str()) == 0);
    PackResult r = pack_layer(dir / "tree", s.objects());
    CHECK(s.objects().get(r.digest).size() == r.size);
    s.layers().put(
        {r.digest, LayerKind::base, std::nullopt, r.size, "2026-11-28T00:00:00Z", r.files});
    m = s.metadata().get(id);
    m.name = "after";
    m.layers = {r.digest};
    s.metadata().put(m);
    s.wal().begin("build").commit();
    CHECK(s.metadata().get(id).name == std::optional<std::string>("after"));
    CHECK(verify_store(s.layout()).ok());
}
