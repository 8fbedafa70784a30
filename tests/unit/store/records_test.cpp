#include <catch2/catch.hpp>

#include <unistd.h>

#include "karapace/store/layers.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/store/store.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "store/record.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using karapace::store::test::TempDir;

namespace {

EnvId env(char c) { return EnvId::parse(std::string(64, c)); }

Layer sample_layer(const Store& s, const std::string& content) {
    Layer l;
    l.digest = s.objects().put(content);
    l.kind = LayerKind::packages;
    l.size = content.size();
    l.created = "2026-11-28T19:00:00Z";
    l.file_count = 3;
    return l;
}

}  // namespace

TEST_CASE("a layer record round-trips with its checksum") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Layer base = sample_layer(s, "base tar");
    base.kind = LayerKind::base;
    s.layers().put(base);
    Layer l = sample_layer(s, "pkg tar");
    l.parent = base.digest;
    s.layers().put(l);
    Layer back = s.layers().get(l.digest);
    CHECK(back.digest == l.digest);
    CHECK(back.kind == LayerKind::packages);
    CHECK(back.parent == base.digest);
    CHECK(back.size == l.size);
    CHECK(back.file_count == 3);
    CHECK(s.layers().list().size() == 2);
    auto text = read_file(s.layout().layer_path(l.digest));
    CHECK(text.find("\"checksum\"") != std::string::npos);
    CHECK(to_json(back).at("kind").as_string() == "packages");
}

TEST_CASE("a layer stored once records it with its clamp; a record without the field is a tar") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Layer tar = sample_layer(s, "pkg tar");
    s.layers().put(tar);
    auto old_text = read_file(s.layout().layer_path(tar.digest));
    CHECK(old_text.find("\"stored\"") == std::string::npos);  // the form older versions wrote
    CHECK(s.layers().get(tar.digest).stored == LayerStorage::object);

    Layer once = sample_layer(s, "another tar");
    once.stored = LayerStorage::unpacked;
    once.mtime_clamp = 1700000000;
    s.layers().put(once);
    Layer back = s.layers().get(once.digest);
    CHECK(back.stored == LayerStorage::unpacked);
    CHECK(back.mtime_clamp == 1700000000);

    // replace() rewrites an intact record (put() keeps it): a layer becoming stored once.
    tar.stored = LayerStorage::unpacked;
    s.layers().put(tar);
    CHECK(s.layers().get(tar.digest).stored == LayerStorage::object);
    s.layers().replace(tar);
    CHECK(s.layers().get(tar.digest).stored == LayerStorage::unpacked);

    // A tar that must stay beside its tree says why.
    Layer kept = sample_layer(s, "a foreign tar");
    kept.tar_kept = "packing its unpacked tree again gives another digest";
    s.layers().put(kept);
    back = s.layers().get(kept.digest);
    CHECK(back.stored == LayerStorage::object);
    CHECK(back.tar_kept == kept.tar_kept);
}

TEST_CASE("an unknown layer storage makes the record corrupt") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Layer l = sample_layer(s, "pkg tar");
    auto o = to_json(l);
    o["stored"] = "elsewhere";
    o["mtime_clamp"] = 0;
    write_file_atomic(s.layout().layer_path(l.digest), seal_record(o), 0644);
    CHECK_THROWS_WITH(s.layers().get(l.digest), Catch::Contains("unknown layer storage"));
}

TEST_CASE("an edited layer record fails its checksum and names the file") {
    TempDir dir;
    Store s = Store::open(dir.path());
    Layer l = sample_layer(s, "tar");
    s.layers().put(l);
    std::string path = s.layout().layer_path(l.digest);
    std::string text = read_file(path);
    auto pos = text.find("\"file_count\": 3");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 15, "\"file_count\": 4");
    karapace::store::test::write_text(path, text);
    try {
        s.layers().get(l.digest);
        FAIL("edited layer accepted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    // put() replaces a damaged record with a good one.
    s.layers().put(l);
    CHECK(s.layers().get(l.digest).file_count == 3);
}

TEST_CASE("a metadata record round-trips every field") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata m = make_metadata(env('a'));
    m.name = "web";
    m.state = EnvState::built;
    m.manifest_object = s.objects().put("manifest");
    m.lock_digest = sha256("lock");
    m.layers = {sha256("l1"), sha256("l2")};
    m.snapshots = {sha256("s1")};
    m.base_image_ref = "https://example.org/rootfs.tar.xz#sha256=00";
    m.base_image_digest = sha256("image");
    m.manifest_dir = "/home/u/project";
    s.metadata().put(m);
    EnvMetadata back = s.metadata().get(env('a'));
    CHECK(back.env_id == m.env_id);
    CHECK(back.short_id() == std::string(12, 'a'));
    CHECK(back.name == m.name);
    CHECK(back.state == EnvState::built);
    CHECK(back.manifest_object == m.manifest_object);
    CHECK(back.lock_digest == m.lock_digest);
    CHECK(back.layers == m.layers);
    CHECK(back.snapshots == m.snapshots);
    CHECK(back.base_image_ref == m.base_image_ref);
    CHECK(back.base_image_digest == m.base_image_digest);
    CHECK(back.manifest_dir == m.manifest_dir);
    CHECK(back.created == m.created);
    CHECK(!back.updated.empty());
    CHECK_FALSE(back.run.has_value());
}

