#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>

#include <atomic>
#include <map>

#include "fixture.hpp"
#include "karapace/store/gc.hpp"
#include "karapace/store/image_mark.hpp"
#include "karapace/store/lock.hpp"
#include "karapace/store/migrate.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/store/verify.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

GcOptions no_grace(bool dry_run) {
    GcOptions o;
    o.dry_run = dry_run;
    o.grace = std::chrono::seconds(0);
    o.busy_grace = std::chrono::seconds(0);  // no other process works in the test's store
    return o;
}

std::vector<std::string> describe(const GcReport& r) {
    std::vector<std::string> out;
    for (const auto& i : r.items)
        out.push_back(i.kind + " " + i.path + " " + std::to_string(i.bytes));
    return out;
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// Every file below `root` with its size, to prove a dry run changed nothing.
std::vector<std::string> snapshot_tree(const std::string& root) {
    std::vector<std::string> out;
    for (const auto& n : entries(root)) {
        std::string p = root + "/" + n;
        struct stat st {};
        ::lstat(p.c_str(), &st);
        out.push_back(p + ":" + std::to_string(st.st_size));
        if (S_ISDIR(st.st_mode))
            for (auto& x : snapshot_tree(p))
                out.push_back(x);
    }
    return out;
}

}  // namespace

TEST_CASE("verify-store passes a clean populated store") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    VerifyReport r = verify_store(s.layout());
    INFO(human_summary(r));
    CHECK(r.ok());
    CHECK(r.objects_checked == 7);
    CHECK(r.objects_ok == 7);
    CHECK(r.layers_checked == 5);
    CHECK(r.metadata_checked == 2);
    CHECK(r.names_checked == 1);
    CHECK(r.images_checked == 2);
    CHECK(r.threads >= 1);
    CHECK_NOTHROW(require_clean(r));
    CHECK(to_json(r).at("ok").as_bool());
    CHECK(human_summary(r).rfind("store OK", 0) == 0);
}

// A packages layer stored once: its tree under layers-unpacked/, its record without an object.
Layer stored_once(const Store& s, const std::string& tree_file) {
    std::string tree = s.layout().root() + "/tree";
    make_dirs(tree + "/etc");
    write_text(tree + "/etc/" + tree_file, "content");
    auto packed = regenerate_tar(tree, 0);
    Layer l;
    l.digest = packed.digest;
    l.kind = LayerKind::packages;
    l.size = packed.size;
    l.created = "2026-11-28T00:00:00Z";
    l.stored = LayerStorage::unpacked;
    make_dirs(s.layout().unpacked_layers_dir());
    REQUIRE(::rename(tree.c_str(), s.layout().unpacked_layer_dir(l.digest).c_str()) == 0);
    s.layers().put(l);
    return l;
}

TEST_CASE("verify-store packs a layer stored once again and names a changed tree") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Layer l = stored_once(s, "file");
    VerifyReport r = verify_store(s.layout());
    INFO(human_summary(r));
    CHECK(r.ok());
    CHECK(r.layers_unpacked == 1);
    CHECK(r.layers_with_tar == 0);

    // The regenerator the caller passes is the one used (the engine's enters the namespace).
    int calls = 0;
    VerifyOptions vo;
    vo.regenerate_layer = [&](const std::string& d, std::int64_t clamp) {
        ++calls;
        return regenerate_tar(d, clamp);
    };
    CHECK(verify_store(s.layout(), vo).ok());
    CHECK(calls == 1);

    write_text(s.layout().unpacked_layer_dir(l.digest) + "/etc/added", "x");
    r = verify_store(s.layout());
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].kind == "layer");
    CHECK(r.failures[0].path == s.layout().layer_path(l.digest));
    CHECK(r.failures[0].reason.find("changed") != std::string::npos);

    remove_tree(s.layout().unpacked_layer_dir(l.digest));
    r = verify_store(s.layout());
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].reason.find("is missing") != std::string::npos);
}

