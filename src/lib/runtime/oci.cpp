// Running a command with an OCI runtime, read top to bottom. The caller plans the run (id maps,
// mount plan, environment) and forks a child that unshares a user and a mount namespace; the
// caller writes the id maps (the namespace sandbox's, newuidmap included) and lets it go. The
// child mounts the environment's overlay on a staging tmpfs with the sandbox's own overlay step,
// writes the bundle, and starts the runtime as root of that user namespace: the runtime sees it
// runs in a user namespace, takes its rootless paths, and makes the container's pid, mount, uts,
// ipc (and network) namespaces inside it. A createRuntime hook hands the container's init to the
// caller, which records it as the session: `stop` signals it like a sandbox's init, and killing it
// ends the container's pid namespace.
#include "runtime/oci.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <functional>

#include "karapace/sandbox/env.hpp"
#include "karapace/sandbox/idmap.hpp"
#include "karapace/sandbox/limits.hpp"
#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/spawn.hpp"
#include "karapace/sandbox/terminal.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/child.hpp"
#include "sandbox/steps.hpp"
#include "sandbox/wire.hpp"

namespace karapace::runtime {

namespace {

sigset_t forwarded_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : sandbox::kForwardedSignals)
        sigaddset(&set, sig);
    return set;
}

// The host side of one run: a private directory holding the mount point of the staging tmpfs
// (which exists only in the child's mount namespace, so on the host it stays empty) and the fifo
// the createRuntime hook writes the container's state to.
class RunDir {
public:
    RunDir() {
        char tmpl[] = "/tmp/karapace-oci.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr)
            throw_errno(Errc::runtime, "cannot create a directory for the OCI bundle in /tmp");
        dir = tmpl;
        stage = dir + "/stage";
        fifo = dir + "/started";
        if (::mkdir(stage.c_str(), 0700) != 0 || ::mkfifo(fifo.c_str(), 0600) != 0) {
            int err = errno;
            cleanup();
            throw_errno(Errc::runtime, "cannot prepare the OCI bundle directory " + dir, err);
        }
    }
    ~RunDir() { cleanup(); }
    RunDir(const RunDir&) = delete;
    RunDir& operator=(const RunDir&) = delete;
    std::string dir, stage, fifo;

private:
    void cleanup() noexcept {
        ::unlink(fifo.c_str());
        ::rmdir(stage.c_str());
        ::rmdir(dir.c_str());
    }
};

// Messages from the caller on the go pipe: start, with or without the limits as rlimits.
constexpr char kGo = 'g';
constexpr char kGoWithRlimits = 'r';

// Mounts the container's root at `root` inside the child; `scratch` is on the staging tmpfs.
using MountRoot = std::function<void(const std::string& root, const std::string& scratch)>;

// Everything the child needs, computed before the fork.
struct Plan {
    sandbox::SandboxSpec spec;
    sandbox::IdMapPlan ids;
    sandbox::MountPlan mounts;
    std::vector<std::string> env;
    OciIdentity who;
    std::string runtime;
    std::string container_id;
    std::string stage, fifo;
    std::vector<int> listen_fds;  // socket activation: 3…, kept open for the runtime to pass
};

