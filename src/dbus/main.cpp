// karapace-dbus: the org.karapace.Manager1 session service. Started by D-Bus activation (or its
// systemd user unit), it serves calls until it has been idle for the idle timeout, then releases
// its name and exits; the bus starts it again on the next call.
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "bus_loop.hpp"
#include "caller.hpp"
#include "errors.hpp"
#include "idle.hpp"
#include "job_runner.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace_config.h"
#include "manager.hpp"
#include "notifier.hpp"
#include "service_options.hpp"
#include "worker_threads.hpp"

namespace {

using namespace karapace;
using namespace karapace::dbus;

// More threads than this at once means a client is misbehaving, not a desktop at work.
constexpr std::size_t max_worker_threads = 64;
// How long running work may take to stop once the bus connection is lost.
constexpr std::chrono::milliseconds bus_lost_grace{10000};

std::optional<std::string> env_var(const char* name) {
    const char* value = std::getenv(name);
    return value ? std::optional<std::string>(value) : std::nullopt;
}

std::string cwd() {
    std::vector<char> buf(4096);
    return ::getcwd(buf.data(), buf.size()) ? std::string(buf.data()) : std::string("/");
}

std::unique_ptr<sdbus::IConnection> connect(const ServiceOptions& options) {
    if (!options.bus_address.empty()) {
        auto connection = sdbus::createSessionBusConnectionWithAddress(options.bus_address);
        connection->requestName(service_name);
        return connection;
    }
    return sdbus::createSessionBusConnection(service_name);
}

int serve(const ServiceOptions& options) {
    ManagerSettings settings;
    settings.store_root = options.store_root.empty() ? default_store_root() : options.store_root;
    settings.store_root = lexically_absolute(settings.store_root, cwd());
    settings.exec_output_cap = options.exec_output_cap;

    auto connection = connect(options);
    // The service is mostly started by a desktop's first look at the environments.
    StoreEnvList env_list(settings.store_root,
                          [&settings] { return engine_options_for(settings); });
    env_list.read_ahead();
    IdleTracker idle(std::chrono::duration_cast<std::chrono::milliseconds>(options.idle_timeout));
    BusLoop loop(*connection, idle);
    PropertyReaders readers(*connection);
    loop.after_each_message([&readers] { readers.message_done(); });
    WorkerThreads threads(loop, max_worker_threads);
    JobRunner jobs(*connection, loop, idle, threads, readers);
    DesktopNotifier notifier(*connection);
    jobs.on_finished([&notifier](const JobNotice& notice) { notifier.job_finished(notice); });
    Manager manager(*connection, settings, loop, idle, threads, jobs, readers, env_list);
    loop.on_terminate([&jobs] { jobs.cancel_all(); });
    log::info("karapace-dbus ", KARAPACE_VERSION, ": serving store ", settings.store_root, " as ",
              service_name);

    try {
        if (loop.run() == BusLoop::Exit::idle) {
            log::info("idle for ", options.idle_timeout.count(), " s, exiting");
        }
    } catch (const sdbus::Error& e) {
        // The bus is gone (the session ended): no reply can be sent any more. Give running jobs
        // a moment to stop at a safe point, then leave without waiting on anything stuck.
        log::error("lost the bus: ", e.getName(), ": ", e.getMessage());
        jobs.cancel_all();
        if (!threads.wait_finished(bus_lost_grace)) {
            log::error("work still running ", bus_lost_grace.count(),
                       " ms after the bus went away");
            std::_Exit(1);
        }
        threads.join_all();
        return 1;
    }
    // New callers now activate a fresh instance; answer whatever reached this one first.
    try {
        connection->releaseName(service_name);
    } catch (const sdbus::Error& e) {
        log::warn("releasing ", service_name, ": ", e.getMessage());
    }
    loop.drain();
    threads.join_all();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    log::init_from_env();
    try {
        auto options = parse_service_options(std::vector<std::string>(argv + 1, argv + argc),
                                             env_var("KARAPACE_DBUS_IDLE_TIMEOUT"));
        if (options.help) {
            std::cout << service_usage();
            return 0;
        }
        if (options.version) {
            std::cout << "karapace-dbus " << KARAPACE_VERSION << "\n";
            return 0;
        }
        return serve(options);
    } catch (const karapace::Error& e) {
        std::cerr << "karapace-dbus: " << error_text(e.what(), e.hint()) << "\n";
        return exit_code(e.code());
    } catch (const sdbus::Error& e) {
        std::cerr << "karapace-dbus: " << e.getName() << ": " << e.getMessage() << "\n";
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "karapace-dbus: " << e.what() << "\n";
        return 1;
    }
}
