#include <catch2/catch.hpp>

#include "karapace/store/lock.hpp"
#include "karapace/store/sessions.hpp"
#include "karapace/store/store.hpp"
#include "karapace/store/wal.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "store/record.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using karapace::store::test::run_child;
using karapace::store::test::TempDir;

namespace {
EnvId env(char c) { return EnvId::parse(std::string(64, c)); }
}  // namespace

TEST_CASE("a committed WAL operation leaves no entry") {
    TempDir dir;
    Store s = Store::open(dir.path());
    {
        WalOp op = s.wal().begin("build", env('a').str());
        op.add_step(RemoveTree{"staging/build-a"});
        CHECK(s.wal().list().size() == 1);
        op.commit();
    }
    CHECK(s.wal().list().empty());
}

TEST_CASE("a WAL operation dropped without commit rolls itself back") {
    TempDir dir;
    Store s = Store::open(dir.path());
    make_dirs(dir / "staging/work/sub");
    {
        WalOp op = s.wal().begin("build");
        op.add_step(RemoveTree{"staging/work"});
    }
    CHECK(::access((dir / "staging/work").c_str(), F_OK) != 0);
    CHECK(s.wal().list().empty());
}

TEST_CASE("recovery rolls back entries of dead owners in reverse order and keeps live ones") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata m = make_metadata(env('a'));
    m.state = EnvState::built;
    s.metadata().put(m);
    // A process that dies mid-operation: it made a dir, moved env dir aside, changed state.
    int rc = run_child([&] {
        WalOp op = s.wal().begin("restore", env('a').str());
        make_dirs(dir / "env/aaaa-new");
        op.add_step(RemoveTree{"env/aaaa-new"});
        make_dirs(dir / "env/old");
        op.add_step(RenameBack{"env/old", "staging/old"});
        ::rename((dir / "env/old").c_str(), (dir / "staging/old").c_str());
        op.add_step(ResetState{env('a').str(), EnvState::built});
        s.metadata().set_state(env('a'), EnvState::frozen);
        ::_exit(0);  // dies without commit or rollback
        return 0;
    });
    REQUIRE(rc == 0);
    WalOp mine = s.wal().begin("exec");  // owned by this live process
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    RecoveryReport r = s.wal().recover(lock);
    CHECK(r.rolled_back == 1);
    CHECK(r.live == 1);
    CHECK(r.failures.empty());
    CHECK(::access((dir / "env/aaaa-new").c_str(), F_OK) != 0);
    CHECK(::access((dir / "env/old").c_str(), F_OK) == 0);
    CHECK(::access((dir / "staging/old").c_str(), F_OK) != 0);
    CHECK(s.metadata().get(env('a')).state == EnvState::built);
    CHECK(s.wal().list().size() == 1);
    mine.commit();
}

TEST_CASE("recovery needs the exclusive lock") {
    TempDir dir;
    Store s = Store::open(dir.path());
    auto shared = StoreLock::acquire(s.layout(), LockMode::shared);
    CHECK_THROWS_AS(s.wal().recover(shared), Error);
}

TEST_CASE("rollback steps outside the store are refused when added and when recovered") {
    TempDir dir;
    TempDir outside;
    karapace::store::test::write_text(outside / "victim", "keep me");
    Store s = Store::open(dir.path());
    WalOp op = s.wal().begin("build");
    CHECK_THROWS_AS(op.add_step(RemoveFile{outside / "victim"}), Error);
    CHECK_THROWS_AS(op.add_step(RemoveTree{"../" + outside.path()}), Error);
    op.commit();
    // A hand-edited entry with a hostile path: recovery reports it and does not touch the file.
    int rc = run_child([&] {
        WalOp w = s.wal().begin("evil");
        w.add_step(RemoveFile{"staging/x"});
        ::_exit(0);
        return 0;
    });
    REQUIRE(rc == 0);
    auto listed = s.wal().list();
    REQUIRE(listed.size() == 1);
    std::string text = read_file(listed[0].path);
    auto pos = text.find("staging/x");
    REQUIRE(pos != std::string::npos);
    text.replace(pos, 9, outside / "victim");
    karapace::store::test::write_text(listed[0].path, text);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    RecoveryReport r = s.wal().recover(lock);
    // The checksum no longer matches: the entry is reported corrupt and kept, nothing executed.
    CHECK(r.corrupt.size() == 1);
    CHECK(r.rolled_back == 0);
    CHECK(read_file(outside / "victim") == "keep me");
    CHECK(s.wal().list().size() == 1);
    // Sealed again with a valid checksum: recovery runs it, refuses the step, reports it.
    auto v = json::parse(read_file(listed[0].path), "wal");
    karapace::store::test::write_text(listed[0].path, seal_record(v.as_object()));
    r = s.wal().recover(lock);
    CHECK(r.corrupt.empty());
    CHECK(r.rolled_back == 0);
    REQUIRE(r.failures.size() == 1);
    CHECK(r.failures[0].find("not inside the store") != std::string::npos);
    CHECK(read_file(outside / "victim") == "keep me");
    CHECK(s.wal().list().size() == 1);  // kept for a later retry, not silently dropped
}

TEST_CASE("session records tell live processes from dead ones") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvId id = env('a');
    register_session(s.layout(), id);
    int rc = run_child([&] {
        register_session(s.layout(), id);
        return 0;
    });
    REQUIRE(rc == 0);
    auto all = list_sessions(s.layout(), id);
    REQUIRE(all.size() == 2);
    auto live = live_sessions(s.layout(), id);
    REQUIRE(live.size() == 1);
    CHECK(live[0].pid == ::getpid());
    CHECK(prune_stale_sessions(s.layout(), id) == 1);
    CHECK(list_sessions(s.layout(), id).size() == 1);
    unregister_session(s.layout(), id, ::getpid());
    CHECK(list_sessions(s.layout(), id).empty());
}

TEST_CASE("recovery of an interrupted build removes the name index entry its record never got") {
    TempDir dir;
    Store s = Store::open(dir.path());
    EnvMetadata kept = make_metadata(env('a'));
    kept.name = "kept";
    kept.state = EnvState::built;
    s.metadata().put(kept);
    int rc = run_child([&] {
        WalOp op = s.wal().begin("build", env('b').str());
        op.add_step(RemoveFile{"metadata/" + env('b').str() + ".json"});
        // MetadataStore::put links the name before it writes the record; the process dies between.
        ::symlink(env('b').str().c_str(), (dir / "names/fresh").c_str());
        ::_exit(0);
        return 0;
    });
    REQUIRE(rc == 0);
    REQUIRE(s.metadata().name_index_problems().size() == 1);
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    RecoveryReport r = s.wal().recover(lock);
    CHECK(r.rolled_back == 1);
    CHECK(r.names_pruned == 1);
    CHECK(::access((dir / "names/fresh").c_str(), F_OK) != 0);
    CHECK(s.metadata().lookup_name("kept") == env('a'));
    CHECK(s.metadata().name_index_problems().empty());
}
