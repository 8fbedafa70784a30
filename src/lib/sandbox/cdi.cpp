#include "sandbox/cdi.hpp"

#include <dirent.h>

#include <algorithm>
#include <array>

#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/yaml.hpp"

namespace karapace::sandbox {

namespace bj = boost::json;

namespace {

// Where a driver's files live on the distributions we know; a spec that binds anything else
// (a home directory, /etc/shadow, the whole /) is refused. Directories, on whole components.
constexpr std::array kAllowedFileDirs{"/usr",
                                      "/lib",
                                      "/lib32",
                                      "/lib64",
                                      "/libx32",
                                      "/opt",
                                      "/etc/vulkan",
                                      "/etc/glvnd",
                                      "/etc/egl",
                                      "/etc/OpenCL",
                                      "/etc/nvidia",
                                      "/run/nvidia-persistenced",
                                      "/run/nvidia-fabricmanager",
                                      "/var/run/nvidia-persistenced",
                                      "/var/run/nvidia-fabricmanager"};

bool below(std::string_view path, std::string_view dir) {
    return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

class Checker {
public:
    explicit Checker(const std::string& path) : path_(path) {}

    [[noreturn]] void bad(const std::string& why) const {
        throw Error(Errc::runtime, "the CDI spec " + path_ + " is refused: " + why,
                    "fix or regenerate it (nvidia-ctk cdi generate), or remove it");
    }

    const bj::object& object(const bj::value& v, const std::string& where) const {
        if (!v.is_object()) bad(where + " is not a map");
        return v.as_object();
    }
    std::string string(const bj::object& o, std::string_view key, const std::string& where,
                       bool required = true) const {
        auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) {
            if (required) bad(where + " has no " + std::string(key));
            return {};
        }
        if (!v->is_string()) bad(where + "'s " + std::string(key) + " is not a string");
        return std::string(v->as_string());
    }
    std::vector<std::string> strings(const bj::object& o, std::string_view key,
                                     const std::string& where) const {
        std::vector<std::string> out;
        auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) return out;
        if (!v->is_array()) bad(where + "'s " + std::string(key) + " is not a list");
        for (const auto& item : v->as_array()) {
            if (!item.is_string())
                bad(where + "'s " + std::string(key) + " has an entry that is not a string");
            out.emplace_back(item.as_string());
        }
        return out;
    }
    const bj::array* list(const bj::object& o, std::string_view key,
                          const std::string& where) const {
        auto* v = o.if_contains(key);
        if (v == nullptr || v->is_null()) return nullptr;
        if (!v->is_array()) bad(where + "'s " + std::string(key) + " is not a list");
        return &v->as_array();
    }

    // Absolute, and no "." or ".." component: what is checked is what gets bound.
    void path(const std::string& p, const std::string& where) const {
        if (p.empty() || p.front() != '/') bad(where + " '" + p + "' is not an absolute path");
        std::size_t pos = 1;
        while (pos <= p.size()) {
            auto slash = p.find('/', pos);
            if (slash == std::string::npos) slash = p.size();
            auto part = std::string_view(p).substr(pos, slash - pos);
            if (part == "." || part == "..")
                bad(where + " '" + p + "' has a '" + std::string(part) + "' component");
            pos = slash + 1;
        }
    }

