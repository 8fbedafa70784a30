// A small command line over the sandbox library, for the integration tests and benchmarks until
// the engine drives it: `sandbox-driver [options] -- command...`, or `--stop <sessions dir>`.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/spawn.hpp"

using namespace karapace::sandbox;

int main(int argc, char** argv) {
    SandboxSpec spec;
    int i = 1;
    auto value = [&](const char* opt) -> std::string {
        if (i + 1 >= argc) {
            std::cerr << "sandbox-driver: " << opt << " needs a value\n";
            std::exit(64);
        }
        return argv[++i];
    };
    for (; i < argc; ++i) {
        std::string a = argv[i];
        if (a == "--") {
            ++i;
            break;
        } else if (a == "--lower")
            spec.lower_dirs.push_back(value("--lower"));
        else if (a == "--upper")
            spec.upper_dir = value("--upper");
        else if (a == "--work")
            spec.work_dir = value("--work");
        else if (a == "--ro")
            spec.read_only = true;
        else if (a == "--volatile")
            spec.volatile_upper = true;
        else if (a == "--hostname")
            spec.hostname = value("--hostname");
        else if (a == "--build") {
            spec.mapping = IdMapping::container_root;
            spec.host_integration = false;
        } else if (a == "--no-host")
            spec.host_integration = false;
        else if (a == "--net-isolate")
            spec.network_isolation = true;
        else if (a == "--gpu")
            spec.gpu = true;
        else if (a == "--audio")
            spec.audio = true;
        else if (a == "--mount") {
            std::string m = value("--mount");
            BindMount b;
            auto c1 = m.find(':');
            b.host_path = m.substr(0, c1);
            std::string rest = m.substr(c1 + 1);
            if (rest.size() > 3 && rest.compare(rest.size() - 3, 3, ":ro") == 0) {
                b.read_only = true;
                rest.resize(rest.size() - 3);
            }
            b.container_path = rest;
            spec.mounts.push_back(b);
        } else if (a == "--env")
            spec.env.push_back(value("--env"));
        else if (a == "--cwd")
            spec.cwd = value("--cwd");
        else if (a == "--memory")
            spec.limits.memory_max_bytes = std::stoull(value("--memory"));
        else if (a == "--tasks")
            spec.limits.tasks_max = std::stoull(value("--tasks"));
        else if (a == "--cpu-weight")
            spec.limits.cpu_weight = std::stoull(value("--cpu-weight"));
        else if (a == "--sessions")
            spec.session_dir = value("--sessions");
        else if (a == "--interactive")
            spec.interactive = true;
        else if (a == "--caller-exits")
            spec.caller_exits = true;
        else if (a == "--stop") {
            auto n = stop_sessions(value("--stop"), std::chrono::milliseconds(2000));
            std::cout << n << "\n";
            return 0;
        } else {
            std::cerr << "sandbox-driver: unknown option " << a << "\n";
            return 64;
        }
    }
    for (; i < argc; ++i)
        spec.argv.push_back(argv[i]);
    auto result = run(spec);
    if (result.error) {
        std::cerr << "sandbox-driver: " << result.error->what();
        if (!result.error->hint().empty()) std::cerr << " (" << result.error->hint() << ")";
        std::cerr << "\n";
    }
    if (const char* show = std::getenv("SANDBOX_DRIVER_SHOW_LIMITS"); show && *show)
        std::cerr << "limits: " << limit_mechanism_name(result.limits) << "\n";
    // The user namespace this process is in once the run has returned.
    if (const char* show = std::getenv("SANDBOX_DRIVER_SHOW_USERNS"); show && *show) {
        char ns[64] = {};
        ssize_t n = ::readlink("/proc/self/ns/user", ns, sizeof ns - 1);
        std::cerr << "userns: " << (n > 0 ? ns : "?") << "\n";
    }
    return result.status;
}
