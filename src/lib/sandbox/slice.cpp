#include "sandbox/slice.hpp"

#include <linux/sched.h>

#include <cstdlib>
#include <cstring>

#include "sandbox/init_start.hpp"

namespace karapace::sandbox {

namespace is = init_start;

namespace {

bool turned_off() {
    const char* v = std::getenv("KARAPACE_SHORT_SLICE");
    return v != nullptr && std::strcmp(v, "0") == 0;
}

}  // namespace

ShortSlice::ShortSlice() {
    const is::LibcSys sys;
    is::SchedAttr attr;
    if (turned_off() || !is::get_sched(sys, attr) || attr.policy != SCHED_NORMAL ||
        (attr.flags & SCHED_FLAG_RESET_ON_FORK) != 0 || attr.runtime <= kShortSliceNs)
        return;
    // The command gets the caller's slice back as the caller had it: the kernel's default (which
    // follows the default when that changes) or a slice of its own. A slice equal to the default
    // is taken for the default.
    const std::uint64_t caller = attr.runtime;
    if (is::set_slice(sys, 0) != 0) return;
    is::SchedAttr by_default;
    std::uint64_t back =
        is::get_sched(sys, by_default) && by_default.runtime == caller ? 0 : caller;
    if (is::set_slice(sys, kShortSliceNs) != 0) {
        is::set_slice(sys, back);
        return;
    }
    caller_ = back;
}

ShortSlice::~ShortSlice() {
    if (caller_) is::set_slice(is::LibcSys{}, *caller_);
}

}  // namespace karapace::sandbox
