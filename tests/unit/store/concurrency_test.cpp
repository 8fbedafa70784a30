#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>

#include "karapace/store/gc.hpp"
#include "karapace/store/lock.hpp"
#include "karapace/store/store.hpp"
#include "karapace/store/verify.hpp"
#include "karapace/util/error.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using namespace karapace::store::test;

namespace {

constexpr int writers = 4;
constexpr int rounds = 25;

EnvId writer_env(int w) { return EnvId::parse(std::string(64, static_cast<char>('a' + w))); }

// One writer: objects outside the lock, metadata and renames inside it, like the engine.
int writer(const std::string& root, int w) {
    Store s = Store::open(root);
    EnvId id = writer_env(w);
    for (int i = 0; i < rounds; ++i) {
        Digest mine =
            s.objects().put("writer " + std::to_string(w) + " round " + std::to_string(i));
        Digest shared = s.objects().put("the same content from every writer");
        auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
        EnvMetadata m = s.metadata().exists(id) ? s.metadata().get(id) : make_metadata(id);
        m.manifest_object = mine;
        m.lock_digest = shared;
        m.state = EnvState::built;
        s.metadata().put(m);
        s.metadata().rename(id, "w" + std::to_string(w) + "-" + std::to_string(i));
    }
    // Everyone claims one name at once: exactly one may win.
    auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
    try {
        s.metadata().rename(id, std::string("winner"));
        return 10;
    } catch (const Error& e) {
        return e.code() == Errc::conflict ? 0 : 1;
    }
}

int collector(const std::string& root) {
    Store s = Store::open(root);
    for (int i = 0; i < 15; ++i) {
        {
            auto lock = StoreLock::acquire(s.layout(), LockMode::exclusive);
            s.wal().recover(lock);
            collect_garbage(s.layout(), lock, GcOptions{});
        }
        auto shared = StoreLock::acquire(s.layout(), LockMode::shared);
        if (!verify_store(s.layout()).ok()) return 2;
    }
    return 0;
}

}  // namespace

TEST_CASE("concurrent writers, renames and gc leave no lost update and no corruption") {
    TempDir dir;
    std::string root = dir / "root";
    Store s = Store::open(root);
    Digest old = s.objects().put("old garbage");
    timespec past[2] = {{::time(nullptr) - 7200, 0}, {::time(nullptr) - 7200, 0}};
    REQUIRE(::utimensat(AT_FDCWD, s.layout().object_path(old).c_str(), past, 0) == 0);

    std::vector<pid_t> pids;
    for (int w = 0; w < writers; ++w) {
        pid_t pid = ::fork();
        if (pid == 0) ::_exit(writer(root, w));
        pids.push_back(pid);
    }
    pid_t gc = ::fork();
    if (gc == 0) ::_exit(collector(root));
    int winners = 0;
    for (pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        REQUIRE(WIFEXITED(status));
        CHECK((WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 10));
        if (WEXITSTATUS(status) == 10) ++winners;
    }
    int status = 0;
    ::waitpid(gc, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);

    CHECK(winners == 1);
    int named_winner = 0;
    for (int w = 0; w < writers; ++w) {
        EnvMetadata m = s.metadata().get(writer_env(w));
        if (m.name == std::optional<std::string>("winner")) {
            ++named_winner;
        } else {
            CHECK(m.name == std::optional<std::string>("w" + std::to_string(w) + "-" +
                                                       std::to_string(rounds - 1)));
        }
        CHECK(s.objects().get(*m.manifest_object) ==
              "writer " + std::to_string(w) + " round " + std::to_string(rounds - 1));
    }
    CHECK(named_winner == 1);
    CHECK_FALSE(s.objects().exists(old));
    VerifyReport v = verify_store(s.layout());
    INFO(human_summary(v));
    CHECK(v.ok());
    CHECK(temp_files(root).empty());
}

TEST_CASE("eight processes putting the same object at once store it once, intact") {
    TempDir dir;
    Store s = Store::open(dir.path());
    std::string content(512 * 1024, 'm');
    std::vector<pid_t> pids;
    for (int i = 0; i < 8; ++i) {
        pid_t pid = ::fork();
        if (pid == 0) {
            try {
                Store mine = Store::open(dir.path());
                mine.objects().put(content);
                ::_exit(0);
            } catch (...) {
                ::_exit(1);
            }
        }
        pids.push_back(pid);
    }
    for (pid_t pid : pids) {
        int status = 0;
        ::waitpid(pid, &status, 0);
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
    CHECK(s.objects().list().size() == 1);
    CHECK(s.objects().get(sha256(content)) == content);
    CHECK(temp_files(dir.path()).empty());
}
