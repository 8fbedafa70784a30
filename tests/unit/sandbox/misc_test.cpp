#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "karapace/sandbox/limits.hpp"
#include "karapace/sandbox/overlay.hpp"
#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/terminal.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/child.hpp"
#include "sandbox/wire.hpp"

using namespace karapace;
using namespace karapace::sandbox;
namespace fs = std::filesystem;

namespace {
struct TempDir {
    fs::path path;
    TempDir() {
        char tmpl[] = "/tmp/kp-sandbox-unit.XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~TempDir() { fs::remove_all(path); }
};
}  // namespace

TEST_CASE("the container markers are OSC 777 push and pop") {
    CHECK(osc_push("web") == "\033]777;container;push;web;karapace\033\\");
    CHECK(osc_pop() == "\033]777;container;pop;;\033\\");
}

TEST_CASE("cpu shares convert to cpu.weight on the systemd scale") {
    CHECK(cpu_weight_from_shares(0) == 0);
    CHECK(cpu_weight_from_shares(2) == 1);
    CHECK(cpu_weight_from_shares(262144) == 10000);
    CHECK(cpu_weight_from_shares(1024) == 39);
    CHECK(cpu_weight_from_shares(1) == 1);
}

TEST_CASE("an error crosses the pipe with its category, message and hint") {
    Pipe p;
    wire::send_error(p.write.get(), Error(Errc::permission, "cannot mount /x", "ask admin"));
    p.write.reset();
    auto e = wire::receive_error(p.read.get());
    REQUIRE(e);
    CHECK(e->code() == Errc::permission);
    CHECK(std::string(e->what()) == "cannot mount /x");
    CHECK(e->hint() == "ask admin");
}

TEST_CASE("nothing on the error pipe means no error") {
    Pipe p;
    p.write.reset();
    CHECK_FALSE(wire::receive_error(p.read.get()));
}

TEST_CASE("stop ends a recorded process with SIGTERM and clears its session") {
    TempDir dir;
    Pipe exec_done;  // close-on-exec: reads end-of-file once the child runs sleep
    pid_t pid = ::fork();
    if (pid == 0) {
        ::execl("/bin/sleep", "sleep", "30", nullptr);
        ::_exit(127);
    }
    // A SIGTERM before the exec would meet this test's own handlers in the child.
    exec_done.write.reset();
    char c;
    while (::read(exec_done.read.get(), &c, 1) > 0) {}
    int status = 0;
    {
        SessionRecord record(dir.path.string(), pid, IdMapping::keep_id);
        auto sessions = list_sessions(dir.path.string());
        REQUIRE(sessions.size() == 1);
        CHECK(sessions[0].mapping == IdMapping::keep_id);
        CHECK(stop_sessions(dir.path.string(), std::chrono::milliseconds(2000)) == 1);
        ::waitpid(pid, &status, 0);
    }
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK(fs::is_empty(dir.path));
}

TEST_CASE("stop falls back to SIGKILL when SIGTERM is ignored") {
    TempDir dir;
    Pipe ready;
    pid_t pid = ::fork();
    if (pid == 0) {
        ::signal(SIGTERM, SIG_IGN);
        send_byte(ready.write.get());
        for (;;)
            ::pause();
    }
    ready.write.reset();
    REQUIRE(wait_for_byte(ready.read.get()));
    SessionRecord record(dir.path.string(), pid, IdMapping::container_root);
    CHECK(list_sessions(dir.path.string()).at(0).mapping == IdMapping::container_root);
    CHECK(stop_sessions(dir.path.string(), std::chrono::milliseconds(200)) == 1);
    int status = 0;
    ::waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("a session record whose process is gone or reused is dropped") {
    TempDir dir;
    std::ofstream(dir.path / "999999") << "12345\n";                // no such pid
    std::ofstream(dir.path / std::to_string(::getpid())) << "1\n";  // our pid, wrong start time
    std::ofstream(dir.path / "garbage") << "x\n";
    CHECK(list_sessions(dir.path.string()).empty());
    CHECK(fs::is_empty(dir.path));
}

TEST_CASE("one reading of the records sorts them into sessions, lingering and ending ones") {
    TempDir dir;
    auto start = karapace::process_start_time(::getpid());
    REQUIRE(start);
    std::string me = std::to_string(::getpid());
    std::string live = std::to_string(*start) + " keep-id abc";
    for (const char* prefix : {"", ".idle-", ".ending-"})
        fs::create_symlink(live, dir.path / (prefix + me));
    fs::create_symlink("12345 keep-id", dir.path / ".ending-999999");  // gone
    fs::create_symlink("12345 keep-id", dir.path / ".idle-999998");    // gone
    std::ofstream(dir.path / ".start-lock");
    auto records = read_session_records(dir.path.string());
    REQUIRE(records.running.size() == 1);
    REQUIRE(records.idle.size() == 1);
    REQUIRE(records.ending.size() == 1);
    CHECK(records.idle[0].pid == ::getpid());
    CHECK(records.idle[0].fingerprint == "abc");
    CHECK(records.ending[0].mapping == IdMapping::keep_id);
    // The records of processes that are gone went; the lock and the live ones stay.
    CHECK_FALSE(fs::is_symlink(dir.path / ".ending-999999"));
    CHECK_FALSE(fs::is_symlink(dir.path / ".idle-999998"));
    CHECK(fs::exists(dir.path / ".start-lock"));
    CHECK(list_sessions(dir.path.string()).size() == 1);
    CHECK(list_idle_sessions(dir.path.string()).size() == 1);
}

TEST_CASE("a session record without a mapping still counts, as one nothing joins") {
    TempDir dir;
    auto start = karapace::process_start_time(::getpid());
    REQUIRE(start);
    std::ofstream(dir.path / std::to_string(::getpid())) << *start << "\n";
    auto sessions = list_sessions(dir.path.string());
    REQUIRE(sessions.size() == 1);
    CHECK_FALSE(sessions[0].mapping.has_value());
}

TEST_CASE("the overlay probe finds a working overlay on this kernel") {
    auto kind = karapace::sandbox::probe_overlay();
    if (kind == OverlayKind::none) {
        WARN("skipped: neither kernel overlayfs nor fuse-overlayfs works for this user here");
        return;
    }
    // Linux >= 5.11 mounts overlayfs with userxattr inside a user namespace.
    CHECK(kind == OverlayKind::kernel);
}
