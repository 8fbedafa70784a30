// The sandbox, read top to bottom: what a run does, one line per step. The parent prepares
// everything that needs allocation or the host's view, clones into new namespaces, writes the id
// maps and limits, records the session and lets the child go; the child builds the root, mounts,
// pivots and executes karapace-init (src/init), which becomes init of the pid namespace and
// starts the command, which drops privileges and executes. Errors cross back over a pipe as
// typed errors.
#include "karapace/sandbox/spawn.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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
#include "karapace/sandbox/init_program.hpp"
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
#include "sandbox/cpus.hpp"
#include "sandbox/init_start.hpp"
#include "sandbox/raw_syscall.hpp"
#include "sandbox/serve.hpp"
#include "sandbox/slice.hpp"
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

// Everything the child needs, computed before clone so the child mostly makes system calls.
struct Prepared {
    IdMapPlan ids;
    MountPlan mounts;
    // The command's environment: karapace-init's own, which it passes on.
    std::vector<std::string> env;
    std::vector<char*> envp;
    std::string stage, root, scratch;  // see choose_stage
    unsigned long clone_flags = 0;
    // Socket activation: the descriptors passed on (at 3 and up). The command fills in the
    // LISTEN_PID entry of its environment with its own pid.
    std::vector<int> listen_fds;
    // karapace-init, opened on the host: the sandbox executes it where the host's paths are gone.
    UniqueFd init_program;
    // Its options that name no descriptor, then "--" and the command (init_start.hpp); among
    // them those of the command alone, which a run a lingering init starts brings along.
    std::vector<std::string> init_arguments, command_options;
    // The caller's processors, which the command gets back, and whether some are idle: then the
    // start stays on one of them, and a network namespace is made beside it (cpus.hpp).
    init_start::CpuMask cpus;
    bool idle_processors = false;
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
    add_number(spec.network_isolation ? 1 : 0);
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

// What the sandbox's processes keep open besides their own pipes: karapace-init, and the
// sockets of socket activation.
std::vector<int> with_kept_fds(std::vector<int> fds, const Prepared& p) {
    fds.push_back(p.init_program.get());
    fds.insert(fds.end(), p.listen_fds.begin(), p.listen_fds.end());
    return fds;
}

// karapace-init's options for the command alone: the caller's time slice (slice.hpp), its ids,
// capabilities, seccomp filter, no_new_privs and working directory.
std::vector<std::string> command_options(const SandboxSpec& spec, const Prepared& p,
                                         std::optional<std::uint64_t> caller_slice) {
    std::vector<std::string> args;
    if (caller_slice) args.push_back("slice=" + std::to_string(*caller_slice));
    if (p.ids.switch_ids)
        args.push_back("ids=" + std::to_string(p.ids.inner_uid) + ":" +
                       std::to_string(p.ids.inner_gid));
    char caps[64];
    std::snprintf(caps, sizeof caps, "caps=%llx:%d",
                  static_cast<unsigned long long>(container_capability_mask()), last_capability());
    args.emplace_back(caps);
    const auto program = seccomp_program();
    std::string filter = "seccomp=";
    filter.reserve(filter.size() + 2 * sizeof(sock_filter) * program.size());
    for (const auto& insn : program) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(&insn);
        for (std::size_t i = 0; i < sizeof insn; ++i) {
            filter.push_back("0123456789abcdef"[bytes[i] >> 4]);
            filter.push_back("0123456789abcdef"[bytes[i] & 15]);
        }
    }
    args.push_back(std::move(filter));
    // Container root needs no setuid program; the user's commands may use sudo inside (whose
    // root is a sub-id, or the caller when the caller is root) unless the environment asks for
    // no_new_privileges.
    if (spec.mapping == IdMapping::container_root || spec.no_new_privileges)
        args.emplace_back("nnp");
    args.push_back("cwd=" + p.mounts.cwd);
    return args;
}

// karapace-init's options that name no descriptor, then "--" and the command.
std::vector<std::string> init_arguments(const SandboxSpec& spec, const Prepared& p) {
    std::vector<std::string> args;
    if (spec.linger > 0) args.push_back("linger=" + std::to_string(spec.linger));
    if (!p.listen_fds.empty()) args.push_back("listen=" + std::to_string(p.listen_fds.size()));
    // Not among the command's own options: a lingering init takes runs only from callers with
    // its processors (same_process_context), and one of an older karapace-init knows no cpus=.
    if (auto cpus = cpus_option(p.cpus); !cpus.empty()) args.push_back(std::move(cpus));
    args.insert(args.end(), p.command_options.begin(), p.command_options.end());
    if (spec.limits.memory_max_bytes)
        args.push_back("rlimit-as=" + std::to_string(spec.limits.memory_max_bytes));
    if (spec.limits.tasks_max)
        args.push_back("rlimit-nproc=" + std::to_string(spec.limits.tasks_max));
    if (spec.interactive) args.emplace_back("interactive");
    args.emplace_back("--");
    args.insert(args.end(), spec.argv.begin(), spec.argv.end());
    return args;
}

