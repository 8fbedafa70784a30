// `karapace enter` and `karapace exec`: the exit status is the command's own; 125 means karapace
// failed before the command ran (like `podman run`).
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

int run_in_env(const Invocation& inv, Output& out, bool interactive) {
    core::ExecOptions o;
    o.env = inv.positional("env");
    o.argv = inv.trailing;
    o.env_vars = inv.values("env");
    o.root = inv.flag("root");
    o.interactive = interactive && ::isatty(STDIN_FILENO) && ::isatty(STDOUT_FILENO);
    try {
        auto engine = make_engine(inv, out);
        return engine.run(o);
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
