// The ListEnvironments cache with a fake store and a fake change source (what is read again
// when, and what is never trusted), and the inotify watch on a real directory tree.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "env_list_cache.hpp"
#include "karapace/util/error.hpp"
#include "store_watch.hpp"

using namespace karapace;
using namespace karapace::dbus;

namespace {

std::string id_of(char c) { return std::string(64, c); }
std::uint64_t stamp_of(char c, int n) { return static_cast<std::uint64_t>(c) * 10 + n; }

struct FakeRecords : RecordSource {
    struct Record {
        std::string name;
        std::size_t sessions = 0;
        bool damaged = false;
    };
    std::map<std::string, Record> records;  // by env id
    std::set<std::string> strays;           // other files in the metadata directory
    std::map<std::string, int> loads;
    // What stamp() says of each record (none: it cannot say); `unsettled` ones changed just now.
    // A stamp here is a record's inode number: another number, another file.
    std::map<std::string, std::uint64_t> stamps;
    std::set<std::string> unsettled;

    std::vector<std::string> record_files() override {
        std::vector<std::string> out;
        for (const auto& [id, r] : records)
            out.push_back(id + ".json");
        out.insert(out.end(), strays.begin(), strays.end());
        std::sort(out.begin(), out.end());
        return out;
    }
    std::string record_path(const std::string& file) override { return "/store/metadata/" + file; }
    std::optional<core::EnvSummary> load(const std::string& env_id) override {
        ++loads[env_id];
        auto it = records.find(env_id);
        if (it == records.end()) return std::nullopt;
        if (it->second.damaged) throw Error(Errc::store, "corrupt record " + env_id);
        core::EnvSummary s;
        s.env_id = env_id;
        s.name = it->second.name;
        s.sessions = it->second.sessions;
        s.state = s.sessions ? "running" : "built";
        return s;
    }
    std::optional<RecordStamp> stamp(const std::string& env_id) override {
        auto it = stamps.find(env_id);
        if (it == stamps.end()) return std::nullopt;
        FileStamp record;
        record.ino = it->second;
        record.present = true;
        return RecordStamp{record, FileStamp{}, !unsettled.contains(env_id)};
    }
    int total_loads() const {
        int n = 0;
        for (const auto& [id, count] : loads)
            n += count;
        return n;
    }
};

struct FakeChanges : ChangeSource {
    bool store_ok = true;
    int store_watches = 0;
    std::set<std::string> refused, watched;
    StoreChanges next;

    bool watch_store() override {
        ++store_watches;
        return store_ok;
    }
    bool watch_env(const std::string& env_id) override {
        if (refused.contains(env_id)) return false;
        watched.insert(env_id);
        return true;
    }
    void unwatch_env(const std::string& env_id) override { watched.erase(env_id); }
    StoreChanges take() override { return std::exchange(next, {}); }
};

struct FakeKept : KeptSummaries {
    std::map<std::string, KeptSummary> kept;
    int saves = 0;
    std::map<std::string, KeptSummary> load() override { return kept; }
    void save(const std::map<std::string, KeptSummary>& summaries) override {
        kept = summaries;
        ++saves;
    }
};

// A store whose summaries outlive the cache, for the tests of kept summaries.
struct KeptFixture {
    FakeRecords records;
    FakeChanges changes;
    FakeKept kept;
    // One run of the service: a cache's first list, then its end.
    std::vector<core::EnvSummary> run() { return *EnvListCache(changes, records, &kept).list(); }
    // An environment whose record stat() describes as inode <c>1.
    void add(char c, std::string name, std::size_t sessions = 0) {
        records.records[id_of(c)] = {std::move(name), sessions};
        records.stamps[id_of(c)] = stamp_of(c, 1);
    }
};

std::vector<std::string> names(const std::vector<core::EnvSummary>& list) {
    std::vector<std::string> out;
    for (const auto& s : list)
        out.push_back(s.name);
    return out;
}

std::vector<std::string> names(const EnvListCache::Summaries& list) { return names(*list); }

struct Fixture {
    FakeRecords records;
    FakeChanges changes;
    EnvListCache cache{changes, records};
    Fixture() {
        records.records[id_of('a')] = {"alpha"};
        records.records[id_of('b')] = {"beta"};
        records.records[id_of('c')] = {"gamma"};
    }
};

}  // namespace