TEST_CASE("gc keeps the tree of a layer stored once and drops a tar object left beside it") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Layer l = stored_once(s, "file");
    // A tar object with the layer's digest, as a crash between the record and its removal leaves.
    std::string tar;
    pack_tree(s.layout().unpacked_layer_dir(l.digest), [&](const void* data, std::size_t n) {
        tar.append(static_cast<const char*>(data), n);
    });
    REQUIRE(s.objects().put(tar) == l.digest);
    auto m = make_metadata(EnvId::parse(std::string(64, 'c')));
    m.layers.push_back(l.digest);
    s.metadata().put(m);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    auto r = collect_garbage(s.layout(), lock, no_grace(false));
    INFO(human_summary(r));
    CHECK(r.count("object") == 1);
    CHECK_FALSE(s.objects().exists(l.digest));
    CHECK(exists(s.layout().unpacked_layer_dir(l.digest)));
    CHECK(s.layers().exists(l.digest));
    CHECK(verify_store(s.layout()).ok());

    // Without its tree, the object is the layer's only copy: gc keeps it.
    REQUIRE(s.objects().put(tar) == l.digest);
    remove_tree(s.layout().unpacked_layer_dir(l.digest));
    r = collect_garbage(s.layout(), lock, no_grace(false));
    CHECK(r.count("object") == 0);
    CHECK(s.objects().exists(l.digest));
}

TEST_CASE("verify-store detects a flipped byte in an object, a layer and a metadata record") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    std::string path;
    std::string kind;
    SECTION("object") {
        kind = "object";
        path = s.layout().object_path(p.manifest);
    }
    SECTION("layer") {
        kind = "layer";
        path = s.layout().layer_path(p.pkgs);
    }
    SECTION("metadata") {
        kind = "metadata";
        path = s.layout().metadata_path(p.b);
    }
    flip_byte(path, 5);
    VerifyReport r = verify_store(s.layout());
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].kind == kind);
    CHECK(r.failures[0].path == path);
    try {
        require_clean(r);
        FAIL("damaged store passed");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    CHECK_FALSE(to_json(r).at("ok").as_bool());
}

TEST_CASE(
    "verify-store reports stray files, broken references and bad images, ignores temp files") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    write_text(s.layout().objects_dir() + "/not-a-digest", "x");
    write_text(s.layout().objects_dir() + "/.tmp-object-abc", "in flight");
    s.objects().remove(p.archived_layer);  // layer record now points at nothing
    write_text(s.layout().images_dir() + "/" + p.garbage_image.hex() + "/image.json",
               "{\"digest\": \"" + p.image.str() + "\"}");
    VerifyReport r = verify_store(s.layout());
    INFO(human_summary(r));
    CHECK(r.failures.size() == 3);
    std::vector<std::string> kinds;
    for (const auto& f : r.failures)
        kinds.push_back(f.kind);
    std::sort(kinds.begin(), kinds.end());
    CHECK(kinds == std::vector<std::string>{"image", "layer", "object"});
}

TEST_CASE("verify-store recomputes the tree digest of every cached image and names a changed one") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    const std::string image_dir = s.layout().image_dir(p.image);
    const std::string rootfs = image_dir + "/rootfs";
    std::string expect;
    bool marks = true;  // whether the image is reported as newly damaged
    SECTION("a flipped byte") {
        flip_byte(rootfs + "/etc/passwd", 2);
        expect = "changed since it was unpacked: a file's contents, mode, owner or link target";
    }
    SECTION("a mode alone") {
        REQUIRE(::chmod((rootfs + "/bin/sh").c_str(), 04755) == 0);
        expect = "changed since it was unpacked";
    }
    SECTION("an added file") {
        write_text(rootfs + "/etc/evil", "x");
        expect = "1 entry more than recorded, 1 byte of file contents more than recorded";
    }
    SECTION("an edited image.json") {
        std::string text = read_text(image_dir + "/image.json");
        auto at = text.find("\"entries\": ");
        REQUIRE(at != std::string::npos);
        text.insert(at + 11, "1");
        write_text(image_dir + "/image.json", text);
        expect = "checksum mismatch";
    }
    SECTION("an image.json without its checksum") {
        auto o = json::parse(read_text(image_dir + "/image.json"), "image.json").as_object();
        o.erase("checksum");
        write_text(image_dir + "/image.json", json::pretty(o));
        expect = "no checksum";
    }
    SECTION("a missing rootfs") {
        remove_tree(rootfs);
        expect = "the rootfs directory is missing";
    }
    SECTION("a record from before tree digests") {
        write_text(image_dir + "/image.json", "{\"digest\": \"" + p.image.str() + "\"}");
        expect = "cannot be verified: it was cached before karapace recorded the digest";
        marks = false;
    }
    SECTION("an image marked damaged before") {
        mark_image_damaged(s.layout(), p.image, "found by an earlier run");
        expect = "marked damaged (found by an earlier run)";
        marks = false;
    }
    VerifyReport r = verify_store(s.layout());
    INFO(human_summary(r));
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].kind == "image");
    CHECK(r.failures[0].path == image_dir);
    CHECK_THAT(r.failures[0].reason, Catch::Contains(expect));
    CHECK(r.images_checked == 2);
    CHECK(r.images_ok == 1);
    if (marks) {
        REQUIRE(r.damaged_images.size() == 1);
        CHECK(r.damaged_images[0].first == p.image);
        CHECK_THAT(r.failures[0].reason, Catch::Contains("rebuild an environment that uses it"));
        CHECK_FALSE(image_damage(s.layout(), p.image));  // verify only reads; the engine marks
    } else {
        CHECK(r.damaged_images.empty());
    }
}

