#include "karapace/schema/normalize.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/text.hpp"
#include "schema/text.hpp"

namespace karapace::schema {

namespace {

std::vector<std::string> sorted_unique(const std::vector<std::string>& names) {
    std::vector<std::string> out;
    for (const auto& n : names) {
        std::string t = detail::trim(n);
        if (!t.empty()) out.push_back(std::move(t));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<std::string> normalized_hooks(const std::vector<std::string>& hooks, const char* key) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        std::string problem = hook_command_problem(hooks[i]);
        if (!problem.empty())
            throw Error(
                Errc::manifest,
                "[hooks] " + std::string(key) + " element " + std::to_string(i) + " " + problem,
                "give each hook one command for /bin/sh -c");
        out.push_back(detail::trim(hooks[i]));
    }
    return out;
}

boost::json::value optional_number(const std::optional<std::uint64_t>& v) {
    if (!v) return nullptr;
    return *v;
}

}  // namespace

NormalizedManifest normalize(const Manifest& m) {
    if (m.manifest_version != manifest_version_current)
        throw Error(Errc::manifest,
                    "unsupported manifest_version " + std::to_string(m.manifest_version),
                    "set manifest_version = 1");
    NormalizedManifest n;
    n.manifest_version = m.manifest_version;
    n.base_image = detail::trim(m.base_image);
    if (n.base_image.empty())
        throw Error(Errc::manifest, "base.image must not be empty",
                    "name an image, e.g. \"debian/bookworm\"");
    n.packages = sorted_unique(m.packages);
    n.apps = sorted_unique(m.apps);
    n.gpu = m.gpu;
    n.audio = m.audio;

    std::map<std::string, std::string> label_of_target;
    std::set<std::string> labels;
    for (const auto& mount : m.mounts) {
        // Re-check through the parser so hand-built manifests obey the same rules.
        MountSpec spec = parse_mount_spec(mount.label, mount.spec());
        std::string target = lexically_absolute(spec.container, "/");
        while (target.size() > 1 && target.back() == '/')
            target.pop_back();
        if (!labels.insert(spec.label).second)
            throw Error(Errc::manifest, "mount label '" + spec.label + "' is used twice",
                        "give each mount its own label");
        if (auto it = label_of_target.find(target); it != label_of_target.end())
            throw Error(
                Errc::manifest,
                "mounts '" + it->second + "' and '" + spec.label + "' both mount onto " + target,
                "give each mount its own container path");
        label_of_target[target] = spec.label;
        n.mounts.push_back(std::move(spec));
    }
    std::stable_sort(n.mounts.begin(), n.mounts.end(),
                     [](const MountSpec& a, const MountSpec& b) { return a.label < b.label; });

    n.backend = ascii_lower(detail::trim(m.backend));
    const auto& known = known_backends();
    if (std::find(known.begin(), known.end(), n.backend) == known.end())
        throw Error(Errc::manifest, "unknown backend '" + m.backend + "'",
                    "use \"namespace\", \"oci\" or \"mock\"");
    n.network_isolation = m.network_isolation;
    n.no_new_privileges = m.no_new_privileges;
    n.cpu_shares = m.cpu_shares;
    n.memory_limit_mb = m.memory_limit_mb;

    std::set<std::string> env_names;
    for (const auto& var : m.env) {
        std::string problem = env_var_problem(var);
        if (problem.empty() && !env_names.insert(var.name).second) problem = "is set twice";
        if (!problem.empty())
            throw Error(Errc::manifest, "[env] " + var.name + ": " + problem,
                        "docs/manifest.md describes [env]");
    }
    n.env = m.env;
    std::sort(n.env.begin(), n.env.end());
    n.post_build = normalized_hooks(m.post_build, "post_build");
    n.on_enter = normalized_hooks(m.on_enter, "on_enter");
    for (const auto& sv : m.services)
        if (auto problem = service_problem(sv.name, sv.spec))
            throw Error(Errc::manifest, "[services] " + problem->message, problem->hint);
    n.services = m.services;
    std::sort(n.services.begin(), n.services.end(),
              [](const ServiceDecl& a, const ServiceDecl& b) { return a.name < b.name; });
    return n;
}

boost::json::object to_json(const ServiceSpec& spec) {
    return boost::json::object{
        {"command", boost::json::array(spec.command.begin(), spec.command.end())},
        {"notify", spec.notify},
        {"restart", spec.restart},
        {"sockets", boost::json::array(spec.sockets.begin(), spec.sockets.end())}};
}

boost::json::object to_json(const MountSpec& mount) {
    boost::json::object o;
    o["label"] = mount.label;
    o["host"] = mount.host;
    o["container"] = mount.container;
    o["read_only"] = mount.read_only;
    return o;
}

boost::json::object to_json(const NormalizedManifest& n) {
    boost::json::object o;
    o["manifest_version"] = n.manifest_version;
    o["base_image"] = n.base_image;
    o["system_packages"] = boost::json::array(n.packages.begin(), n.packages.end());
    o["gui_apps"] = boost::json::array(n.apps.begin(), n.apps.end());
    o["hardware_gpu"] = n.gpu;
    o["hardware_audio"] = n.audio;
    boost::json::array mounts;
    for (const auto& m : n.mounts)
        mounts.push_back(to_json(m));
    o["mounts"] = std::move(mounts);
    o["runtime_backend"] = n.backend;
    o["network_isolation"] = n.network_isolation;
    o["cpu_shares"] = optional_number(n.cpu_shares);
    o["memory_limit_mb"] = optional_number(n.memory_limit_mb);
    // Only when set, so the record of a manifest without them reads as it always has.
    if (!n.env.empty()) {
        boost::json::object env;
        for (const auto& var : n.env)
            env[var.name] = var.value;
        o["env"] = std::move(env);
    }
    if (!n.post_build.empty())
        o["post_build"] = boost::json::array(n.post_build.begin(), n.post_build.end());
    if (!n.on_enter.empty())
        o["on_enter"] = boost::json::array(n.on_enter.begin(), n.on_enter.end());
    if (n.no_new_privileges) o["no_new_privileges"] = true;
    if (!n.services.empty()) {
        boost::json::object services;
        for (const auto& sv : n.services)
            services[sv.name] = to_json(sv.spec);
        o["services"] = std::move(services);
    }
    return o;
}

std::string canonical_json(const NormalizedManifest& n) { return json::compact(to_json(n)); }

}  // namespace karapace::schema
