// Command line and environment of karapace-dbus: which store, which bus, when to exit idle.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace karapace::dbus {

struct ServiceOptions {
    std::string store_root;                         // empty: the engine's default store
    std::chrono::seconds idle_timeout{60};          // 0: never exit when idle
    std::string bus_address;                        // empty: the session bus
    std::size_t exec_output_cap = 4 * 1024 * 1024;  // bytes kept of each Exec stream
    bool help = false;
    bool version = false;
};

// Parses argv (without argv[0]). `env_idle_timeout` is $KARAPACE_DBUS_IDLE_TIMEOUT when set; the
// flag wins over it. Throws Error(usage) naming the bad option.
ServiceOptions parse_service_options(const std::vector<std::string>& args,
                                     std::optional<std::string> env_idle_timeout);

// The --help text.
std::string service_usage();

}  // namespace karapace::dbus