TEST_CASE("verify-store digests image trees with the caller's digester, and only reads") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    std::vector<std::string> asked;
    VerifyOptions o;
    o.digest_rootfs = [&](const std::string& root) {
        asked.push_back(root);
        return digest_tree(root);
    };
    auto before = snapshot_tree(dir.path());
    CHECK(verify_store(s.layout(), o).ok());
    std::vector<std::string> expect = {s.layout().image_dir(p.image) + "/rootfs",
                                       s.layout().image_dir(p.garbage_image) + "/rootfs"};
    std::sort(expect.begin(), expect.end());  // verify-store walks images/ in name order
    CHECK(asked == expect);
    CHECK(snapshot_tree(dir.path()) == before);
    o.digest_rootfs = [](const std::string&) -> TreeDigest {
        throw Error(Errc::runtime, "no user namespace");
    };
    VerifyReport r = verify_store(s.layout(), o);
    CHECK(r.failures.size() == 2);
    CHECK(r.damaged_images.empty());  // failing to look is not a finding
}

TEST_CASE("verify-store reports broken name index entries, and gc removes them") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    const std::string names = s.layout().names_dir();
    REQUIRE(::symlink("/etc", (names + "/outside").c_str()) == 0);
    REQUIRE(::symlink(("../../" + std::string(64, 'a')).c_str(), (names + "/climbs").c_str()) == 0);
    REQUIRE(::symlink(std::string(64, 'd').c_str(), (names + "/ghost").c_str()) == 0);
    REQUIRE(::symlink("../metadata", (names + "/inside").c_str()) == 0);
    write_text(names + "/plain", p.a.str());
    REQUIRE(::symlink(p.a.str().c_str(), (names + "/bad name").c_str()) == 0);
    // Stale (the record lost the name, as a crash between the two writes leaves it): a hint
    // readers check, not damage.
    REQUIRE(::symlink(p.b.str().c_str(), (names + "/stale").c_str()) == 0);
    write_text(names + "/.tmp-123-x", "in flight");

    VerifyReport r = verify_store(s.layout());
    INFO(human_summary(r));
    std::map<std::string, std::string> found;
    for (const auto& f : r.failures) {
        CHECK(f.kind == "name");
        found[f.path.substr(names.size() + 1)] = f.reason;
    }
    REQUIRE(found.size() == 6);
    CHECK_THAT(found["outside"], Catch::Contains("points outside the store: /etc"));
    CHECK_THAT(found["climbs"], Catch::Contains("points outside the store"));
    CHECK_THAT(found["ghost"], Catch::Contains("does not exist"));
    CHECK_THAT(found["inside"], Catch::Contains("not an environment id: ../metadata"));
    CHECK_THAT(found["plain"], Catch::Contains("not a symlink"));
    CHECK_THAT(found["bad name"], Catch::Contains("not a valid environment name"));
    CHECK_THAT(found["ghost"], Catch::Contains("`karapace gc` removes it"));
    CHECK(r.names_checked == 8);
    CHECK(r.names_ok == 2);

    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    GcReport g = collect_garbage(s.layout(), lock, no_grace(false));
    CHECK(g.count("name") == 6);
    CHECK(entries(names) == std::vector<std::string>{"stale", "web"});
    CHECK(::access("/etc/passwd", F_OK) == 0);  // removing the link never touches its target
    CHECK(verify_store(s.layout()).ok());
    CHECK(s.metadata().find_by_name("web")->env_id == p.a);
}

