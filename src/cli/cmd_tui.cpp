// `karapace tui`: checks that there is a terminal, then hands over to src/tui/.
#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "karapace/util/error.hpp"
#include "tui/tui.hpp"

namespace karapace::cli {

int run_tui(const Invocation& inv, Output& out) {
    if (out.json())
        throw Error(Errc::usage, "tui has no JSON output",
                    "for a machine-readable list use: karapace --json list");
    if (::isatty(STDIN_FILENO) == 0 || ::isatty(STDOUT_FILENO) == 0)
        throw Error(Errc::failed, "karapace tui needs a terminal, and stdin or stdout is not one",
                    "to list the environments without a terminal use: karapace list (or "
                    "karapace --json list)");
    tui::Options o;
    o.engine = engine_options(inv);
    o.mouse = !inv.flag("no-mouse");
    return tui::run(o);
}

}  // namespace karapace::cli
