// Command wrappers: a small /bin/sh script on the host, named like the command, that runs it
// inside the environment with the caller's arguments, stdin/stdout/stderr and exit status.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "karapace/export/launcher.hpp"
#include "karapace/export/merged_tree.hpp"

namespace karapace::exports {

// The environment's PATH for commands given by name (what `karapace exec` sets).
inline constexpr std::string_view env_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// The absolute path inside the environment of `command` (a name searched in `search_path`, whose
// relative entries are skipped, or an absolute path), or nullopt when the environment has no such
// executable file.
std::optional<std::string> resolve_command(const MergedTree& tree, std::string_view command,
                                           std::string_view search_path = env_path);

// The script text for running `path` (absolute, inside the environment) in the environment.
// When it already runs inside that environment (KARAPACE_ENV names it) it runs the command
// directly, so a wrapper found on the environment's own PATH does not recurse.
std::string wrapper_script(const std::string& path, const LaunchTarget& target);

// Single-quoted for /bin/sh.
std::string shell_quote(std::string_view s);

}  // namespace karapace::exports
