#include "karapace/export/service_unit.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "karapace/export/names.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"

namespace karapace::exports {

namespace {

bool plain_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::strchr("_./:=,+@-%$", c) != nullptr;
}

std::string header(std::string_view name, std::string_view what, const LaunchTarget& t) {
    std::string s = "# Written by `karapace export --service`; `karapace unexport " + t.label +
                    " --service " + std::string(name) + "` removes it.\n";
    s += "[Unit]\nDescription=" + std::string(what) + " (Karapace environment " + t.label + ")\n";
    s += "X-Karapace-Env=" + t.env_id + "\n";
    return s;
}

std::string systemctl_failure(const std::string& what, const ProcessResult& r) {
    return what + " failed: " + tail_lines(r.err + r.out, 3);
}

}  // namespace

void validate_service(std::string_view name, const ServiceSpec& spec) {
    if (auto problem = schema::service_problem(name, spec))
        throw Error(Errc::usage, problem->message, problem->hint);
    validate_command(spec.command.front());
}

std::string service_unit_name(const std::string& label, std::string_view name) {
    return file_prefix(label) + std::string(name) + ".service";
}

std::string socket_unit_name(const std::string& label, std::string_view name) {
    return file_prefix(label) + std::string(name) + ".socket";
}

std::string systemd_quote(std::string_view arg) {
    bool plain = !arg.empty() && std::all_of(arg.begin(), arg.end(), plain_char);
    std::string out;
    if (!plain) out += '"';
    for (char c : arg) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
        case '%': out += "%%"; break;
        case '$': out += "$$"; break;
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        default:
            if (u < 0x20 || u == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", u);
                out += buf;
            } else {
                out += c;
            }
        }
    }
    if (!plain) out += '"';
    return out;
}

std::string service_unit_text(std::string_view name, const ServiceSpec& spec,
                              const LaunchTarget& t) {
    auto s = header(name, name, t);
    if (!spec.sockets.empty())
        s += "Requires=" + socket_unit_name(t.label, name) +
             "\nAfter=" + socket_unit_name(t.label, name) + "\n";
    s += "\n[Service]\n";
    s += std::string("Type=") + (spec.notify ? "notify" : "simple") + "\n";
    std::string exec = systemd_quote(t.program) + " --store " + systemd_quote(t.store_root) +
                       " exec " + t.env_id + " --";
    for (const auto& a : spec.command)
        exec += " " + systemd_quote(a);
    s += "ExecStart=" + exec + "\n";
    // `karapace exec` passes SIGTERM to the command and ends the environment's processes; the
    // rest of the unit gets SIGKILL only when that takes longer than TimeoutStopSec. Exit status
    // 143 is that stop, not a failure.
    s += "KillMode=mixed\nSuccessExitStatus=143\n";
    s += "Restart=" + spec.restart + "\n";
    s += "WorkingDirectory=%h\n";
    s += "\n[Install]\n";
    if (spec.sockets.empty())
        s += "WantedBy=default.target\n";
    else
        s += "Also=" + socket_unit_name(t.label, name) + "\n";
    return s;
}

std::string socket_unit_text(std::string_view name, const ServiceSpec& spec,
                             const LaunchTarget& t) {
    auto s = header(name, "sockets of " + std::string(name), t);
    s += "\n[Socket]\n";
    for (const auto& a : spec.sockets) {
        std::string escaped;
        for (char c : a)
            escaped += c == '%' ? std::string("%%") : std::string(1, c);
        s += "ListenStream=" + escaped + "\n";
    }
    s += "\n[Install]\nWantedBy=sockets.target\n";
    return s;
}

bool user_manager_running() {
    const char* rt = std::getenv("XDG_RUNTIME_DIR");
    if (!rt || !*rt) return false;
    struct stat st {};
    auto sock = std::string(rt) + "/systemd/private";
    if (::stat(sock.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return false;
    return find_program("systemctl").has_value();
}

std::string reload_user_units() {
    if (!user_manager_running()) return {};
    try {
        auto r = run_process({"systemctl", "--user", "daemon-reload"});
        if (!r.ok()) return systemctl_failure("systemctl --user daemon-reload", r);
    } catch (const Error& e) {
        return std::string("systemctl --user daemon-reload: ") + e.what();
    }
    return {};
}

std::vector<std::string> active_units(const std::vector<std::string>& names) {
    std::vector<std::string> active;
    if (names.empty() || !user_manager_running()) return active;
    std::vector<std::string> argv{"systemctl", "--user", "is-active", "--"};
    argv.insert(argv.end(), names.begin(), names.end());
    ProcessResult r;
    try {
        r = run_process(argv);
    } catch (const Error&) {
        return active;
    }
    // One state per unit, in order; a unit systemd does not know is "inactive".
    std::size_t at = 0;
    for (const auto& n : names) {
        auto end = r.out.find('\n', at);
        if (end == std::string::npos) break;
        auto state = r.out.substr(at, end - at);
        at = end + 1;
        if (state == "active" || state == "activating" || state == "reloading" ||
            state == "deactivating")
            active.push_back(n);
    }
    return active;
}

std::string stop_units(const std::vector<std::string>& names) {
    if (names.empty() || !user_manager_running()) return {};
    std::vector<std::string> argv{"systemctl", "--user", "stop", "--"};
    argv.insert(argv.end(), names.begin(), names.end());
    try {
        auto r = run_process(argv);
        if (!r.ok()) return systemctl_failure("systemctl --user stop", r);
    } catch (const Error& e) {
        return std::string("systemctl --user stop: ") + e.what();
    }
    return {};
}

std::vector<std::string> unit_links(const std::string& unit_path) {
    std::vector<std::string> links;
    auto dir = parent_dir(unit_path);
    auto name = unit_path.substr(unit_path.rfind('/') + 1);
    DIR* d = ::opendir(dir.c_str());
    if (!d) return links;
    std::vector<std::string> link_dirs;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n.ends_with(".wants") || n.ends_with(".requires") || n.ends_with(".upholds"))
            link_dirs.push_back(dir + "/" + n);
    }
    ::closedir(d);
    std::sort(link_dirs.begin(), link_dirs.end());
    for (const auto& ld : link_dirs) {
        auto link = ld + "/" + name;
        struct stat st {};
        if (::lstat(link.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
        char buf[4096];
        auto n = ::readlink(link.c_str(), buf, sizeof buf - 1);
        if (n <= 0) continue;
        std::string to(buf, static_cast<std::size_t>(n));
        // systemctl enable writes the unit's absolute path; a relative link names the file.
        if (to == unit_path || to == "../" + name) links.push_back(link);
    }
    return links;
}

std::vector<std::string> move_unit_links(const std::string& unit_path,
                                         const std::string& new_path) {
    std::vector<std::string> changed;
    auto new_name = new_path.empty() ? std::string() : new_path.substr(new_path.rfind('/') + 1);
    for (const auto& link : unit_links(unit_path)) {
        if (!new_path.empty()) {
            auto fresh = parent_dir(link) + "/" + new_name;
            ::unlink(fresh.c_str());
            if (::symlink(new_path.c_str(), fresh.c_str()) != 0) continue;
        }
        if (::unlink(link.c_str()) == 0) changed.push_back(link);
    }
    return changed;
}

}  // namespace karapace::exports
