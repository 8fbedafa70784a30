// What the OCI runtime binds from the run's stage, made by the run's child (the caller inside its
// user and mount namespaces): clones of the plan's bind sources, and directories standing in for
// a tmpfs. The runtime runs as root of the namespace and only ever sees these.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "runtime/oci.hpp"

namespace karapace::runtime {

namespace {

int openat2_fd(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve) {
    struct open_how how {};
    how.flags = flags | O_CLOEXEC;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

[[noreturn]] void fail(const sandbox::MountOp& op, const std::string& what, int err) {
    std::string hint;
    if (!op.no_symlinks) hint = "the host path may have changed while starting; try again";
    if (op.no_symlinks && err == ELOOP)
        hint = "a component of " + op.source +
               " is a symlink now; mount sources are resolved when checked and must not change";
    throw Error(err == EACCES || err == EPERM ? Errc::permission : Errc::runtime,
                what + " for " + op.why + ": " + std::strerror(err), hint);
}

}  // namespace

// A bind's source, made a mount of this namespace at `at` (on the stage) for the runtime to bind
// from, as the namespace sandbox's attach step takes it: cloned with its submounts by this
// process, which is the caller inside the namespace (the runtime runs as root of the namespace,
// which a host directory of mode 0700 or an unmapped group keeps out), and restricted (read-only,
// nosuid, nodev) before the runtime sees it. A manifest mount's path is opened without following
// symlinks, so one swapped in since the engine checked it is refused; what the runtime binds is
// the clone, whatever happens to the host path afterwards. (A descriptor's /proc/<pid>/fd path
// would not do: its mount belongs to this mount namespace, and the kernel refuses to bind it in
// the runtime's own, EINVAL.) False when an optional source does not exist.
bool stage_bind_source(const sandbox::MountOp& op, const std::string& at) {
    UniqueFd path(op.no_symlinks ? openat2_fd(AT_FDCWD, op.source, O_PATH,
                                              RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)
                                 : ::open(op.source.c_str(), O_PATH | O_CLOEXEC));
    if (!path && errno == ENOENT && op.optional) return false;
    if (!path) fail(op, "cannot open " + op.source, errno);
    UniqueFd tree(::open_tree(path.get(), "",
                              AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE));
    if (!tree) fail(op, "cannot clone the mount of " + op.source, errno);
    struct mount_attr attr {};
    if (op.read_only) attr.attr_set |= MOUNT_ATTR_RDONLY;
    if (op.nosuid) attr.attr_set |= MOUNT_ATTR_NOSUID;
    if (op.nodev) attr.attr_set |= MOUNT_ATTR_NODEV;
    if (op.noexec) attr.attr_set |= MOUNT_ATTR_NOEXEC;
    if (attr.attr_set &&
        ::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
        fail(op, "cannot restrict the mount of " + op.source, errno);
    struct stat st {};
    if (::fstat(path.get(), &st) != 0) fail(op, "cannot look at " + op.source, errno);
    int made =
        S_ISDIR(st.st_mode) ? ::mkdir(at.c_str(), 0700) : ::mknod(at.c_str(), S_IFREG | 0600, 0);
    if (made != 0) fail(op, "cannot create " + at, errno);
    if (::move_mount(tree.get(), "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0)
        fail(op, "cannot mount " + op.source + " at " + at, errno);
    return true;
}

void stage_tmpfs_directory(const sandbox::MountOp& op, const std::string& at, mode_t mode) {
    // chmod: mkdir's mode passes through the umask, and a sticky bit not at all.
    if (::mkdir(at.c_str(), 0700) != 0 || ::chmod(at.c_str(), mode) != 0)
        fail(op, "cannot create " + at, errno);
}

}  // namespace karapace::runtime
