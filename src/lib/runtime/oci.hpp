// The OCI backend: enter/exec of an environment with `[runtime] backend = "oci"` run through an
// OCI runtime (runc, or crun). Our code makes the user and mount namespaces and mounts the
// environment's overlay exactly as the namespace sandbox does; the runtime gets a bundle whose
// config.json says what the sandbox's spec says, and creates the container inside them.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "karapace/sandbox/mounts.hpp"
#include "karapace/sandbox/spec.hpp"

namespace karapace::runtime {

// Who the command is inside, and whether the runtime must make a user namespace of its own
// (only for a user without sub-ids asking for keep-id: the outer namespace then maps its uid to
// container root, and the runtime maps `uid` back onto it).
struct OciIdentity {
    unsigned uid = 0, gid = 0;
    bool nested_userns = false;
};

// What the config refers to on the staging filesystem.
struct OciBundlePaths {
    std::string root;                // the mounted overlay
    std::vector<std::string> files;  // per plan op: a generated file, or "" (see oci_config)
    std::vector<std::string> binds;  // per plan op: the source to bind (absent optional: ""),
                                     // or a tmpfs op's directory (tmpfs_as_directory)
    std::string started_fifo;        // the createRuntime hook writes the state JSON here
};

// config.json (OCI runtime spec 1.0) for running spec.argv with `env` and the mount plan.
// Generated files (Kind::file/passwd/group) are bound from `paths.files[i]`, binds from
// `paths.binds[i]` (a manifest mount's is its clone on the stage; an empty one is left out).
// Symlink ops are left out: the runtime makes /dev's links itself. Pure; unit-tested.
boost::json::object oci_config(const sandbox::SandboxSpec& spec, const sandbox::MountPlan& plan,
                               const std::vector<std::string>& env, const OciIdentity& who,
                               const OciBundlePaths& paths);

// A tmpfs op the runtime would get wrong, as a directory of the stage with this mode to bind
// instead: runc 1.1 gives a tmpfs the mode of the directory it is mounted on when that exists
// (every mount point does, in the sandbox's own layer), not its `mode=`; $XDG_RUNTIME_DIR must be
// 0700. nullopt for a tmpfs of mode 0755 (the mount points' own), which stays a tmpfs.
std::optional<mode_t> tmpfs_as_directory(const sandbox::MountOp& op);

// oci_stage.cpp, in the run's child: mounts the source of a bind op at `at` on the stage, cloned
// with its submounts and restricted as the op says (a manifest mount's path opened without
// following symlinks). False when an optional source does not exist; throws Error otherwise.
bool stage_bind_source(const sandbox::MountOp& op, const std::string& at);
// Makes the directory of `mode` at `at` that stands in for a tmpfs op (tmpfs_as_directory).
void stage_tmpfs_directory(const sandbox::MountOp& op, const std::string& at, mode_t mode);

// The exit status for a runtime that exited with `status` after writing `log` (its JSON log):
// 127/126 when it could not execute the command, 125 when it failed itself; `error` is set then.
int classify_runtime_exit(int status, const std::string& log, std::optional<Error>& error);

// The OCI runtime this run would use: $KARAPACE_OCI_RUNTIME (a name or a path), else runc, else
// crun. nullopt when none is installed.
std::optional<std::string> oci_runtime_path();

// Runs spec.argv with the OCI runtime; the contract of sandbox::run (statuses 125/126/127, the
// command's own status, stdio passed through, signals forwarded, the session recorded in
// spec.session_dir while it runs).
sandbox::RunResult run_oci(const sandbox::SandboxSpec& spec);

// Whether the OCI backend can run a container here with `runtime` (a path): runs /bin/true from
// the host's root, read-only, through the same steps. nullopt when it works, else why not.
std::optional<std::string> probe_oci_runtime(const std::string& runtime);

}  // namespace karapace::runtime
