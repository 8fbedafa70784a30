#include "karapace/schema/mount.hpp"

#include <algorithm>

#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"
#include "schema/text.hpp"

namespace karapace::schema {

namespace {

bool has_dotdot_component(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        std::size_t slash = path.find('/', start);
        std::string_view part = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part == "..") return true;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return false;
}

std::string strip_trailing_slashes(std::string path) {
    while (path.size() > 1 && path.back() == '/')
        path.pop_back();
    return path;
}

}  // namespace

std::string MountSpec::spec() const { return host + ":" + container + (read_only ? ":ro" : ""); }

std::string check_mount_spec(const std::string& label, std::string_view text, MountSpec& out) {
    MountSpec m;
    m.label = detail::trim(label);
    if (m.label.empty()) return "mount label must not be empty";
    if (detail::has_control_char(m.label)) return "mount label contains a control character";
    if (detail::has_control_char(text)) return "mount spec contains a control character";

    std::vector<std::string> parts;
    std::size_t start = 0;
    for (;;) {
        std::size_t colon = text.find(':', start);
        parts.push_back(detail::trim(text.substr(
            start, colon == std::string_view::npos ? std::string_view::npos : colon - start)));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    const std::string expected = "expected 'host:container' or 'host:container:ro'";
    if (parts.size() < 2) return "no ':' in '" + std::string(text) + "' (" + expected + ")";
    if (parts.size() > 3) return "too many ':' in '" + std::string(text) + "' (" + expected + ")";
    m.host = parts[0];
    m.container = parts[1];
    if (m.host.empty()) return "the host path is empty in '" + std::string(text) + "'";
    if (m.container.empty()) return "the container path is empty in '" + std::string(text) + "'";
    if (parts.size() == 3) {
        if (parts[2] == "ro")
            m.read_only = true;
        else if (parts[2] != "rw")
            return "unknown mount option '" + parts[2] + "' (only 'ro' and 'rw' are allowed)";
    }
    if (m.host[0] == '~' && m.host != "~" && m.host.rfind("~/", 0) != 0)
        return "'" + m.host +
               "': '~user' paths are not supported (write '~/…' or an absolute path)";
    if (m.container[0] != '/')
        return "the container path '" + m.container + "' must be absolute (start with '/')";
    if (has_dotdot_component(m.container))
        return "the container path '" + m.container + "' must not contain '..'";
    if (strip_trailing_slashes(lexically_absolute(m.container, "/")) == "/")
        return "the container path '" + m.container + "' would hide the whole environment";
    out = std::move(m);
    return {};
}

MountSpec parse_mount_spec(const std::string& label, std::string_view text) {
    MountSpec m;
    std::string problem = check_mount_spec(label, text, m);
    if (!problem.empty())
        throw Error(Errc::manifest, "mount '" + label + "': " + problem,
                    "write mounts as label = \"host:container\" or \"host:container:ro\"");
    return m;
}

std::string resolve_host_path(const MountSpec& mount, const std::string& manifest_dir,
                              const std::string& home) {
    const std::string& h = mount.host;
    std::string path;
    if (h == "~" || h.rfind("~/", 0) == 0) {
        if (home.empty() || home[0] != '/')
            throw Error(Errc::failed,
                        "mount '" + mount.label + "': cannot expand '" + h +
                            "': the home directory '" + home + "' is not absolute",
                        "set HOME to an absolute path");
        path = home + h.substr(1);
    } else if (!h.empty() && h[0] == '~') {
        throw Error(Errc::manifest,
                    "mount '" + mount.label + "': '" + h + "': '~user' paths are not supported",
                    "write '~/…' or an absolute path");
    } else if (!h.empty() && h[0] == '/') {
        path = h;
    } else {
        if (manifest_dir.empty() || manifest_dir[0] != '/')
            throw Error(Errc::failed, "mount '" + mount.label + "': cannot resolve '" + h +
                                          "': the manifest directory '" + manifest_dir +
                                          "' is not absolute");
        path = manifest_dir + "/" + h;
    }
    return strip_trailing_slashes(lexically_absolute(path, "/"));
}

std::vector<std::string> default_mount_allowlist(const std::string& home) {
    std::vector<std::string> out;
    if (!home.empty()) out.push_back(strip_trailing_slashes(lexically_absolute(home, "/")));
    for (const char* p : {"/tmp", "/media", "/mnt", "/run/media"})
        out.emplace_back(p);
    return out;
}

bool path_is_under(std::string_view path, std::string_view prefix) {
    if (path.empty() || prefix.empty() || path[0] != '/' || prefix[0] != '/') return false;
    std::string p = strip_trailing_slashes(lexically_absolute(std::string(path), "/"));
    std::string q = strip_trailing_slashes(lexically_absolute(std::string(prefix), "/"));
    if (q == "/") return true;
    if (p.size() < q.size() || p.compare(0, q.size(), q) != 0) return false;
    return p.size() == q.size() || p[q.size()] == '/';
}

void check_mount_policy(const std::string& canonical_host_path,
                        const std::vector<std::string>& allowlist) {
    if (std::any_of(allowlist.begin(), allowlist.end(), [&](const std::string& prefix) {
            return path_is_under(canonical_host_path, prefix);
        }))
        return;
    std::string list;
    for (const auto& a : allowlist)
        list += (list.empty() ? "" : ", ") + a;
    throw Error(Errc::permission,
                "mount source '" + canonical_host_path +
                    "' is not under an allowed directory (allowed: " + list + ")",
                "mount something under an allowed directory, or allow this one in "
                "~/.config/karapace/config.toml:\n  [mounts]\n  allow = [\"" +
                    canonical_host_path + "\"]");
}

}  // namespace karapace::schema