TEST_CASE("the first list reads every record and a second with nothing changed reads none") {
    Fixture f;
    CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "beta", "gamma"});
    CHECK(f.records.total_loads() == 3);
    CHECK(f.changes.watched == std::set<std::string>{id_of('a'), id_of('b'), id_of('c')});
    CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "beta", "gamma"});
    CHECK(f.records.total_loads() == 3);
}

TEST_CASE("a change the watch reports reads that record again, and only that one") {
    Fixture f;
    f.cache.list();
    f.records.records[id_of('b')].name = "renamed";
    f.records.records[id_of('d')] = {"delta"};
    f.records.records.erase(id_of('c'));
    f.changes.next.envs = {id_of('b'), id_of('c'), id_of('d')};
    CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "renamed", "delta"});
    CHECK(f.records.loads[id_of('a')] == 1);
    CHECK(f.records.loads[id_of('b')] == 2);
    CHECK_FALSE(f.changes.watched.contains(id_of('c')));  // gone: its watch too
    CHECK(f.changes.watched.contains(id_of('d')));
}

TEST_CASE("a change nothing reported stays unseen: the cache really answers from memory") {
    // The counterpart of the tests below: without a report, the old answer stands.
    Fixture f;
    f.cache.list();
    f.records.records[id_of('a')].name = "changed";
    CHECK(names(f.cache.list())[0] == "alpha");
}

TEST_CASE("lost events (a queue overflow) read every record again") {
    Fixture f;
    f.cache.list();
    f.records.records[id_of('a')].name = "changed";
    f.changes.next.everything = true;
    CHECK(names(f.cache.list())[0] == "changed");
    CHECK(f.records.total_loads() == 6);
    CHECK(f.changes.store_watches == 1);
}

TEST_CASE("a store replaced is watched again and read in full") {
    Fixture f;
    f.cache.list();
    f.records.records[id_of('a')].name = "changed";
    f.changes.next.store_lost = true;
    CHECK(names(f.cache.list())[0] == "changed");
    CHECK(f.changes.store_watches == 2);
    CHECK(f.records.total_loads() == 6);
}

TEST_CASE("a store that cannot be watched is read in full on every call") {
    Fixture f;
    f.changes.store_ok = false;
    f.cache.list();
    f.records.records[id_of('a')].name = "changed";
    CHECK(names(f.cache.list())[0] == "changed");
    CHECK(f.records.total_loads() == 6);
    CHECK(f.changes.watched.empty());
    // Once a watch is possible again, answers come from memory.
    f.changes.store_ok = true;
    f.cache.list();
    f.cache.list();
    CHECK(f.records.total_loads() == 9);
}

TEST_CASE("an environment whose watch was refused (the watch limit) is read on every call") {
    Fixture f;
    f.changes.refused = {id_of('b')};
    f.cache.list();
    f.records.records[id_of('b')].name = "changed";
    CHECK(names(f.cache.list())[1] == "changed");
    CHECK(f.records.loads[id_of('b')] == 2);
    CHECK(f.records.loads[id_of('a')] == 1);
}

TEST_CASE("an environment with sessions is read on every call, as its processes may die unseen") {
    Fixture f;
    f.records.records[id_of('c')].sessions = 1;
    CHECK((*f.cache.list())[2].state == "running");
    f.records.records[id_of('c')].sessions = 0;
    CHECK((*f.cache.list())[2].state == "built");
    CHECK(f.records.loads[id_of('c')] == 2);
    f.cache.list();
    CHECK(f.records.loads[id_of('c')] == 2);  // not running: from memory again
}

