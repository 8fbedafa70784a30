// Running a command in a sandbox: the public entry point of the namespace runtime. Blocking,
// with stdio inherited (output streams, stdin passes through), the command's status returned.
#pragma once

#include <chrono>
#include <string>

#include "karapace/sandbox/spec.hpp"

namespace karapace::sandbox {

// Sets up the namespaces, id maps, overlay root, mounts, limits and init described by `spec`,
// runs spec.argv and waits for it. Failures of the sandbox itself come back as status 125 with
// `error` set (category and path preserved from inside the child); a command that cannot be run
// gives 127 (not found) or 126 (not executable), also with `error`. Throws Error(usage) only for
// a spec that cannot describe a run (no command). While it waits, SIGTERM, SIGHUP and friends
// sent to this process are passed on to the sandbox.
RunResult run(const SandboxSpec& spec);

}  // namespace karapace::sandbox
