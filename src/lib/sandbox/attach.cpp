// Step: attaching the mount plan below the new root. Sources are cloned as detached mount trees
// (open_tree) before anything is hidden, and a manifest source that has become a symlink since it
// was checked is refused. Targets are resolved with openat2(RESOLVE_IN_ROOT), so a symlink in the
// image can never point a mount outside the container; missing targets are created as the kind
// of file the source is (a socket is bound onto a file, never onto a directory). What goes right
// below a tmpfs the plan has just mounted (/dev) is made there by name, following no link.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "sandbox/steps.hpp"

namespace karapace::sandbox {

namespace {

using Kind = MountOp::Kind;

int openat2_fd(int dirfd, const std::string& path, std::uint64_t flags, std::uint64_t resolve) {
    struct open_how how {};
    how.flags = flags | O_CLOEXEC;
    how.resolve = resolve;
    return static_cast<int>(::syscall(SYS_openat2, dirfd, path.c_str(), &how, sizeof how));
}

[[noreturn]] void fail(const MountOp& op, const std::string& what, int err) {
    std::string hint;
    if (op.kind == Kind::bind && !op.no_symlinks)
        hint = "the host path may have changed while starting; try again";
    if (op.no_symlinks && err == ELOOP)
        hint = "a component of " + op.source +
               " is a symlink now; mount sources are resolved when checked and must not change";
    throw Error(err == EACCES || err == EPERM ? Errc::permission : Errc::runtime,
                what + " for " + op.why + ": " + std::strerror(err), hint);
}

// Creates the missing `name` in `parent` as a directory or an empty file, owned by container
// root when it is an intermediate directory. False when an optional item cannot be placed.
bool create_component(const MountOp& op, int parent, const std::string& name, bool directory,
                      bool last, const std::string& shown) {
    int rc = directory ? ::mkdirat(parent, name.c_str(), 0755)
                       : ::mknodat(parent, name.c_str(), S_IFREG | 0644, 0);
    if (rc != 0 && errno != EEXIST) {
        // An optional item whose place the image does not let us create is skipped.
        if (op.optional) return false;
        fail(op, "cannot create the mount point " + shown, errno);
    }
    // New directories belong to container root when it exists, not to the user (one that was
    // there is left as it is: below a fresh directory it may be a mount of the host's).
    if (rc == 0 && !last && !makes_files_as_container_root())
        ::fchownat(parent, name.c_str(), 0, 0, AT_SYMLINK_NOFOLLOW);
    return true;
}

// Directories the plan has just made empty (/dev, /run, the runtime directory): what the plan
// puts below them is made there by name, without looking for it first, and walked to without
// going through the image. One is dropped when a later step mounts on it or above it.
class FreshDirs {
public:
    struct Dir {
        std::string path;  // absolute, normalised
        UniqueFd fd;       // the directory, as mounted at `path`
    };