TEST_CASE("run settings round-trip in the metadata record, and a record without them reads") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata m = make_metadata(env('a'));
    RunSettings run;
    run.network_isolation = true;
    run.audio = true;
    run.mounts = {schema::parse_mount_spec("data", "./data:/data:ro"),
                  schema::parse_mount_spec("src", "~/src:/src")};
    run.cpu_shares = 512;
    run.memory_limit_mb = 2048;
    m.run = run;
    s.metadata().put(m);
    CHECK(s.metadata().get(env('a')).run == run);

    // Written before run settings existed: no "run" key at all.
    auto o = to_json(s.metadata().get(env('a')));
    o.erase("run");
    o.erase("checksum");
    auto path = s.layout().metadata_path(env('a'));
    o["checksum"] = sha256(json::compact(o)).str();
    karapace::store::test::write_text(path, json::pretty(o));
    CHECK_FALSE(s.metadata().get(env('a')).run.has_value());
}

TEST_CASE("[env] and on_enter hooks round-trip in the record; a record without them has none") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata m = make_metadata(env('a'));
    s.metadata().put(m);
    CHECK_FALSE(to_json(s.metadata().get(env('a'))).contains("session"));
    CHECK(s.metadata().get(env('a')).session.empty());

    m.session.env = {{"EDITOR", "vim"}, {"PATH", "$HOME/bin:$PATH"}};
    m.session.on_enter = {"echo one", "echo two"};
    s.metadata().put(m);
    CHECK(s.metadata().get(env('a')).session == m.session);

    // A variable the sandbox owns cannot come in through an edited record either.
    auto o = to_json(s.metadata().get(env('a')));
    o["session"].as_object()["env"].as_object()["HOME"] = "/elsewhere";
    o.erase("checksum");
    auto path = s.layout().metadata_path(env('a'));
    o["checksum"] = sha256(json::compact(o)).str();
    karapace::store::test::write_text(path, json::pretty(o));
    CHECK_THROWS_WITH(s.metadata().get(env('a')),
                      Catch::Contains("session variable HOME: HOME is set by the sandbox"));
}

TEST_CASE("a run mount that is not a valid spec makes the record corrupt") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata m = make_metadata(env('a'));
    m.run = RunSettings{};
    s.metadata().put(m);
    auto o = to_json(s.metadata().get(env('a')));
    o["run"].as_object()["mounts"] =
        boost::json::array{boost::json::object{{"label", "x"}, {"spec", "/srv:relative"}}};
    o["checksum"] = sha256(json::compact(o)).str();
    karapace::store::test::write_text(s.layout().metadata_path(env('a')), json::pretty(o));
    try {
        s.metadata().get(env('a'));
        FAIL("bad mount accepted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::store);
    }
}

TEST_CASE("the name index follows names through put, rename and remove") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata a = make_metadata(env('a'));
    a.name = "web";
    s.metadata().put(a);
    CHECK(s.metadata().lookup_name("web") == env('a'));
    s.metadata().rename(env('a'), std::string("api"));
    CHECK_FALSE(s.metadata().lookup_name("web").has_value());
    CHECK(s.metadata().lookup_name("api") == env('a'));
    // The name freed by a goes to b: a's later changes leave b's entry alone.
    EnvMetadata b = make_metadata(env('b'));
    b.name = "web";
    s.metadata().put(b);
    s.metadata().set_state(env('a'), EnvState::frozen);
    CHECK(s.metadata().lookup_name("web") == env('b'));
    s.metadata().remove(env('a'));
    CHECK_FALSE(s.metadata().lookup_name("api").has_value());
    CHECK(s.metadata().find_by_name("web")->env_id == env('b'));
}

TEST_CASE("a stale or missing name index entry never gives a wrong answer") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata a = make_metadata(env('a'));
    a.name = "web";
    s.metadata().put(a);
    s.metadata().put(make_metadata(env('b')));
    // An entry left pointing at a record without the name (a crash between the two writes).
    std::string entry = s.layout().name_path("web");
    REQUIRE(::unlink(entry.c_str()) == 0);
    REQUIRE(::symlink(env('b').str().c_str(), entry.c_str()) == 0);
    CHECK(s.metadata().find_by_name("web")->env_id == env('a'));
    // No entry at all (a store written before the index): the records are read.
    REQUIRE(::unlink(entry.c_str()) == 0);
    CHECK(s.metadata().find_by_name("web")->env_id == env('a'));
    CHECK_FALSE(s.metadata().find_by_name("db").has_value());
}

