// A new sandbox is built on the processor its caller runs on, and the caller waits there.
//
// The start of a new sandbox hands the processor back and forth: the caller clones the builder
// and waits for it, the builder becomes karapace-init, init starts the command and waits, the
// command's end wakes init, init's report wakes the caller. The kernel puts each new process on
// the idlest processor it may use and wakes each sleeper where it last ran, so on an otherwise
// idle machine these hand-overs cross between processors: each one an interrupt to a processor
// that has to leave its idle state first, which in a virtual machine is an exit to the
// hypervisor to wake that virtual processor (docs/performance.md, "A new sandbox on its caller's
// processor"). On one processor the same hand-overs are plain context switches.
//
// So before it starts a new sandbox the caller's thread narrows its affinity to the processor
// it is on (what it starts inherits that) until the run returns; the CLI, which exits then,
// leaves it narrowed (widened first, it measured slower, docs/performance.md). The command
// is not the run's own: karapace-init gives it the caller's processors back before it executes
// (cpus=HEX), and a lingering init takes them back when it starts lingering. A process started
// meanwhile that outlives the start (fuse-overlayfs) takes them back itself
// (widen_to_caller_cpus), and the maker of a network namespace, which runs beside the builder's
// steps, is started on the caller's processors (BesideCpus, net.cpp). Only on a machine with
// idle processors: not when more than half of the caller's have something to run (the runnable
// tasks of /proc/loadavg, this one included), where a run kept on one processor waits for it
// while another could take it (and where the network namespace is made by the builder itself,
// net.cpp). Not for a caller that may use one processor only. KARAPACE_SAME_CPU=0 never
// narrows, KARAPACE_SAME_CPU=1 also on a busy machine.
#pragma once

#include <string>

#include "sandbox/init_start.hpp"

namespace karapace::sandbox {

// Whether a start on a machine with `runnable` tasks that can run now (0: unknown) is narrowed
// to one of the caller's `cpus` processors: at most half of them busy.
bool narrowing_pays(std::size_t cpus, std::size_t runnable);

// Whether the machine has idle processors for a start by a caller that may use `caller`: at most
// half of them have something to run now.
bool idle_processors(const init_start::CpuMask& caller);

// The calling thread's processors (no words when the kernel's mask is larger than a CpuMask).
init_start::CpuMask caller_cpus();

// karapace-init's cpus=HEX for `mask`; empty for an unknown one.
std::string cpus_option(const init_start::CpuMask& mask);

// While it lives, the calling thread (and what it starts) runs on the processor it was on, when
// the machine has `idle` processors (idle_processors) or KARAPACE_SAME_CPU=1; with `give_back`,
// the caller's processors are the thread's again afterwards (a caller that exits once the run
// returns leaves them: widened, it would only be woken elsewhere while it exits).
class SameCpu {
public:
    SameCpu(const init_start::CpuMask& caller, bool idle, bool give_back);
    ~SameCpu();
    SameCpu(const SameCpu&) = delete;
    SameCpu& operator=(const SameCpu&) = delete;

    bool narrowed() const { return narrowed_; }

private:
    bool narrowed_ = false;
    bool give_back_ = true;
};

// In a process forked while a SameCpu narrows its starter: the caller's processors back;
// nothing when none were narrowed.
void widen_to_caller_cpus() noexcept;

// While it lives, a thread that a SameCpu narrowed (or one started meanwhile, which shares its
// memory) has the caller's processors again, and so does what it starts: a process that is to run
// beside it, which the kernel then puts on another processor. Back on the one it was on after.
class BesideCpus {
public:
    BesideCpus() noexcept;
    ~BesideCpus();
    BesideCpus(const BesideCpus&) = delete;
    BesideCpus& operator=(const BesideCpus&) = delete;

private:
    int cpu_ = -1;
};

}  // namespace karapace::sandbox