Plan make_plan(const sandbox::SandboxSpec& spec, const std::string& runtime) {
    Plan p;
    p.spec = spec;
    // runc relays a command's standard streams through pipes unless it gives it a terminal of its
    // own. A command whose streams are all the caller's terminal (`exec -- vim`) gets one, as
    // `enter` does, so it runs on a terminal as under the namespace backend.
    bool on_terminal = spec.stdin_fd < 0 && spec.stdout_fd < 0 && spec.stderr_fd < 0 &&
                       ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1 &&
                       ::isatty(STDERR_FILENO) == 1;
    p.spec.interactive = (spec.interactive && ::isatty(STDIN_FILENO) == 1) || on_terminal;
    p.runtime = runtime;
    p.container_id = "karapace-" + std::to_string(::getpid());
    p.ids = sandbox::plan_id_maps_for_caller(spec.mapping);
    p.who = {p.ids.inner_uid, p.ids.inner_gid, false};
    // The runtime must run as root of the namespace; a user without sub-ids has only its own id
    // mapped, so it becomes that root and the runtime maps the user's id back onto it.
    if (p.ids.single_id && spec.mapping == sandbox::IdMapping::keep_id && ::getuid() != 0) {
        p.ids = sandbox::plan_id_maps_for_caller(sandbox::IdMapping::container_root);
        p.who.nested_userns = true;
    }
    auto host = sandbox::HostView::current();
    p.mounts = sandbox::plan_mounts(spec, host);
    p.env = sandbox::command_environment(spec, host.home, host.user, p.mounts.env_extra);
    // The runtime passes descriptors 3… on at the same numbers (--preserve-fds); the command is
    // the container's first process, pid 1.
    p.listen_fds = sandbox::socket_activation(spec, p.env);
    if (!p.listen_fds.empty()) p.env.push_back("LISTEN_PID=1");
    return p;
}

void write_text(const std::string& path, const std::string& text, mode_t mode) {
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
    if (!fd) throw_errno(Errc::runtime, "cannot write " + path);
    write_all(fd.get(), text, path);
}

// ---- the child, in its user and mount namespaces -------------------------------------------

// The sources the config binds, as clones on the stage below `binds` (absent optional ones left
// out) beside the directories that stand in for a tmpfs, and the generated files, written on the
// stage below `files`.
OciBundlePaths bundle_paths(const Plan& p, int root_fd, const std::string& root,
                            const std::string& files, const std::string& binds) {
    using Kind = sandbox::MountOp::Kind;
    OciBundlePaths paths;
    paths.root = root;
    paths.started_fifo = p.fifo;
    const auto& ops = p.mounts.ops;
    paths.files.resize(ops.size());
    paths.binds.resize(ops.size());
    for (std::size_t i = 0; i < ops.size(); ++i) {
        const auto& op = ops[i];
        std::string generated;
        switch (op.kind) {
        case Kind::bind: {
            std::string at = binds + "/bind-" + std::to_string(i);
            if (stage_bind_source(op, at)) paths.binds[i] = at;
            continue;
        }
        case Kind::tmpfs:
            if (auto mode = tmpfs_as_directory(op)) {
                paths.binds[i] = binds + "/tmpfs-" + std::to_string(i);
                stage_tmpfs_directory(op, paths.binds[i], *mode);
            }
            continue;
        case Kind::file: generated = op.source; break;
        case Kind::passwd:
        case Kind::group:
        case Kind::shadow: generated = sandbox::account_file_text(root_fd, op); break;
        default: continue;
        }
        if (op.needs_parent &&
            !sandbox::exists_in_root(root_fd, op.target.substr(1, op.target.rfind('/'))))
            continue;
        paths.files[i] = files + "/gen-" + std::to_string(i);
        write_text(paths.files[i], generated, 0644);
    }
    return paths;
}

std::vector<std::string> runtime_argv(const Plan& p, const std::string& bundle,
                                      const std::string& state, int log_fd) {
    std::vector<std::string> argv{
        p.runtime,      "--root", state, "--log", "/proc/self/fd/" + std::to_string(log_fd),
        "--log-format", "json"};
    // Limits are the cgroup the caller put the run in (or rlimits in the config), so the runtime
    // is given no cgroup settings. runc takes a user namespace whose map is the identity of every
    // id (root's) for the host's and would manage them as real root; rootless, it only makes a
    // cgroup of its own below ours where it may. crun is told to leave them alone (1.8 still
    // refuses hosts with hybrid v1/v2 hierarchies, which `karapace doctor` reports).
    auto ends_with = [&](std::string_view name) {
        return p.runtime.size() >= name.size() &&
               p.runtime.compare(p.runtime.size() - name.size(), name.size(), name) == 0;
    };
    if (ends_with("runc")) argv.insert(argv.end(), {"--rootless", "true"});
    if (ends_with("crun")) argv.push_back("--cgroup-manager=disabled");
    argv.push_back("run");
    if (!p.listen_fds.empty())
        argv.insert(argv.end(), {"--preserve-fds", std::to_string(p.listen_fds.size())});
    argv.insert(argv.end(), {"--bundle", bundle, p.container_id});
    return argv;
}

