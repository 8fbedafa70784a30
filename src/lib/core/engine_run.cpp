// enter / exec / launch: turning an environment's records into a sandbox run.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <filesystem>

#include "core/engine_impl.hpp"
#include "core/sandbox_steps.hpp"
#include "karapace/sandbox/limits.hpp"
#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/spawn.hpp"
#include "karapace/schema/config.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "runtime/backend.hpp"
#include "store/fsutil.hpp"

namespace karapace::core {

namespace {

// A login shell: the user's $SHELL when the environment has it, else bash, else sh.
constexpr const char* login_shell_script =
    "if [ -n \"$SHELL\" ] && [ -x \"$SHELL\" ]; then exec \"$SHELL\" -l; fi; "
    "if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l";

// The manifest's on_enter hooks (the arguments), each by /bin/sh -c in turn with stdin from
// /dev/null so that none can read what is meant for the shell, then the login shell. A failing
// hook is a warning. Ctrl-C ends the hook running, not the session: the trap is a handler, not
// SIG_IGN, so the hooks and the shell start with the default action again.
constexpr const char* on_enter_script =
    "trap : INT; n=0; for hook do n=$((n + 1)); /bin/sh -c \"$hook\" </dev/null; s=$?; "
    "[ $s -eq 0 ] || printf 'karapace: warning: on_enter hook %d (%s) exited with status %d; "
    "starting the shell anyway\\n' $n \"$hook\" $s >&2; done; trap - INT; ";

std::vector<std::string> shell_argv(const std::vector<std::string>& on_enter) {
    if (on_enter.empty()) return {"/bin/sh", "-c", login_shell_script};
    std::vector<std::string> argv{
        "/bin/sh", "-c", std::string(on_enter_script) + login_shell_script, "karapace-on-enter"};
    argv.insert(argv.end(), on_enter.begin(), on_enter.end());
    return argv;
}

std::vector<sandbox::BindMount> resolve_mounts(const std::vector<schema::MountSpec>& mounts,
                                               const std::string& manifest_dir) {
    std::vector<sandbox::BindMount> out;
    if (mounts.empty()) return out;
    auto home = home_dir();
    auto allow = schema::mount_allowlist(schema::load_user_config(), home);
    for (const auto& m : mounts) {
        auto host = schema::resolve_host_path(m, manifest_dir, home);
        char buf[PATH_MAX];
        if (::realpath(host.c_str(), buf) == nullptr)
            throw Error(Errc::not_found,
                        "mount '" + m.label + "': the host path " + host + " does not exist",
                        "create it, or change [mounts] " + m.label + " in " + manifest_dir +
                            "/karapace.toml and rebuild");
        schema::check_mount_policy(buf, allow);
        out.push_back({buf, m.container, m.read_only});
    }
    return out;
}

// True when the environment has apt but none of its layers holds a package index: builds leave
// the indexes out of layers (docs/storage-format.md), so `apt-get install` finds nothing until
// `apt-get update` has run once in the environment.
bool apt_lists_missing(const sandbox::SandboxSpec& spec) {
    std::vector<std::string> layers = spec.lower_dirs;
    layers.insert(layers.begin(), spec.upper_dir);
    struct stat st {};
    if (spec.lower_dirs.empty() ||
        ::lstat((spec.lower_dirs.back() + "/usr/bin/apt-get").c_str(), &st) != 0)
        return false;
    for (const auto& layer : layers)
        for (const auto& name : store::list_dir(layer + "/var/lib/apt/lists"))
            if (name.find("_Packages") != std::string::npos) return false;
    return true;
}

}  // namespace

sandbox::SandboxSpec Engine::Impl::exec_spec(const ExecOptions& o, std::string* backend) {
    auto m = find(o.env);
    // The stored state alone: running sessions never make a frozen environment writable (a
    // frozen one with a session is "running", which would allow a writable run beside it), and
    // a built one takes runs whether or not others run.
    auto verdict = check_operation(label(m), stored_state(m.state),
                                   o.argv.empty() ? Operation::enter : Operation::exec);
    auto run = run_settings_of(m);
    if (backend) *backend = run.backend;

    sandbox::SandboxSpec spec;
    spec.lower_dirs = lower_dirs(m);
    auto env_dir = layout().env_dir(m.env_id);
    spec.upper_dir = env_dir + "/upper";
    spec.work_dir = env_dir + "/work";
    spec.read_only = verdict == Verdict::allowed_read_only;
    // A frozen environment's writable layer becomes the top read-only layer: its changes stay
    // visible, and nothing more can be added to them.
    if (spec.read_only) spec.lower_dirs.insert(spec.lower_dirs.begin(), spec.upper_dir);
    // enter/exec change the writable layer as any program changes files: normal writeback, no
    // syncfs of the whole upper filesystem when the overlay is unmounted (docs/sandbox.md).
    spec.volatile_upper = !spec.read_only;
    spec.hostname = label(m);
    spec.mapping = o.root ? sandbox::IdMapping::container_root : sandbox::IdMapping::keep_id;
    spec.network_isolation = run.network_isolation;
    spec.gpu = run.gpu;
    spec.audio = run.audio;
    spec.host_integration = true;
    spec.mounts = resolve_mounts(run.mounts, m.manifest_dir);
    spec.argv = o.argv.empty() ? shell_argv(m.session.on_enter) : o.argv;
    spec.no_new_privileges = spec.no_new_privileges || m.session.no_new_privileges;
    for (const auto& var : m.session.env)
        spec.manifest_env.push_back(var.name + "=" + var.value);
    spec.env = o.env_vars;
    spec.image_env = run.image.env;
    spec.image_workdir = run.image.working_dir;
    spec.cwd = o.cwd.empty() ? std::filesystem::current_path().string() : o.cwd;
    if (run.memory_limit_mb) spec.limits.memory_max_bytes = *run.memory_limit_mb << 20;
    if (run.cpu_shares) {
        spec.limits.cpu_weight = sandbox::cpu_weight_from_shares(*run.cpu_shares);
        spec.limits.cpu_shares = *run.cpu_shares;
    }
    spec.session_dir = layout().sessions_dir(m.env_id);
    spec.share_running = true;
    spec.linger = sandbox::linger_seconds();
    spec.interactive = o.interactive;
    spec.listen_fds = o.listen_fds;
    spec.listen_fdnames = o.listen_fdnames;
    spec.notify_socket = o.notify_socket;
    spec.caller_exits = o.caller_exits;
    return spec;
}

int Engine::run(const ExecOptions& options) {
    std::string backend;
    auto spec = impl_->exec_spec(options, &backend);
    if (options.root && options.argv.empty()) {
        try {
            if (apt_lists_missing(spec))
                log::warn("the package lists are not part of ", options.env,
                          "'s layers: run `apt-get update` before `apt-get install`");
        } catch (const Error&) {
            // An unreadable directory only costs the hint.
        }
    }
    auto result = runtime::runner_for(backend)(spec);
    if (result.error) {
        if (result.status == 125) throw *result.error;
        log::error(result.error->what());
    }
    return result.status;
}

CapturedOutput Engine::run_captured(const ExecOptions& options, std::size_t cap) {
    std::string backend;
    auto spec = impl_->exec_spec(options, &backend);
    spec.interactive = false;
    auto out = run_captured_step(spec, null_progress(), true, cap, runtime::runner_for(backend));
    if (out.error && out.status == 125) throw *out.error;
    CapturedOutput r;
    r.exit_status = out.status;
    r.out = std::move(out.out);
    r.err = std::move(out.err);
    if (out.error) r.err += std::string("karapace: ") + out.error->what() + "\n";
    r.truncated = r.out.size() >= cap || r.err.size() >= cap;
    return r;
}

int Engine::launch(const ExecOptions& options) {
    std::string backend;
    auto spec = impl_->exec_spec(options, &backend);
    spec.interactive = false;
    auto runner = runtime::runner_for(backend);
    Pipe report, session;
    spec.session_report_fd = session.write.get();
    pid_t child = ::fork();
    if (child < 0) throw_errno(Errc::failed, "cannot fork to launch the application");
    if (child == 0) {
        // Detach twice so the launched application is nobody's child here and outlives us.
        ::setsid();
        pid_t grandchild = ::fork();
        if (grandchild != 0) {
            ssize_t ignored = ::write(report.write.get(), &grandchild, sizeof grandchild);
            (void)ignored;
            _exit(grandchild > 0 ? 0 : 1);
        }
        int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, 0);
        ::dup2(null, 1);
        ::dup2(null, 2);
        try {
            auto result = runner(spec);
            _exit(result.status & 0xff);
        } catch (...) {
            _exit(125);
        }
    }
    report.write.reset();
    session.write.reset();
    pid_t launched = -1;
    ssize_t n = ::read(report.read.get(), &launched, sizeof launched);
    int status = 0;
    ::waitpid(child, &status, 0);
    if (n != sizeof launched || launched <= 0)
        throw Error(Errc::runtime, "could not start the application in a detached session");
    // The id to return is the session's (its init's pid, as `inspect` lists it), which the
    // sandbox reports once the session is recorded; the pipe closes without one only when the
    // run ended before that.
    pid_t init = -1;
    do {
        n = ::read(session.read.get(), &init, sizeof init);
    } while (n < 0 && errno == EINTR);
    if (n != sizeof init || init <= 0)
        throw Error(Errc::runtime, "the application's sandbox ended before its session started",
                    "run the command with `karapace exec` to see why it fails");
    return init;
}

}  // namespace karapace::core