TEST_CASE("the service's own changes are read again on the next call") {
    Fixture f;
    f.cache.list();
    f.records.records[id_of('a')].name = "one";
    f.cache.invalidate(id_of('a'));
    CHECK(names(f.cache.list())[0] == "one");
    CHECK(f.records.total_loads() == 4);
    f.records.records[id_of('c')].name = "two";
    f.cache.invalidate_all();
    CHECK(names(f.cache.list())[2] == "two");
    CHECK(f.records.total_loads() == 7);
}

TEST_CASE("a damaged record or a stray file is left out on every call and listed once readable") {
    Fixture f;
    f.records.records[id_of('b')].damaged = true;
    f.records.strays = {"notes.txt"};
    CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "gamma"});
    CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "gamma"});
    f.records.records[id_of('b')].damaged = false;
    f.changes.next.envs = {id_of('b')};
    CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "beta", "gamma"});
}

TEST_CASE("summaries kept by the last run are used where their record files are the same") {
    KeptFixture f;
    auto& records = f.records;
    auto& kept = f.kept;
    f.add('a', "alpha");
    f.add('b', "beta");
    f.add('c', "gamma", 1);  // a session: read on every call, never kept
    CHECK(names(f.run()) == std::vector<std::string>{"alpha", "beta", "gamma"});
    CHECK(kept.saves == 1);  // after the first full read; nothing changed after it
    CHECK(kept.kept.size() == 2);
    CHECK_FALSE(kept.kept.contains(id_of('c') + ".json"));

    // The next run: b's record was replaced (another stamp) and renamed, a's was not.
    records.loads.clear();
    records.records[id_of('b')].name = "renamed";
    records.stamps[id_of('b')] = stamp_of('b', 2);
    records.records[id_of('d')] = {"delta"};  // new, no stamp at all
    CHECK(names(f.run()) == std::vector<std::string>{"alpha", "renamed", "gamma", "delta"});
    CHECK(records.loads[id_of('a')] == 0);  // kept, and its files are the same
    CHECK(records.loads[id_of('b')] == 1);
    CHECK(records.loads[id_of('c')] == 1);
    CHECK(records.loads[id_of('d')] == 1);
}

TEST_CASE("a kept summary is not trusted where the record cannot be described or just changed") {
    KeptFixture f;
    f.add('a', "alpha");
    f.add('b', "beta");
    f.records.unsettled = {id_of('b')};
    f.run();
    // A record changed within the file system's clock tick is not kept at all.
    CHECK(f.kept.kept.size() == 1);
    CHECK(f.kept.kept.contains(id_of('a') + ".json"));

    // A changed record whose stamp came out the same would be missed: that is what the stamp
    // must rule out, so a record whose stamp cannot be taken is read.
    f.records.loads.clear();
    f.records.records[id_of('a')].name = "changed";
    f.records.stamps.erase(id_of('a'));
    CHECK(names(f.run())[0] == "changed");
    CHECK(f.records.loads[id_of('a')] == 1);
}

TEST_CASE("kept summaries are offered only to a watched store's first full read") {
    KeptFixture f;
    auto& records = f.records;
    f.add('a', "alpha");
    f.run();
    REQUIRE(f.kept.kept.size() == 1);
    records.loads.clear();
    f.changes.store_ok = false;
    EnvListCache unwatched(f.changes, records, &f.kept);
    unwatched.list();
    CHECK(records.loads[id_of('a')] == 1);
    f.changes.store_ok = true;
    unwatched.list();  // watched now: its first full read may use them
    CHECK(records.loads[id_of('a')] == 1);
}