TEST_CASE("gc dry run lists exactly what the real run removes, and the live set survives") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    auto before = snapshot_tree(dir.path());
    GcReport dry = collect_garbage(s.layout(), lock, no_grace(true));
    CHECK(snapshot_tree(dir.path()) == before);
    CHECK(dry.removed == 0);
    CHECK(dry.count("layer") == 1);
    CHECK(dry.count("object") == 2);  // the orphan and the unreferenced layer's tar
    CHECK(dry.count("unpacked-layer") == 1);
    CHECK(dry.count("image") == 1);
    CHECK(dry.count("staging") == 1);
    CHECK(dry.count("env") == 1);
    CHECK(dry.count("temp") == 1);
    CHECK(dry.bytes > 0);
    CHECK(human_summary(dry).find("would remove 8 item(s)") != std::string::npos);

    GcReport real = collect_garbage(s.layout(), lock, no_grace(false));
    CHECK(describe(real) == describe(dry));
    CHECK(real.bytes == dry.bytes);
    CHECK(real.removed == real.items.size());

    CHECK_FALSE(s.layers().exists(p.garbage_layer));
    CHECK_FALSE(s.objects().exists(p.garbage_object));
    CHECK_FALSE(exists(s.layout().unpacked_layer_dir(p.garbage_layer)));
    CHECK_FALSE(exists(s.layout().images_dir() + "/" + p.garbage_image.hex()));
    CHECK(entries(s.layout().staging_dir()).empty());
    CHECK_FALSE(exists(s.layout().envs_dir() + "/" + std::string(64, 'c')));
    for (const auto& d : {p.base, p.pkgs, p.snap, p.archived_layer}) {
        CHECK(s.layers().exists(d));
        CHECK(s.objects().exists(d));
    }
    CHECK(s.objects().exists(p.manifest));
    CHECK(exists(s.layout().unpacked_layer_dir(p.pkgs)));
    CHECK(exists(s.layout().images_dir() + "/" + p.image.hex()));
    CHECK(exists(s.layout().env_dir(p.a) + "/upper/etc/motd"));
    CHECK(verify_store(s.layout()).ok());
    CHECK(s.wal().list().empty());
    CHECK(collect_garbage(s.layout(), lock, no_grace(false)).items.empty());
}

TEST_CASE("gc refuses to run while a metadata record is unreadable, and removes nothing") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    flip_byte(s.layout().metadata_path(p.b), 10);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    auto before = snapshot_tree(dir.path());
    try {
        collect_garbage(s.layout(), lock, no_grace(false));
        FAIL("gc ran on an unreadable store");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find(s.layout().metadata_path(p.b)) != std::string::npos);
    }
    CHECK(snapshot_tree(dir.path()) == before);
}

TEST_CASE("gc keeps fresh garbage within the grace period and paths a live operation protects") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    GcOptions graced;
    graced.dry_run = true;
    CHECK(collect_garbage(s.layout(), lock, graced).items.empty());

    WalOp op = s.wal().begin("build");
    op.protect("objects/sha256/" + p.garbage_object.hex());
    op.protect("staging/build-123");
    GcReport r = collect_garbage(s.layout(), lock, no_grace(false));
    CHECK(s.objects().exists(p.garbage_object));
    CHECK(exists(s.layout().staging_dir() + "/build-123/upper/f"));
    CHECK(r.count("staging") == 0);
    op.commit();
    collect_garbage(s.layout(), lock, no_grace(false));
    CHECK_FALSE(s.objects().exists(p.garbage_object));
}

TEST_CASE("gc reports the young garbage it keeps: what, how many bytes, how old, which limit") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    GcOptions o;
    o.dry_run = true;
    GcReport r = collect_garbage(s.layout(), lock, o);
    CHECK(r.items.empty());
    CHECK(r.grace == default_gc_grace);
    CHECK(r.kept.size() == 8);
    std::uint64_t sum = 0;
    for (const auto& k : r.kept) {
        sum += k.bytes;
        CHECK(k.age < 60);
    }
    CHECK(r.kept_bytes == sum);
    CHECK(r.kept_bytes > 0);
    CHECK(human_summary(r).find("kept 8 item(s)") != std::string::npos);
    CHECK(human_summary(r).find("grace period of 15m") != std::string::npos);
    auto j = to_json(r);
    CHECK(j.at("kept").as_array().size() == 8);
    CHECK(j.at("grace_seconds").as_int64() == 900);

    GcReport none = collect_garbage(s.layout(), lock, no_grace(true));
    CHECK(none.kept.empty());
    CHECK(none.items.size() == 8);
}

