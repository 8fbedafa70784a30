// Resource limits of a sandbox (memory, CPU weight, tasks), enforced by the best mechanism the
// host offers: a systemd user scope, else a delegated cgroup v2 directory, else writable cgroup v1
// hierarchies, else rlimits. The one in force is reported, because rlimits are weaker (per
// process, no CPU weight).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "karapace/sandbox/spec.hpp"

namespace karapace::sandbox {

// Which mechanism would enforce limits for the calling user right now (for doctor/inspect).
LimitMechanism probe_limit_mechanism();

// cgroup v2 cpu.weight (1..10000, default 100) from cgroup v1 cpu.shares (2..262144, default 1024).
std::uint64_t cpu_weight_from_shares(std::uint64_t shares) noexcept;

// Places `pid` (just cloned, not yet running the command) under `limits`. Holds the cgroup it
// created and removes it on destruction. When mechanism() is rlimit, the command process must
// call the rlimit step itself.
class LimitScope {
public:
    LimitScope() = default;
    LimitScope(const Limits& limits, pid_t pid, const std::string& unit_name);
    ~LimitScope();
    LimitScope(LimitScope&& o) noexcept;
    LimitScope& operator=(LimitScope&& o) noexcept;
    LimitScope(const LimitScope&) = delete;
    LimitScope& operator=(const LimitScope&) = delete;

    LimitMechanism mechanism() const noexcept { return mechanism_; }

private:
    LimitMechanism mechanism_ = LimitMechanism::none;
    std::vector<std::string> cgroup_dirs_;  // ours to remove
};

}  // namespace karapace::sandbox
