// What a sandboxed run needs to know: the layers to overlay, the identity, the isolation and
// integration switches, extra mounts, the command and its environment, limits and the session
// directory. Filled in by the runtime layer from an environment and a manifest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/sandbox/userns.hpp"
#include "karapace/util/error.hpp"

namespace karapace::sandbox {

// A manifest mount, already resolved and checked against the allowlist: an absolute canonical
// host path (no symlink component; a path that turned into a symlink since is refused), the path
// inside the container, and read-only or not.
struct BindMount {
    std::string host_path;
    std::string container_path;
    bool read_only = false;
};

struct Limits {
    std::uint64_t memory_max_bytes = 0;  // 0: no limit
    std::uint64_t cpu_weight = 0;        // cgroup v2 cpu.weight 1..10000, 0: default
    std::uint64_t cpu_shares = 0;        // cgroup v1 cpu.shares 2..262144, 0: from cpu_weight
    std::uint64_t tasks_max = 0;         // 0: no limit
    bool any() const noexcept { return memory_max_bytes || cpu_weight || tasks_max; }
};

struct SandboxSpec {
    // Overlay layers, top first: unpacked layers, then the base rootfs last.
    std::vector<std::string> lower_dirs;
    std::string upper_dir;   // writable layer; ignored when read_only
    std::string work_dir;    // overlayfs work dir on the same filesystem as upper_dir
    bool read_only = false;  // frozen environment: writes to the root fail with EROFS
    // Mount the overlay `volatile`: no syncfs of the upper filesystem when the sandbox ends
    // (which costs milliseconds to tens of milliseconds on a busy disk) and no fsync on copy-up.
    // Writes reach the disk by normal writeback instead; after a host crash during or shortly
    // after the run the writable layer may be inconsistent, and the next run refuses it.
    bool volatile_upper = false;

    std::string hostname;  // UTS name and /etc/hostname; also KARAPACE_ENV
    IdMapping mapping = IdMapping::keep_id;
    bool network_isolation = false;  // own network namespace with only `lo`
    bool gpu = false;                // /dev/dri and /dev/nvidia* when present
    bool audio = false;              // /dev/snd when present
    bool host_integration = true;    // $HOME, display, audio, bus, ssh agent, fonts; off for build
    std::vector<BindMount> mounts;

    std::vector<std::string> argv;  // argv[0] is looked up in the container's PATH
    std::vector<std::string> env;   // --env K=V additions (override the allowlist)
    // The manifest's [env] as NAME=value, `$NAME` references not yet expanded: applied after the
    // sandbox's own variables (which the references read) and before `env`.
    std::vector<std::string> manifest_env;
    std::string cwd;  // the caller's cwd; empty: ours
    // The base image's config.Env ("NAME=value", taken as written): over the sandbox's defaults
    // and the host's variables, under `mounts`' and the manifest's; HOME, USER and the like stay.
    std::vector<std::string> image_env;
    // The base image's WorkingDir: where a command starts when `cwd` is not shared with the host.
    std::string image_workdir;
    Limits limits;
    std::string session_dir;  // env/<id>/sessions; empty: the run is not recorded
    // When set, the host pid of the session's init (the id the sessions list shows) is written
    // here as a pid_t once the session is recorded; a detached launch returns it.
    int session_report_fd = -1;
    // The calling process exits when the run returns (the CLI's enter and exec): a new sandbox
    // with the user's own id (IdMapping::keep_id) is then started from the kept user namespace
    // entered by the caller itself, which it cannot leave again, instead of through a helper
    // process that enters it (one process and two hand-overs less per run).
    bool caller_exits = false;
    // Run beside a live session of the same mapping by joining its user, mount, uts, ipc (and
    // network) namespaces, in a pid namespace of its own, instead of mounting the overlay a
    // second time: two overlay mounts of one writable layer do not see each other's changes
    // consistently, and a second mount resets the work directory the first one copies up through.
    bool share_running = false;
    // Seconds the sandbox stays ready for the next run once the command has ended (a new,
    // recorded sandbox that returns on init's report only; session.hpp, linger_seconds). 0: off.
    int linger = 0;
    bool interactive = false;  // hand the terminal to the command (job control) + OSC markers
    // Set PR_SET_NO_NEW_PRIVS for the command also when it runs as the user: setuid programs
    // (sudo) and file capabilities inside then raise nothing. Container-root runs always have it.
    bool no_new_privileges = false;
    // Descriptors the command gets as stdin/stdout/stderr instead of ours (-1: inherit). Used to
    // capture a build step's output or a D-Bus Exec's.
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    // Under systemd. Socket activation: our descriptors 3…3+listen_fds-1 reach the command at the
    // same numbers, with LISTEN_FDS, LISTEN_FDNAMES (when set) and LISTEN_PID, the command's own
    // pid in its namespace. Notification: a datagram socket on the host (NotifyRelay's) bound at
    // /run/host/notify, and NOTIFY_SOCKET naming it.
    int listen_fds = 0;
    std::string listen_fdnames;
    std::string notify_socket;
};

// Where the notification socket is inside (the sandbox's own /run).
inline constexpr std::string_view kNotifySocketInside = "/run/host/notify";

enum class LimitMechanism { none, systemd_scope, cgroup, cgroup_v1, rlimit };
const char* limit_mechanism_name(LimitMechanism m) noexcept;

struct RunResult {
    // The command's exit status; 128 + signal when it was killed; 126 not executable, 127 not
    // found, 125 the sandbox failed before the command ran (then `error` says why).
    int status = 0;
    std::optional<Error> error;
    LimitMechanism limits = LimitMechanism::none;
};

}  // namespace karapace::sandbox
