// What the GPU pass-through gives, in the words inspect and doctor use: the NVIDIA passthrough of
// this host (sandbox/nvidia.hpp) for an environment, and the doctor check of the host alone.
#pragma once

#include <string>
#include <vector>

#include "karapace/core/engine.hpp"

namespace karapace::core {

// For an environment whose layers are `upper` (may be empty) over `lowers` (top first).
GpuDetails gpu_details(bool requested, const std::string& upper,
                       const std::vector<std::string>& lowers);

// doctor's "gpu" check: the NVIDIA driver, where its userspace comes from, what is missing.
DoctorCheck gpu_check();

}  // namespace karapace::core
