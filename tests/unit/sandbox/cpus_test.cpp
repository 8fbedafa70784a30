// A new sandbox's own processes on their caller's processor (sandbox/cpus.hpp): the mask as
// karapace-init takes it, and the narrowing, each case on a thread of its own (affinity is per
// thread; the test's other cases keep the process's).
#include <sched.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "sandbox/cpus.hpp"
#include "sandbox/init_start.hpp"

using namespace karapace::sandbox;
namespace is = karapace::sandbox::init_start;

namespace {

cpu_set_t affinity() {
    cpu_set_t set;
    CPU_ZERO(&set);
    REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
    return set;
}

template <typename F>
void on_thread(F body) {
    std::thread t(body);
    t.join();
}

is::CpuMask parsed(const char* hex) {
    is::CpuMask m;
    REQUIRE(is::parse_cpu_mask(hex, m));
    return m;
}

}  // namespace

TEST_CASE("cpus=HEX is the mask as taskset writes it, processor 0 the lowest bit") {
    is::CpuMask m;
    m.words = 1;
    m.bits[0] = 0x3;
    CHECK(cpus_option(m) == "cpus=3");
    m.words = 2;
    m.bits[0] = 0;
    m.bits[1] = 1;  // processor 64 alone
    CHECK(cpus_option(m) == "cpus=10000000000000000");
    m.bits[0] = 1;
    m.bits[1] = std::uint64_t{1} << 63;  // processors 0 and 127
    CHECK(cpus_option(m) == "cpus=80000000000000000000000000000001");
    CHECK(cpus_option(is::CpuMask{}).empty());

    for (const char* hex : {"3", "10000000000000000", "80000000000000000000000000000001", "f0"}) {
        auto back = parsed(hex);
        CHECK(cpus_option(back) == std::string("cpus=") + hex);
    }
    auto wide = parsed("80000000000000000000000000000001");
    CHECK(wide.words == 2);
    CHECK(wide.bits[0] == 1);
    CHECK(wide.bits[1] == std::uint64_t{1} << 63);
    CHECK(wide.bytes() == 16);

    is::CpuMask bad;
    for (const char* hex : {"", "xyz", "3g", "FF", "-1", "1 2"})
        CHECK_FALSE(is::parse_cpu_mask(hex, bad));
    std::string longest(16 * is::CpuMask::kMaxWords, 'f');
    CHECK(is::parse_cpu_mask(longest.c_str(), bad));
    CHECK(bad.words == is::CpuMask::kMaxWords);
    CHECK_FALSE(is::parse_cpu_mask((longest + "f").c_str(), bad));
}

TEST_CASE("a start is narrowed while at most half of the processors have something to run") {
    CHECK(narrowing_pays(2, 1));
    CHECK_FALSE(narrowing_pays(2, 2));
    CHECK_FALSE(narrowing_pays(2, 3));
    CHECK_FALSE(narrowing_pays(2, 0));  // unknown
    CHECK(narrowing_pays(16, 8));
    CHECK_FALSE(narrowing_pays(16, 9));
    CHECK_FALSE(narrowing_pays(1, 1));
}

TEST_CASE("caller_cpus is the calling thread's affinity") {
    auto mask = caller_cpus();
    auto set = affinity();
    REQUIRE(mask.words > 0);
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        bool in_mask = static_cast<std::size_t>(cpu) < 64 * mask.words &&
                       ((mask.bits[cpu / 64] >> (cpu % 64)) & 1) != 0;
        CHECK(in_mask == (CPU_ISSET(cpu, &set) != 0));
    }
}

