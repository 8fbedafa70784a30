#include "karapace/schema/drift.hpp"

#include <algorithm>
#include <map>

#include "schema/text.hpp"
#include "schema/toml_reader.hpp"

namespace karapace::schema {

namespace {

std::string yes_no(bool b) { return b ? "true" : "false"; }

std::string limit_text(const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : std::string("unset");
}

std::vector<std::string> sorted_unique(std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    return v;
}

// One difference per name added to or removed from the manifest.
void list_changes(std::vector<Difference>& out, const std::string& key, const char* what,
                  const std::vector<std::string>& manifest, const std::vector<std::string>& lock) {
    auto m = sorted_unique(manifest);
    auto l = sorted_unique(lock);
    std::vector<std::string> added, removed;
    std::set_difference(m.begin(), m.end(), l.begin(), l.end(), std::back_inserter(added));
    std::set_difference(l.begin(), l.end(), m.begin(), m.end(), std::back_inserter(removed));
    for (const auto& a : added)
        out.push_back(
            {key, std::string(what) + " '" + a + "' is in the manifest but not in the lock file"});
    for (const auto& r : removed)
        out.push_back({key, std::string(what) + " '" + r +
                                "' is in the lock file but no longer in the manifest"});
}

void compare_setting(std::vector<Difference>& out, const std::string& key,
                     const std::string& manifest, const std::string& lock) {
    if (manifest == lock) return;
    out.push_back(
        {key, key + " changed: the lock file has " + lock + ", the manifest has " + manifest});
}

std::string hook_list(const std::vector<std::string>& hooks) {
    if (hooks.empty()) return "none";
    return detail::toml_string_array(hooks);
}

}  // namespace

std::vector<Difference> manifest_lock_drift(const NormalizedManifest& m, const LockFile& lock) {
    std::vector<Difference> out;
    if (m.base_image != lock.base_image)
        out.push_back({"base.image", "base image changed: the lock file has '" + lock.base_image +
                                         "', the manifest has '" + m.base_image + "'"});
    list_changes(out, "system.packages", "package", m.packages, lock.requested_packages);
    list_changes(out, "gui.apps", "app", m.apps, lock.apps);
    compare_setting(out, "hardware.gpu", yes_no(m.gpu), yes_no(lock.gpu));
    compare_setting(out, "hardware.audio", yes_no(m.audio), yes_no(lock.audio));

    std::map<std::string, const MountSpec*> in_lock, in_manifest;
    for (const auto& x : lock.mounts)
        in_lock[x.label] = &x;
    for (const auto& x : m.mounts)
        in_manifest[x.label] = &x;
    for (const auto& [label, spec] : in_manifest) {
        std::string key = "mounts." + detail::key_text(label);
        auto it = in_lock.find(label);
        if (it == in_lock.end())
            out.push_back({key, "mount '" + label + "' (" + spec->spec() +
                                    ") is in the manifest but not in the lock file"});
        else if (!(*it->second == *spec))
            out.push_back({key, "mount '" + label + "' changed: the lock file has '" +
                                    it->second->spec() + "', the manifest has '" + spec->spec() +
                                    "'"});
    }
    for (const auto& [label, spec] : in_lock)
        if (in_manifest.find(label) == in_manifest.end())
            out.push_back({"mounts." + detail::key_text(label),
                           "mount '" + label + "' (" + spec->spec() +
                               ") is in the lock file but no longer in the manifest"});

    compare_setting(out, "runtime.backend", "'" + m.backend + "'", "'" + lock.backend + "'");
    compare_setting(out, "runtime.network_isolation", yes_no(m.network_isolation),
                    yes_no(lock.network_isolation));
    compare_setting(out, "runtime.resource_limits.cpu_shares", limit_text(m.cpu_shares),
                    limit_text(lock.cpu_shares));
    compare_setting(out, "runtime.resource_limits.memory_limit_mb", limit_text(m.memory_limit_mb),
                    limit_text(lock.memory_limit_mb));
    // Hooks run in order, so any change, reordering included, is a different build.
    if (m.post_build != lock.post_build)
        out.push_back({"hooks.post_build", "hooks.post_build changed: the lock file has " +
                                               hook_list(lock.post_build) + ", the manifest has " +
                                               hook_list(m.post_build)});
    return out;
}

}  // namespace karapace::schema