    void add(std::string path, UniqueFd fd) {
        if (fd) dirs_.push_back({std::move(path), std::move(fd)});
    }
    // The innermost one `target` is below, with the rest of its path; nullptr when none.
    const Dir* below(const std::string& target, std::string& rest) const {
        const Dir* found = nullptr;
        for (const auto& d : dirs_)
            if (target.size() > d.path.size() + 1 &&
                target.compare(0, d.path.size(), d.path) == 0 && target[d.path.size()] == '/' &&
                (!found || d.path.size() > found->path.size()))
                found = &d;
        if (found) rest = target.substr(found->path.size() + 1);
        return found;
    }
    // The one `path` is, or nullptr.
    const Dir* at(const std::string& path) const {
        for (const auto& d : dirs_)
            if (d.path == path) return &d;
        return nullptr;
    }
    void forget_if_covered(const std::string& target) {
        std::erase_if(dirs_, [&](const Dir& d) {
            return target == "/" || d.path == target ||
                   (d.path.compare(0, target.size(), target) == 0 && d.path[target.size()] == '/');
        });
    }

private:
    std::vector<Dir> dirs_;
};

// Walks `rest` (normalised, relative) below a fresh directory, making each missing component by
// name: a directory on the way, the kind asked for at the end. An empty fd when an optional item
// has no place; nullopt when something on the way is not a plain directory of ours (a symbolic
// link the plan made), and the target is resolved from the root instead.
std::optional<UniqueFd> walk_fresh(const MountOp& op, int dir, const std::string& rest,
                                   bool directory, const std::string& target) {
    UniqueFd at;
    std::size_t pos = 0;
    for (;;) {
        auto slash = rest.find('/', pos);
        bool last = slash == std::string::npos;
        std::string name = rest.substr(pos, last ? std::string::npos : slash - pos);
        int parent = at ? at.get() : dir;
        if (!create_component(op, parent, name, !last || directory, last, target))
            return UniqueFd();
        int fd = openat2_fd(parent, name, O_PATH, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
        if (fd < 0) return std::nullopt;
        at.reset(fd);
        if (last) return at;
        pos = slash + 1;
    }
}

// Resolves `target` inside the root, creating missing components (directories, and a file or
// directory at the end). Returns an O_PATH fd, or an empty fd when `needs_parent` and the parent
// does not exist in the image. Most targets exist (one system call), or are below a fresh
// directory (made there by name, two per component); other misses walk the path.
UniqueFd resolve_target(int root_fd, const MountOp& op, bool directory,
                        const FreshDirs* fresh = nullptr) {
    std::string target = lexically_absolute(op.target, "/");
    if (target == "/") return UniqueFd(::dup(root_fd));
    std::string rest;
    if (const auto* dir = fresh ? fresh->below(target, rest) : nullptr)
        if (auto fd = walk_fresh(op, dir->fd.get(), rest, directory, target)) return std::move(*fd);
    std::string relative = target.substr(1);
    int fd = openat2_fd(root_fd, relative, O_PATH, RESOLVE_IN_ROOT);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != ENOENT) {
        // Optional items (resolv.conf, hosts, ...) whose place in the image leads nowhere,
        // such as a dangling symlink in the writable layer, are left out.
        if (op.optional) return UniqueFd();
        fail(op, "cannot open the mount point " + target, errno);
    }
    auto slash = relative.rfind('/');
    if (slash != std::string::npos) {
        UniqueFd parent(
            openat2_fd(root_fd, relative.substr(0, slash), O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT));
        // The image has no such directory: nothing to walk for a mount that needs it.
        if (!parent && errno == ENOENT && op.needs_parent) return UniqueFd();
        if (parent) {
            std::string name = relative.substr(slash + 1);
            if (!create_component(op, parent.get(), name, directory, true, target))
                return UniqueFd();
            // Ours, just made in a directory resolved inside the root: no link to follow.
            fd = openat2_fd(parent.get(), name, O_PATH, RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH);
            if (fd < 0) {
                if (op.optional) return UniqueFd();
                fail(op, "cannot open the mount point " + target, errno);
            }
            return UniqueFd(fd);
        }
    }
    std::string prefix;
    UniqueFd parent;
    std::size_t pos = 1;
    while (pos <= target.size()) {
        slash = target.find('/', pos);
        if (slash == std::string::npos) slash = target.size();
        std::string name = target.substr(pos, slash - pos);
        bool last = slash == target.size();
        prefix += "/" + name;
        fd = openat2_fd(root_fd, prefix.substr(1), O_PATH, RESOLVE_IN_ROOT);
        if (fd < 0 && errno == ENOENT) {
            if (op.needs_parent && !last) return UniqueFd();
            if (!create_component(op, parent ? parent.get() : root_fd, name, !last || directory,
                                  last, prefix))
                return UniqueFd();
            fd = openat2_fd(root_fd, prefix.substr(1), O_PATH, RESOLVE_IN_ROOT);
        }
        if (fd < 0) {
            if (op.optional) return UniqueFd();
            fail(op, "cannot open the mount point " + prefix, errno);
        }
        parent.reset(fd);
        pos = slash + 1;
    }
    return parent;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

std::uint64_t attrs_of(const MountOp& op) {
    std::uint64_t a = 0;
    if (op.read_only) a |= MOUNT_ATTR_RDONLY;
    if (op.nosuid) a |= MOUNT_ATTR_NOSUID;
    if (op.nodev) a |= MOUNT_ATTR_NODEV;
    if (op.noexec) a |= MOUNT_ATTR_NOEXEC;
    return a;
}

void move_tree(const MountOp& op, const UniqueFd& tree, const UniqueFd& target) {
    struct mount_attr attr {};
    attr.attr_set = attrs_of(op);
    if (attr.attr_set &&
        ::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0)
        fail(op, "cannot restrict the mount of " + op.source, errno);
    if (::move_mount(tree.get(), "", target.get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0)
        fail(op, "cannot mount " + op.source + " at " + op.target, errno);
}

UniqueFd clone_tree(const MountOp& op, int dirfd, const char* path, unsigned flags) {
    int fd = ::open_tree(dirfd, path, flags | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
    if (fd < 0) fail(op, "cannot clone the mount of " + op.source, errno);
    return UniqueFd(fd);
}

bool is_dir(const UniqueFd& fd) {
    struct stat st {};
    return ::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode);
}

// False when an optional one was not mounted.
bool mount_new_fs(const MountOp& op, const char* type, int root_fd, const FreshDirs& fresh) {
    auto target = resolve_target(root_fd, op, true, &fresh);
    unsigned long flags = 0;
    if (op.nosuid) flags |= MS_NOSUID;
    if (op.nodev) flags |= MS_NODEV;
    if (op.noexec) flags |= MS_NOEXEC;
    if (op.read_only) flags |= MS_RDONLY;
    if (::mount(op.source.c_str(), fd_path(target.get()).c_str(), type, flags,
                op.options.empty() ? nullptr : op.options.c_str()) != 0) {
        if (op.optional) return false;
        fail(op, std::string("cannot mount a new ") + type + " at " + op.target, errno);
    }
    return true;
}

// A generated file: written on our scratch tmpfs, then bound read-only over the target; not
// written at all where the target has no place (an optional file whose directory the image
// lacks, such as /etc/sudoers.d).
void bind_generated(const MountOp& op, const std::string& content, int root_fd,
                    const std::string& scratch, std::size_t index) {
    auto target = resolve_target(root_fd, op, false);
    if (!target) return;
    std::string file = scratch + "/gen-" + std::to_string(index);
    {
        UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd) fail(op, "cannot write " + file, errno);
        if (::write(fd.get(), content.data(), content.size()) !=
            static_cast<ssize_t>(content.size()))
            fail(op, "cannot write " + file, errno);
        // Container root's (not where only the user's own id is mapped), with its mode.
        if (!makes_files_as_container_root()) ::fchown(fd.get(), 0, 0);
        ::fchmod(fd.get(), op.file_mode);
    }
    MountOp ro = op;
    ro.read_only = true;
    ro.source = file;
    move_tree(ro, clone_tree(ro, AT_FDCWD, file.c_str(), 0), target);
}

// The kernel interface at `op.target` in the new root, or nothing when this kernel has none.
UniqueFd interface_at(int root_fd, const MountOp& op) {
    return UniqueFd(openat2_fd(root_fd, op.target.substr(1), O_PATH,
                               RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
}

// A path of the new root bound onto itself read-only (and nosuid, nodev, noexec).
void bind_read_only_in_place(const MountOp& op, int root_fd) {
    auto at = interface_at(root_fd, op);
    if (!at) return;
    MountOp ro = op;
    ro.read_only = ro.nosuid = ro.nodev = ro.noexec = true;
    move_tree(ro, clone_tree(ro, at.get(), "", AT_EMPTY_PATH), at);
}

// A new, empty directory of our own tmpfs (the stage's scratch), `mode` applied: what the plan
// mounts a tmpfs for (/dev, /dev/shm, /run, the runtime directory) and what hides a directory is
// such a directory bound in place. Every mount of a tmpfs makes a superblock (a per-CPU lock, a
// shrinker, an inode and its dentry) and the namespace's end tears each down again; a bind of a
// directory of one that exists makes neither. The directory, cloned as a detached mount.
UniqueFd own_dir(const MountOp& op, const std::string& scratch, std::size_t index, mode_t mode) {
    std::string path = scratch + "/dir-" + std::to_string(index);
    if (::mkdir(path.c_str(), 0700) != 0 || ::chmod(path.c_str(), mode) != 0)
        fail(op, "cannot make " + path, errno);
    return clone_tree(op, AT_FDCWD, path.c_str(), 0);
}

// The mode a tmpfs's options give its root, when a mode is all they say (the plan's own); nullopt
// for anything else (a size, an owner), which gets a tmpfs of its own.
std::optional<mode_t> only_a_mode(const std::string& options) {
    constexpr std::string_view kMode = "mode=";
    if (options.empty()) return 01777;  // tmpfs's own default
    if (options.compare(0, kMode.size(), kMode) != 0) return std::nullopt;
    mode_t mode = 0;
    for (std::size_t i = kMode.size(); i < options.size(); ++i) {
        char c = options[i];
        if (c < '0' || c > '7' || mode > 07777 >> 3) return std::nullopt;
        mode = mode * 8 + static_cast<mode_t>(c - '0');
    }
    if (options.size() == kMode.size()) return std::nullopt;
    return mode;
}

// An empty tmpfs directory at `target` (op's, normalised; see own_dir); false when an optional
// one has no place. `fresh` then holds it, for what the plan puts below it.
bool mount_own_dir(const MountOp& op, const std::string& target_path, mode_t mode, int root_fd,
                   const std::string& scratch, std::size_t index, FreshDirs& fresh) {
    auto target = resolve_target(root_fd, op, true, &fresh);
    if (!target) return false;
    UniqueFd dir = own_dir(op, scratch, index, mode);
    move_tree(op, dir, target);
    // Once moved, the clone's descriptor is the mount at the target: what is made through it
    // lands below the target, where later mounts see it.
    fresh.add(target_path, std::move(dir));
    return true;
}

// Hides a file behind /dev/null (reads give nothing) and a directory behind an empty read-only
// directory of our tmpfs (an empty tmpfs of its own without one), as OCI runtimes do with their
// masked paths.
void mask(const MountOp& op, int root_fd, const std::string& scratch, std::size_t index) {
    auto at = interface_at(root_fd, op);
    if (!at) return;
    struct stat st {};
    if (::fstat(at.get(), &st) != 0) fail(op, "cannot look at " + op.target, errno);
    if (S_ISDIR(st.st_mode)) {
        MountOp hidden = op;
        hidden.read_only = hidden.nosuid = hidden.nodev = hidden.noexec = true;
        if (!scratch.empty())
            move_tree(hidden, own_dir(hidden, scratch, index, 0555), at);
        else if (::mount("tmpfs", fd_path(at.get()).c_str(), "tmpfs",
                         MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0555") != 0)
            fail(op, "cannot hide " + op.target, errno);
        return;
    }
    MountOp null = op;
    null.source = "/dev/null";
    null.read_only = null.nosuid = null.noexec = true;
    null.nodev = false;  // the node must stay usable: reads give end of file
    move_tree(null, clone_tree(null, AT_FDCWD, "/dev/null", 0), at);
}

}  // namespace

std::string read_in_root(int root_fd, const std::string& path) {
    UniqueFd fd(openat2_fd(root_fd, path, O_RDONLY, RESOLVE_IN_ROOT));
    std::string out;
    if (!fd) return out;
    char buf[8192];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0 && out.size() < (4u << 20))
        out.append(buf, static_cast<std::size_t>(n));
    return out;
}

bool exists_in_root(int root_fd, const std::string& path) {
    UniqueFd fd(openat2_fd(root_fd, path, O_PATH, RESOLVE_IN_ROOT));
    return static_cast<bool>(fd);
}

namespace {

std::string with_available_shell(int root_fd, const std::string& entry) {
    auto colon = entry.rfind(':');
    std::string shell = entry.substr(colon + 1);
    if (shell.empty() || shell.front() != '/' || !exists_in_root(root_fd, shell.substr(1)))
        shell = "/bin/sh";
    return entry.substr(0, colon + 1) + shell;
}

}  // namespace

std::string account_file_text(int root_fd, const MountOp& op) {
    std::string entry =
        op.kind == Kind::passwd ? with_available_shell(root_fd, op.source) : op.source;
    return merge_account_entry(read_in_root(root_fd, op.target.substr(1)), entry);
}

PreparedMounts open_mount_sources(const MountPlan& plan) {
    PreparedMounts prepared;
    prepared.trees.resize(plan.ops.size());
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        const auto& op = plan.ops[i];
        if (op.kind != Kind::bind) continue;
        int fd;
        if (op.no_symlinks) {
            // Resolved and checked earlier: any symlink now means the path was swapped.
            UniqueFd path(openat2_fd(AT_FDCWD, op.source, O_PATH,
                                     RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
            if (!path) fail(op, "cannot open " + op.source, errno);
            fd = ::open_tree(path.get(), "",
                             AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        } else {
            fd = ::open_tree(AT_FDCWD, op.source.c_str(),
                             OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        }
        if (fd < 0) {
            if (errno == ENOENT && op.optional) continue;
            fail(op, "cannot clone the mount of " + op.source, errno);
        }
        prepared.trees[i].reset(fd);
    }
    return prepared;
}

void attach_mounts(const MountPlan& plan, PreparedMounts& prepared, int root_fd,
                   const std::string& scratch, std::size_t from, std::size_t to) {
    FreshDirs fresh;
    for (std::size_t i = from; i < std::min(to, plan.ops.size()); ++i) {
        const auto& op = plan.ops[i];
        const std::string target = lexically_absolute(op.target, "/");
        if (op.kind != Kind::symlink) fresh.forget_if_covered(target);
        switch (op.kind) {
        case Kind::bind: {
            auto& tree = prepared.trees[i];
            if (!tree) break;  // optional and absent
            auto at = resolve_target(root_fd, op, is_dir(tree), &fresh);
            if (at) move_tree(op, tree, at);
            tree.reset();
            break;
        }
        case Kind::tmpfs: {
            if (auto mode = only_a_mode(op.options); mode && !scratch.empty() && target != "/") {
                mount_own_dir(op, target, *mode, root_fd, scratch, i, fresh);
                break;
            }
            if (mount_new_fs(op, "tmpfs", root_fd, fresh) && target != "/")
                fresh.add(target, UniqueFd(openat2_fd(root_fd, target.substr(1),
                                                      O_PATH | O_DIRECTORY, RESOLVE_IN_ROOT)));
            break;
        }
        case Kind::proc: mount_new_fs(op, "proc", root_fd, fresh); break;
        case Kind::devpts: mount_new_fs(op, "devpts", root_fd, fresh); break;
        case Kind::mqueue: mount_new_fs(op, "mqueue", root_fd, fresh); break;
        case Kind::sysfs: mount_new_fs(op, "sysfs", root_fd, fresh); break;
        case Kind::symlink: {
            auto slash = target.rfind('/');
            std::string name = target.substr(slash + 1);
            UniqueFd parent;
            int at = -1;
            if (const auto* made = fresh.at(target.substr(0, slash))) {
                at = made->fd.get();
            } else {
                MountOp dir = op;
                dir.target = target.substr(0, slash);
                parent = resolve_target(root_fd, dir, true, &fresh);
                at = parent.get();
            }
            if (::symlinkat(op.source.c_str(), at, name.c_str()) != 0 && errno != EEXIST)
                fail(op, "cannot create the symlink " + target, errno);
            break;
        }
        case Kind::file: bind_generated(op, op.source, root_fd, scratch, i); break;
        case Kind::passwd:
        case Kind::group:
        case Kind::shadow: {
            bind_generated(op, account_file_text(root_fd, op), root_fd, scratch, i);
            break;
        }
        case Kind::readonly: bind_read_only_in_place(op, root_fd); break;
        case Kind::mask: mask(op, root_fd, scratch, i); break;
        }
    }
}

void pivot_into(const std::string& root) {
    if (::chdir(root.c_str()) != 0) throw_errno(Errc::runtime, "cannot enter the new root " + root);
    // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves the
    // new root alone, without a directory for the old root inside the container.
    if (::syscall(SYS_pivot_root, ".", ".") != 0)
        throw_errno(Errc::runtime, "cannot pivot_root into " + root);
    if (::umount2(".", MNT_DETACH) != 0) throw_errno(Errc::runtime, "cannot detach the old root");
    if (::chdir("/") != 0) throw_errno(Errc::runtime, "cannot enter the new root");
}

}  // namespace karapace::sandbox
