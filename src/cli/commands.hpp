// Entry points of the commands, one `cmd_<name>.cpp` each, all with the same signature so the
// command table can point at them. A command whose engine is not in this build points at
// `run_unavailable`.
#pragma once

#include <string>
#include <vector>

namespace karapace::cli {

struct Invocation;
class Output;

int run_help(const Invocation& inv, Output& out);
int run_new(const Invocation& inv, Output& out);
int run_pin(const Invocation& inv, Output& out);
int run_completions(const Invocation& inv, Output& out);
int run_man_pages(const Invocation& inv, Output& out);
// Fails with "`karapace <cmd>`: not available in this build yet".
int run_unavailable(const Invocation& inv, Output& out);

// Value lists used by the command table for validation and completion.
std::vector<std::string> template_names();
std::vector<std::string> shell_names();

}  // namespace karapace::cli