// karapace-init's whole command line for one run: the go byte when it is known now, or a
// descriptor to read it from, or "go=?", filled in by a child that has read it; the pipes and
// the socket a lingering init takes runs on (serve.hpp; -1 for none); the rest.
struct InitCommand {
    std::vector<std::string> args;
    std::vector<char*> argv;
    int go_entry = -1;  // the index of "go=?"
    // go (or -1), err, status, serve (or -1): kept open across execve
    std::array<int, 4> pipes;

    InitCommand(const Prepared& p, char go, int go_fd, int err_fd, int status_fd, int serve_fd = -1)
        : pipes{go ? -1 : go_fd, err_fd, status_fd, serve_fd} {
        args.emplace_back("karapace-init");
        if (go) {
            args.push_back(std::string("go=") + go);
        } else if (go_fd >= 0) {
            args.push_back("go-fd=" + std::to_string(go_fd));
        } else {
            go_entry = static_cast<int>(args.size());
            args.emplace_back("go=?");
        }
        args.push_back("err=" + std::to_string(err_fd));
        args.push_back("status=" + std::to_string(status_fd));
        if (serve_fd >= 0) args.push_back("serve=" + std::to_string(serve_fd));
        args.insert(args.end(), p.init_arguments.begin(), p.init_arguments.end());
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
    }
    // In the child that read the go byte (its own copy of this memory).
    void set_go(char go) const { argv[static_cast<std::size_t>(go_entry)][3] = go; }
};

// A process that is not root in its user namespace (the unprivileged caller's own id) loses its
// capabilities at execve. init and the command need them as they had them when init was a copy
// of the caller (to become the inner ids, install the filter without no_new_privs, drop the
// bounding set): they go on as ambient capabilities, which the command clears before it
// executes.
void keep_capabilities_across_execve() {
    if (::geteuid() == 0) return;
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0)
        throw_errno(Errc::runtime, "cannot read the sandbox's capabilities");
    for (auto& d : data)
        d.inheritable = d.permitted;
    if (::syscall(SYS_capset, &header, data) != 0)
        throw_errno(Errc::runtime, "cannot make the sandbox's capabilities inheritable");
    for (int cap = 0; cap < 64; ++cap) {
        if (!((data[cap / 32].permitted >> (cap % 32)) & 1)) continue;
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0)
            throw_errno(Errc::runtime, "cannot keep capability " + std::to_string(cap) +
                                           " for the sandbox's init");
    }
}

// Executes karapace-init as this process; throws only when the kernel refuses.
[[noreturn]] void execute_init(const Prepared& p, const InitCommand& init) {
    keep_capabilities_across_execve();
    restore_sigpipe();
    for (int fd : init.pipes)
        if (fd >= 0 && ::fcntl(fd, F_SETFD, 0) != 0)
            throw_errno(Errc::runtime, "cannot pass a pipe on to the sandbox's init");
    ::execveat(p.init_program.get(), "", init.argv.data(), p.envp.data(), AT_EMPTY_PATH);
    throw_errno(Errc::runtime, "cannot execute the sandbox's init program karapace-init");
}

Prepared prepare(const SandboxSpec& spec, std::optional<std::uint64_t> caller_slice) {
    Prepared p;
    auto host = HostView::current();
    p.ids = plan_id_maps_for_caller(spec.mapping, host.user);
    p.mounts = plan_mounts(spec, host);

    p.env = command_environment(spec, host.home, host.user, p.mounts.env_extra);
    p.listen_fds = socket_activation(spec, p.env);
    if (!p.listen_fds.empty()) {
        p.env.emplace_back(kListenPidPlaceholder);
    }
    for (auto& e : p.env)
        p.envp.push_back(e.data());
    p.envp.push_back(nullptr);

    if (spec.volatile_upper) host_boot_id();  // in the child it costs a lookup in new namespaces
    p.stage = choose_stage(spec);
    p.root = p.stage + "/root";
    p.scratch = p.stage + "/scratch";

    p.init_program = open_init_program();
    p.cpus = caller_cpus();
    p.idle_processors = idle_processors(p.cpus);
    p.command_options = command_options(spec, p, caller_slice);
    p.init_arguments = init_arguments(spec, p);
    // The namespaces the clone makes. A network namespace, when the sandbox has one, the child
    // has made while it takes its first steps (build_sandbox, net.cpp).
    p.clone_flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    if (spec.share_running && spec.linger > 0) p.fingerprint = plan_fingerprint(spec, p);
    return p;
}

