// The engine facing a damaged store: a base image whose files changed after it was unpacked, and
// a snapshot whose layer record or tar object is corrupt. A real store and the busybox rootfs
// (through its file:// URL); nothing here starts a sandbox.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>
#include <string>

#include "karapace/core/engine.hpp"
#include "karapace/image/extract.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"

using namespace karapace;
using namespace karapace::core;

namespace {

class TempDir {
public:
    TempDir() {
        std::string tmpl = "/tmp/karapace-core-test-XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
        ::chmod(tmpl.c_str(), 0755);
        path_ = tmpl;
    }
    ~TempDir() {
        try {
            image::remove_rootfs_tree(path_);  // image files may belong to sub-uids
        } catch (...) {}
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

private:
    std::string path_;
};

const std::string& busybox_tarball() {
    static TempDir dir;
    static std::string tarball;
    static std::once_flag once;
    std::call_once(once, [] {
        const char* src = std::getenv("KARAPACE_SOURCE_ROOT");
        REQUIRE(src != nullptr);
        auto r = run_process(
            {"sh", std::string(src) + "/tests/fixtures/make-busybox-rootfs.sh", dir / "img"});
        REQUIRE(r.ok());
        tarball = dir / "img/busybox-rootfs.tar.xz";
    });
    return tarball;
}

// Flips one byte in place, keeping the file's mode (objects are read-only files).
void flip_byte(const std::string& path, off_t offset) {
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    ::chmod(path.c_str(), 0644);
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
    REQUIRE(fd);
    char c = 0;
    REQUIRE(::pread(fd.get(), &c, 1, offset) == 1);
    c = static_cast<char>(c ^ 0x20);
    REQUIRE(::pwrite(fd.get(), &c, 1, offset) == 1);
    ::chmod(path.c_str(), st.st_mode & 07777);
}

// A busybox environment named "bb" built from a manifest in its own directory.
struct Project {
    TempDir dir;
    std::string root = dir / "store";
    std::string manifest = dir / "proj/karapace.toml";
    Engine engine{EngineOptions{root, std::nullopt, {}, {}}};
    BuildResult built;

    Project() {
        make_dirs(dir / "proj");
        write_file_atomic(manifest, "manifest_version = 1\n[base]\nimage = \"file://" +
                                        busybox_tarball() + "\"\n");
        built = build();
    }
    BuildResult build() {
        BuildOptions o;
        o.manifest_path = manifest;
        o.name = "bb";
        return engine.build(o, null_progress());
    }
    std::string image_dir() const {
        return store::Layout(root).images_dir() + "/" + sha256_file(busybox_tarball()).hex();
    }
    std::string upper() const { return root + "/env/" + built.env_id + "/upper"; }
};

Error error_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const Error& e) {
        return e;
    }
    FAIL("expected an error");
    return Error(Errc::failed, "unreachable");
}

}  // namespace

TEST_CASE("an environment whose base image changed is refused until build fetches it again") {
    Project p;
    const std::string passwd = p.image_dir() + "/rootfs/etc/passwd";
    const std::string original = read_file(passwd);
    CHECK_NOTHROW(p.engine.diff("bb"));
    CHECK(p.engine.verify_store(null_progress()).ok());

    SECTION("a flipped byte") { flip_byte(passwd, 3); }
    SECTION("a changed mode") { REQUIRE(::chmod(passwd.c_str(), 0666) == 0); }
    SECTION("an edited image.json") { flip_byte(p.image_dir() + "/image.json", 20); }

    auto v = p.engine.verify_store(null_progress());
    REQUIRE(v.failures.size() == 1);
    CHECK(v.failures[0].what == "image");
    CHECK(v.failures[0].id == p.image_dir());

    ExecOptions exec;
    exec.env = "bb";
    exec.argv = {"true"};
    Error refused = error_of([&] { p.engine.run(exec); });
    CHECK(refused.code() == Errc::store);
    CHECK_THAT(refused.what(),
               Catch::Contains("base image of environment bb") && Catch::Contains("is damaged"));
    CHECK_THAT(refused.hint(), Catch::Contains("karapace build " + p.dir / "proj/karapace.toml"));
    CHECK_THROWS_WITH(p.engine.diff("bb"), Catch::Contains("is damaged"));
    // Still damaged for the next verify-store, which reports the mark without digesting again.
    v = p.engine.verify_store(null_progress());
    REQUIRE(v.failures.size() == 1);
    CHECK_THAT(v.failures[0].reason, Catch::Contains("marked damaged"));

    auto again = p.build();
    CHECK(again.env_id == p.built.env_id);
    CHECK(p.engine.verify_store(null_progress()).ok());
    CHECK_NOTHROW(p.engine.diff("bb"));
    CHECK(read_file(passwd) == original);
}

TEST_CASE("restore refuses a snapshot whose record or tar is corrupt, and changes nothing") {
    Project p;
    make_dirs(p.upper() + "/etc");
    write_file_atomic(p.upper() + "/etc/marker", "snapshotted contents\n");
    auto snap = p.engine.commit("bb", null_progress());
    write_file_atomic(p.upper() + "/etc/after", "made after the snapshot\n");
    const std::string record = p.root + "/layers/" + snap.id + ".json";
    const std::string object = p.root + "/objects/sha256/" + snap.id;
    std::string expect;
    SECTION("a corrupt layer record") {
        flip_byte(record, 10);
        expect = "its layer record " + record + " is unusable: corrupt record";
    }
    SECTION("a missing layer record") {
        REQUIRE(::unlink(record.c_str()) == 0);
        expect = "its layer record " + record + " is unusable";
    }
    SECTION("a flipped byte in the snapshot's file contents") {
        auto at = read_file(object).find("snapshotted contents");
        REQUIRE(at != std::string::npos);
        flip_byte(object, static_cast<off_t>(at));
        expect = "its tar object " + object + " is unusable: corrupt layer object";
    }
    Error e = error_of([&] { p.engine.restore("bb", snap.id.substr(0, 12), null_progress()); });
    CHECK(e.code() == Errc::store);
    CHECK_THAT(e.what(), Catch::Contains(expect));
    CHECK_THAT(e.what(), Catch::Contains("snapshot " + snap.id.substr(0, 12)));
    CHECK_THAT(e.hint(), Catch::Contains("verify-store"));
    // The writable layer is the one from before the attempt.
    CHECK(read_file(p.upper() + "/etc/after") == "made after the snapshot\n");
    CHECK(read_file(p.upper() + "/etc/marker") == "snapshotted contents\n");
    auto staging = run_process({"ls", "-A", p.root + "/staging"});
    CHECK(staging.out.empty());
}