TEST_CASE("a full read answers first and watches afterwards, checking the files again then") {
    KeptFixture f;
    f.add('a', "alpha");
    f.add('b', "beta");
    f.records.unsettled = {id_of('b')};  // changed just now: watched before it is read
    EnvListCache cache(f.changes, f.records, &f.kept);
    CHECK(names(cache.list()) == std::vector<std::string>{"alpha", "beta"});
    CHECK(f.changes.watched == std::set<std::string>{id_of('b')});

    SECTION("nothing changed in between: watched, and never read again") {
        cache.watch_unwatched();
        CHECK(f.changes.watched == std::set<std::string>{id_of('a'), id_of('b')});
        auto answer = cache.list();
        CHECK(names(answer) == std::vector<std::string>{"alpha", "beta"});
        CHECK(f.records.total_loads() == 2);
        CHECK(cache.list() == answer);  // the very same answer: nothing was read
    }
    SECTION("a change between the read and the watch is read on the next call") {
        f.records.records[id_of('a')].name = "changed";
        f.records.stamps[id_of('a')] = stamp_of('a', 2);
        cache.watch_unwatched();
        CHECK(names(cache.list()) == std::vector<std::string>{"changed", "beta"});
        CHECK(f.records.loads[id_of('a')] == 2);
        cache.list();  // watched since it was read again
        CHECK(f.records.loads[id_of('a')] == 2);
    }
    SECTION("a record that cannot be described any more is read on the next call") {
        f.records.stamps.erase(id_of('a'));
        cache.watch_unwatched();
        cache.list();
        CHECK(f.records.loads[id_of('a')] == 2);
    }
    SECTION("a call before watch_unwatched() checks the files, and reads only what changed") {
        auto answer = cache.list();
        CHECK(f.records.total_loads() == 2);
        CHECK(answer == cache.list());
        CHECK(f.changes.watched == std::set<std::string>{id_of('b')});
        f.records.records[id_of('a')].name = "changed";
        f.records.stamps[id_of('a')] = stamp_of('a', 2);
        CHECK(names(cache.list()) == std::vector<std::string>{"changed", "beta"});
        CHECK(f.records.loads[id_of('a')] == 2);
        CHECK(f.changes.watched == std::set<std::string>{id_of('a'), id_of('b')});
    }
    SECTION("a watch refused afterwards: read on every call") {
        f.changes.refused = {id_of('a')};
        cache.watch_unwatched();
        cache.list();
        cache.list();
        CHECK(f.records.loads[id_of('a')] == 3);
    }
}

TEST_CASE("the bus loop's answer without reading: only when nothing needs reading") {
    Fixture f;
    CHECK_FALSE(f.cache.list_if_current());  // nothing read yet
    auto answer = f.cache.list();
    auto current = f.cache.list_if_current();
    REQUIRE(current);
    CHECK(*current == answer);
    CHECK(f.records.total_loads() == 3);

    SECTION("a change the watch reports is left to list(), which reads it") {
        f.records.records[id_of('b')].name = "renamed";
        f.changes.next.envs = {id_of('b')};
        CHECK_FALSE(f.cache.list_if_current());
        CHECK(names(f.cache.list()) == std::vector<std::string>{"alpha", "renamed", "gamma"});
        CHECK(f.records.loads[id_of('b')] == 2);
        CHECK(f.cache.list_if_current());
    }
    SECTION("lost events and a replaced store are left to list(), which reads everything") {
        f.records.records[id_of('a')].name = "changed";
        SECTION("lost events") { f.changes.next.everything = true; }
        SECTION("a replaced store") { f.changes.next.store_lost = true; }
        CHECK_FALSE(f.cache.list_if_current());
        CHECK(names(f.cache.list())[0] == "changed");
        CHECK(f.records.total_loads() == 6);
    }
    SECTION("the service's own change") {
        f.records.records[id_of('c')].name = "own";
        f.cache.invalidate(id_of('c'));
        CHECK_FALSE(f.cache.list_if_current());
        CHECK(names(f.cache.list())[2] == "own");
    }
    SECTION("a running environment") {
        f.records.records[id_of('a')].sessions = 1;
        f.changes.next.envs = {id_of('a')};
        CHECK((*f.cache.list())[0].state == "running");
        CHECK_FALSE(f.cache.list_if_current());  // its processes may die unseen
    }
    SECTION("a damaged record") {
        f.records.records[id_of('a')].damaged = true;
        f.changes.next.envs = {id_of('a')};
        f.cache.list();
        CHECK_FALSE(f.cache.list_if_current());  // list() reports it on every call
    }
    SECTION("an environment whose watch was refused") {
        f.changes.refused = {id_of('d')};
        f.records.records[id_of('d')] = {"delta"};
        f.changes.next.envs = {id_of('d')};
        f.cache.list();
        CHECK_FALSE(f.cache.list_if_current());
    }
}

