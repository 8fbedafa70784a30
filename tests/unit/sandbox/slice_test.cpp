// The short time slice a run's own processes ask for (sandbox/slice.hpp), on a thread of its own
// each: the attributes are per thread, and the test's other cases keep the process's.
#include <linux/sched.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <thread>

#include "sandbox/init_start.hpp"
#include "sandbox/slice.hpp"

using namespace karapace::sandbox;
namespace is = karapace::sandbox::init_start;

namespace {

std::uint64_t slice_now() {
    is::SchedAttr attr;
    REQUIRE(is::get_sched(is::LibcSys{}, attr));
    return attr.runtime;
}

// What `body` sees on a new thread that has `runtime` (0: the default) and `policy`.
template <typename F>
void on_thread(std::uint64_t runtime, std::uint32_t policy, F body) {
    std::thread t([&] {
        is::SchedAttr attr;
        REQUIRE(is::get_sched(is::LibcSys{}, attr));
        attr.policy = policy;
        attr.flags = 0;
        attr.runtime = runtime;
        REQUIRE(::syscall(SYS_sched_setattr, 0, &attr, 0) == 0);
        body();
    });
    t.join();
}

bool kernel_has_slices() {
    bool has = false;
    on_thread(0, SCHED_NORMAL, [&] { has = slice_now() > 0; });
    return has;
}

}  // namespace

TEST_CASE("a run's own processes get the short time slice, the caller its own back") {
    if (!kernel_has_slices()) {
        WARN("skipped: this kernel reports no time slice (before Linux 6.12)");
        return;
    }
    ::unsetenv("KARAPACE_SHORT_SLICE");
    SECTION("the kernel's default is given back as the default") {
        on_thread(0, SCHED_NORMAL, [] {
            std::uint64_t before = slice_now();
            {
                ShortSlice s;
                CHECK(slice_now() == kShortSliceNs);
                CHECK(s.caller_slice() == std::optional<std::uint64_t>(0));
            }
            CHECK(slice_now() == before);
        });
    }
    SECTION("a slice of the caller's own is given back as it was") {
        on_thread(3'000'000, SCHED_NORMAL, [] {
            {
                ShortSlice s;
                CHECK(slice_now() == kShortSliceNs);
                CHECK(s.caller_slice() == std::optional<std::uint64_t>(3'000'000));
            }
            CHECK(slice_now() == 3'000'000);
        });
    }
    SECTION("nothing changes for a slice as short, another policy, or when turned off") {
        on_thread(kShortSliceNs, SCHED_NORMAL, [] {
            ShortSlice s;
            CHECK_FALSE(s.caller_slice());
            CHECK(slice_now() == kShortSliceNs);
        });
        on_thread(3'000'000, SCHED_BATCH, [] {
            ShortSlice s;
            CHECK_FALSE(s.caller_slice());
            CHECK(slice_now() == 3'000'000);
        });
        ::setenv("KARAPACE_SHORT_SLICE", "0", 1);
        on_thread(3'000'000, SCHED_NORMAL, [] {
            ShortSlice s;
            CHECK_FALSE(s.caller_slice());
            CHECK(slice_now() == 3'000'000);
        });
        ::unsetenv("KARAPACE_SHORT_SLICE");
    }
}

TEST_CASE("set_slice keeps the thread's policy and nice value") {
    if (!kernel_has_slices()) {
        WARN("skipped: this kernel reports no time slice (before Linux 6.12)");
        return;
    }
    on_thread(0, SCHED_BATCH, [] {
        REQUIRE(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 5) == 0);
        REQUIRE(is::set_slice(is::LibcSys{}, 2'000'000) == 0);
        is::SchedAttr attr;
        REQUIRE(is::get_sched(is::LibcSys{}, attr));
        CHECK(attr.policy == SCHED_BATCH);
        CHECK(attr.nice == 5);
        CHECK(attr.runtime == 2'000'000);
    });
}
