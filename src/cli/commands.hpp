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
int run_archive(const Invocation& inv, Output& out);
int run_build(const Invocation& inv, Output& out);
int run_commit(const Invocation& inv, Output& out);
int run_destroy(const Invocation& inv, Output& out);
int run_diff(const Invocation& inv, Output& out);
int run_doctor(const Invocation& inv, Output& out);
int run_enter(const Invocation& inv, Output& out);
int run_exec(const Invocation& inv, Output& out);
int run_export(const Invocation& inv, Output& out);
int run_freeze(const Invocation& inv, Output& out);
int run_gc(const Invocation& inv, Output& out);
int run_images(const Invocation& inv, Output& out);
int run_inspect(const Invocation& inv, Output& out);
int run_list(const Invocation& inv, Output& out);
int run_login(const Invocation& inv, Output& out);
int run_logout(const Invocation& inv, Output& out);
int run_migrate(const Invocation& inv, Output& out);
int run_pull(const Invocation& inv, Output& out);
int run_push(const Invocation& inv, Output& out);
int run_rebuild(const Invocation& inv, Output& out);
int run_upgrade(const Invocation& inv, Output& out);
int run_rename(const Invocation& inv, Output& out);
int run_restore(const Invocation& inv, Output& out);
int run_snapshots(const Invocation& inv, Output& out);
int run_stop(const Invocation& inv, Output& out);
int run_tui(const Invocation& inv, Output& out);
int run_unexport(const Invocation& inv, Output& out);
int run_verify_store(const Invocation& inv, Output& out);
// Fails with "`karapace <cmd>`: not available in this build yet".
int run_unavailable(const Invocation& inv, Output& out);

// Value lists used by the command table for validation and completion.
std::vector<std::string> template_names();
std::vector<std::string> shell_names();

}  // namespace karapace::cli
