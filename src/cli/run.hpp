// The whole life of one `karapace` invocation: parse, set up logging, dispatch through the command
// table, and turn every failure into `error:`/`hint:` lines and an exit status.
#pragma once

#include <string>
#include <vector>

namespace karapace::cli {

// `args` is argv without the program name. Returns the process exit status.
int run_cli(const std::vector<std::string>& args);

}  // namespace karapace::cli
