// The one answer of every command whose engine is not in this build. Wiring a command means
// pointing its table entry at its own run_<name>() instead.
#include "cli/commands.hpp"
#include "cli/parse.hpp"
#include "karapace/util/error.hpp"

namespace karapace::cli {

int run_unavailable(const Invocation& inv, Output&) {
    const std::string name(inv.command->name);
    throw Error(Errc::unavailable, "`karapace " + name + "`: not available in this build yet",
                "`karapace --help` lists every command; see docs/cli.md for what works today");
}

}  // namespace karapace::cli
