// `karapace help [COMMAND]`.
#include "cli/commands.hpp"
#include "cli/help.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"

namespace karapace::cli {

int run_help(const Invocation& inv, Output& out) {
    // The parser has already checked that COMMAND names a command.
    const CommandSpec* cmd = find_command(inv.positional("command"));
    out.raw(cmd != nullptr ? command_help(*cmd) : main_help());
    return 0;
}

}  // namespace karapace::cli
