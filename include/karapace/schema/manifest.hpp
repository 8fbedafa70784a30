// Manifest v1 (`karapace.toml`): what an environment is made of. Parsing is strict: an unknown
// key, a wrong type or a bad value is an Error(manifest) that names the file, the dotted key, the
// line and the column. Parsing never looks at the host beyond reading the file itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/schema/env_vars.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/schema/service.hpp"

namespace karapace::schema {

inline constexpr std::uint32_t manifest_version_current = 1;
// Manifests are small; a larger file is almost certainly the wrong file.
inline constexpr std::size_t manifest_size_limit = 1024 * 1024;

// Upper bounds of [runtime.resource_limits]: cgroup v1's largest cpu.shares, and the largest
// number of MiB whose byte count still fits in a signed 64-bit integer.
inline constexpr std::uint64_t cpu_shares_max = 262144;
inline constexpr std::uint64_t memory_limit_mb_max = (std::uint64_t{1} << 43) - 1;

struct Manifest {
    std::uint32_t manifest_version = manifest_version_current;
    std::string base_image;                        // [base] image, trimmed, never empty
    std::vector<std::string> packages;             // [system] packages, trimmed, in file order
    std::vector<std::string> apps;                 // [gui] apps, trimmed, in file order
    bool gpu = false;                              // [hardware] gpu
    bool audio = false;                            // [hardware] audio
    std::vector<MountSpec> mounts;                 // [mounts], in file order
    std::string backend = "namespace";             // [runtime] backend: namespace | oci | mock
    bool network_isolation = false;                // [runtime] network_isolation
    bool no_new_privileges = false;                // [runtime] no_new_privileges
    std::optional<std::uint64_t> cpu_shares;       // [runtime.resource_limits] cpu_shares
    std::optional<std::uint64_t> memory_limit_mb;  // [runtime.resource_limits] memory_limit_mb
    std::vector<EnvVar> env;                       // [env], in file order
    std::vector<std::string> post_build;           // [hooks] post_build, trimmed, in order
    std::vector<std::string> on_enter;             // [hooks] on_enter, trimmed, in order
    std::vector<ServiceDecl> services;             // [services], in file order

    friend bool operator==(const Manifest&, const Manifest&) = default;
};

// The backends a manifest may name (lower case).
const std::vector<std::string>& known_backends();

// `source_name` is what error messages call the text (usually its path).
Manifest parse_manifest(std::string_view text, const std::string& source_name);
// Reads at most manifest_size_limit bytes; an unreadable file is an Error(manifest) naming it.
Manifest parse_manifest_file(const std::string& path);

}  // namespace karapace::schema
