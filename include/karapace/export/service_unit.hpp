// systemd user units for commands of an environment: `karapace export ENV --service NAME -- CMD`
// writes karapace-<label>-NAME.service (and a .socket unit when it listens on sockets) whose
// ExecStart runs the command inside the environment by id, and the systemctl calls that keep the
// user's service manager in step when units are written, renamed or removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/export/launcher.hpp"
#include "karapace/export/service_spec.hpp"

namespace karapace::exports {

// Error(usage) for a service name that is not [A-Za-z0-9_.-]+ starting with a letter or digit
// (at most 64 bytes), a restart policy systemd does not know, an empty command or a socket
// address with whitespace or control characters.
void validate_service(std::string_view name, const ServiceSpec& spec);

// "karapace-<label>-<name>.service" and "...socket".
std::string service_unit_name(const std::string& label, std::string_view name);
std::string socket_unit_name(const std::string& label, std::string_view name);

// One argument as systemd's ExecStart reads it back: '%' and '$' doubled so neither specifiers
// nor variables expand, double-quoted with C escapes when it holds anything but plain characters.
std::string systemd_quote(std::string_view arg);

// The unit files' text.
std::string service_unit_text(std::string_view name, const ServiceSpec& spec,
                              const LaunchTarget& target);
std::string socket_unit_text(std::string_view name, const ServiceSpec& spec,
                             const LaunchTarget& target);

// The user's service manager, when one runs for this user ($XDG_RUNTIME_DIR/systemd/private) and
// systemctl is installed. The calls below do nothing without one.
bool user_manager_running();
// `systemctl --user daemon-reload`; a warning, or empty.
std::string reload_user_units();
// The units of `names` that are active or activating.
std::vector<std::string> active_units(const std::vector<std::string>& names);
// `systemctl --user stop` of `names`; a warning, or empty.
std::string stop_units(const std::vector<std::string>& names);

// The enablement links (`<dir>/*.wants/`, `*.requires/`, `*.upholds/` below the unit's
// directory) that point at `unit_path`, as `systemctl enable` writes them.
std::vector<std::string> unit_links(const std::string& unit_path);

// Enablement links (`<dir>/*.wants/`, `*.requires/`, `*.upholds/` below the unit directory) that
// point at `unit_path`: moved to `new_path` (same file name change), or removed when `new_path`
// is empty. Returns the links changed.
std::vector<std::string> move_unit_links(const std::string& unit_path, const std::string& new_path);

}  // namespace karapace::exports