namespace {

// From time(2), the clock gc reads: CLOCK_REALTIME's second can be a tick ahead of it, which made
// an hour 3599 seconds.
void age_by(const std::string& path, std::chrono::seconds by) {
    struct timespec times[2];
    times[0].tv_sec = ::time(nullptr) - by.count();
    times[0].tv_nsec = 0;
    times[1] = times[0];
    REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW) == 0);
}

GcOptions short_grace() {
    GcOptions o;
    o.dry_run = true;
    o.grace = std::chrono::seconds(0);
    return o;
}

}  // namespace

TEST_CASE("a short grace period yields to another operation at work in the store") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    const std::string staging = s.layout().staging_dir() + "/build-123";

    // A young staging directory: a build (pull, commit...) works there now.
    GcReport r = collect_garbage(s.layout(), lock, short_grace());
    REQUIRE(r.in_flight.size() == 1);
    CHECK_THAT(r.in_flight[0], Catch::StartsWith("work directory staging/build-123, "));
    CHECK(r.grace == default_gc_grace);
    CHECK(r.items.empty());
    CHECK(r.kept.size() == 8);

    // Left by a crash long ago: no sign of work, the short grace applies.
    age_by(staging, std::chrono::hours(1));
    r = collect_garbage(s.layout(), lock, short_grace());
    CHECK(r.in_flight.empty());
    CHECK(r.grace == std::chrono::seconds(0));
    CHECK(r.items.size() == 8);
    CHECK(r.kept.empty());

    // An image being unpacked into the cache.
    make_dirs(s.layout().images_dir() + "/.tmp-abc-123/rootfs");
    r = collect_garbage(s.layout(), lock, short_grace());
    REQUIRE(r.in_flight.size() == 1);
    CHECK_THAT(r.in_flight[0], Catch::Contains("images/.tmp-abc-123"));
    age_by(s.layout().images_dir() + "/.tmp-abc-123", std::chrono::hours(1));

    // An image fetch holds its lock.
    const std::string lock_file = s.layout().images_dir() + "/locks/abc.lock";
    make_dirs(s.layout().images_dir() + "/locks");
    write_text(lock_file, "");
    {
        UniqueFd held(::open(lock_file.c_str(), O_RDWR | O_CLOEXEC));
        REQUIRE(::flock(held.get(), LOCK_EX) == 0);
        r = collect_garbage(s.layout(), lock, short_grace());
        REQUIRE(r.in_flight.size() == 1);
        CHECK(r.in_flight[0] == "image fetch holding images/locks/abc.lock");
        CHECK(r.kept.size() == 7);  // what is older than the default grace may go
        for (const auto& i : r.items)
            CHECK(i.age >= 3600);
    }
    CHECK(collect_garbage(s.layout(), lock, short_grace()).in_flight.empty());

    // An operation between its WAL entry and its commit, in a live process.
    {
        WalOp op = s.wal().begin("pull");
        r = collect_garbage(s.layout(), lock, short_grace());
        REQUIRE(r.in_flight.size() == 1);
        CHECK_THAT(r.in_flight[0],
                   Catch::StartsWith("pull of pid " + std::to_string(::getpid()) + " (WAL entry"));
        op.commit();
    }

    // Nothing at work: the short grace removes it all.
    GcOptions now = short_grace();
    now.dry_run = false;
    r = collect_garbage(s.layout(), lock, now);
    CHECK(r.in_flight.empty());
    CHECK(r.kept.empty());
    CHECK_FALSE(s.objects().exists(p.garbage_object));
    CHECK(verify_store(s.layout()).ok());
}

TEST_CASE("gc stops cleanly when cancelled") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    std::atomic<bool> cancel{false};
    GcOptions o = no_grace(false);
    o.cancel = &cancel;
    o.remover = [&](const std::string& path) {
        remove_tree(path);
        cancel = true;  // like a SIGINT arriving during the first removal
    };
    GcReport r = collect_garbage(s.layout(), lock, o);
    CHECK(r.cancelled);
    CHECK(r.removed == 1);
    CHECK(r.items.size() == 1);
    CHECK(s.wal().list().empty());
    CHECK(verify_store(s.layout()).ok());
    GcReport rest = collect_garbage(s.layout(), lock, no_grace(false));
    CHECK_FALSE(rest.cancelled);
    CHECK(rest.items.size() == 7);
}

TEST_CASE("gc needs the exclusive lock") {
    TempDir dir;
    Store s = Store::open(dir.path());
    auto lock = StoreLock::acquire(s.layout(), LockMode::shared);
    CHECK_THROWS_AS(collect_garbage(s.layout(), lock, no_grace(true)), Error);
}