TEST_CASE("a new sandbox's start stays on the processor it began on") {
    const cpu_set_t all = affinity();
    if (CPU_COUNT(&all) < 2) {
        WARN("skipped: this process may use one processor only");
        return;
    }
    // Also on a machine that other tests keep busy.
    ::setenv("KARAPACE_SAME_CPU", "1", 1);

    SECTION("narrowed to one processor, and given back") {
        on_thread([&] {
            auto caller = caller_cpus();
            {
                SameCpu same(caller, false, true);
                CHECK(same.narrowed());
                cpu_set_t now = affinity();
                CHECK(CPU_COUNT(&now) == 1);
                CHECK(CPU_ISSET(::sched_getcpu(), &now));
                // Around the start of a process that is to run beside it: all of them again.
                {
                    BesideCpus beside;
                    cpu_set_t wide = affinity();
                    CHECK(CPU_EQUAL(&wide, &all));
                }
                cpu_set_t back = affinity();
                CHECK(CPU_EQUAL(&back, &now));
                // What a forked process that outlives the start gets back.
                pid_t child = ::fork();
                REQUIRE(child >= 0);
                if (child == 0) {
                    widen_to_caller_cpus();
                    cpu_set_t its;
                    CPU_ZERO(&its);
                    ::sched_getaffinity(0, sizeof its, &its);
                    ::_exit(CPU_EQUAL(&its, &all) ? 0 : 1);
                }
                int status = 0;
                REQUIRE(::waitpid(child, &status, 0) == child);
                CHECK(WIFEXITED(status));
                CHECK(WEXITSTATUS(status) == 0);
            }
            cpu_set_t after = affinity();
            CHECK(CPU_EQUAL(&after, &all));
        });
    }
    SECTION("left narrowed for a caller that exits once the run returns") {
        on_thread([&] {
            { SameCpu same(caller_cpus(), false, false); }
            cpu_set_t after = affinity();
            CHECK(CPU_COUNT(&after) == 1);
            REQUIRE(::sched_setaffinity(0, sizeof all, &all) == 0);
        });
    }
    SECTION("nothing changes for a caller on one processor, or when turned off") {
        on_thread([&] {
            cpu_set_t one;
            CPU_ZERO(&one);
            CPU_SET(::sched_getcpu(), &one);
            REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);
            {
                SameCpu same(caller_cpus(), false, true);
                CHECK_FALSE(same.narrowed());
            }
            cpu_set_t after = affinity();
            CHECK(CPU_EQUAL(&after, &one));
        });
        ::setenv("KARAPACE_SAME_CPU", "0", 1);
        on_thread([&] {
            {
                SameCpu same(caller_cpus(), false, true);
                CHECK_FALSE(same.narrowed());
                cpu_set_t now = affinity();
                CHECK(CPU_EQUAL(&now, &all));
            }
        });
        ::setenv("KARAPACE_SAME_CPU", "1", 1);
    }
    SECTION("not narrowed on a busy machine, unless asked to") {
        // As many spinning threads as processors: more than half of them have something to run.
        std::atomic<bool> stop{false};
        std::vector<std::thread> spinners;
        for (int i = 0; i < CPU_COUNT(&all); ++i)
            spinners.emplace_back([&] {
                while (!stop.load(std::memory_order_relaxed)) {}
            });
        ::unsetenv("KARAPACE_SAME_CPU");
        on_thread([&] {
            auto caller = caller_cpus();
            CHECK_FALSE(idle_processors(caller));
            SameCpu same(caller, idle_processors(caller), true);
            CHECK_FALSE(same.narrowed());
        });
        ::setenv("KARAPACE_SAME_CPU", "1", 1);
        on_thread([&] {
            auto caller = caller_cpus();
            SameCpu same(caller, idle_processors(caller), true);
            CHECK(same.narrowed());
        });
        stop = true;
        for (auto& t : spinners)
            t.join();
    }
    ::unsetenv("KARAPACE_SAME_CPU");
    // Nothing is left to widen once a narrowing has ended.
    on_thread([&] {
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(::sched_getcpu(), &one);
        REQUIRE(::sched_setaffinity(0, sizeof one, &one) == 0);
        widen_to_caller_cpus();
        { BesideCpus beside; }
        cpu_set_t now = affinity();
        CHECK(CPU_EQUAL(&now, &one));
    });
}
