// The runtime backend interface: how the engine runs commands in an environment, whatever does
// the isolating. `namespace` (our own sandbox) is the default; an OCI backend (runc/crun bundle)
// plugs in beside it with the same calls.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/spec.hpp"

namespace karapace::runtime {

// Why the engine runs something: decides identity, host integration and durability.
enum class Purpose {
    build,  // package installation: container root, no host integration, durable writes
    enter,  // interactive shell: keep-id, host integration, terminal handed over
    exec,   // one command: keep-id, host integration
};

// The parts of an environment a run needs, as the engine resolved them.
struct EnvRun {
    std::string name;                     // environment name or short id (hostname, KARAPACE_ENV)
    std::vector<std::string> lower_dirs;  // top first, base rootfs last
    std::string upper_dir, work_dir;      // env/<id>/upper, env/<id>/work
    std::string session_dir;              // env/<id>/sessions
    bool frozen = false;
    bool network_isolation = false;  // manifest [runtime]; never applied to builds
    bool gpu = false, audio = false;
    std::vector<sandbox::BindMount> mounts;  // resolved and allowlist-checked
    sandbox::Limits limits;
    std::vector<std::string> env;  // --env K=V
    std::string cwd;               // the caller's cwd
};

class Backend {
public:
    virtual ~Backend() = default;
    virtual std::string_view name() const noexcept = 0;
    // Runs argv for `purpose` and waits; see sandbox::run for the status conventions.
    virtual sandbox::RunResult run(Purpose purpose, const EnvRun& env,
                                   const std::vector<std::string>& argv) = 0;
    virtual std::vector<sandbox::Session> sessions(const std::string& session_dir) = 0;
    // Ends every running session: SIGTERM, then SIGKILL after `timeout`.
    virtual std::size_t stop(const std::string& session_dir, std::chrono::milliseconds timeout) = 0;
};

// What runs an enter/exec spec for an environment's `[runtime] backend`: sandbox::run for
// "namespace", run_oci (runtime/oci.hpp) for "oci". Throws Error(unavailable) for any other.
using Runner = sandbox::RunResult (*)(const sandbox::SandboxSpec&);
Runner runner_for(std::string_view backend);

}  // namespace karapace::runtime
