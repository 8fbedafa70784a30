#include <catch2/catch.hpp>

#include <signal.h>

#include "karapace/store/lock.hpp"
#include "karapace/store/store.hpp"
#include "karapace/util/error.hpp"
#include "support.hpp"

using namespace karapace;
using namespace karapace::store;
using karapace::store::test::TempDir;

namespace {

// A child that holds the lock in `mode` until killed; returns its pid once the lock is taken.
pid_t hold_lock_in_child(const Layout& layout, LockMode mode) {
    int p[2];
    REQUIRE(::pipe(p) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[0]);
        auto lock = StoreLock::acquire(layout, mode);
        char c = 'x';
        (void)::write(p[1], &c, 1);
        for (;;)
            ::pause();
    }
    ::close(p[1]);
    char c = 0;
    REQUIRE(::read(p[0], &c, 1) == 1);
    ::close(p[0]);
    return pid;
}

void stop(pid_t pid) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
}

}  // namespace

TEST_CASE("an exclusive lock held elsewhere makes waiting report the holder and time out as busy") {
    TempDir dir;
    Layout l(dir.path());
    open_layout(l, OpenMode::create);
    pid_t holder = hold_lock_in_child(l, LockMode::exclusive);
    CHECK_FALSE(StoreLock::try_acquire(l, LockMode::shared).has_value());
    CHECK(lock_holder(l) == holder);
    std::string message;
    try {
        LockOptions opts;
        opts.timeout = std::chrono::milliseconds(150);
        opts.on_wait = [&](const std::string& m) { message = m; };
        StoreLock::acquire(l, LockMode::exclusive, opts);
        FAIL("lock taken while held");
    } catch (const Error& e) {
        CHECK(e.code() == Errc::busy);
        CHECK(std::string(e.what()).find("pid " + std::to_string(holder)) != std::string::npos);
    }
    CHECK(message == "waiting for store lock (held by pid " + std::to_string(holder) + ")");
    stop(holder);
    // The holder died: the lock is free again.
    auto lock = StoreLock::acquire(l, LockMode::exclusive, {std::chrono::milliseconds(0), {}});
    CHECK(lock.mode() == LockMode::exclusive);
}

TEST_CASE("shared locks coexist and exclude an exclusive one") {
    TempDir dir;
    Layout l(dir.path());
    open_layout(l, OpenMode::create);
    pid_t reader = hold_lock_in_child(l, LockMode::shared);
    auto mine = StoreLock::try_acquire(l, LockMode::shared);
    CHECK(mine.has_value());
    mine.reset();
    CHECK_FALSE(StoreLock::try_acquire(l, LockMode::exclusive).has_value());
    stop(reader);
    CHECK(StoreLock::try_acquire(l, LockMode::exclusive).has_value());
}

TEST_CASE("a waiting acquire proceeds once the holder releases") {
    TempDir dir;
    Layout l(dir.path());
    open_layout(l, OpenMode::create);
    pid_t holder = hold_lock_in_child(l, LockMode::exclusive);
    pid_t killer = ::fork();
    if (killer == 0) {
        ::usleep(100000);
        ::kill(holder, SIGKILL);
        ::_exit(0);
    }
    bool waited = false;
    LockOptions opts;
    opts.timeout = std::chrono::seconds(10);
    opts.on_wait = [&](const std::string&) { waited = true; };
    auto lock = StoreLock::acquire(l, LockMode::exclusive, opts);
    CHECK(waited);
    CHECK(lock.held());
    ::waitpid(holder, nullptr, 0);
    ::waitpid(killer, nullptr, 0);
}

TEST_CASE("operations that need the exclusive lock refuse a shared one") {
    TempDir dir;
    Layout l(dir.path());
    open_layout(l, OpenMode::create);
    auto shared = StoreLock::acquire(l, LockMode::shared);
    CHECK_THROWS_AS(shared.require_exclusive("gc"), Error);
    shared.release();
    CHECK_THROWS_AS(shared.require_exclusive("gc"), Error);
}