// Starts the runtime as root of the namespace and waits for it, passing on the signals the
// caller forwards. Closing `err_fd` tells the caller the runtime is on its way. Returns the
// runtime's exit status.
int run_runtime(const Plan& p, const std::string& bundle, const std::string& state, int log_fd,
                int err_fd) {
    pid_t pid = ::fork();
    if (pid < 0) throw_errno(Errc::runtime, "cannot start the OCI runtime");
    if (pid == 0) {
        int log = ::dup(log_fd);  // without O_CLOEXEC: the runtime opens it by path
        auto argv = runtime_argv(p, bundle, state, log);
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        if (::setresgid(0, 0, 0) == 0 && ::setresuid(0, 0, 0) == 0)
            ::execv(p.runtime.c_str(), args.data());
        // Logged like the runtime's own failures, so the caller reads one place.
        std::string line = "{\"level\":\"error\",\"msg\":\"cannot start " + p.runtime + ": " +
                           std::strerror(errno) + "\"}\n";
        ssize_t ignored = ::write(log_fd, line.data(), line.size());
        (void)ignored;
        ::_exit(1);
    }
    ::close(err_fd);
    sigset_t wait_set = forwarded_signals();
    sigaddset(&wait_set, SIGCHLD);
    for (;;) {
        siginfo_t info{};
        int sig = ::sigwaitinfo(&wait_set, &info);
        if (sig < 0) continue;
        if (sig == SIGCHLD) {
            int status = 0;
            if (::waitpid(pid, &status, WNOHANG) == pid) return sandbox::decode_status(status);
            continue;
        }
        // The terminal sent it to the whole process group: the runtime has it already.
        if (info.si_code != SI_KERNEL) ::kill(pid, sig);
    }
}