    CdiEdits edits(const bj::value* v, const std::string& where) const {
        CdiEdits e;
        if (v == nullptr || v->is_null()) return e;
        const auto& o = object(*v, where);
        e.env = strings(o, "env", where);
        for (const auto& kv : e.env)
            if (kv.find('=') == std::string::npos || kv.front() == '=')
                bad(where + " has the environment entry '" + kv + "', which is not NAME=value");
        if (const auto* nodes = list(o, "deviceNodes", where)) {
            for (std::size_t i = 0; i < nodes->size(); ++i) {
                auto at = where + " device node " + std::to_string(i + 1);
                const auto& n = object((*nodes)[i], at);
                CdiDeviceNode node;
                node.path = string(n, "path", at);
                node.host_path = string(n, "hostPath", at, false);
                if (node.host_path.empty()) node.host_path = node.path;
                path(node.path, at + " path");
                path(node.host_path, at + " host path");
                for (const auto& p : {node.path, node.host_path})
                    if (!cdi_host_path_allowed(p, true)) bad(at + " '" + p + "' is not below /dev");
                e.device_nodes.push_back(std::move(node));
            }
        }
        if (const auto* mounts = list(o, "mounts", where)) {
            for (std::size_t i = 0; i < mounts->size(); ++i) {
                auto at = where + " mount " + std::to_string(i + 1);
                const auto& m = object((*mounts)[i], at);
                CdiMount mount;
                mount.host_path = string(m, "hostPath", at);
                mount.container_path = string(m, "containerPath", at);
                mount.options = strings(m, "options", at);
                path(mount.host_path, at + " host path");
                path(mount.container_path, at + " container path");
                if (!cdi_host_path_allowed(mount.host_path, false))
                    bad(at + " binds '" + mount.host_path +
                        "', which is outside the places a driver's files live (/usr, /lib*, "
                        "/opt, /etc/vulkan, /etc/glvnd, /etc/egl, /etc/OpenCL, /etc/nvidia, the "
                        "NVIDIA daemons' directories in /run)");
                e.mounts.push_back(std::move(mount));
            }
        }
        if (const auto* hooks = list(o, "hooks", where)) {
            for (std::size_t i = 0; i < hooks->size(); ++i) {
                auto at = where + " hook " + std::to_string(i + 1);
                const auto& h = object((*hooks)[i], at);
                CdiHook hook;
                hook.hook_name = string(h, "hookName", at);
                hook.path = string(h, "path", at);
                hook.args = strings(h, "args", at);
                e.hooks.push_back(std::move(hook));
            }
        }
        return e;
    }

private:
    const std::string& path_;
};

}  // namespace

bool cdi_host_path_allowed(std::string_view path, bool device_node) {
    if (device_node) return below(path, "/dev");
    return std::any_of(kAllowedFileDirs.begin(), kAllowedFileDirs.end(),
                       [&](const char* dir) { return below(path, dir); });
}

std::optional<CdiSpec> parse_cdi_spec(std::string_view text, const std::string& path,
                                      std::string_view kind) {
    Checker check(path);
    bj::value doc;
    auto first = text.find_first_not_of(" \t\r\n");
    try {
        doc = first != std::string_view::npos && text[first] == '{'
                  ? json::parse(text, "the CDI spec " + path)
                  : yaml::parse(text, "the CDI spec " + path);
    } catch (const Error& e) {
        check.bad(std::string("it cannot be read: ") + e.what());
    }
    const auto& top = check.object(doc, "the document");
    CdiSpec spec;
    spec.path = path;
    spec.kind = check.string(top, "kind", "the document");
    auto slash = spec.kind.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == spec.kind.size() ||
        spec.kind.find('/', slash + 1) != std::string::npos)
        check.bad("its kind '" + spec.kind + "' is not of the form vendor/class");
    if (spec.kind != kind) return std::nullopt;
    spec.version = check.string(top, "cdiVersion", "the document");
    const auto* devices = check.list(top, "devices", "the document");
    if (devices == nullptr || devices->empty()) check.bad("it lists no devices");
    for (std::size_t i = 0; i < devices->size(); ++i) {
        auto at = "device " + std::to_string(i + 1);
        const auto& d = check.object((*devices)[i], at);
        CdiDevice device;
        device.name = check.string(d, "name", at);
        if (device.name.empty()) check.bad(at + " has an empty name");
        device.edits = check.edits(d.if_contains("containerEdits"), "device " + device.name);
        spec.devices.push_back(std::move(device));
    }
    spec.edits = check.edits(top.if_contains("containerEdits"), "the spec's containerEdits");
    return spec;
}

std::vector<std::string> cdi_spec_files(const std::string& host_root) {
    std::string root = host_root == "/" ? std::string() : host_root;
    std::vector<std::string> out;
    for (const char* dir : {"/var/run/cdi", "/etc/cdi"}) {
        std::vector<std::string> names;
        if (DIR* d = ::opendir((root + dir).c_str())) {
            while (auto* e = ::readdir(d)) {
                std::string_view n = e->d_name;
                if (n.ends_with(".json") || n.ends_with(".yaml") || n.ends_with(".yml"))
                    names.emplace_back(n);
            }
            ::closedir(d);
        }
        std::sort(names.begin(), names.end());
        for (const auto& n : names)
            out.push_back(root + dir + "/" + n);
    }
    return out;
}

}  // namespace karapace::sandbox
