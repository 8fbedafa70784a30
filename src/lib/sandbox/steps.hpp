// The steps a sandbox child performs, one file each, called in order by spawn.cpp. Everything
// here runs inside the new namespaces and reports failure as karapace::Error naming the path.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "karapace/sandbox/mounts.hpp"
#include "karapace/sandbox/spec.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

// overlay.cpp: the root filesystem. Layer directories are opened before the stage hides them.
struct OverlaySources {
    std::vector<UniqueFd> lowers;  // top first
    UniqueFd upper, work;          // empty when read-only
    bool volatile_upper = false;
    // Directories of the work directory that the mount (and the clearing of the volatile
    // marker) removes: held open, their blocks are freed when these close, not while starting.
    std::vector<UniqueFd> retired;
};
// Whether what this process creates is container root's already (its uid and gid are 0 where it
// runs: a sandbox started by root): the files the sandbox makes for container root need no chown.
bool makes_files_as_container_root();
// The host's boot id (empty when unreadable), read once per process. The volatile marker's check
// needs it; read in a sandbox's child, after its namespaces exist, /proc/sys's entries are looked
// up anew (about 50 µs), so a run reads it before the clone (prepare).
const std::string& host_boot_id();
// Opens the layers (O_PATH), and the upper and work directories of a writable run.
OverlaySources open_overlay_sources(const SandboxSpec& spec);
// What a writable run does to its work directory before the mount, through the descriptors
// open_overlay_sources opened (the stage may hide `work_dir`'s path by then): the volatile marker
// of the last mount checked and cleared, it and the old `work/work` held in `retired`. Not before
// the run's session is recorded: `commit`, `restore` and the next run go by the records.
void prepare_writable_layer(OverlaySources& src, const std::string& work_dir);
// Mounts the overlay at `mountpoint` (kernel overlayfs with userxattr; fuse-overlayfs when the
// kernel refuses). A read-only run gets a throwaway upper in `scratch` so mount points can be
// created; the root is made read-only after the mounts (seal_root_read_only). Returns true when
// fuse-overlayfs was used.
bool mount_overlay(const OverlaySources& src, const std::string& mountpoint,
                   const std::string& scratch);
// Writes `files` below `dir` (on the stage) and puts that directory on top of the layers (it
// hides what they have there) or below them (it only fills in what none of them has).
enum class LayerPlace { top, bottom };
void add_root_files_layer(OverlaySources& src, const std::string& dir,
                          const std::vector<RootFile>& files, LayerPlace place);
// The plan's root files on top and its mount points below, in directories under `stage`.
void add_own_layers(OverlaySources& src, const MountPlan& plan, const std::string& stage);
void seal_root_read_only();

// mounts.cpp (attach part): binds are cloned from the host before the stage hides it, then
// everything is attached below the new root, with targets resolved inside that root.
struct PreparedMounts {
    std::vector<UniqueFd> trees;  // one per plan op; empty for non-bind ops and skipped sources
};
PreparedMounts open_mount_sources(const MountPlan& plan);
// The plan's ops [from, to), in order (all of them by default). `scratch` is a directory of the
// sandbox's own tmpfs that holds the generated files and the directories bound where the plan
// asks for an empty tmpfs or hides a directory; empty where there is none (the /proc guards of a
// run beside a session), which then gets a tmpfs of its own for each.
void attach_mounts(const MountPlan& plan, PreparedMounts& prepared, int root_fd,
                   const std::string& scratch, std::size_t from = 0,
                   std::size_t to = static_cast<std::size_t>(-1));
// Reading the image below the new root (openat2 RESOLVE_IN_ROOT: symlinks stay inside it).
std::string read_in_root(int root_fd, const std::string& path);
bool exists_in_root(int root_fd, const std::string& path);
// What a Kind::passwd or Kind::group op binds: the image's file with the user's entry put over
// its own (the login shell falls back to /bin/sh when the image lacks the host's).
std::string account_file_text(int root_fd, const MountOp& op);
// pivot_root into `root`, detaching the old root; the cwd becomes "/".
void pivot_into(const std::string& root);

// net.cpp: the sandbox's own network namespace, its loopback device up. With `beside`, the
// constructor has a process that shares this one's memory and descriptors start making it (where
// the build can: x86-64, aarch64), while this one goes on with its steps; enter() waits for it
// and moves this process in (or, without, makes it there and then). It must come before the
// first mount that shows the namespace (a new sysfs). A maker not waited for is killed and
// reaped.
class NetworkNamespace {
public:
    explicit NetworkNamespace(bool beside);
    ~NetworkNamespace();
    void enter();
    NetworkNamespace(const NetworkNamespace&) = delete;
    NetworkNamespace& operator=(const NetworkNamespace&) = delete;

private:
    static int make(void* self);
    int reap() noexcept;
    void* stack_ = nullptr;
    pid_t pid_ = -1;
    // Written by the maker, read once it is reaped.
    int ns_fd_ = -1;
    int error_ = 0;
    const char* failed_ = nullptr;
};

}  // namespace karapace::sandbox
