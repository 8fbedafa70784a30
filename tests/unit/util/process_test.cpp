#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "karapace/util/error.hpp"
#include "karapace/util/process.hpp"

TEST_CASE("run_process captures output and the exit status") {
    auto r = karapace::run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
    CHECK(r.status == 3);
    CHECK(r.out == "out\n");
    CHECK(r.err == "err\n");
}

TEST_CASE("run_process feeds stdin and reports signals as 128+n") {
    auto r = karapace::run_process({"cat"}, {.stdin_data = "hello"});
    CHECK(r.out == "hello");
    auto k = karapace::run_process({"sh", "-c", "kill -TERM $$"});
    CHECK(k.signaled);
    CHECK(k.status == 128 + 15);
}

TEST_CASE("a missing program is a not-found error") {
    CHECK_THROWS_AS(karapace::run_process({"karapace-no-such-program"}), karapace::Error);
}

TEST_CASE("process identity survives only while the process lives") {
    auto self = karapace::process_start_time(getpid());
    REQUIRE(self.has_value());
    CHECK(karapace::process_alive(getpid(), *self));
    CHECK_FALSE(karapace::process_alive(getpid(), *self + 1));
    CHECK_FALSE(karapace::process_start_time(0x3fffffff).has_value());
}

TEST_CASE("an exited process its parent has not collected yet is not alive") {
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) ::_exit(0);
    auto start = karapace::process_start_time(child);
    REQUIRE(start.has_value());
    // Exited, not reaped: a zombie keeps its /proc entry and its start time.
    siginfo_t info{};
    REQUIRE(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT) == 0);
    CHECK(karapace::process_start_time(child) == start);
    CHECK_FALSE(karapace::process_alive(child, *start));
    ::waitpid(child, nullptr, 0);
    CHECK_FALSE(karapace::process_alive(child, *start));
}

TEST_CASE("tail_lines keeps the last non-empty lines") {
    CHECK(karapace::tail_lines("a\n\nb\nc\n", 2) == "b\nc");
}

TEST_CASE("a process's start time reads as the wall-clock time it started") {
    const auto before = std::chrono::system_clock::now();
    auto r = karapace::run_process({"sh", "-c", "cut -d' ' -f22 /proc/$$/stat"});
    const auto after = std::chrono::system_clock::now();
    REQUIRE(r.status == 0);
    auto at = karapace::process_started_at(std::stoull(r.out));
    REQUIRE(at.has_value());
    // Clock ticks and the boot time in whole seconds: within a couple of seconds of the truth.
    CHECK(*at > before - std::chrono::seconds(2));
    CHECK(*at < after + std::chrono::seconds(2));
}

TEST_CASE("a start time is read past a command name with spaces and parentheses") {
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::prctl(PR_SET_NAME, ") 1 2 (x) 3", 0, 0, 0);
        char c = 1;
        (void)!::write(ready[1], &c, 1);
        ::pause();
        ::_exit(0);
    }
    char c = 0;
    REQUIRE(::read(ready[0], &c, 1) == 1);
    // Field 22 counted from the end of the line, which the name cannot reach.
    std::ifstream in("/proc/" + std::to_string(child) + "/stat");
    std::string line;
    std::getline(in, line);
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22; ++i)
        fields >> field;
    auto start = karapace::process_start_time(child);
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    REQUIRE(start.has_value());
    CHECK(*start == std::stoull(field));
    CHECK(line.find(") 1 2 (x) 3") != std::string::npos);
}

TEST_CASE("stat fields are counted after the last parenthesis") {
    const char* line = "42 (a) b (c) 1) R 7 8 9\n";
    REQUIRE(karapace::proc_stat_field(line, 3) != nullptr);
    CHECK(std::string(karapace::proc_stat_field(line, 3), 1) == "R");
    CHECK(std::atoi(karapace::proc_stat_field(line, 5)) == 8);
    CHECK(std::atoi(karapace::proc_stat_field(line, 6)) == 9);
    CHECK(karapace::proc_stat_field(line, 7) == nullptr);
    CHECK(karapace::proc_stat_field("no parenthesis", 3) == nullptr);
}
