// The sandbox, read top to bottom: what a run does, one line per step. The parent prepares
// everything that needs allocation or the host's view, clones into new namespaces, writes the id
// maps and limits, records the session and lets the child go; the child builds the root, mounts,
// pivots and becomes init of its pid namespace; init forks the command, which drops privileges
// and executes. Errors cross back over a pipe as typed errors.
#include "karapace/sandbox/spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>
#include <vector>

#include "karapace/sandbox/confine.hpp"
#include "karapace/sandbox/env.hpp"
#include "karapace/sandbox/idmap.hpp"
#include "karapace/sandbox/keeper.hpp"
#include "karapace/sandbox/limits.hpp"
#include "karapace/sandbox/mounts.hpp"
#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/terminal.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/child.hpp"
#include "sandbox/steps.hpp"
#include "sandbox/wire.hpp"

namespace karapace::sandbox {

namespace {

// Where the child builds the new root: a tmpfs over a host directory, in the child's own mount
// namespace, so nothing on the host changes. Bind sources are opened before it hides anything;
// the overlay layers must stay reachable by path (fuse-overlayfs resolves them), so the stage is
// a directory none of them lies in.
std::string choose_stage(const SandboxSpec& spec) {
    std::vector<std::string> paths = spec.lower_dirs;
    paths.push_back(spec.upper_dir);
    paths.push_back(spec.work_dir);
    for (const char* candidate : {"/tmp", "/run", "/mnt", "/media", "/srv", "/opt", "/var/tmp"}) {
        struct stat st {};
        if (::lstat(candidate, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        std::string prefix = std::string(candidate) + "/";
        bool clash = false;
        for (const auto& p : paths)
            clash = clash || p.rfind(prefix, 0) == 0;
        if (!clash) return candidate;
    }
    throw Error(Errc::runtime, "no directory to stage the sandbox root in",
                "the environment's layers are spread over /tmp, /run, /mnt, /media, /srv, /opt "
                "and /var/tmp; keep the store elsewhere");
}

// Messages from the parent on the go pipe.
constexpr char kGo = 'g';
constexpr char kGoWithRlimits = 'r';
// The same, and init lingers once the command has ended (SandboxSpec::linger).
constexpr char kGoLinger = 'l';
constexpr char kGoWithRlimitsLinger = 'L';

// Everything the child needs, computed before clone so the child mostly makes system calls.
struct Prepared {
    IdMapPlan ids;
    MountPlan mounts;
    std::vector<std::string> env;
    std::vector<char*> envp;
    std::vector<char*> argv;
    std::vector<std::string> search_path;  // the container PATH, for argv[0] without a '/'
    std::string stage, root, scratch;      // see choose_stage
    unsigned long clone_flags = 0;
    // Socket activation: the descriptors passed on, and the LISTEN_PID entry of envp, which the
    // command fills in with its own pid (in place: no allocation after the fork).
    std::vector<int> listen_fds;
    int listen_pid_entry = -1;
    int last_cap = -1;  // see restrict_capabilities
    // What the sandbox is built from (namespaces, layers, mounts and their contents), hashed: a
    // run joins a lingering sandbox only when its own is the same.
    std::string fingerprint;
};

std::string plan_fingerprint(const SandboxSpec& spec, const Prepared& p) {
    std::string text;
    auto add = [&](std::string_view field) {
        text.append(field);
        text.push_back('\0');
    };
    auto add_number = [&](unsigned long long n) { add(std::to_string(n)); };
    add_number(p.clone_flags);
    add_number(static_cast<unsigned>(spec.mapping));
    add_number((spec.read_only ? 1 : 0) | (spec.volatile_upper ? 2 : 0));
    add(spec.hostname);
    add(p.stage);
    // The layers by path and by identity: an image fetched again or a layer rebuilt replaces
    // its directory at the same path. The lower ones never change while they are in use, so
    // their change time too; the writable layer's does with every new top-level entry.
    auto add_path = [&](const std::string& path, bool with_ctime) {
        add(path);
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) return add("missing");
        add_number(st.st_dev);
        add_number(st.st_ino);
        if (with_ctime) {
            add_number(static_cast<unsigned long long>(st.st_ctim.tv_sec));
            add_number(static_cast<unsigned long long>(st.st_ctim.tv_nsec));
        }
    };
    for (const auto& dir : spec.lower_dirs)
        add_path(dir, true);
    add_path(spec.upper_dir, false);
    add_path(spec.work_dir, false);
    for (const auto& op : p.mounts.ops) {
        add_number(static_cast<unsigned>(op.kind));
        // A bound host file by identity too: a socket made again (a compositor restarted), a
        // terminal whose number a new one got.
        if (op.kind == MountOp::Kind::bind)
            add_path(op.source, false);
        else
            add(op.source);
        add(op.target);
        add(op.options);
        add_number((op.read_only ? 1 : 0) | (op.optional ? 2 : 0) | (op.no_symlinks ? 4 : 0) |
                   (op.nosuid ? 8 : 0) | (op.nodev ? 16 : 0) | (op.noexec ? 32 : 0) |
                   (op.needs_parent ? 64 : 0));
        add_number(op.file_mode);
    }
    for (const auto* files :
         {&p.mounts.root_files, &p.mounts.mount_points, &p.mounts.mount_points_above}) {
        add("files");
        for (const auto& f : *files) {
            add(f.path);
            add(f.content);
            add(f.symlink);
            add_number((f.directory ? 1u << 31 : 0) | f.mode);
        }
    }
    // FNV-1a: an identity between runs of one user's own store, not a defence against anyone.
    std::uint64_t hash = 14695981039346656037ULL;
    for (unsigned char c : text)
        hash = (hash ^ c) * 1099511628211ULL;
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
    return hex;
}

constexpr std::string_view kListenPidPlaceholder = "LISTEN_PID=0000000000";

// What the sandbox's processes keep open besides their own pipes.
std::vector<int> with_listen_fds(std::vector<int> fds, const Prepared& p) {
    fds.insert(fds.end(), p.listen_fds.begin(), p.listen_fds.end());
    return fds;
}

Prepared prepare(const SandboxSpec& spec) {
    Prepared p;
    p.ids = plan_id_maps_for_caller(spec.mapping);
    auto host = HostView::current();
    p.mounts = plan_mounts(spec, host);

    p.env = command_environment(spec, host.home, host.user, p.mounts.env_extra);
    p.listen_fds = socket_activation(spec, p.env);
    if (!p.listen_fds.empty()) {
        p.env.emplace_back(kListenPidPlaceholder);
        p.listen_pid_entry = static_cast<int>(p.env.size() - 1);
    }
    for (auto& e : p.env) {
        e.c_str();
        p.envp.push_back(e.data());
        if (e.rfind("PATH=", 0) == 0) {
            std::string path = e.substr(5);
            std::size_t start = 0;
            for (;;) {
                auto colon = path.find(':', start);
                auto dir = path.substr(start, colon - start);
                if (!dir.empty()) p.search_path.push_back(dir);
                if (colon == std::string::npos) break;
                start = colon + 1;
            }
        }
    }
    p.envp.push_back(nullptr);
    for (const auto& a : spec.argv)
        p.argv.push_back(const_cast<char*>(a.c_str()));
    p.argv.push_back(nullptr);

    p.stage = choose_stage(spec);
    p.root = p.stage + "/root";
    p.scratch = p.stage + "/scratch";

    p.last_cap = last_capability();
    p.clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (spec.network_isolation) p.clone_flags |= CLONE_NEWNET;
    if (spec.share_running && spec.linger > 0) p.fingerprint = plan_fingerprint(spec, p);
    return p;
}

// ---- the command (PID 2) -----------------------------------------------------------------

[[noreturn]] void exec_failed(int err_fd, const std::string& what, int err) {
    int status = (err == ENOENT || err == ENOTDIR) ? 127 : 126;
    wire::send_error(err_fd, Error(Errc::runtime, what + ": " + std::strerror(err),
                                   status == 127 ? "is it installed in the environment?" : ""));
    ::_exit(status);
}

// execvpe() searches the PATH of *our* environment; the command's PATH is the container's.
[[noreturn]] void exec_command(const Prepared& p, int err_fd) {
    const char* name = p.argv[0];
    if (std::strchr(name, '/')) {
        ::execve(name, p.argv.data(), p.envp.data());
        exec_failed(err_fd, std::string("cannot execute ") + name, errno);
    }
    int last = ENOENT;
    for (const auto& dir : p.search_path) {
        std::string candidate = dir + "/" + name;
        ::execve(candidate.c_str(), p.argv.data(), p.envp.data());
        if (errno != ENOENT && errno != ENOTDIR) last = errno;  // remember EACCES, ENOEXEC
    }
    exec_failed(
        err_fd,
        std::string(name) + ": command not found" + (last == ENOENT ? "" : " or not executable"),
        last);
}

[[noreturn]] void command_process(const SandboxSpec& spec, const Prepared& p, bool rlimits,
                                  bool own_session, int err_fd) {
    try {
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (spec.interactive) take_terminal_foreground();
        // Nothing of it is on a terminal: it gets none, so it cannot open /dev/tty and push
        // input into the caller's.
        if (own_session) ::setsid();
        if (rlimits) apply_rlimits(spec.limits);
        // Only the command becomes container root: init stays the caller's own uid, so the
        // caller can still signal it and open its namespaces to join the session.
        become_inner_ids(p.ids);
        // The filter first, while CAP_SYS_ADMIN in the namespace allows it without no_new_privs.
        install_seccomp_filter();
        restrict_capabilities(p.last_cap);
        // Container root needs no setuid program; the user's commands may use sudo inside
        // (whose root is a sub-id, or the caller when the caller is root) unless the
        // environment asks for no_new_privileges.
        if ((spec.mapping == IdMapping::container_root || spec.no_new_privileges) &&
            ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
            throw_errno(Errc::runtime, "cannot set no_new_privs");
        if (::chdir(p.mounts.cwd.c_str()) != 0)
            throw_errno(Errc::runtime, "cannot enter the working directory " + p.mounts.cwd);
        // Whatever the caller left open (store locks, sockets) must not reach the command; the
        // sockets of socket activation do, at their numbers, and LISTEN_PID names this process.
        int first_closed = 3 + static_cast<int>(p.listen_fds.size());
        for (int fd : p.listen_fds)
            ::fcntl(fd, F_SETFD, 0);
        ::close_range(first_closed, ~0U, CLOSE_RANGE_CLOEXEC);
        if (p.listen_pid_entry >= 0)
            std::snprintf(p.envp[p.listen_pid_entry], kListenPidPlaceholder.size() + 1,
                          "LISTEN_PID=%d", static_cast<int>(::getpid()));
    } catch (const Error& e) {
        wire::send_error(err_fd, e);
        ::_exit(125);
    }
    exec_command(p, err_fd);
}

// ---- the sandbox child (PID 1) -----------------------------------------------------------

// Forks the command and stays behind as its init, exiting with the command's status.
[[noreturn]] void start_command_as_init(const SandboxSpec& spec, const Prepared& p, char go,
                                        int err_fd, int status_fd, const sigset_t& forwarded) {
    // Named, and the caller's arguments and environment wiped, before the fork: the command can
    // never see init as the caller was.
    ::prctl(PR_SET_NAME, "karapace-init", 0, 0, 0);
    forget_caller_environment();
    bool own_session = !spec.interactive && ::isatty(STDIN_FILENO) != 1 &&
                       ::isatty(STDOUT_FILENO) != 1 && ::isatty(STDERR_FILENO) != 1;
    // The command's process shares init's memory until it executes (CLONE_VM | CLONE_VFORK, as
    // posix_spawn does; init waits meanwhile): no copy of init's page tables, and none of the
    // copy-on-write faults a fork pays for in both processes. It only makes system calls on its
    // own stack, on this frame, below which init runs nothing until the command has executed;
    // an error on the way allocates in init's heap, which nothing else uses at that moment.
    struct Start {
        const SandboxSpec& spec;
        const Prepared& p;
        bool rlimits, own_session;
        int err_fd;
    } start{spec, p, go == kGoWithRlimits || go == kGoWithRlimitsLinger, own_session, err_fd};
    alignas(64) char stack[64 * 1024];
    pid_t command = ::clone(
        [](void* arg) -> int {
            auto& s = *static_cast<Start*>(arg);
            command_process(s.spec, s.p, s.rlimits, s.own_session, s.err_fd);
        },
        stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    if (command < 0) throw_errno(Errc::runtime, "cannot start the command");
    // Becoming the inner ids made the memory the command shared with init undumpable (the
    // kernel does that to a process whose uid changes); init stays the caller's own, so the
    // caller can open its namespaces to join the session, as before the command started.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    ::close(err_fd);
    for (int fd : p.listen_fds)
        ::close(fd);
    bool lingers = go == kGoLinger || go == kGoWithRlimitsLinger;
    run_init(command, forwarded, own_session, status_fd, lingers ? spec.linger : 0);
}

[[noreturn]] void sandbox_child(const SandboxSpec& spec, const Prepared& p, int go_fd, int err_fd,
                                int status_fd) {
    try {
        redirect_stdio({spec.stdin_fd, spec.stdout_fd, spec.stderr_fd});
        close_fds_except(with_listen_fds({go_fd, err_fd, status_fd}, p));
        char go = 0;
        if (::read(go_fd, &go, 1) != 1) ::_exit(125);  // the parent gave up
        ::close(go_fd);
        // 1. identity: host supplementary groups would appear as the overflow group.
        // The raw system call: glibc's setgroups() synchronises with every thread it believes
        // exists, and a child cloned from a threaded process would wait for them forever.
        if (!p.ids.deny_setgroups) ::syscall(SYS_setgroups, 0, nullptr);
        // 2. open what the new root needs before the stage hides the host's /tmp.
        auto layers = open_overlay_sources(spec);
        auto sources = open_mount_sources(p.mounts);
        // 3. a private mount tree, a stage, the overlay root.
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            throw_errno(Errc::runtime, "cannot make the sandbox's mounts private");
        if (::mount("karapace", p.stage.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
            throw_errno(Errc::runtime, "cannot mount the staging tmpfs on " + p.stage);
        ::mkdir(p.root.c_str(), 0755);
        ::mkdir(p.scratch.c_str(), 0700);
        add_own_layers(layers, p.mounts, p.stage);
        mount_overlay(layers, p.root, p.scratch);
        // Held by init until it exits, after the command's status has gone to the parent.
        auto retired = std::move(layers.retired);
        layers = {};
        UniqueFd root(::open(p.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_errno(Errc::runtime, "cannot open the new root");
        // 4. /proc, /sys, /dev, /run, /etc files, host integration, manifest mounts.
        attach_mounts(p.mounts, sources, root.get(), p.scratch);
        // 5. uts and network.
        if (!spec.hostname.empty() &&
            ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
            throw_errno(Errc::runtime, "cannot set the hostname " + spec.hostname);
        if (spec.network_isolation) bring_up_loopback();
        // 6. switch root; a frozen environment's root becomes read-only.
        pivot_into(p.root);
        if (spec.read_only) seal_root_read_only();
        // 7. fork the command and become its init.
        sigset_t forwarded = init_signal_set();
        ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
        start_command_as_init(spec, p, go, err_fd, status_fd, forwarded);
    } catch (const Error& e) {
        wire::send_error(err_fd, e);
    } catch (const std::exception& e) {
        wire::send_error(err_fd, Error(Errc::runtime, e.what()));
    }
    ::_exit(125);
}

// ---- beside a running session -----------------------------------------------------------

// The namespaces of a running session's init, opened while its start time still matches.
struct SessionNamespaces {
    UniqueFd user, mnt, uts, ipc, net;
};

std::optional<SessionNamespaces> open_session_namespaces(const Session& s, bool network) {
    auto open_ns = [&](const char* kind) {
        return UniqueFd(::open(("/proc/" + std::to_string(s.pid) + "/ns/" + kind).c_str(),
                               O_RDONLY | O_CLOEXEC));
    };
    SessionNamespaces ns{open_ns("user"), open_ns("mnt"), open_ns("uts"), open_ns("ipc"),
                         network ? open_ns("net") : UniqueFd()};
    if (!ns.user || !ns.mnt || !ns.uts || !ns.ipc || (network && !ns.net)) return std::nullopt;
    // The descriptors keep the namespaces alive from here on; the pid must still be that init.
    if (process_start_time(s.pid) != s.start_time) return std::nullopt;
    return ns;
}

// The read-only and hidden kernel interfaces below /proc in `plan`, for a run beside a session to
// put over the /proc of its own (picked by the caller: its init, a fresh copy of the caller's
// memory, then allocates nothing for them).
MountPlan proc_guards_of(const MountPlan& plan) {
    MountPlan guards;
    for (const auto& op : plan.ops)
        if ((op.kind == MountOp::Kind::readonly || op.kind == MountOp::Kind::mask) &&
            op.target.rfind("/proc/", 0) == 0)
            guards.ops.push_back(op);
    return guards;
}

// Applies proc_guards_of's mounts again over a new /proc. Neither kind uses a prepared source.
void guard_proc_interfaces(const MountPlan& proc_guards) {
    PreparedMounts none;
    UniqueFd root(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno(Errc::runtime, "cannot open the session's root");
    attach_mounts(proc_guards, none, root.get(), "/");
}

// Beside a running session, a helper (run_helper) enters the session's namespaces, unshares a
// mount namespace (a copy of the session's tree, the same overlay mount) and a pid namespace,
// and starts the run's own init there, which mounts that pid namespace's /proc.
struct JoinStart {
    const SandboxSpec& spec;
    const Prepared& p;
    const SessionNamespaces& ns;
    const MountPlan& proc_guards;
    int go_fd, err_fd, status_fd;
    pid_t init = -1;  // written by the helper, read once it has exited
};

int join_session(void* arg) {
    auto& j = *static_cast<JoinStart*>(arg);
    try {
        redirect_stdio({j.spec.stdin_fd, j.spec.stdout_fd, j.spec.stderr_fd});
        // The user namespace first: it grants the capabilities the other setns calls need.
        // (The helper shares our memory but not our thread group or fs: setns into a user
        // namespace refuses only those.)
        if (::setns(j.ns.user.get(), CLONE_NEWUSER) != 0)
            throw_errno(Errc::runtime, "cannot enter the running session's user namespace");
        for (const auto& [fd, type, what] : {std::tuple{j.ns.mnt.get(), CLONE_NEWNS, "mount"},
                                             {j.ns.uts.get(), CLONE_NEWUTS, "uts"},
                                             {j.ns.ipc.get(), CLONE_NEWIPC, "ipc"},
                                             {j.ns.net.get(), CLONE_NEWNET, "network"}}) {
            if (fd >= 0 && ::setns(fd, type) != 0)
                throw_errno(Errc::runtime, std::string("cannot enter the running session's ") +
                                               what + " namespace");
        }
        // Nothing of the caller's (the start lock above all) may reach init, which lives as
        // long as the run.
        close_fds_except(with_listen_fds({j.go_fd, j.err_fd, j.status_fd}, j.p));
        if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0)
            throw_errno(Errc::runtime, "cannot make the session's own mount and pid namespaces");
        if (!j.p.ids.deny_setgroups) ::syscall(SYS_setgroups, 0, nullptr);
        sigset_t forwarded = init_signal_set();
        ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
        // A copy of this memory for init (the raw system call, as clone_process).
        long pid = ::syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, 0);
        if (pid < 0) throw_errno(Errc::runtime, "cannot start the session's init");
        if (pid == 0) {
            try {
                char go = 0;
                if (::read(j.go_fd, &go, 1) != 1) ::_exit(125);  // the parent gave up
                ::close(j.go_fd);
                // A /proc of this pid namespace over the session's, with what the session's has
                // made read-only (/proc/sys: a root caller's root inside is host root) or hidden
                // below it: those mounts stay below the new /proc.
                if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) !=
                    0)
                    throw_errno(Errc::runtime, "cannot mount /proc for the new session");
                guard_proc_interfaces(j.proc_guards);
                start_command_as_init(j.spec, j.p, go, j.err_fd, j.status_fd, forwarded);
            } catch (const Error& e) {
                wire::send_error(j.err_fd, e);
            } catch (const std::exception& e) {
                wire::send_error(j.err_fd, Error(Errc::runtime, e.what()));
            }
            ::_exit(125);
        }
        j.init = static_cast<pid_t>(pid);
        return 0;
    } catch (const Error& e) {
        wire::send_error(j.err_fd, e);
    } catch (const std::exception& e) {
        wire::send_error(j.err_fd, Error(Errc::runtime, e.what()));
    }
    return 1;
}

// Runs `fn(arg)` in a helper that shares our memory while we wait (CLONE_VM | CLONE_VFORK, as
// posix_spawn does): no copy of our page tables, and none of the copy-on-write faults a fork
// pays for. The helper exits as soon as it has started the sandbox's process; that process,
// orphaned, is handed to us because we are a child subreaper until the helper has been reaped,
// so we wait for it directly.
void run_helper(int (*fn)(void*), void* arg) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        throw_errno(Errc::runtime, "cannot become the subreaper of the sandbox");
    // Entering a user namespace gains capabilities, which makes the memory the helper shares
    // with us undumpable; we put back what we were.
    int dumpable = ::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    // The helper's stack: this frame's, below which nothing of ours runs until it has exited.
    alignas(64) char stack[64 * 1024];
    pid_t helper = ::clone(fn, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    int err = errno;
    if (helper > 0) {
        // Reaped: it has exited, and what it started is ours now.
        int status = 0;
        while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {}
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    if (dumpable == 1) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if (helper < 0) {
        errno = err;
        throw_errno(Errc::runtime, "cannot start the sandbox");
    }
}

// ---- in the kept user namespace -----------------------------------------------------------

// Starting in the caller's kept user namespace (sandbox/keeper.cpp). A process that has entered
// a user namespace cannot leave it, so a helper (run_helper) enters it and clones the sandbox
// child into new mount, pid, uts and ipc (and network) namespaces there. The id maps are already
// written: no newuidmap/newgidmap.
struct KeptStart {
    const SandboxSpec& spec;
    const Prepared& p;
    int userns, go_fd, err_fd, status_fd;
    pid_t init = -1;  // written by the helper, read once it has exited
    int err = 0;
    const char* failed = nullptr;
};

int enter_kept_namespace(void* arg) {
    auto& k = *static_cast<KeptStart*>(arg);
    // (Sharing our memory but not our thread group or fs: setns into a user namespace refuses
    // only those.)
    if (::setns(k.userns, CLONE_NEWUSER) != 0) {
        k.err = errno;
        k.failed = "cannot enter the kept user namespace";
        return 1;
    }
    long pid = ::syscall(SYS_clone,
                         (k.p.clone_flags & ~static_cast<unsigned long>(CLONE_NEWUSER)) | SIGCHLD,
                         nullptr, nullptr, nullptr, 0);
    if (pid == 0) sandbox_child(k.spec, k.p, k.go_fd, k.err_fd, k.status_fd);
    if (pid < 0) {
        k.err = errno;
        k.failed = "cannot create the sandbox namespaces in the kept user namespace";
        return 1;
    }
    k.init = static_cast<pid_t>(pid);
    return 0;
}

pid_t start_in_kept_namespace(KeptStart& k) {
    run_helper(enter_kept_namespace, &k);
    if (k.init <= 0) {
        throw Error(Errc::runtime, std::string(k.failed ? k.failed
                                                        : "the sandbox could not start in the kept "
                                                          "user namespace") +
                                       ": " + std::strerror(k.err));
    }
    return k.init;
}

// ---- the parent --------------------------------------------------------------------------

std::atomic<pid_t> g_forward_to{0};

void forward_signal(int sig, siginfo_t* info, void*) {
    // Terminal-generated signals reach the sandbox directly (same process group).
    pid_t pid = g_forward_to.load();
    if (pid > 0 && info->si_code != SI_KERNEL) ::kill(pid, sig);
}

// While the sandbox runs, signals meant for us go to its init, which passes them on.
class SignalForwarding {
public:
    explicit SignalForwarding(pid_t pid) {
        g_forward_to = pid;
        struct sigaction sa {};
        sa.sa_sigaction = forward_signal;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        for (std::size_t i = 0; i < kForwardedSignals.size(); ++i)
            ::sigaction(kForwardedSignals[i], &sa, &old_[i]);
    }
    ~SignalForwarding() {
        for (std::size_t i = 0; i < kForwardedSignals.size(); ++i)
            ::sigaction(kForwardedSignals[i], &old_[i], nullptr);
        g_forward_to = 0;
    }
    SignalForwarding(const SignalForwarding&) = delete;
    SignalForwarding& operator=(const SignalForwarding&) = delete;

private:
    std::array<struct sigaction, kForwardedSignals.size()> old_{};
};

// True when this process has more than one thread (field 20 of /proc/self/stat).
bool multi_threaded() {
    char buf[1024];
    UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
    if (!fd) return true;
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return true;
    buf[n] = '\0';
    const char* threads = proc_stat_field(buf, 20);  // num_threads
    return threads == nullptr || std::atoi(threads) != 1;
}

RunResult run_here(const SandboxSpec& spec);

// The sandbox child is started with the raw clone system call and allocates before it execs, so
// it must come from a single-threaded process: a lock another thread held at clone time (malloc's,
// for one) would never be released in the child. A multi-threaded caller (the D-Bus service, a
// build capturing output) runs the sandbox from a fork()ed child instead, which glibc leaves in a
// consistent state, and relays the result.
RunResult run_from_forked_child(const SandboxSpec& spec) {
    RunResult result;
    Pipe report;
    pid_t pid = ::fork();
    if (pid < 0) {
        result.status = 125;
        result.error = Error(Errc::runtime, std::string("cannot fork: ") + std::strerror(errno));
        return result;
    }
    if (pid == 0) {
        report.read.reset();
        RunResult r = run_here(spec);
        char mechanism = static_cast<char>(r.limits);
        if (::write(report.write.get(), &mechanism, 1) != 1) ::_exit(125);
        if (r.error) wire::send_error(report.write.get(), *r.error);
        ::_exit(r.status & 0xff);
    }
    report.write.reset();
    ChildGuard guard(pid);
    SignalForwarding forwarding(pid);
    char mechanism = 0;
    if (::read(report.read.get(), &mechanism, 1) == 1)
        result.limits = static_cast<LimitMechanism>(mechanism);
    result.error = wire::receive_error(report.read.get());
    result.status = wait_exit_status(guard.release());
    return result;
}

}  // namespace

RunResult run(const SandboxSpec& spec) {
    if (spec.argv.empty()) throw Error(Errc::usage, "no command to run in the sandbox");
    return multi_threaded() ? run_from_forked_child(spec) : run_here(spec);
}

namespace {

// The parent's side of a run once the child exists: id maps (for a new sandbox), limits, the
// session record, the terminal, "go", and the wait.
// Tells a detached launch which session it started (best effort: the launch reports a pipe
// that closed without a pid as a failure).
void report_session(const SandboxSpec& spec, pid_t init) {
    if (spec.session_report_fd < 0) return;
    ssize_t ignored = ::write(spec.session_report_fd, &init, sizeof init);
    (void)ignored;
}

struct Started {
    pid_t child = -1;  // ours to wait for
    pid_t init = -1;   // the session's init (the child itself for a new sandbox)
    bool new_userns = true;
    bool joined = false;  // beside a session: its init never lingers
};

// Children of runs that returned before their init had exited; reaped when the next run starts
// (a caller that exits leaves them to its parent's reaper, as a shell does).
std::vector<pid_t>& unreaped() {
    static std::vector<pid_t> pids;
    return pids;
}

void reap_finished() {
    std::erase_if(unreaped(), [](pid_t pid) { return ::waitpid(pid, nullptr, WNOHANG) != 0; });
}

// The command's status as init reports it (init.cpp), once everything in the sandbox has ended;
// nullopt when init ended without reporting (killed by `stop`, or failed before the command).
std::optional<int> reported_status(int fd) {
    int status = 0;
    ssize_t n;
    while ((n = ::read(fd, &status, sizeof status)) < 0 && errno == EINTR) {}
    if (n != sizeof status) return std::nullopt;
    return status;
}

// The pipes between a run and its sandbox: "go", errors until the command executes, and the
// command's status from init.
struct Pipes {
    Pipe go, errors, status;
    // Whether this run may return on init's report instead of waiting for its exit: only when
    // the kernel's teardown of the namespaces does nothing a caller relies on. A durable overlay
    // syncs the writable layer at unmount and a private work directory is removed after it;
    // cgroup limits (checked in supervise) are removed once the processes are gone.
    bool early = false;
    // The child's ends, closed here once it has them: "go" and errors then see end of file when
    // the child is gone.
    void close_child_ends() {
        go.read.reset();
        errors.write.reset();
        status.write.reset();
    }
};

RunResult supervise(const SandboxSpec& spec, const Prepared& p, Started started, Pipes& pipes,
                    SessionStartLock& start_lock) {
    RunResult result;
    ChildGuard guard(started.child);
    if (started.new_userns) write_id_maps(started.child, p.ids);
    pid_t init = started.init;
    std::string unit = "karapace-" + (spec.hostname.empty() ? std::string("run") : spec.hostname) +
                       "-" + std::to_string(init);
    LimitScope limits(spec.limits, init, unit + ".scope");
    result.limits = limits.mechanism();
    std::optional<SessionRecord> session;
    if (!spec.session_dir.empty())
        session.emplace(spec.session_dir, init, spec.mapping, p.fingerprint);
    report_session(spec, init);
    // Declared in this order so the terminal is ours again before the pop marker is written.
    std::optional<ContainerMarker> marker;
    std::optional<ForegroundGuard> foreground;
    if (spec.interactive) {
        marker.emplace(spec.hostname);
        foreground.emplace();
    }
    SignalForwarding forwarding(init);

    // A new sandbox lingers when this run returns on init's report (see below).
    bool returns_early = pipes.early && (limits.mechanism() == LimitMechanism::none ||
                                         limits.mechanism() == LimitMechanism::rlimit);
    bool lingers = returns_early && session && !started.joined && !p.fingerprint.empty();
    bool rlimits = limits.mechanism() == LimitMechanism::rlimit;
    char go_byte =
        lingers ? (rlimits ? kGoWithRlimitsLinger : kGoLinger) : (rlimits ? kGoWithRlimits : kGo);
    if (::write(pipes.go.write.get(), &go_byte, 1) != 1)
        throw_errno(Errc::runtime, "cannot start the sandbox");
    pipes.go.write.reset();

    // The error pipe closes when the command has been executed (or reports why it was not):
    // by then the root is mounted and the session recorded.
    auto error = wire::receive_error(pipes.errors.read.get());
    start_lock.release();
    std::optional<int> reported;
    if (returns_early) reported = reported_status(pipes.status.read.get());
    if (reported) {
        // Everything in the sandbox has ended; the kernel tears the namespaces down (unmounting
        // the overlay takes a grace period or two) without keeping the caller waiting. The next
        // run that mounts the writable layer waits for it (await_ending_sessions). Or init
        // lingers, and the next run joins it.
        result.status = *reported;
        if (session) {
            if (lingers)
                session->mark_idle();
            else
                session->mark_ending();
        }
        unreaped().push_back(guard.release());
    } else {
        result.status = wait_exit_status(guard.release());
    }
    if (error) {
        result.error = std::move(error);
        if (result.status != 126 && result.status != 127) result.status = 125;
    }
    return result;
}

// A live session this run may join: one with the same identity mapping, or else a lingering
// sandbox built the same way (whose time then starts again). `others` tells whether sessions of
// another mapping are running.
std::optional<SessionNamespaces> joinable_session(const SandboxSpec& spec, const Prepared& p,
                                                  bool& others) {
    others = false;
    if (!spec.share_running || spec.session_dir.empty()) return std::nullopt;
    for (const auto& s : list_sessions(spec.session_dir)) {
        if (s.mapping != spec.mapping) {
            others = true;
            continue;
        }
        if (auto ns = open_session_namespaces(s, spec.network_isolation)) return ns;
    }
    if (p.fingerprint.empty()) return std::nullopt;
    for (const auto& s : list_idle_sessions(spec.session_dir)) {
        if (s.mapping != spec.mapping || s.fingerprint != p.fingerprint) continue;
        // Once open, the descriptors keep the namespaces, also should the sandbox's time run
        // out before this run has entered them.
        if (auto ns = open_session_namespaces(s, spec.network_isolation)) {
            extend_idle_session(s);
            return ns;
        }
    }
    return std::nullopt;
}

RunResult run_here(const SandboxSpec& spec) {
    RunResult result;
    try {
        reap_finished();
        const Prepared p = prepare(spec);
        SessionStartLock start_lock(spec.share_running ? spec.session_dir : std::string());
        Pipes pipes;
        pipes.early = spec.read_only || spec.volatile_upper || spec.upper_dir.empty();
        const int go_fd = pipes.go.read.get(), err_fd = pipes.errors.write.get(),
                  status_fd = pipes.status.write.get();
        bool others = false;
        // Beside a running session: a helper enters its namespaces and starts an init of its
        // own there.
        if (auto ns = joinable_session(spec, p, others)) {
            // Runs that joined before leave ending records too; those of processes that are
            // gone go here (a fresh sandbox would have cleared them).
            await_ending_sessions(spec.session_dir, std::chrono::milliseconds(0));
            const MountPlan guards = proc_guards_of(p.mounts);
            JoinStart j{spec, p, *ns, guards, go_fd, err_fd, status_fd};
            run_helper(join_session, &j);
            pipes.close_child_ends();
            if (j.init <= 0) {
                auto error = wire::receive_error(pipes.errors.read.get());
                result.status = 125;
                result.error = error ? std::move(error)
                                     : Error(Errc::runtime, "the session could not be joined");
                return result;
            }
            return supervise(spec, p, {j.init, j.init, false, true}, pipes, start_lock);
        }
        std::optional<PrivateWorkDir> work;
        std::optional<SandboxSpec> own;
        if (others && !spec.read_only) {
            log::warn("environment '", spec.hostname,
                      "' has a session running as another identity; this one gets its own view "
                      "of the writable layer, and neither sees the other's changes until it "
                      "restarts");
            work.emplace(spec.work_dir);
            own.emplace(spec);
            own->work_dir = work->path();
            // A volatile mount leaves its marker in the work directory, owned by whoever the
            // overlay's creator is inside: the private one must stay removable by the caller.
            own->volatile_upper = false;
            pipes.early = false;
        }
        const SandboxSpec& run_spec = own ? *own : spec;
        // A session that just ended may still hold its overlay mount of the writable layer; a
        // run that mounts none only clears the records of those already gone. Lingering
        // sandboxes this run could not join (built otherwise) end first.
        if (!spec.session_dir.empty()) {
            retire_idle_sessions(spec.session_dir);
            bool writable = !spec.read_only && !spec.upper_dir.empty();
            await_ending_sessions(spec.session_dir, writable ? std::chrono::milliseconds(5000)
                                                             : std::chrono::milliseconds(0));
        }
        if (UniqueFd userns = kept_user_namespace(spec.mapping, p.ids)) {
            KeptStart k{run_spec, p, userns.get(), go_fd, err_fd, status_fd};
            pid_t init = start_in_kept_namespace(k);
            pipes.close_child_ends();
            return supervise(run_spec, p, {init, init, false}, pipes, start_lock);
        }
        pid_t pid = clone_process(p.clone_flags);
        if (pid == 0) sandbox_child(run_spec, p, go_fd, err_fd, status_fd);
        pipes.close_child_ends();
        return supervise(run_spec, p, {pid, pid, true}, pipes, start_lock);
    } catch (const Error& e) {
        result.status = 125;
        result.error = e;
    }
    return result;
}

}  // namespace

}  // namespace karapace::sandbox
