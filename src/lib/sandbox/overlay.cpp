// Step: the root filesystem, an overlay of the environment's layers mounted inside the user
// namespace. `userxattr` keeps overlay metadata in user.overlay.* xattrs (the trusted.* ones
// need real root; without it removing a lower directory fails with EIO). Layer paths are passed as
// /proc/self/fd/N of directories opened in advance, so commas, colons or a hidden /tmp in a path
// cannot break the option string.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "karapace/sandbox/overlay.hpp"
#include "karapace/sandbox/userns.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/cpus.hpp"
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

// KARAPACE_OVERLAY=fuse skips kernel overlayfs: for hosts whose kernel mounts it but misbehaves,
// and so the fallback can be exercised where the kernel would not refuse.
bool fuse_requested() {
    const char* v = ::getenv("KARAPACE_OVERLAY");
    return v != nullptr && std::string_view(v) == "fuse";
}

// Runs fuse-overlayfs, which forks its daemon and exits 0 once the mount is in place. What it
// prints (it warns about mount options it ignores) is kept for the error message only.
bool run_fuse_overlayfs(const std::string& opts, const std::string& mountpoint,
                        std::string& diagnostics) {
    auto exe = find_program("fuse-overlayfs");
    if (!exe) {
        diagnostics = "fuse-overlayfs is not installed";
        return false;
    }
    UniqueFd out(::memfd_create("fuse-overlayfs-output", MFD_CLOEXEC));
    pid_t pid = ::fork();
    if (pid < 0) return false;
    if (pid == 0) {
        // It serves the sandbox's files for as long as the sandbox lives.
        widen_to_caller_cpus();
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(out ? out.get() : null, 1);
        ::dup2(out ? out.get() : null, 2);
        ::execl(exe->c_str(), exe->c_str(), "-o", opts.c_str(), mountpoint.c_str(), nullptr);
        ::_exit(127);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
    if (out) {
        char buf[1024];
        ssize_t n = ::pread(out.get(), buf, sizeof buf - 1, 0);
        if (n > 0) diagnostics.assign(buf, static_cast<std::size_t>(n));
        while (!diagnostics.empty() && diagnostics.back() == '\n')
            diagnostics.pop_back();
    }
    return false;
}

// Opens `path` below the work directory so that removing it does not free its blocks yet: the
// directory's inode lives until the descriptor is closed. On a filesystem mounted with `discard`
// freeing a block waits for the device, and the overlay's mount removes and remakes work/work
// every time; the sandbox's init holds these descriptors until it exits, after the run.
void retire_later(int work_fd, const char* path, std::vector<UniqueFd>& retired) {
    UniqueFd fd(::openat(work_fd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd) retired.push_back(std::move(fd));
}

// overlayfs leaves work/work/incompat/volatile behind after every volatile mount and refuses the
// next mount while it exists, because after a crash the upper layer cannot be trusted. We note
// the boot a volatile mount happened in: a marker from this same boot means the host did not go
// down since (a killed process loses nothing that was written), so it is cleared.
void prepare_volatile(int work_fd, const std::string& work_dir, bool mounting_volatile,
                      std::vector<UniqueFd>& retired) {
    constexpr const char* kBootFile = "karapace-volatile-boot";
    const std::string& current = host_boot_id();
    // Read through the directory's descriptor: by now the stage may hide its path.
    std::string recorded;
    if (UniqueFd boot(::openat(work_fd, kBootFile, O_RDONLY | O_CLOEXEC)); boot) {
        char buf[64];
        ssize_t n = ::read(boot.get(), buf, sizeof buf);
        if (n > 0) recorded.assign(buf, static_cast<std::size_t>(n));
    }
    struct stat st {};
    if (::fstatat(work_fd, "work/incompat/volatile", &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (current.empty() || recorded != current)
            throw Error(Errc::runtime,
                        "the writable layer " + work_dir +
                            " was mounted without syncing when the host went down; it may be "
                            "inconsistent",
                        "check the environment's changes (karapace diff), then remove " + work_dir +
                            "/work/incompat/volatile to use it again, or restore a "
                            "snapshot");
        // The overlay makes these directories with mode 0: only a caller without
        // CAP_DAC_OVERRIDE over them needs them made writable first.
        if (::unlinkat(work_fd, "work/incompat/volatile/dirty", 0) != 0 && errno == EACCES) {
            ::fchmodat(work_fd, "work", 0700, 0);
            ::fchmodat(work_fd, "work/incompat", 0700, 0);
            ::fchmodat(work_fd, "work/incompat/volatile", 0700, 0);
            ::unlinkat(work_fd, "work/incompat/volatile/dirty", 0);
        }
        retire_later(work_fd, "work/incompat/volatile", retired);
        retire_later(work_fd, "work/incompat", retired);
        if (::unlinkat(work_fd, "work/incompat/volatile", AT_REMOVEDIR) != 0)
            throw_errno(Errc::runtime, "cannot clear the volatile marker in " + work_dir);
        ::unlinkat(work_fd, "work/incompat", AT_REMOVEDIR);
    }
    if (!mounting_volatile || recorded == current) return;  // no write (and no journal traffic)
    int fd = ::openat(work_fd, kBootFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw_errno(Errc::runtime, "cannot write " + work_dir + "/" + kBootFile);
    UniqueFd owner(fd);
    write_all(fd, current, work_dir + "/" + kBootFile);
}

}  // namespace

bool makes_files_as_container_root() { return ::geteuid() == 0 && ::getegid() == 0; }

const std::string& host_boot_id() {
    static const std::string id = [] {
        try {
            return read_file_limited("/proc/sys/kernel/random/boot_id", 64);
        } catch (const Error&) {
            return std::string();
        }
    }();
    return id;
}

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
        src.volatile_upper = spec.volatile_upper;
    }
    return src;
}

void prepare_writable_layer(OverlaySources& src, const std::string& work_dir) {
    if (!src.work) return;
    // Also before a normal mount: overlayfs refuses any mount while the marker exists.
    prepare_volatile(src.work.get(), work_dir, src.volatile_upper, src.retired);
    retire_later(src.work.get(), "work", src.retired);  // the mount replaces it
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
    std::string kernel_opts = opts + ",userxattr";
    if (src.volatile_upper) kernel_opts += ",volatile";
    int err = 0;
    if (!fuse_requested()) {
        // Not nosuid: sudo inside is setuid root (root inside is a sub-id). Commands that must
        // not gain anything run with no_new_privs instead (spawn.cpp).
        if (::mount("overlay", mountpoint.c_str(), "overlay", MS_NODEV, kernel_opts.c_str()) == 0)
            return false;
        err = errno;
    } else if (::access("/dev/fuse", R_OK | W_OK) != 0) {
        throw_errno(Errc::runtime, "KARAPACE_OVERLAY=fuse, but /dev/fuse is not usable");
    }
    // The kernel refused (too old for userxattr, or a filesystem overlayfs cannot use):
    // fuse-overlayfs does the same in user space when /dev/fuse is usable.
    std::string diagnostics;
    if (::access("/dev/fuse", R_OK | W_OK) == 0 &&
        run_fuse_overlayfs(opts, mountpoint, diagnostics))
        return true;
    if (err == 0)
        throw Error(Errc::runtime,
                    "fuse-overlayfs could not mount the overlay root at " + mountpoint +
                        (diagnostics.empty() ? "" : ": " + diagnostics),
                    "check that fuse-overlayfs is installed; unset KARAPACE_OVERLAY to use "
                    "kernel overlayfs");
    throw Error(Errc::runtime,
                "cannot mount the overlay root (" + std::to_string(src.lowers.size()) +
                    " layers) at " + mountpoint + ": " + std::strerror(err),
                "kernel overlayfs in a user namespace needs Linux 5.11; otherwise install "
                "fuse-overlayfs and make /dev/fuse usable; `karapace doctor` shows which works");
}

void add_root_files_layer(OverlaySources& src, const std::string& dir,
                          const std::vector<RootFile>& files, LayerPlace place) {
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        throw_errno(Errc::runtime, "cannot make the sandbox's own layer " + dir);
    // Owned by container root where it has an id (not in a single-id namespace): these stand in
    // for what an image would hold.
    const bool chown = !makes_files_as_container_root();
    auto own = [chown](const std::string& path) {
        if (chown) ::fchownat(AT_FDCWD, path.c_str(), 0, 0, AT_SYMLINK_NOFOLLOW);
    };
    std::vector<std::string> made;  // the directories on the way, each made once (/etc for six)
    for (const auto& f : files) {
        std::string path = dir;
        std::size_t pos = 1;
        for (auto slash = f.path.find('/', pos); slash != std::string::npos;
             slash = f.path.find('/', pos)) {
            path += "/" + f.path.substr(pos, slash - pos);
            pos = slash + 1;
            if (std::find(made.begin(), made.end(), path) != made.end()) continue;
            if (::mkdir(path.c_str(), 0755) == 0)
                own(path);
            else if (errno != EEXIST)
                throw_errno(Errc::runtime, "cannot make " + path);
            made.push_back(path);
        }
        path += "/" + f.path.substr(pos);
        if (f.directory) {
            if (::mkdir(path.c_str(), 0755) == 0)
                own(path);
            else if (errno != EEXIST)
                throw_errno(Errc::runtime, "cannot make " + path);
            if (f.mode != 0 && ::chmod(path.c_str(), f.mode) != 0)
                throw_errno(Errc::runtime, "cannot set the mode of " + path);
            continue;
        }
        if (!f.symlink.empty()) {
            if (::symlink(f.symlink.c_str(), path.c_str()) == 0)
                own(path);
            else if (errno != EEXIST)
                throw_errno(Errc::runtime, "cannot make the symlink " + path);
            continue;
        }
        UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
        if (!fd) throw_errno(Errc::runtime, "cannot write " + path);
        write_all(fd.get(), f.content, path);
        if (chown) ::fchown(fd.get(), 0, 0);
    }
    auto layer = open_dir(dir, "sandbox's own layer");
    if (place == LayerPlace::top)
        src.lowers.insert(src.lowers.begin(), std::move(layer));
    else
        src.lowers.push_back(std::move(layer));
}

void add_own_layers(OverlaySources& src, const MountPlan& plan, const std::string& stage) {
    if (!plan.root_files.empty())
        add_root_files_layer(src, stage + "/layer", plan.root_files, LayerPlace::top);
    if (!plan.mount_points.empty())
        add_root_files_layer(src, stage + "/mount-points", plan.mount_points, LayerPlace::bottom);
    if (!plan.mount_points_above.empty())
        add_root_files_layer(src, stage + "/mount-points-above", plan.mount_points_above,
                             LayerPlace::top);
}

void seal_root_read_only() {
    struct mount_attr attr {};
    attr.attr_set = MOUNT_ATTR_RDONLY;
    if (::mount_setattr(AT_FDCWD, "/", 0, &attr, sizeof attr) != 0)
        throw_errno(Errc::runtime, "cannot make the frozen environment's root read-only");
}

const char* overlay_kind_name(OverlayKind kind) noexcept {
    switch (kind) {
    case OverlayKind::kernel: return "kernel overlayfs (userxattr)";
    case OverlayKind::fuse: return "fuse-overlayfs";
    case OverlayKind::none: return "none";
    }
    return "none";
}

OverlayKind probe_overlay() {
    char tmpl[] = "/tmp/karapace-overlay-probe.XXXXXX";
    if (!::mkdtemp(tmpl)) return OverlayKind::none;
    std::string dir = tmpl;
    for (const char* sub : {"/lower1", "/lower2", "/upper", "/work", "/merged"})
        ::mkdir((dir + sub).c_str(), 0755);
    int status = 3;
    try {
        status = run_in_userns(
            [&]() -> int {
                // The mount is tried by the init of a pid namespace of its own: a fuse-overlayfs
                // daemon started by the probe then ends with it instead of outliving the probe.
                if (::unshare(CLONE_NEWPID) != 0) return 3;
                pid_t init = ::fork();
                if (init < 0) return 3;
                if (init == 0) {
                    try {
                        OverlaySources src;
                        src.lowers.push_back(open_dir(dir + "/lower1", "layer"));
                        src.lowers.push_back(open_dir(dir + "/lower2", "layer"));
                        src.upper = open_dir(dir + "/upper", "upper");
                        src.work = open_dir(dir + "/work", "work");
                        bool fuse = mount_overlay(src, dir + "/merged", dir);
                        ::umount2((dir + "/merged").c_str(), MNT_DETACH);
                        ::_exit(fuse ? 1 : 0);
                    } catch (...) {
                        ::_exit(3);
                    }
                }
                int st = 0;
                while (::waitpid(init, &st, 0) < 0 && errno == EINTR) {}
                return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
            },
            IdMapping::keep_id);
    } catch (const Error&) {
        status = 3;
    }
    // The work dir holds a mode-000 directory the overlay made; the owner may still remove it.
    run_process({"rm", "-rf", dir});
    if (status == 0) return OverlayKind::kernel;
    if (status == 1) return OverlayKind::fuse;
    return OverlayKind::none;
}

}  // namespace karapace::sandbox
