// The normalised manifest: the record two manifests that mean the same thing share (names trimmed,
// sorted and de-duplicated, mounts sorted by label, backend in lower case), and its canonical JSON,
// a compact serialisation with a fixed key order.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "karapace/schema/manifest.hpp"

namespace karapace::schema {

struct NormalizedManifest {
    std::uint32_t manifest_version = manifest_version_current;
    std::string base_image;
    std::vector<std::string> packages;  // sorted by byte order, unique
    std::vector<std::string> apps;      // sorted by byte order, unique
    bool gpu = false;
    bool audio = false;
    std::vector<MountSpec> mounts;  // sorted by label
    std::string backend;            // lower case
    bool network_isolation = false;
    bool no_new_privileges = false;  // a session setting, not part of the identity
    std::optional<std::uint64_t> cpu_shares;
    std::optional<std::uint64_t> memory_limit_mb;
    std::vector<EnvVar> env;              // sorted by name
    std::vector<std::string> post_build;  // trimmed, in order
    std::vector<std::string> on_enter;    // trimmed, in order
    std::vector<ServiceDecl> services;    // sorted by name; a host setting, not the identity

    friend bool operator==(const NormalizedManifest&, const NormalizedManifest&) = default;
};

// Throws Error(manifest) for what only shows once the manifest is seen whole (two mounts with the
// same label after trimming, or onto the same container path), and for values a hand-built
// Manifest may carry that parse_manifest would have refused (empty image, unknown backend, a bad
// [env] entry or hook command).
NormalizedManifest normalize(const Manifest& manifest);

// {"manifest_version":1,"base_image":...,"system_packages":[...],"gui_apps":[...],
//  "hardware_gpu":false,"hardware_audio":false,
//  "mounts":[{"label":...,"host":...,"container":...,"read_only":false}],
//  "runtime_backend":"namespace","network_isolation":false,"cpu_shares":null,
//  "memory_limit_mb":null}
// followed, only when the manifest has them, by "env":{"NAME":"value",...} (sorted by name),
// "post_build":[...] and "on_enter":[...].
boost::json::object to_json(const NormalizedManifest& manifest);
std::string canonical_json(const NormalizedManifest& manifest);

// {"label":...,"host":...,"container":...,"read_only":...}
boost::json::object to_json(const MountSpec& mount);
// {"command":[...],"notify":B,"restart":"...","sockets":[...]}
boost::json::object to_json(const ServiceSpec& spec);

}  // namespace karapace::schema