namespace {

// A store as the earlier (format 2) Karapace left it.
void make_format2_store(const std::string& root) {
    make_dirs(root + "/store/objects");
    make_dirs(root + "/store/layers");
    make_dirs(root + "/store/metadata");
    make_dirs(root + "/env/" + std::string(64, '1') + "/upper");
    make_dirs(root + "/images/debian-bookworm/rootfs");
    write_text(root + "/store/version", "{\n  \"format_version\": 2\n}");
    write_text(root + "/store/objects/" + std::string(64, 'e'), "object one");
    write_text(root + "/store/objects/" + std::string(64, 'f'), "object two!");
    write_text(root + "/store/objects/.tmp123", "ignored");
    write_text(root + "/store/layers/" + std::string(64, '9'), "{\"hash\": \"x\"}");
    write_text(root + "/store/metadata/" + std::string(64, '1'),
               "{\n  \"env_id\": \"" + std::string(64, '1') +
                   "\",\n  \"short_id\": \"111111111111\",\n  \"name\": \"dev\",\n  \"state\": "
                   "\"Built\"\n}");
    write_text(root + "/store/metadata/" + std::string(64, '2'), "{not json");
}

}  // namespace

TEST_CASE("migrate recognises a format 2 store, reports it, and changes nothing") {
    TempDir dir;
    make_format2_store(dir.path());
    auto before = snapshot_tree(dir.path());
    MigrateReport r = migrate_store(dir.path());
    CHECK(snapshot_tree(dir.path()) == before);
    CHECK(r.status == "legacy");
    CHECK(r.found_version == 2);
    CHECK(r.objects == 2);
    CHECK(r.object_bytes == 21);
    CHECK(r.layers == 1);
    REQUIRE(r.environments.size() == 2);
    CHECK(r.environments[0].name == "dev");
    CHECK(r.environments[0].state == "Built");
    CHECK(r.environments[0].error.empty());
    CHECK_FALSE(r.environments[1].error.empty());
    CHECK(r.images == std::vector<std::string>{"debian-bookworm"});
    CHECK(!r.advice.empty());
    CHECK(to_json(r).at("status").as_string() == "legacy");
    CHECK(human_summary(r).find("dev") != std::string::npos);
    try {
        Store::open(dir.path());
        FAIL("format 2 store opened");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(e.hint().find("karapace migrate") != std::string::npos);
    }
}

TEST_CASE("migrate --apply moves the old store aside and starts a store of the current format") {
    TempDir dir;
    make_format2_store(dir.path());
    MigrateOptions o;
    o.apply = true;
    MigrateReport r = migrate_store(dir.path(), o);
    CHECK(r.status == "migrated");
    REQUIRE(!r.backup_path.empty());
    CHECK(read_file(r.backup_path + "/store/objects/" + std::string(64, 'e')) == "object one");
    CHECK(exists(r.backup_path + "/images/debian-bookworm/rootfs"));
    CHECK(read_format_version(Layout(dir.path())) == format_version);
    CHECK_NOTHROW(Store::open(dir.path(), OpenMode::existing));
    CHECK(migrate_store(dir.path()).status == "current");
}

TEST_CASE("migrate on a missing store or a newer one says so") {
    TempDir dir;
    CHECK(migrate_store(dir / "none").status == "none");
    Store::open(dir / "new");
    write_text(dir / "new/store/version", "{\"format_version\": 99}");
    CHECK(migrate_store(dir / "new").status == "newer");
}

namespace {

// Cancels once `after` items are done, like a D-Bus Cancel() arriving mid-run.
struct CancellingSink : ProgressSink {
    std::uint64_t after;
    std::uint64_t done = 0;
    std::uint64_t total = 0;
    explicit CancellingSink(std::uint64_t n) : after(n) {}
    void step(std::string_view, std::uint64_t t, ProgressUnit) override { total = t; }
    void advance(std::uint64_t d) override { done = d; }
    void finish(bool) override {}
    bool cancelled() const override { return done >= after; }
};

}  // namespace

TEST_CASE("gc reports progress and honours a progress sink's cancellation") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Populated p(s);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    CancellingSink sink(3);
    GcOptions o = no_grace(false);
    o.progress = &sink;
    GcReport r = collect_garbage(s.layout(), lock, o);
    CHECK(sink.total == 8);
    CHECK(r.cancelled);
    CHECK(r.removed == 3);
    CHECK(verify_store(s.layout()).ok());
}