[[noreturn]] void oci_child(const Plan& p, const MountRoot& mount_root, int ready_fd, int go_fd,
                            int err_fd, int log_fd) {
    try {
        sandbox::redirect_stdio({p.spec.stdin_fd, p.spec.stdout_fd, p.spec.stderr_fd});
        // The caller's descriptors (the start lock above all) must not live as long as the run.
        std::vector<int> keep{ready_fd, go_fd, err_fd, log_fd};
        keep.insert(keep.end(), p.listen_fds.begin(), p.listen_fds.end());
        sandbox::close_fds_except(keep);
        for (int fd : p.listen_fds)
            ::fcntl(fd, F_SETFD, 0);
        sigset_t blocked = forwarded_signals();
        sigaddset(&blocked, SIGCHLD);
        ::sigprocmask(SIG_BLOCK, &blocked, nullptr);
        if (::unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0)
            throw_errno(Errc::runtime, "cannot create the user and mount namespaces");
        sandbox::send_byte(ready_fd);
        char go = 0;
        if (::read(go_fd, &go, 1) != 1) ::_exit(125);  // the caller gave up
        if (!p.ids.deny_setgroups) ::syscall(SYS_setgroups, 0, nullptr);

        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            throw_errno(Errc::runtime, "cannot make the run's mounts private");
        if (::mount("karapace", p.stage.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
            throw_errno(Errc::runtime, "cannot mount the staging tmpfs on " + p.stage);
        std::string root = p.stage + "/root", scratch = p.stage + "/scratch",
                    files = p.stage + "/files", binds = p.stage + "/binds",
                    bundle = p.stage + "/bundle", state = p.stage + "/state";
        for (const auto& d : {root, scratch, files, binds, bundle, state})
            ::mkdir(d.c_str(), 0700);
        ::chmod(root.c_str(), 0755);
        mount_root(root, scratch);

        UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root_fd) throw_errno(Errc::runtime, "cannot open the container root " + root);
        auto paths = bundle_paths(p, root_fd.get(), root, files, binds);
        // Limits the caller's cgroup enforces are not set again as rlimits.
        sandbox::SandboxSpec spec = p.spec;
        if (go != kGoWithRlimits) spec.limits = {};
        write_text(bundle + "/config.json",
                   json::pretty(oci_config(spec, p.mounts, p.env, p.who, paths)), 0600);
        root_fd.reset();

        int status = run_runtime(p, bundle, state, log_fd, err_fd);
        // A fuse-overlayfs daemon serves the root until it is unmounted.
        ::umount2(root.c_str(), MNT_DETACH);
        ::_exit(status);
    } catch (const Error& e) {
        sandbox::wire::send_error(err_fd, e);
    } catch (const std::exception& e) {
        sandbox::wire::send_error(err_fd, Error(Errc::runtime, e.what()));
    }
    ::_exit(125);
}

// ---- the caller ------------------------------------------------------------------------------

// Blocks the forwarded signals and reads them from a descriptor while the run lasts; pending
// ones are consumed before the mask is restored (they were meant for the run).
class SignalRelay {
public:
    SignalRelay() {
        sigset_t set = forwarded_signals();
        ::sigprocmask(SIG_BLOCK, &set, &old_);
        fd_ = UniqueFd(::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
        if (!fd_) throw_errno(Errc::runtime, "cannot watch signals while the container runs");
    }
    ~SignalRelay() {
        relay(-1);
        ::sigprocmask(SIG_SETMASK, &old_, nullptr);
    }
    SignalRelay(const SignalRelay&) = delete;
    SignalRelay& operator=(const SignalRelay&) = delete;
    int fd() const noexcept { return fd_.get(); }
    // Passes what arrived on to `pid` (nothing when pid < 0), except terminal-generated signals.
    void relay(pid_t pid) noexcept {
        signalfd_siginfo info{};
        while (::read(fd_.get(), &info, sizeof info) == sizeof info)
            if (pid > 0 && info.ssi_code != SI_KERNEL)
                ::kill(pid, static_cast<int>(info.ssi_signo));
    }

private:
    sigset_t old_{};
    UniqueFd fd_;
};

// The container's init from the state JSON the hook wrote.
pid_t init_pid_of(const std::string& state) {
    boost::system::error_code ec;
    auto v = boost::json::parse(state, ec);
    if (ec || !v.is_object()) return -1;
    const auto* pid = v.as_object().if_contains("pid");
    return pid && pid->is_int64() ? static_cast<pid_t>(pid->as_int64()) : -1;
}

sandbox::RunResult run_plan(Plan& p, const MountRoot& mount_root,
                            sandbox::SessionStartLock& start_lock) {
    sandbox::RunResult result;
    RunDir dir;
    p.stage = dir.stage;
    p.fifo = dir.fifo;
    UniqueFd fifo(::open(dir.fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fifo) throw_errno(Errc::runtime, "cannot open " + dir.fifo);
    UniqueFd log(::memfd_create("karapace-oci-log", MFD_CLOEXEC));
    if (!log) throw_errno(Errc::runtime, "cannot create the OCI runtime's log");
    Pipe ready, go, errors;
    SignalRelay signals;
    pid_t child = ::fork();
    if (child < 0) throw_errno(Errc::runtime, "cannot start the OCI run");
    if (child == 0) {
        ready.read.reset();
        go.write.reset();
        errors.read.reset();
        oci_child(p, mount_root, ready.write.get(), go.read.get(), errors.write.get(), log.get());
    }
    sandbox::ChildGuard reaper(child);
    ready.write.reset();
    go.read.reset();
    errors.write.reset();
    if (!sandbox::wait_for_byte(ready.read.get())) {
        auto error = sandbox::wire::receive_error(errors.read.get());
        throw error ? *error : Error(Errc::runtime, "the OCI run ended before it started");
    }
    sandbox::write_id_maps(child, p.ids);
    // The limits hold the child before it starts the runtime, so the runtime and the container
    // (in a cgroup the runtime may make below it) stay under them: the namespace sandbox's
    // mechanisms, in its order of preference.
    sandbox::LimitScope limits(
        p.spec.limits, child,
        "karapace-" + p.spec.hostname + "-" + std::to_string(child) + ".scope");
    result.limits = limits.mechanism();
    char go_byte = limits.mechanism() == sandbox::LimitMechanism::rlimit ? kGoWithRlimits : kGo;
    if (::write(go.write.get(), &go_byte, 1) != 1)
        throw_errno(Errc::runtime, "cannot start the OCI run");
    if (auto error = sandbox::wire::receive_error(errors.read.get())) {
        result.status = sandbox::wait_exit_status(reaper.release());
        result.status = 125;
        result.error = std::move(error);
        return result;
    }

    std::optional<sandbox::SessionRecord> session;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, child, 0)));
    if (!pidfd) throw_errno(Errc::runtime, "cannot watch the OCI run");
    std::string state;
    pollfd fds[3] = {{signals.fd(), POLLIN, 0}, {fifo.get(), POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
    for (;;) {
        if (::poll(fds, 3, -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno(Errc::runtime, "cannot wait for the OCI run");
        }
        if (fds[0].revents) signals.relay(child);
        if (fds[1].revents) {
            char buf[4096];
            ssize_t n = ::read(fifo.get(), buf, sizeof buf);
            if (n > 0) state.append(buf, static_cast<std::size_t>(n));
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                fds[1].fd = -1;  // the hook is done
                pid_t init = init_pid_of(state);
                if (init > 0 && !p.spec.session_dir.empty()) {
                    try {
                        session.emplace(p.spec.session_dir, init, p.spec.mapping);
                    } catch (const Error&) {}  // it ended already
                }
                if (init > 0 && p.spec.session_report_fd >= 0) {
                    ssize_t ignored = ::write(p.spec.session_report_fd, &init, sizeof init);
                    (void)ignored;
                }
                start_lock.release();
            }
        }
        if (fds[2].revents) break;
    }
    int status = sandbox::wait_exit_status(reaper.release());
    signals.relay(-1);
    std::string text;
    char buf[8192];
    for (off_t off = 0;;) {
        ssize_t n = ::pread(log.get(), buf, sizeof buf, off);
        if (n <= 0 || text.size() > (1u << 20)) break;
        text.append(buf, static_cast<std::size_t>(n));
        off += n;
    }
    result.status = classify_runtime_exit(status, text, result.error);
    return result;
}

void mount_environment_root(const sandbox::SandboxSpec& spec, const sandbox::MountPlan& plan,
                            const std::string& root, const std::string& scratch) {
    auto layers = sandbox::open_overlay_sources(spec);
    sandbox::prepare_writable_layer(layers, spec.work_dir);
    sandbox::add_own_layers(layers, plan, scratch);
    sandbox::mount_overlay(layers, root, scratch);
}

}  // namespace

std::optional<std::string> oci_runtime_path() {
    if (const char* wanted = std::getenv("KARAPACE_OCI_RUNTIME"); wanted && *wanted)
        return std::string(wanted).find('/') != std::string::npos ? std::optional(wanted)
                                                                  : find_program(wanted);
    if (auto runc = find_program("runc")) return runc;
    return find_program("crun");
}

sandbox::RunResult run_oci(const sandbox::SandboxSpec& spec) {
    if (spec.argv.empty()) throw Error(Errc::usage, "no command to run in the container");
    sandbox::RunResult result;
    try {
        auto runtime = oci_runtime_path();
        if (!runtime)
            throw Error(Errc::runtime,
                        "environment '" + spec.hostname +
                            "' uses the OCI backend, but neither runc nor crun is installed",
                        "install runc (apt install runc), or build it with backend = "
                        "\"namespace\" in [runtime]");
        sandbox::SessionStartLock start_lock(spec.session_dir);
        sandbox::SandboxSpec own = spec;
        // The runtime's teardown is waited for anyway, and a volatile mount's marker in a
        // private work directory would not be removable by the caller: a durable overlay here.
        own.volatile_upper = false;
        std::optional<sandbox::PrivateWorkDir> work;
        if (!spec.read_only && !spec.session_dir.empty() &&
            !sandbox::list_sessions(spec.session_dir).empty()) {
            log::warn("environment '", spec.hostname,
                      "' is running already; with the OCI backend this run gets its own view of "
                      "the writable layer, and neither sees the other's changes until it restarts");
            work.emplace(spec.work_dir);
            own.work_dir = work->path();
        }
        auto plan = make_plan(own, *runtime);
        std::optional<sandbox::ContainerMarker> marker;
        if (spec.interactive && plan.spec.interactive) marker.emplace(spec.hostname);
        result = run_plan(
            plan,
            [&](const std::string& root, const std::string& scratch) {
                mount_environment_root(own, plan.mounts, root, scratch);
            },
            start_lock);
    } catch (const Error& e) {
        result.status = 125;
        result.error = e;
    }
    return result;
}

namespace {

// What the doctor's probe container reads through a read-only bind mount, made the way manifest
// mounts are: a directory of the caller's in /tmp with one file, removed afterwards.
class ProbeMount {
public:
    ProbeMount() {
        char tmpl[] = "/tmp/karapace-oci-probe.XXXXXX";
        if (::mkdtemp(tmpl) == nullptr)
            throw_errno(Errc::runtime, "cannot create a directory for the OCI probe in /tmp");
        dir = tmpl;
        file = dir + "/probe";
        try {
            write_text(file, "karapace\n", 0644);
        } catch (...) {
            ::rmdir(dir.c_str());
            throw;
        }
    }
    ~ProbeMount() {
        ::unlink(file.c_str());
        ::rmdir(dir.c_str());
    }
    ProbeMount(const ProbeMount&) = delete;
    ProbeMount& operator=(const ProbeMount&) = delete;
    std::string dir, file;
};

// Where the probe's directory is mounted (on the plan's /run tmpfs, so nothing is created in
// the host's root), and the probe's command: exit 3 when the file cannot be read through the
// mount, 4 when the read-only mount can be written.
constexpr const char* kProbeTarget = "/run/karapace-probe";
std::vector<std::string> probe_argv() {
    std::string file = std::string(kProbeTarget) + "/probe";
    return {"/bin/sh", "-c",
            "read -r line < " + file + " && [ \"$line\" = karapace ] || exit 3; if ( : > " + file +
                " ) 2>/dev/null; then exit 4; fi"};
}

}  // namespace

std::optional<std::string> probe_oci_runtime(const std::string& runtime) {
    sandbox::SandboxSpec spec;
    spec.argv = probe_argv();
    spec.hostname = "karapace-probe";
    spec.host_integration = false;
    spec.read_only = true;
    UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    spec.stdin_fd = spec.stdout_fd = spec.stderr_fd = null.get();
    try {
        ProbeMount probe;
        spec.mounts = {{probe.dir, kProbeTarget, true}};
        auto plan = make_plan(spec, runtime);
        sandbox::SessionStartLock no_lock("");
        auto result = run_plan(
            plan,
            [](const std::string& root, const std::string&) {
                // The host's own root, read-only, stands in for an environment.
                if (::mount("/", root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
                    throw_errno(Errc::runtime, "cannot bind the host root at " + root);
            },
            no_lock);
        if (result.status == 0) return std::nullopt;
        if (result.error) return std::string(result.error->what());
        if (result.status == 3)
            return std::string(
                       "the probe container could not read a host file through a bind "
                       "mount at ") +
                   kProbeTarget + " (as manifest mounts are made)";
        if (result.status == 4)
            return std::string(
                       "the probe container could write to a host file through a "
                       "read-only bind mount at ") +
                   kProbeTarget + " (as `:ro` manifest mounts are made)";
        return "the probe container (/bin/sh of the host, reading a file through a read-only "
               "bind mount) exited with status " +
               std::to_string(result.status);
    } catch (const Error& e) {
        return std::string(e.what());
    }
}

}  // namespace karapace::runtime