TEST_CASE("environment names are validated") {
    CHECK(valid_env_name("web-1_dev"));
    CHECK(valid_env_name(std::string(64, 'n')));
    CHECK_FALSE(valid_env_name(std::string(65, 'n')));
    CHECK_FALSE(valid_env_name(""));
    CHECK_FALSE(valid_env_name("a b"));
    CHECK_FALSE(valid_env_name("a/b"));
    CHECK_FALSE(valid_env_name("a.b"));
    CHECK_THROWS_AS(validate_env_name("a.b"), Error);
}

TEST_CASE("a new name that a reference would read as an id is refused with the reason") {
    // References try names before id prefixes: such a name would take over an id.
    for (const std::string& name :
         std::vector<std::string>{"cafe", "CAFE", "0042", "DeadBeef12", std::string(64, 'a')}) {
        INFO(name);
        try {
            validate_env_name(name);
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.code() == Errc::usage);
            CHECK(std::string(e.what()).find("could be read as an environment id") !=
                  std::string::npos);
            CHECK(e.hint().find("'" + name + "-env'") != std::string::npos);
        }
    }
    for (const char* name : {"abc", "cafe-1", "face_", "coffee", "web", "0x42", "g000"})
        CHECK_NOTHROW(validate_env_name(name));
}

TEST_CASE("a record named like an id before that rule stays readable and writable") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata m = make_metadata(env('a'));
    m.name = "cafe";
    s.metadata().put(m);
    CHECK(s.metadata().get(env('a')).name == "cafe");
    CHECK(s.metadata().find_by_name("cafe")->env_id == env('a'));
    s.metadata().set_state(env('a'), EnvState::built);
    CHECK(s.metadata().get(env('a')).state == EnvState::built);
}

TEST_CASE("names are unique across environments; renaming to one's own name is fine") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata a = make_metadata(env('a'));
    a.name = "web";
    s.metadata().put(a);
    s.metadata().put(make_metadata(env('b')));
    try {
        s.metadata().rename(env('b'), std::string("web"));
        FAIL("duplicate name accepted");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::conflict);
        CHECK(std::string(e.what()).find("aaaaaaaaaaaa") != std::string::npos);
    }
    CHECK_NOTHROW(s.metadata().rename(env('a'), std::string("web")));
    CHECK(s.metadata().rename(env('b'), std::string("db")).name == "db");
    CHECK(s.metadata().find_by_name("db")->env_id == env('b'));
    CHECK_FALSE(s.metadata().rename(env('b'), std::nullopt).name.has_value());
    CHECK_FALSE(s.metadata().find_by_name("db").has_value());
    CHECK_THROWS_AS(s.metadata().rename(env('b'), std::string("no way")), Error);
}

TEST_CASE("a corrupt metadata record is listed as an error with its path, never skipped") {
    TempDir dir;
    Store s = Store::open(dir.path());
    s.metadata().put(make_metadata(env('a')));
    s.metadata().put(make_metadata(env('b')));
    karapace::store::test::flip_byte(s.layout().metadata_path(env('b')), 20);
    auto list = s.metadata().list();
    REQUIRE(list.size() == 2);
    CHECK(list[0].ok());
    CHECK_FALSE(list[1].ok());
    CHECK(list[1].error.find(s.layout().metadata_path(env('b'))) != std::string::npos);
    CHECK_THROWS_AS(s.metadata().list_all_or_throw(), Error);
    CHECK_THROWS_AS(s.metadata().get(env('b')), Error);
    // A record without checksum is refused too (no legacy bypass).
    auto o = to_json(s.metadata().get(env('a')));
    karapace::store::test::write_text(s.layout().metadata_path(env('a')), json::pretty(o));
    CHECK_THROWS_AS(s.metadata().get(env('a')), Error);
}

TEST_CASE("a metadata file renamed to another id is detected") {
    TempDir dir;
    Store s = Store::open(dir.path());
    s.metadata().put(make_metadata(env('a')));
    ::rename(s.layout().metadata_path(env('a')).c_str(),
             s.layout().metadata_path(env('c')).c_str());
    CHECK_THROWS_AS(s.metadata().get(env('c')), Error);
    try {
        s.metadata().get(env('a'));
        FAIL("missing record found");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::not_found);
    }
}

TEST_CASE("state changes persist") {
    TempDir dir;
    Store s = Store::open(dir.path());
    s.metadata().put(make_metadata(env('a')));
    s.metadata().set_state(env('a'), EnvState::archived);
    CHECK(s.metadata().get(env('a')).state == EnvState::archived);
    CHECK(env_state_name(EnvState::frozen) == "frozen");
    CHECK(parse_env_state("built") == EnvState::built);
    CHECK_THROWS_AS(parse_env_state("running"), Error);
}