// Once the process that becomes init has executed karapace-init or exited: its pid, for the
// caller, or, when it failed (and said why on the error pipe), reaped. A helper's exit status.
int hand_over_init(pid_t pid, bool failed, pid_t& init_pid) {
    if (failed) {
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {}
        return 1;
    }
    init_pid = pid;
    return 0;
}

// In a catch block of a process that is about to exit: the error being handled, to the parent.
void send_current_error(int err_fd) noexcept {
    try {
        throw;
    } catch (const Error& e) {
        wire::send_error(err_fd, e);
    } catch (const std::exception& e) {
        wire::send_error(err_fd, Error(Errc::runtime, e.what()));
    } catch (...) {
        wire::send_error(err_fd, Errc::runtime, "the sandbox could not be set up");
    }
}

// ---- the sandbox child (PID 1) -----------------------------------------------------------

// Waits for whoever started the child to have recorded the session (write_session_record): an
// errno, 0 when it is recorded. Throws when it could not be.
void await_session_record(int fd, const std::string& session_dir) {
    int err = 0;
    ssize_t n;
    while ((n = ::read(fd, &err, sizeof err)) < 0 && errno == EINTR) {}
    ::close(fd);
    if (n != sizeof err) throw Error(Errc::runtime, "the run that started the sandbox gave up");
    if (err != 0) throw_errno(Errc::runtime, "cannot record the session in " + session_dir, err);
}

