// The user-namespace keeper: for an unprivileged user with a sub-id range, one small process per
// user and id mapping that holds a user namespace with the full sub-id map, so that `exec` and
// `enter` join it (setns) and create only their mount, pid, uts and ipc namespaces instead of
// running newuidmap/newgidmap every time. It exits after an idle time; its record is verified
// (process start time, namespace inode and owner) before every use and replaced when stale.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "karapace/sandbox/userns.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

// Seconds a keeper waits without a run before it exits: KARAPACE_KEEPER_IDLE (0 turns keepers
// off), else kDefaultKeeperIdle.
inline constexpr int kDefaultKeeperIdle = 300;
int keeper_idle_seconds();

// Where the records live: $XDG_RUNTIME_DIR/karapace when that is the caller's own directory,
// else /tmp/karapace-<uid> (made 0700, refused unless it is ours and private).
std::string keeper_dir();

struct KeeperStatus {
    IdMapping mapping = IdMapping::keep_id;
    std::string record;  // path of the record file
    bool running = false;
    pid_t pid = 0;
    std::uint64_t userns_inode = 0;
    int idle_seconds = 0;   // how long it waits without a run
    long seconds_left = 0;  // until it exits, counted from its last use
    std::string stale;      // why a record was found but not trusted (and removed)
};

// The caller's keepers, each record verified against /proc; stale records are removed.
std::vector<KeeperStatus> keeper_status();

// One line on the caller's keeper for `mapping` (verified, stale records removed), or why runs do
// not use one (root, no sub-id range, KARAPACE_KEEPER_IDLE=0): for `doctor` and `inspect`.
std::string describe_keeper(IdMapping mapping);

// Ends the caller's keepers (sessions already in their namespaces keep running). Returns how many.
int stop_keepers();

// For the sandbox: a descriptor of the caller's kept user namespace for `mapping`, starting a
// keeper (its maps written with `plan`) when none is alive; an empty descriptor when keepers are
// off or cannot be used here (then the caller makes a namespace of its own).
struct IdMapPlan;
UniqueFd kept_user_namespace(IdMapping mapping, const IdMapPlan& plan);

}  // namespace karapace::sandbox
