// `karapace completions bash|zsh|fish`: the script on stdout.
#include "cli/commands.hpp"
#include "cli/completions.hpp"
#include "cli/output.hpp"
#include "cli/parse.hpp"

namespace karapace::cli {

int run_completions(const Invocation& inv, Output& out) {
    const std::string shell = inv.positional("shell");
    const std::string script = completion_script(shell);
    if (out.json())
        out.json_result(boost::json::object{{"shell", shell}, {"script", script}});
    else
        out.raw(script);
    return 0;
}

}  // namespace karapace::cli
