#include "karapace/schema/identity.hpp"

#include <algorithm>
#include <tuple>

#include "karapace/schema/lock.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/json.hpp"

namespace karapace::schema {

bool EnvId::valid(std::string_view text) noexcept {
    if (text.size() != length) return false;
    return std::all_of(text.begin(), text.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool EnvId::reads_as_prefix(std::string_view text) noexcept {
    if (text.size() < min_prefix_length) return false;
    return std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

std::optional<EnvId> EnvId::from_hex(std::string_view text) {
    if (!valid(text)) return std::nullopt;
    return EnvId(std::string(text));
}

EnvId EnvId::parse(std::string_view text, Errc code, const std::string& what) {
    auto id = from_hex(text);
    if (!id)
        throw Error(code,
                    what + " '" + std::string(text) +
                        "' is not an environment id (64 lower-case hex characters)",
                    "use the id printed by `karapace list`");
    return *id;
}

std::string identity_json(const LockFile& lock) {
    namespace bj = boost::json;
    std::vector<LockedPackage> packages = lock.packages;
    std::sort(packages.begin(), packages.end(), [](const LockedPackage& a, const LockedPackage& b) {
        return std::tie(a.name, a.arch, a.version) < std::tie(b.name, b.arch, b.version);
    });
    std::vector<std::string> apps = lock.apps;
    std::sort(apps.begin(), apps.end());
    apps.erase(std::unique(apps.begin(), apps.end()), apps.end());
    std::vector<MountSpec> mounts = lock.mounts;
    std::stable_sort(mounts.begin(), mounts.end(),
                     [](const MountSpec& a, const MountSpec& b) { return a.label < b.label; });

    bj::object o;
    o["recipe"] = identity_recipe;
    o["image_digest"] = lock.image_digest.str();
    bj::array pkgs;
    for (const auto& p : packages)
        pkgs.push_back(bj::object{{"name", p.name}, {"version", p.version}, {"arch", p.arch}});
    o["packages"] = std::move(pkgs);
    o["apps"] = bj::array(apps.begin(), apps.end());
    o["gpu"] = lock.gpu;
    o["audio"] = lock.audio;
    bj::array ms;
    for (const auto& m : mounts)
        ms.push_back(to_json(m));
    o["mounts"] = std::move(ms);
    o["backend"] = lock.backend;
    o["network_isolation"] = lock.network_isolation;
    o["cpu_shares"] = lock.cpu_shares ? bj::value(*lock.cpu_shares) : bj::value(nullptr);
    o["memory_limit_mb"] =
        lock.memory_limit_mb ? bj::value(*lock.memory_limit_mb) : bj::value(nullptr);
    // Only when there are hooks, so every environment without them keeps the id it had before
    // hooks existed.
    if (!lock.post_build.empty())
        o["post_build"] = bj::array(lock.post_build.begin(), lock.post_build.end());
    return json::compact(o);
}

EnvId compute_env_id(const LockFile& lock) {
    return *EnvId::from_hex(sha256(identity_json(lock)).hex());
}

void assign_identity(LockFile& lock) {
    lock.env_id = compute_env_id(lock);
    lock.short_id = lock.env_id.short_id();
}

void verify_integrity(const LockFile& lock, const std::string& source_name) {
    EnvId computed = compute_env_id(lock);
    const std::string hint =
        "the lock file was edited by hand or damaged; re-lock with `karapace build`";
    if (lock.env_id != computed)
        throw Error(Errc::manifest,
                    source_name + ": env_id mismatch: the lock says '" + lock.env_id.str() +
                        "', its contents give '" + computed.str() + "'",
                    hint);
    if (lock.short_id != computed.short_id())
        throw Error(Errc::manifest,
                    source_name + ": short_id mismatch: the lock says '" + lock.short_id +
                        "', its env_id '" + computed.str() + "' gives '" + computed.short_id() +
                        "'",
                    hint);
}

}  // namespace karapace::schema