TEST_CASE("the bus loop's answer waits for the watches a full read leaves for later") {
    KeptFixture f;
    f.add('a', "alpha");
    EnvListCache cache(f.changes, f.records, &f.kept);
    cache.list();
    CHECK_FALSE(cache.list_if_current());
    cache.watch_unwatched();
    CHECK(cache.list_if_current());
}

TEST_CASE("record file names: <env id>.json only") {
    CHECK(env_id_of_record_file(id_of('a') + ".json") == id_of('a'));
    CHECK_FALSE(env_id_of_record_file(id_of('a')));
    CHECK_FALSE(env_id_of_record_file(".tmp-" + id_of('a') + ".json-x1"));
    CHECK_FALSE(env_id_of_record_file("ABC.json"));
}

// --- the inotify watch on a real tree ----------------------------------------------------------

namespace {

struct TempStore {
    std::filesystem::path root;
    TempStore() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "kp-watch.XXXXXX").string();
        root = ::mkdtemp(tmpl.data());
        std::filesystem::create_directories(root / "store");
        std::filesystem::create_directories(root / "metadata");
        std::filesystem::create_directories(root / "env");
        std::ofstream(root / "store" / "version") << "4\n";
    }
    ~TempStore() { std::filesystem::remove_all(root); }
    void write(const std::filesystem::path& rel, const std::string& text = "x") {
        std::ofstream(root / rel) << text;
    }
};

}  // namespace

TEST_CASE("the store watch reports records, sessions and a replaced metadata directory") {
    TempStore s;
    StoreWatch watch(s.root.string());
    REQUIRE(watch.fd() >= 0);
    REQUIRE(watch.watch_store());
    const auto a = id_of('a');
    std::filesystem::create_directories(s.root / "env" / a);
    CHECK(watch.take().envs == std::set<std::string>{a});  // its directory appeared
    REQUIRE(watch.watch_env(a));

    SECTION("a record written through a temporary file") {
        s.write("metadata/.tmp-" + a + ".json-x");
        std::filesystem::rename(s.root / "metadata" / (".tmp-" + a + ".json-x"),
                                s.root / "metadata" / (a + ".json"));
        auto changes = watch.take();
        CHECK(changes.envs == std::set<std::string>{a});
        CHECK_FALSE(changes.everything);
        CHECK(watch.take().envs.empty());
    }
    SECTION("a session starting and ending, through the loop's drain") {
        std::filesystem::create_directories(s.root / "env" / a / "sessions");
        CHECK(watch.take().envs == std::set<std::string>{a});
        REQUIRE(watch.watch_env(a));  // as the cache does when it reads the record again
        s.write("env/" + a + "/sessions/123", "1 root");
        watch.drain();
        CHECK(watch.take().envs == std::set<std::string>{a});
        std::filesystem::remove(s.root / "env" / a / "sessions" / "123");
        CHECK(watch.take().envs == std::set<std::string>{a});
        // What else happens in the environment's directory does not count.
        std::filesystem::create_directories(s.root / "env" / a / "work.99");
        CHECK(watch.take().envs.empty());
    }
    SECTION("a stray file in the metadata directory means every record is read") {
        s.write("metadata/notes.txt");
        CHECK(watch.take().everything);
    }
    SECTION("a replaced metadata directory means the store is watched again") {
        std::filesystem::create_directories(s.root / "metadata.new");
        std::filesystem::rename(s.root / "metadata", s.root / "metadata.old");
        std::filesystem::rename(s.root / "metadata.new", s.root / "metadata");
        CHECK(watch.take().store_lost);
        CHECK_FALSE(watch.watch_env(a));  // nothing is watched until the store is again
        REQUIRE(watch.watch_store());
        s.write("metadata/" + a + ".json");
        CHECK(watch.take().envs == std::set<std::string>{a});
    }
    SECTION("no store version: not watched, so the cache reads everything") {
        std::filesystem::remove(s.root / "store" / "version");
        CHECK_FALSE(watch.watch_store());
    }
}
