// A run's own processes ask the kernel for the shortest time slice it gives a normal task.
//
// On a busy machine every wake-up of a run (the caller once the sandbox child has started or
// reported, karapace-init once the command has ended) waits for a processor. Under Linux's EEVDF
// scheduler (6.6 and later) a task that wakes preempts the running one only when its deadline is
// earlier, and a task's deadline is its slice away: with the default slice (0.7 ms times one plus
// the binary logarithm of the processor count) a run waits behind a compiler for up to that long
// at each wake-up. Since Linux 6.12 a normal task may ask for a slice of its own (sched_setattr's
// sched_runtime, 0.1 to 100 ms, no privilege needed); a short one wakes in time and leaves the
// processor sooner, while its share of the processor stays what its nice value gives it.
//
// The command is not a run's own: it gets the caller's slice back before it executes
// (karapace-init's slice=N). KARAPACE_SHORT_SLICE=0 leaves the slice alone. Nothing changes on an
// older kernel (it reports no slice), for a thread of another policy (SCHED_BATCH, SCHED_IDLE, a
// real-time one), one whose children reset their scheduling, or one whose slice is already as
// short.
#pragma once

#include <cstdint>
#include <optional>

namespace karapace::sandbox {

// The slice asked for: the shortest the kernel grants.
inline constexpr std::uint64_t kShortSliceNs = 100'000;

// While it lives, the calling thread (and what it starts) has the short slice.
class ShortSlice {
public:
    ShortSlice();
    ~ShortSlice();
    ShortSlice(const ShortSlice&) = delete;
    ShortSlice& operator=(const ShortSlice&) = delete;

    // The caller's slice, for the command (0: the kernel's default), when it was shortened.
    std::optional<std::uint64_t> caller_slice() const { return caller_; }

private:
    std::optional<std::uint64_t> caller_;
};

}  // namespace karapace::sandbox
