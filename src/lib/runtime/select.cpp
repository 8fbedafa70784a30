// Choosing the runner for an environment's backend.
#include "karapace/sandbox/spawn.hpp"
#include "runtime/backend.hpp"
#include "runtime/oci.hpp"

namespace karapace::runtime {

Runner runner_for(std::string_view backend) {
    if (backend == "namespace") return sandbox::run;
    if (backend == "oci") return run_oci;
    throw Error(Errc::unavailable,
                "runtime backend '" + std::string(backend) + "' is not available in this build",
                "use backend = \"namespace\" or \"oci\" in [runtime] and rebuild");
}

}  // namespace karapace::runtime
