// Running one command of a build (package manager refresh, install, query) in the sandbox with its
// output captured: lines go to the ProgressSink as notes, and the text is kept for errors and
// for parsing.
#pragma once

#include <string>

#include "karapace/sandbox/spawn.hpp"
#include "karapace/sandbox/spec.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::core {

struct StepOutput {
    int status = 0;
    std::string out;  // stdout (when captured separately) or the combined output
    std::string err;
    std::optional<Error> error;  // the sandbox's own failure, if any
};

// Runs `spec` with stdin from /dev/null. With `separate_stdout`, stdout is kept apart from stderr
// (for output that gets parsed); otherwise both are combined in `out`. Every line is also passed
// to `progress.note`. `run` is what runs the spec (the OCI backend's runner for exec).
StepOutput run_captured_step(sandbox::SandboxSpec spec, ProgressSink& progress,
                             bool separate_stdout, std::size_t cap = 16 * 1024 * 1024,
                             sandbox::RunResult (*run)(const sandbox::SandboxSpec&) = sandbox::run);

}  // namespace karapace::core
