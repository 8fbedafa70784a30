// The namespace backend: runs environments with karapace's own sandbox (sandbox/spawn.hpp).
#pragma once

#include <memory>

#include "runtime/backend.hpp"

namespace karapace::runtime {

// The sandbox spec for running argv in `env` for `purpose` (pure; unit-tested).
sandbox::SandboxSpec namespace_spec(Purpose purpose, const EnvRun& env,
                                    const std::vector<std::string>& argv);

std::unique_ptr<Backend> make_namespace_backend();

}  // namespace karapace::runtime
