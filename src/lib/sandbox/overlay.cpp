// Step: the root filesystem, an overlay of the environment's layers mounted inside the user
// namespace. `userxattr` keeps overlay metadata in user.overlay.* xattrs (the trusted.* ones
// need real root; without it removing a lower directory fails with EIO). Layer paths are passed as
// /proc/self/fd/N of directories opened in advance, so commas, colons or a hidden /tmp in a path
// cannot break the option string.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "karapace/util/error.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/steps.hpp"

namespace karapace::sandbox {

namespace {

UniqueFd open_dir(const std::string& path, const char* what) {
    // Not O_CLOEXEC: fuse-overlayfs, if it is needed, opens the same /proc/self/fd paths.
    UniqueFd fd(::open(path.c_str(), O_PATH | O_DIRECTORY));
    if (!fd)
        throw_errno(Errc::runtime, std::string("cannot open the ") + what + " directory " + path);
    return fd;
}

std::string fd_path(const UniqueFd& fd) { return "/proc/self/fd/" + std::to_string(fd.get()); }

std::string options(const OverlaySources& src, const std::string& upper, const std::string& work) {
    std::string lower;
    for (const auto& fd : src.lowers) {
        if (!lower.empty()) lower += ':';
        lower += fd_path(fd);
    }
    return "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
}

bool run_fuse_overlayfs(const std::string& opts, const std::string& mountpoint) {
    auto exe = find_program("fuse-overlayfs");
    if (!exe) return false;
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 1);
        ::execl(exe->c_str(), exe->c_str(), "-o", opts.c_str(), mountpoint.c_str(), nullptr);
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

OverlaySources open_overlay_sources(const SandboxSpec& spec) {
    if (spec.lower_dirs.empty())
        throw Error(Errc::runtime, "the sandbox has no root filesystem layers",
                    "the environment's base image is missing: rebuild it");
    OverlaySources src;
    for (const auto& dir : spec.lower_dirs)
        src.lowers.push_back(open_dir(dir, "layer"));
    if (!spec.read_only) {
        if (spec.upper_dir.empty() || spec.work_dir.empty())
            throw Error(Errc::runtime, "a writable sandbox needs an upper and a work directory");
        src.upper = open_dir(spec.upper_dir, "upper");
        src.work = open_dir(spec.work_dir, "overlay work");
    }
    return src;
}

bool mount_overlay(const OverlaySources& src, const std::string& mountpoint,
                   const std::string& scratch) {
    std::string upper, work;
    if (src.upper) {
        upper = fd_path(src.upper);
        work = fd_path(src.work);
    } else {
        upper = scratch + "/upper";
        work = scratch + "/work";
        ::mkdir(upper.c_str(), 0755);
        ::mkdir(work.c_str(), 0755);
    }
    std::string opts = options(src, upper, work);
    if (::mount("overlay", mountpoint.c_str(), "overlay", MS_NOSUID | MS_NODEV,
                (opts + ",userxattr").c_str()) == 0)
        return false;
    int err = errno;
    // The kernel refused (too old for userxattr, or a filesystem overlayfs cannot use):
    // fuse-overlayfs does the same in user space when /dev/fuse is usable.
    if (::access("/dev/fuse", R_OK | W_OK) == 0 && run_fuse_overlayfs(opts, mountpoint))
        return true;
    throw Error(Errc::runtime,
                "cannot mount the overlay root (" + std::to_string(src.lowers.size()) +
                    " layers) at " + mountpoint + ": " + std::strerror(err),
                "kernel overlayfs in a user namespace needs Linux 5.11; otherwise install "
                "fuse-overlayfs and make /dev/fuse usable; `karapace doctor` shows which works");
}

void seal_root_read_only() {
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) != 0)
        throw_errno(Errc::runtime, "cannot make the frozen environment's root read-only");
}

}  // namespace karapace::sandbox
