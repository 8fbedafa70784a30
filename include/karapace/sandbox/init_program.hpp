// Where the sandbox's init program, karapace-init, is. It is installed in libexecdir beside the
// D-Bus service and executed in every sandbox as PID 1 (src/lib/sandbox/init_start.hpp).
#pragma once

#include <string>
#include <vector>

#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

// The places looked at, in order: $KARAPACE_INIT, then libexec_program_candidates()
// (karapace/util/paths.hpp): beside the running executable, ../libexec from it, the libexecdir
// the build was configured for.
std::vector<std::string> init_program_candidates();

// The first candidate that is an executable regular file, opened O_PATH (executed from inside
// the sandbox, where the host's paths are gone). Error(not_found) naming the places looked at.
UniqueFd open_init_program();

}  // namespace karapace::sandbox
