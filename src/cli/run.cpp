#include "cli/run.hpp"

#include <unistd.h>

#include <exception>

#include "cli/front.hpp"
#include "cli/help.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/libraries.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"
#include "karapace_config.h"

namespace karapace::cli {

namespace {

void apply_log_level(const Globals& g) {
    log::init_from_env();
    // Flags only ever raise the level KARAPACE_LOG (or the default) chose.
    log::Level wanted = log::level();
    if (g.verbosity == 1) wanted = log::Level::info;
    if (g.verbosity == 2) wanted = log::Level::debug;
    if (g.verbosity >= 3 || g.trace) wanted = log::Level::trace;
    if (static_cast<int>(wanted) > static_cast<int>(log::level())) log::set_level(wanted);
}

int dispatch(const Invocation& inv, Output& out, char** front_argv) {
    if (inv.globals.version) {
        if (out.json())
            out.json_result(boost::json::object{{"version", KARAPACE_VERSION}});
        else
            out.raw("karapace " KARAPACE_VERSION "\n");
        return 0;
    }
    if (inv.globals.help) {
        out.raw(inv.command != nullptr ? command_help(*inv.command) : main_help());
        return 0;
    }
    if (inv.command == nullptr) {
        // No command at all: show what there is, but as a usage error so scripts notice.
        throw Error(Errc::usage, "no command given",
                    "run `karapace --help` for the list of commands");
    }
    if (front_argv != nullptr) {
        if (inv.command->run == nullptr) hand_over(front_argv, inv.command->name);
        // A path of these commands that needs a library after all (a pulled layer to unpack
        // again) is run from the start by karapace-full, before it has changed anything; not
        // from a child process of this one, where the load fails instead.
        set_on_library_needed([front_argv, name = inv.command->name, self = ::getpid()] {
            if (::getpid() == self) hand_over(front_argv, name);
        });
    }
    return inv.command->run(inv, out);
}

}  // namespace

int run_cli(const std::vector<std::string>& args, char** front_argv) {
    // A closed stdout shows up as EPIPE on write (handled in Output), not as a fatal signal.
    ignore_sigpipe();
    const bool json = wants_json(args);
    Output out(json);
    try {
        const Invocation inv = parse_command_line(args);
        out.set_json(inv.globals.json);
        apply_log_level(inv.globals);
        return dispatch(inv, out, front_argv);
    } catch (const Error& e) {
        out.error(e);
        return exit_code(e.code());
    } catch (const std::bad_alloc&) {
        out.error(Error(Errc::failed, "out of memory"));
        return 1;
    } catch (const std::exception& e) {
        // A bug or an unexpected library failure; say so rather than dying on an exception.
        out.error(Error(Errc::failed, std::string("internal error: ") + e.what(),
                        "please report this with the command line that caused it"));
        return 1;
    }
}

}  // namespace karapace::cli
