#include "cli_location.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <sstream>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "karapace_config.h"

namespace karapace::dbus {

namespace {

std::string under(const std::string& prefix, const std::string& dir) {
    if (!dir.empty() && dir.front() == '/') return dir;
    return lexically_absolute(dir, prefix);
}

// `dir` with the trailing path `suffix` (whole components) removed, or nullopt when `dir` does
// not end with it: /opt/kp/libexec minus "libexec" is /opt/kp.
std::optional<std::string> strip_suffix(const std::string& dir, const std::string& suffix) {
    if (suffix.empty() || suffix.front() == '/') return std::nullopt;
    if (dir.size() <= suffix.size() + 1 || !dir.ends_with("/" + suffix)) return std::nullopt;
    auto rest = dir.substr(0, dir.size() - suffix.size() - 1);
    return rest.empty() ? std::string("/") : rest;
}

bool usable_program(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::vector<std::string> cli_candidates(const CliSearch& s) {
    std::vector<std::string> out;
    auto add = [&out](const std::string& path) {
        if (!path.empty() && path.front() == '/' &&
            std::find(out.begin(), out.end(), path) == out.end())
            out.push_back(path);
    };
    if (!s.self.empty() && s.self.front() == '/') {
        auto self_dir = parent_dir(s.self);
        add(self_dir + "/karapace");
        // Moved as a whole tree (a relocated prefix, an image built with DESTDIR): the same
        // layout under the prefix the service runs from.
        if (auto prefix = strip_suffix(self_dir, s.libexecdir);
            prefix && !s.bindir.empty() && s.bindir.front() != '/')
            add(under(*prefix, s.bindir) + "/karapace");
    }
    if (!s.prefix.empty()) add(under(s.prefix, s.bindir) + "/karapace");
    std::stringstream path(s.path_env);
    std::string dir;
    // Relative PATH entries mean nothing to a launcher started from a menu.
    while (std::getline(path, dir, ':'))
        if (!dir.empty() && dir.front() == '/') add(lexically_absolute("karapace", dir));
    return out;
}

std::optional<std::string> find_cli(const CliSearch& search,
                                    const std::function<bool(const std::string&)>& usable) {
    for (const auto& candidate : cli_candidates(search))
        if (usable(candidate)) return candidate;
    return std::nullopt;
}

std::optional<std::string> find_cli(const CliSearch& search) {
    return find_cli(search, usable_program);
}

CliSearch this_process_cli_search() {
    CliSearch s;
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) s.self.assign(buf, static_cast<std::size_t>(n));
    s.prefix = KARAPACE_PREFIX;
    s.bindir = KARAPACE_BINDIR;
    s.libexecdir = KARAPACE_LIBEXECDIR_OPTION;
    if (const char* path = std::getenv("PATH")) s.path_env = path;
    return s;
}

std::string locate_cli(const CliSearch& search) {
    if (auto found = find_cli(search)) return *found;
    std::string looked;
    for (const auto& candidate : cli_candidates(search))
        looked += (looked.empty() ? "" : ", ") + candidate;
    throw Error(Errc::not_found,
                "cannot find the karapace executable that launchers and wrappers must run" +
                    (looked.empty() ? std::string() : " (looked for " + looked + ")"),
                "install karapace next to karapace-dbus or in " +
                    under(search.prefix, search.bindir) +
                    ", or put its directory in the session's PATH (systemctl --user "
                    "set-environment PATH=...) and call again");
}

}  // namespace karapace::dbus