// The sandbox's namespaces exist and its id maps are written: the root, the mounts, then
// karapace-init in place of this process. Throws what fails.
[[noreturn]] void build_sandbox(const SandboxSpec& spec, const Prepared& p, const InitCommand& init,
                                int recorded_fd = -1) {
    // 1. identity: host supplementary groups would appear as the overflow group.
    // The raw system call: glibc's setgroups() synchronises with every thread it believes
    // exists, and a child cloned from a threaded process would wait for them forever.
    if (!p.ids.deny_setgroups) ::syscall(SYS_setgroups, 0, nullptr);
    // 1b. a network namespace of its own is made meanwhile (net.cpp), entered in step 4.
    std::optional<NetworkNamespace> network;
    if (spec.network_isolation) network.emplace(p.idle_processors);
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
    // The writable layer is touched only once the session is recorded (by whoever started this
    // child, meanwhile, when `recorded_fd` is given).
    if (recorded_fd >= 0) await_session_record(recorded_fd, spec.session_dir);
    prepare_writable_layer(layers, spec.work_dir);
    mount_overlay(layers, p.root, p.scratch);
    // Held by init until it exits, after the command's status has gone to the parent.
    auto retired = std::move(layers.retired);
    layers = {};
    UniqueFd root(::open(p.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno(Errc::runtime, "cannot open the new root");
    // 4. /proc, /sys, /dev, /run, /etc files, host integration, manifest mounts. A new sysfs
    // shows the network namespace of whoever mounts it: the child enters its own first, as late
    // as it can (the plan puts that sysfs after the host integration).
    const auto& ops = p.mounts.ops;
    auto sysfs = std::find_if(ops.begin(), ops.end(),
                              [](const MountOp& op) { return op.kind == MountOp::Kind::sysfs; });
    std::size_t network_from = network ? static_cast<std::size_t>(sysfs - ops.begin()) : ops.size();
    attach_mounts(p.mounts, sources, root.get(), p.scratch, 0, network_from);
    if (network) network->enter();
    attach_mounts(p.mounts, sources, root.get(), p.scratch, network_from);
    // 5. uts.
    if (!spec.hostname.empty() && ::sethostname(spec.hostname.data(), spec.hostname.size()) != 0)
        throw_errno(Errc::runtime, "cannot set the hostname " + spec.hostname);
    // 6. switch root; a frozen environment's root becomes read-only.
    pivot_into(p.root);
    if (spec.read_only) seal_root_read_only();
    // 7. become karapace-init, which starts the command. Its signals are blocked first: a
    // namespace's init drops those it has no handler for, unless they are blocked.
    sigset_t forwarded = init_start::signal_set();
    ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    // Across the exec: released by init's exit, not by the exec (its command gets none of them).
    for (const auto& fd : retired)
        ::fcntl(fd.get(), F_SETFD, 0);
    execute_init(p, init);
}

// A sandbox child forked into the new namespaces (sandbox_in_copy): it waits for the go byte,
// which also says that its id maps are written, and builds the sandbox.
[[noreturn]] void sandbox_child(const SandboxSpec& spec, const Prepared& p, const InitCommand& init,
                                int go_fd, int err_fd, int status_fd) {
    try {
        redirect_stdio({spec.stdin_fd, spec.stdout_fd, spec.stderr_fd});
        close_fds_except(with_kept_fds({go_fd, err_fd, status_fd, init.pipes[3]}, p));
        char go = 0;
        if (::read(go_fd, &go, 1) != 1) ::_exit(125);  // the parent gave up
        ::close(go_fd);
        init.set_go(go);
        build_sandbox(spec, p, init);
    } catch (...) {
        send_current_error(err_fd);
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
    attach_mounts(proc_guards, none, root.get(), "");
}

// Beside a running session, a helper (run_helper) enters the session's namespaces, unshares a
// mount namespace (a copy of the session's tree, the same overlay mount) and a pid namespace,
// and starts the run's own init there: a process that shares our memory too until it executes
// karapace-init, having mounted that pid namespace's /proc.
struct JoinStart {
    const SandboxSpec& spec;
    const Prepared& p;
    const InitCommand& init;
    const SessionNamespaces& ns;
    const MountPlan& proc_guards;
    int go_fd, err_fd, status_fd;
    pid_t init_pid = -1;       // written by the helper, read once it has exited
    bool init_failed = false;  // written by init before it exits instead of executing
};

// The run's init, until it executes karapace-init: a /proc of this pid namespace over the
// session's, with what the session's has made read-only (/proc/sys: a root caller's root inside
// is host root) or hidden below it: those mounts stay below the new /proc.
int start_joined_init(void* arg) {
    auto& j = *static_cast<JoinStart*>(arg);
    try {
        if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
            throw_errno(Errc::runtime, "cannot mount /proc for the new session");
        guard_proc_interfaces(j.proc_guards);
        execute_init(j.p, j.init);
    } catch (...) {
        send_current_error(j.err_fd);
    }
    j.init_failed = true;
    ::_exit(125);
}

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
        close_fds_except(with_kept_fds({j.go_fd, j.err_fd, j.status_fd}, j.p));
        if (::unshare(CLONE_NEWNS | CLONE_NEWPID) != 0)
            throw_errno(Errc::runtime, "cannot make the session's own mount and pid namespaces");
        if (!j.p.ids.deny_setgroups) ::syscall(SYS_setgroups, 0, nullptr);
        sigset_t forwarded = init_start::signal_set();
        ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
        // init shares this memory until it has executed karapace-init (or exited): no copy.
        alignas(64) char stack[64 * 1024];
        pid_t pid =
            ::clone(start_joined_init, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &j);
        if (pid < 0) throw_errno(Errc::runtime, "cannot start the session's init");
        return hand_over_init(pid, j.init_failed, j.init_pid);
    } catch (...) {
        send_current_error(j.err_fd);
    }
    return 1;
}

// Entering a user namespace, or creating one in a process that shares our memory, gains
// capabilities, which makes that memory undumpable; put back what it was when this ends.
class KeepDumpable {
public:
    KeepDumpable() : was_(::prctl(PR_GET_DUMPABLE, 0, 0, 0, 0)) {}
    ~KeepDumpable() {
        if (was_ == 1) ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    }
    KeepDumpable(const KeepDumpable&) = delete;
    KeepDumpable& operator=(const KeepDumpable&) = delete;

private:
    int was_;
};

// Runs `fn(arg)` in a helper that shares our memory while we wait (CLONE_VM | CLONE_VFORK, as
// posix_spawn does): no copy of our page tables, and none of the copy-on-write faults a fork
// pays for. The helper exits as soon as it has started the sandbox's process; that process,
// orphaned, is handed to us because we are a child subreaper until the helper has been reaped,
// so we wait for it directly.
void run_helper(int (*fn)(void*), void* arg) {
    if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        throw_errno(Errc::runtime, "cannot become the subreaper of the sandbox");
    KeepDumpable dumpable;
    // The helper's stack: this frame's, below which nothing of ours runs until it has exited
    // (room for the stack of a process the helper starts the same way).
    alignas(64) char stack[256 * 1024];
    pid_t helper = ::clone(fn, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    int err = errno;
    if (helper > 0) {
        // Reaped: it has exited, and what it started is ours now.
        int status = 0;
        while (::waitpid(helper, &status, 0) < 0 && errno == EINTR) {}
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    if (helper < 0) {
        errno = err;
        throw_errno(Errc::runtime, "cannot start the sandbox");
    }
}

// ---- a new sandbox, from a process that shares our memory -------------------------------

// A new sandbox is built as a run beside a session starts: without a copy of our memory. A
// helper (run_helper) enters the caller's kept user namespace (sandbox/keeper.cpp) and clones
// the sandbox child into the new namespaces sharing our memory; for a new user namespace we do
// that ourselves (start_fresh in this process), writing the child's id maps first (directly: the
// caller is root), and so does a caller that exits after the run and keeps its ids in the kept
// namespace (it enters it for good; SandboxSpec::caller_exits). Then the session record. The child
// builds the root and executes karapace-init (which waits for the go byte when the parent has
// something to do first); the helper exits once it has. Nobody pays for copying our page tables or
// for their copy-on-write faults, and karapace-init's execve has no copy of the caller to tear
// down. Whoever started the child and the child take turns on our memory: each waits on a pipe
// while the other runs (and we wait for the helper).
struct FreshStart {
    const SandboxSpec& spec;
    const Prepared& p;
    const InitCommand& init;
    int userns;  // the kept user namespace, or -1 for a new one
    int go_fd, err_fd, status_fd;
    std::optional<SessionRecord>& record;  // written by the helper before the child mounts
    int maps_read = -1;         // "the maps are written" (and the record, if not recorded_read)
    int recorded_read = -1;     // the record's outcome (an errno), written beside the child's steps
    int exec_write = -1;        // closes when the child has executed init or exited
    char* stack_top = nullptr;  // the child's
    pid_t init_pid = -1;        // written by the helper, read once it has exited
    bool child_failed = false;  // written by the child before it exits
};

int fresh_child(void* arg) {
    auto& f = *static_cast<FreshStart*>(arg);
    // Nothing but this system call until the helper is done with the memory (it allocates the
    // session record meanwhile).
    char written = 0;
    if (::read(f.maps_read, &written, 1) != 1) {
        f.child_failed = true;  // the helper gave up
        ::_exit(125);
    }
    try {
        redirect_stdio({f.spec.stdin_fd, f.spec.stdout_fd, f.spec.stderr_fd});
        close_fds_except(with_kept_fds(
            {f.go_fd, f.err_fd, f.status_fd, f.init.pipes[3], f.exec_write, f.recorded_read}, f.p));
        build_sandbox(f.spec, f.p, f.init, f.recorded_read);
    } catch (...) {
        send_current_error(f.err_fd);
    }
    f.child_failed = true;
    ::_exit(125);
}

int start_fresh(void* arg) {
    auto& f = *static_cast<FreshStart*>(arg);
    try {
        // (Sharing our memory but not our thread group or fs: setns into a user namespace
        // refuses only those.)
        if (f.userns >= 0 && ::setns(f.userns, CLONE_NEWUSER) != 0)
            throw_errno(Errc::runtime, "cannot enter the kept user namespace");
        // The pipes are the helper's own: ours (the caller's copies) would keep them open.
        int maps[2], exec[2];
        if (::pipe2(maps, O_CLOEXEC) != 0 || ::pipe2(exec, O_CLOEXEC) != 0)
            throw_errno(Errc::runtime, "cannot make the sandbox's start pipes");
        f.maps_read = maps[0];
        f.exec_write = exec[1];
        // The session is recorded before the child touches the writable layer: `stop`, `commit`
        // and the next run never miss a sandbox that holds it. Where this build makes system
        // calls without libc (raw_syscall.hpp), the record is written while the child opens the
        // layers and the mount sources and makes its stage, and the child waits for it before
        // the writable layer; elsewhere before the child starts.
        const bool recorded = !f.spec.session_dir.empty();
        const bool beside = recorded && KARAPACE_RAW_SYSCALLS;
        UniqueFd sessions;
        std::string words;
        std::optional<Pipe> outcome;
        if (beside) {
            sessions = open_session_dir(f.spec.session_dir);
            words = session_record_words(f.spec.mapping, f.p.fingerprint);
            f.recorded_read = outcome.emplace().read.get();
        }
        unsigned long flags = f.p.clone_flags;
        if (f.userns >= 0) flags &= ~static_cast<unsigned long>(CLONE_NEWUSER);
        pid_t child =
            ::clone(fresh_child, f.stack_top, static_cast<int>(CLONE_VM | flags | SIGCHLD), &f);
        if (child < 0) throw_clone_error(errno);
        ::close(maps[0]);
        ::close(exec[1]);
        try {
            if (f.userns < 0) write_id_maps(child, f.p.ids);
            if (recorded && !beside)
                f.record.emplace(f.spec.session_dir, child, f.spec.mapping, f.p.fingerprint);
        } catch (...) {
            ::kill(child, SIGKILL);
            while (::waitpid(child, nullptr, 0) < 0 && errno == EINTR) {}
            throw;
        }
        // From here until the child has executed (or exited) the memory is the child's: the
        // helper allocates nothing and leaves errno alone (the record's system calls are raw;
        // the outcome's pipe stays open at both ends here, so writing it cannot fail).
        send_byte(maps[1]);
        ::close(maps[1]);
        long written = 0;
        if (beside) {
            written = write_session_record(sessions.get(), child, words);
            int err = written < 0 ? static_cast<int>(-written) : 0;
            raw_syscall(SYS_write, outcome->write.get(), reinterpret_cast<long>(&err), sizeof err);
        }
        // End of file: the child has executed karapace-init (its end was close-on-exec) or exited.
        char ignored = 0;
        while (::read(exec[0], &ignored, 1) < 0 && errno == EINTR) {}
        ::close(exec[0]);
        if (beside && written == 0)
            f.record.emplace(SessionRecord::Written{}, f.spec.session_dir, child);
        return hand_over_init(child, f.child_failed, f.init_pid);
    } catch (...) {
        send_current_error(f.err_fd);
    }
    return 1;
}

// The top of the child's stack, with a guard page below it: mapped on a process's first run and
// kept for its later ones (runs of one process come one after the other, each child done with it
// before the next). Unmapping it after a run would cost a flush of the TLB of the processor the
// child ran on, while the caller waits.
char* child_stack_top() {
    static constexpr std::size_t kSize = 1 << 20, kGuard = 4096;
    static char* top = nullptr;
    if (top == nullptr) {
        void* m = ::mmap(nullptr, kSize + kGuard, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (m == MAP_FAILED) throw_errno(Errc::runtime, "cannot map a stack for the sandbox");
        ::mprotect(m, kGuard, PROT_NONE);
        top = static_cast<char*>(m) + kGuard + kSize;
    }
    return top;
}

// ---- the parent --------------------------------------------------------------------------

std::atomic<pid_t> g_forward_to{0};
std::atomic<bool> g_forward_terminal_signals{false};

void forward_signal(int sig, siginfo_t* info, void*) {
    // Terminal-generated signals reach the sandbox directly (same process group), unless its
    // init is not ours.
    pid_t pid = g_forward_to.load();
    if (pid > 0 && (info->si_code != SI_KERNEL || g_forward_terminal_signals.load()))
        ::kill(pid, sig);
}

// While the sandbox runs, signals meant for us go to its init, which passes them on; with
// `terminal_signals` also those the terminal sent to our process group, which an init started
// elsewhere (a lingering one taking our run) is not in.
class SignalForwarding {
public:
    explicit SignalForwarding(pid_t pid, bool terminal_signals = false) {
        g_forward_to = pid;
        g_forward_terminal_signals = terminal_signals;
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

// True when this process has more than one thread: /proc/self/task's link count is two more
// than the threads (a stat, where field 20 of /proc/self/stat costs an open and a read of a file
// the kernel formats).
bool multi_threaded() {
    struct stat task {};
    if (::stat("/proc/self/task", &task) == 0 && task.st_nlink >= 3) return task.st_nlink != 3;
    char buf[1024];
    UniqueFd fd(::open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
    if (!fd) return true;
    ssize_t n = ::read(fd.get(), buf, sizeof buf - 1);
    if (n <= 0) return true;
    buf[n] = '\0';
    const char* threads = proc_stat_field(buf, 20);  // num_threads
    return threads == nullptr || std::atoi(threads) != 1;
}

RunResult run_here(const SandboxSpec& spec, bool caller_exits);

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
        RunResult r = run_here(spec, true);
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
    return multi_threaded() ? run_from_forked_child(spec) : run_here(spec, spec.caller_exits);
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
    char go = 0;          // the go byte init got on its command line (it reads none)
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

// Whether this run returns on init's report instead of waiting for its exit (with the limits'
// mechanism), and whether its init then lingers for the next run.
bool returns_early(const Pipes& pipes, LimitMechanism limits) {
    return pipes.early && (limits == LimitMechanism::none || limits == LimitMechanism::rlimit);
}
bool init_lingers(const SandboxSpec& spec, const Prepared& p, bool early, bool joined) {
    return early && !spec.session_dir.empty() && !joined && !p.fingerprint.empty();
}

// The go byte, when nothing the parent does before it matters to the command: no limits to
// place init under, no terminal to hand over. Init then starts the command at once, while the
// parent records the session. 0 when the parent must send it.
char go_at_once(const SandboxSpec& spec, const Prepared& p, const Pipes& pipes, bool joined) {
    if (spec.interactive || spec.limits.any()) return 0;
    return init_start::go_byte(
        false, init_lingers(spec, p, returns_early(pipes, LimitMechanism::none), joined));
}

// `session` is the run's record when whoever started the sandbox wrote it already; `serve`
// the socket a new sandbox's init takes runs on once it lingers (nullptr for none).
RunResult supervise(const SandboxSpec& spec, const Prepared& p, Started started, Pipes& pipes,
                    SessionStartLock& start_lock, std::optional<SessionRecord>& session,
                    ServeSocket* serve = nullptr) {
    RunResult result;
    ChildGuard guard(started.child);
    if (started.new_userns) write_id_maps(started.child, p.ids);
    pid_t init = started.init;
    std::string unit = "karapace-" + (spec.hostname.empty() ? std::string("run") : spec.hostname) +
                       "-" + std::to_string(init);
    LimitScope limits(spec.limits, init, unit + ".scope");
    result.limits = limits.mechanism();
    if (!spec.session_dir.empty() && !session)
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
    bool early = returns_early(pipes, limits.mechanism());
    bool lingers = init_lingers(spec, p, early, started.joined);
    char go_byte = started.go
                       ? started.go
                       : init_start::go_byte(limits.mechanism() == LimitMechanism::rlimit, lingers);
    if (!started.go && ::write(pipes.go.write.get(), &go_byte, 1) != 1)
        throw_errno(Errc::runtime, "cannot start the sandbox");
    pipes.go.write.reset();

    // The error pipe closes when the command has been executed (or reports why it was not):
    // by then the root is mounted and the session recorded.
    auto error = wire::receive_error(pipes.errors.read.get());
    start_lock.release();
    std::optional<int> reported;
    if (early) reported = reported_status(pipes.status.read.get());
    if (reported) {
        // Everything in the sandbox has ended; the kernel tears the namespaces down (unmounting
        // the overlay takes a grace period or two) without keeping the caller waiting. The next
        // run that mounts the writable layer waits for it (await_ending_sessions). Or init
        // lingers, and the next run joins it.
        result.status = *reported;
        if (session) {
            if (lingers) {
                if (serve) serve->publish(init);
                session->mark_idle();
            } else
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

// A lingering sandbox built the way this run's would be, with no session of this run's
// mapping running (which the run joins instead).
const Session* lingering_sandbox(const SandboxSpec& spec, const Prepared& p,
                                 const SessionRecords& records) {
    if (p.fingerprint.empty()) return nullptr;
    for (const auto& s : records.running)
        if (s.mapping == spec.mapping) return nullptr;
    for (const auto& s : records.idle)
        if (s.mapping == spec.mapping && s.fingerprint == p.fingerprint) return &s;
    return nullptr;
}

// The run's command started by a lingering sandbox's init (serve.hpp): no process of ours
// enters the sandbox, and no init of the run's own is started. Only for a run nothing of which
// is on a terminal (its command gets a session of its own either way), without limits, socket
// activation or a launch to report to, and started from the process context the lingering init
// was (same_process_context). nullopt when the run is not one or init does not take it: then
// nothing has run.
std::optional<RunResult> run_by_lingering_init(const SandboxSpec& spec, const Prepared& p,
                                               const SessionRecords& records,
                                               SessionStartLock& start_lock) {
    if (spec.interactive || spec.limits.any() || !p.listen_fds.empty() ||
        spec.session_report_fd >= 0)
        return std::nullopt;
    const Session* s = lingering_sandbox(spec, p, records);
    if (!s) return std::nullopt;
    std::array<int, 3> stdio{spec.stdin_fd, spec.stdout_fd, spec.stderr_fd};
    for (int i = 0; i < 3; ++i) {
        if (stdio[i] < 0) stdio[i] = i;
        if (::isatty(stdio[i])) return std::nullopt;
    }
    if (!same_process_context(s->pid) || !claim_idle_session(spec.session_dir, s->pid))
        return std::nullopt;
    UniqueFd connection =
        ask_lingering_init(spec.session_dir, s->pid, {p.command_options, spec.argv, p.env, stdio});
    if (!connection) {
        return_claimed_session(spec.session_dir, s->pid);
        return std::nullopt;
    }
    start_lock.release();
    ServedEnd end;
    {
        SignalForwarding forwarding(s->pid, true);
        end = await_served_command(connection.get());
    }
    return_claimed_session(spec.session_dir, s->pid);
    RunResult result;
    result.status = end.status;
    result.error = std::move(end.error);
    return result;
}

// A live session this run may join: one with the same identity mapping, or else a lingering
// sandbox built the same way (whose time then starts again). `others` tells whether sessions of
// another mapping are running.
std::optional<SessionNamespaces> joinable_session(const SandboxSpec& spec, const Prepared& p,
                                                  const SessionRecords& records, bool& others) {
    others = false;
    if (!spec.share_running || spec.session_dir.empty()) return std::nullopt;
    for (const auto& s : records.running) {
        if (s.mapping != spec.mapping) {
            others = true;
            continue;
        }
        if (auto ns = open_session_namespaces(s, spec.network_isolation)) return ns;
    }
    if (p.fingerprint.empty()) return std::nullopt;
    for (const auto& s : records.idle) {
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

// A start that ended before init: what the sandbox's processes reported.
RunResult failed_start(Pipes& pipes, const char* otherwise) {
    RunResult result;
    auto error = wire::receive_error(pipes.errors.read.get());
    result.status = 125;
    result.error = error ? std::move(*error) : Error(Errc::runtime, otherwise);
    return result;
}

// `caller_exits`: this process exits when the run returns (SandboxSpec::caller_exits).
RunResult run_here(const SandboxSpec& spec, bool caller_exits) {
    RunResult result;
    try {
        reap_finished();
        const ShortSlice slice;
        const Prepared p = prepare(spec, slice.caller_slice());
        SessionStartLock start_lock(spec.share_running ? spec.session_dir : std::string());
        Pipes pipes;
        pipes.early = spec.read_only || spec.volatile_upper || spec.upper_dir.empty();
        const int go_fd = pipes.go.read.get(), err_fd = pipes.errors.write.get(),
                  status_fd = pipes.status.write.get();
        bool others = false;
        // One reading of the records, which also clears those of processes that are gone (the
        // ending records that runs which joined before left, among them).
        SessionRecords records;
        if (spec.share_running && !spec.session_dir.empty())
            records = read_session_records(spec.session_dir);
        if (auto served = run_by_lingering_init(spec, p, records, start_lock)) return *served;
        // Beside a running session: a helper enters its namespaces and starts an init of its
        // own there.
        if (auto ns = joinable_session(spec, p, records, others)) {
            const MountPlan guards = proc_guards_of(p.mounts);
            const char go = go_at_once(spec, p, pipes, true);
            const InitCommand init(p, go, go_fd, err_fd, status_fd);
            JoinStart j{spec, p, init, *ns, guards, go_fd, err_fd, status_fd};
            run_helper(join_session, &j);
            pipes.close_child_ends();
            if (j.init_pid <= 0) return failed_start(pipes, "the session could not be joined");
            std::optional<SessionRecord> record;
            return supervise(spec, p, {j.init_pid, j.init_pid, false, true, go}, pipes, start_lock,
                             record);
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
            bool writable = !spec.read_only && !spec.upper_dir.empty();
            auto wait = writable ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(0);
            // The records read above hold while nothing runs: new sessions wait for the start
            // lock. A running session may have ended since, and the directory is read again.
            if (spec.share_running && records.running.empty()) {
                retire_idle_sessions(spec.session_dir, records.idle);
                await_ending_sessions(spec.session_dir, records.ending, wait);
            } else {
                retire_idle_sessions(spec.session_dir);
                await_ending_sessions(spec.session_dir, wait);
            }
        }
        // In the kept user namespace, or in a new one whose maps we write ourselves: built by a
        // process that shares our memory; karapace-init waits for the go byte.
        UniqueFd userns = kept_user_namespace(spec.mapping, p.ids);
        // A sandbox that may linger takes runs on a socket of its own.
        std::optional<ServeSocket> serve;
        if (!p.fingerprint.empty() && pipes.early) serve.emplace(spec.session_dir);
        const int serve_fd = serve ? serve->fd() : -1;
        // From here until the run returns on the processor we are on (cpus.hpp).
        const SameCpu same_cpu(p.cpus, p.idle_processors, !caller_exits);
        if (userns || !p.ids.use_helpers) {
            const char go = go_at_once(run_spec, p, pipes, false);
            const InitCommand init(p, go, go_fd, err_fd, status_fd, serve_fd);
            std::optional<SessionRecord> record;
            FreshStart f{run_spec, p,      init,      userns ? userns.get() : -1,
                         go_fd,    err_fd, status_fd, record};
            f.stack_top = child_stack_top();
            // The kept namespace is entered by a helper, unless this process exits after the
            // run and keeps its ids in there: entering it is for good.
            if (userns && !(caller_exits && spec.mapping == IdMapping::keep_id)) {
                run_helper(start_fresh, &f);
            } else {
                // A new user namespace needs no helper: we start the child ourselves, and
                // wait on its pipes while it has our memory.
                KeepDumpable dumpable;
                start_fresh(&f);
            }
            pipes.close_child_ends();
            if (f.init_pid <= 0) return failed_start(pipes, "the sandbox could not start");
            return supervise(run_spec, p, {f.init_pid, f.init_pid, false, false, go}, pipes,
                             start_lock, record, serve ? &*serve : nullptr);
        }
        // newuidmap and newgidmap write the maps of a new user namespace (no keeper) while a
        // copy of our memory waits for the go byte, then builds the sandbox.
        const InitCommand init(p, 0, -1, err_fd, status_fd, serve_fd);
        pid_t pid = clone_process(p.clone_flags);
        if (pid == 0) sandbox_child(run_spec, p, init, go_fd, err_fd, status_fd);
        pipes.close_child_ends();
        std::optional<SessionRecord> record;
        return supervise(run_spec, p, {pid, pid, true}, pipes, start_lock, record,
                         serve ? &*serve : nullptr);
    } catch (const Error& e) {
        result.status = 125;
        result.error = e;
    }
    return result;
}

}  // namespace

}  // namespace karapace::sandbox
