// The mount plan of a sandbox: every filesystem the container sees besides its overlay root, in
// the order they are attached (parents before children). Building the plan is pure — it asks a
// HostView what exists — so the policy (what is shared, what is hidden) is unit-tested without
// namespaces; attaching it happens in the sandbox child (mounts.cpp).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "karapace/sandbox/spec.hpp"

namespace karapace::sandbox {

enum class FileKind { directory, regular, socket, character, symlink, other };

// What the planner may know about the host, injectable for tests.
struct HostView {
    uid_t uid = 0;
    gid_t gid = 0;
    std::string user;   // name of uid
    std::string home;   // $HOME
    std::string shell;  // login shell from passwd or $SHELL
    // The terminal on our standard input (ttyname), empty when it is not one.
    std::string terminal;
    std::function<std::optional<std::string>(const std::string&)> getenv;
    // Kind of the file at a host path (following symlinks), nullopt when it does not exist.
    std::function<std::optional<FileKind>(const std::string&)> probe;
    // Contents of a small host file, nullopt when unreadable.
    std::function<std::optional<std::string>(const std::string&)> read;

    static HostView current();  // the real host, for the calling process
};

struct MountOp {
    enum class Kind {
        bind,      // host `source` (file or directory) onto `target`
        tmpfs,     // new tmpfs, `options` as data
        proc,      // new procfs of the sandbox's pid namespace
        devpts,    // new devpts instance
        mqueue,    // new mqueue of the sandbox's ipc namespace
        sysfs,     // new sysfs (needs the sandbox's own network namespace)
        symlink,   // `target` -> `source`, created on a tmpfs of ours
        file,      // a generated file with `source` as contents, bound read-only
        passwd,    // the image's /etc/passwd with the user's entry `source` put over its own
        group,     // the same for /etc/group
        shadow,    // the same for /etc/shadow (the user's entry, so PAM's account check passes)
        readonly,  // `target` of the new root (a kernel interface below /proc) bound read-only
        mask,      // `target` hidden: /dev/null over a file, an empty read-only tmpfs over a dir
    };
    Kind kind = Kind::bind;
    std::string source;
    std::string target;  // absolute path inside the container
    std::string options;
    bool read_only = false;
    bool optional = false;     // a missing source is skipped, not an error
    bool no_symlinks = false;  // the source path must not contain a symlink (manifest mounts)
    bool nosuid = true;
    bool nodev = true;
    bool noexec = false;
    bool needs_parent = false;  // only when the target's directory exists in the image
    // A generated file's mode; it belongs to container root where that id is mapped.
    unsigned file_mode = 0644;
    std::string why;  // what the mount is for, quoted in errors ("Wayland socket")
};

// A file the root filesystem shows in place of the image's, from a read-only layer of the
// sandbox's own put on top of the environment's layers: nothing is written to them, and unlike a
// file bound over the image's it can still be replaced inside (ldconfig renames a new
// /etc/ld.so.cache over the old one, which a mount point would refuse).
struct RootFile {
    std::string path;  // absolute, inside the container
    std::string content;
    bool directory = false;  // an empty directory instead of a file
    std::string symlink;     // when set, a symbolic link to this instead of a file
    unsigned mode = 0;       // a directory's permission bits; 0 is 0755
};

struct MountPlan {
    std::vector<MountOp> ops;
    std::vector<RootFile> root_files;
    // Where the mounts go, in a read-only layer of the sandbox's own put *below* the environment's
    // layers: a path the image has wins, and a missing mount point is found there instead of being
    // created in the writable layer, so a plain run leaves that layer (diff, commit, push)
    // untouched.
    std::vector<RootFile> mount_points;
    // Mount points that a layer hides from that bottom layer (their parent is an opaque directory
    // above it, as /etc/sudoers.d is when a package made it): in a layer just below the writable
    // one instead, with the directories on their way given the modes the layers show for them.
    std::vector<RootFile> mount_points_above;
    std::string cwd;                     // working directory of the command
    std::vector<std::string> env_extra;  // variables implied by the mounts (XDG_DATA_DIRS, ...)
};

// The kernel interfaces an OCI runtime hides or makes read-only in every container (runc's and
// crun's generated specs): /proc/sys (so kernel.core_pattern cannot be written even by a root
// caller's sandbox, whose root is host root), /proc/sysrq-trigger, /proc/kcore, ... Both
// backends apply them; they cannot be undone inside (confine.hpp).
const std::vector<std::string>& masked_paths();
const std::vector<std::string>& readonly_paths();

// Everything a run mounts besides its root, for `spec` on `host`.
MountPlan plan_mounts(const SandboxSpec& spec, const HostView& host);

// Pieces of the plan, one per concern (devices.cpp, host.cpp).
void plan_devices(const SandboxSpec& spec, const HostView& host, MountPlan& plan);
void plan_host_integration(const SandboxSpec& spec, const HostView& host, MountPlan& plan);
// gpu.cpp: the NVIDIA driver's userspace for `gpu = true` (nvidia.hpp), below /run/host/nvidia.
void plan_gpu(const SandboxSpec& spec, const HostView& host, MountPlan& plan);

// Adds `dir` to a colon-separated search path in `env` (NAME=a:b entries): to the entry already
// there, else to a new one holding `defaults` first.
void append_search_dir(std::vector<std::string>& env, const std::string& name,
                       const std::string& defaults, const std::string& dir);

// The working directory inside: `cwd` when it lies in a path shared with the host (home or a
// manifest mount, translated to the container path), else `home`, else "/".
std::string plan_cwd(const SandboxSpec& spec, const HostView& host);

// /etc/passwd or /etc/group text with every line named like `entry` removed and `entry` appended.
std::string merge_account_entry(const std::string& image_text, const std::string& entry);

// /etc/hosts for the sandbox: the host's entries plus the sandbox hostname on 127.0.1.1.
std::string hosts_file(const std::optional<std::string>& host_hosts, const std::string& hostname);

}  // namespace karapace::sandbox
