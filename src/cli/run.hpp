// The whole life of one `karapace` invocation: parse, set up logging, dispatch through the command
// table, and turn every failure into `error:`/`hint:` lines and an exit status.
#pragma once

#include <string>
#include <vector>

namespace karapace::cli {

// `args` is argv without the program name. Returns the process exit status. `front_argv`: the
// whole argv of the static front program (cli/front.hpp), which hands the commands it does not
// run itself to karapace-full; nullptr in the program that runs every command.
int run_cli(const std::vector<std::string>& args, char** front_argv = nullptr);

}  // namespace karapace::cli
