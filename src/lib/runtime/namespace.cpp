#include "runtime/namespace.hpp"

#include <unistd.h>

#include "karapace/sandbox/spawn.hpp"

namespace karapace::runtime {

sandbox::SandboxSpec namespace_spec(Purpose purpose, const EnvRun& env,
                                    const std::vector<std::string>& argv) {
    sandbox::SandboxSpec s;
    s.lower_dirs = env.lower_dirs;
    s.upper_dir = env.upper_dir;
    s.work_dir = env.work_dir;
    s.hostname = env.name;
    s.argv = argv;
    s.env = env.env;
    s.cwd = env.cwd;
    s.limits = env.limits;
    s.session_dir = env.session_dir;
    s.gpu = env.gpu;
    s.audio = env.audio;
    if (purpose == Purpose::build) {
        // Packages are installed as container root, see nothing of the user's session and are
        // fetched from the network even when the environment will be isolated at runtime.
        s.mapping = sandbox::IdMapping::container_root;
        s.host_integration = false;
        s.network_isolation = false;
        s.read_only = false;
        s.volatile_upper = false;  // the build result is packed into a layer: keep it durable
        s.mounts.clear();
        s.gpu = false;
        s.audio = false;
        s.env.clear();
    } else {
        s.mapping = sandbox::IdMapping::keep_id;
        s.host_integration = true;
        s.network_isolation = env.network_isolation;
        s.read_only = env.frozen;
        // enter/exec change the writable layer like any program changes files: normal writeback
        // is enough, and skipping the unmount-time syncfs keeps `exec` fast.
        s.volatile_upper = !env.frozen;
        s.mounts = env.mounts;
        s.interactive = purpose == Purpose::enter && ::isatty(STDIN_FILENO);
    }
    return s;
}

namespace {

class NamespaceBackend final : public Backend {
public:
    std::string_view name() const noexcept override { return "namespace"; }

    sandbox::RunResult run(Purpose purpose, const EnvRun& env,
                           const std::vector<std::string>& argv) override {
        return sandbox::run(namespace_spec(purpose, env, argv));
    }

    std::vector<sandbox::Session> sessions(const std::string& session_dir) override {
        return sandbox::list_sessions(session_dir);
    }

    std::size_t stop(const std::string& session_dir, std::chrono::milliseconds timeout) override {
        return sandbox::stop_sessions(session_dir, timeout);
    }
};

}  // namespace

std::unique_ptr<Backend> make_namespace_backend() { return std::make_unique<NamespaceBackend>(); }

}  // namespace karapace::runtime
