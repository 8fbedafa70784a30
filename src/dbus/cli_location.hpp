// Which `karapace` executable the launchers and wrappers written through the service run. The
// service is installed in libexecdir and the CLI in bindir, and a desktop session's PATH often
// lacks bindir, so the service looks, in order: next to itself, in the bindir of the prefix it
// runs from, in the bindir it was built for, then in PATH. A launcher with a bare or missing
// program vanishes from menus, so finding none is an error, never a guess.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace karapace::dbus {

struct CliSearch {
    std::string self;        // absolute path of the running karapace-dbus
    std::string prefix;      // install prefix it was built for (absolute)
    std::string bindir;      // as configured: relative to prefix, or absolute
    std::string libexecdir;  // as configured: relative to prefix, or absolute
    std::string path_env;    // the PATH variable
};

// Absolute candidates in the order they are tried (duplicates removed).
std::vector<std::string> cli_candidates(const CliSearch& search);

// The first candidate that `usable` accepts, or nullopt.
std::optional<std::string> find_cli(const CliSearch& search,
                                    const std::function<bool(const std::string&)>& usable);

// The search as this process sees it: /proc/self/exe, the build-time directories, $PATH.
CliSearch this_process_cli_search();

// The first candidate that is a regular, executable file, or nullopt.
std::optional<std::string> find_cli(const CliSearch& search);

// The karapace executable for launchers: a regular, executable file at an absolute path.
// Error(not_found) naming the places looked at and what to do.
std::string locate_cli(const CliSearch& search);

}  // namespace karapace::dbus
