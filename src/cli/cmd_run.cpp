// `karapace enter` and `karapace exec`: the exit status is the command's own; 125 means karapace
// failed before the command ran (like `podman run`).
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "karapace/sandbox/notify_relay.hpp"
#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

std::string take_env(const char* name) {
    const char* v = std::getenv(name);
    std::string value = v ? v : "";
    ::unsetenv(name);
    return value;
}

// Run by systemd: socket activation's descriptors are ours when LISTEN_PID names this process,
// and a notification socket gets a relay that sends on as this process (the service's main one).
// The variables are taken out of our environment so nothing else we start sees them.
std::unique_ptr<sandbox::NotifyRelay> take_service_environment(core::ExecOptions& o) {
    std::string fds = take_env("LISTEN_FDS"), pid = take_env("LISTEN_PID");
    std::string names = take_env("LISTEN_FDNAMES");
    int n = 0, owner = 0;
    auto number = [](const std::string& s, int& out) {
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && ec == std::errc() && end == s.data() + s.size();
    };
    if (!fds.empty() && number(fds, n) && number(pid, owner) && owner == ::getpid() && n > 0) {
        o.listen_fds = n;
        o.listen_fdnames = names;
    }
    std::string notify = take_env("NOTIFY_SOCKET");
    if (notify.empty()) return nullptr;
    const char* runtime = std::getenv("XDG_RUNTIME_DIR");
    auto relay = sandbox::NotifyRelay::start(notify, runtime && *runtime == '/' ? runtime : "/tmp");
    o.notify_socket = relay->path();
    return relay;
}

int run_in_env(const Invocation& inv, Output& out, bool interactive) {
    core::ExecOptions o;
    o.env = inv.positional("env");
    o.argv = inv.trailing;
    o.env_vars = inv.values("env");
    o.root = inv.flag("root");
    o.interactive = interactive && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
    o.caller_exits = true;  // the run's status is this process's
    try {
        auto relay = take_service_environment(o);
        auto engine = make_engine(inv, out);
        const int status = engine.run(o);
        // The run's status is this process's, and what is left to unwind only frees memory: the
        // process ends here (about 0.1 ms sooner than returning through the destructors, the
        // sandbox's stack and libc's exit). A notification relay is stopped properly instead,
        // after it has passed on what the service sent.
        if (!relay) {
            std::fflush(nullptr);
            ::_exit(status);
        }
        return status;
    } catch (const Error& e) {
        out.error(e);
        return 125;
    }
}

}  // namespace

int run_enter(const Invocation& inv, Output& out) {
    return run_in_env(inv, out, inv.trailing.empty());
}

int run_exec(const Invocation& inv, Output& out) {
    if (inv.trailing.empty())
        throw Error(Errc::usage, "exec needs a command after --",
                    "for example: karapace exec web -- make test");
    return run_in_env(inv, out, false);
}

}  // namespace karapace::cli
