// Lock file v3 (`karapace.lock`, TOML, next to the manifest): the manifest's settings, the pinned
// image and its content digest, and the exact packages installed, so `build --locked` can rebuild
// the same environment and its env_id can be recomputed and checked.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/schema/identity.hpp"
#include "karapace/schema/image_config.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/util/digest.hpp"

namespace karapace::schema {

struct NormalizedManifest;

inline constexpr int lock_version_current = 3;
inline constexpr std::size_t lock_size_limit = 16 * 1024 * 1024;

struct LockedPackage {
    std::string name;
    std::string version;  // as the package manager reports it, e.g. "1:2.39.2-1.1"
    std::string arch;     // e.g. "amd64", "x86_64", "all", "noarch"
    // Lower-case hex SHA-256 of the package archive as the repository index gives it (apt's
    // SHA256 field); empty where the package manager reports none. Not part of the identity:
    // `build --locked` checks each downloaded archive against it.
    std::string sha256;

    friend bool operator==(const LockedPackage&, const LockedPackage&) = default;
    friend auto operator<=>(const LockedPackage&, const LockedPackage&) = default;
};

struct LockFile {
    int lock_version = lock_version_current;
    EnvId env_id;
    std::string short_id;

    // The manifest settings the environment was built from.
    std::string base_image;                       // base.image as written in the manifest
    std::vector<std::string> requested_packages;  // system.packages, normalised
    std::vector<std::string> apps;                // gui.apps, normalised
    bool gpu = false;
    bool audio = false;
    std::vector<MountSpec> mounts;  // as written, sorted by label
    std::string backend = "namespace";
    bool network_isolation = false;
    std::optional<std::uint64_t> cpu_shares;
    std::optional<std::uint64_t> memory_limit_mb;
    std::vector<std::string> post_build;  // [hooks] post_build, in order

    // What the build resolved.
    std::string pinned_image;  // "https://…/rootfs.tar.xz#sha256=…", "docker://…@sha256:…",
                               // "bootstrap:debian/bookworm@20261128T000000Z", …
    Digest image_digest;       // sha256 of the image content
    // A docker:// base image's Env, User and WorkingDir (`[base.config]`). Not part of the
    // identity: the image digest already names them.
    ImageConfig image_config;
    std::vector<LockedPackage> packages;
    // Seconds since the epoch: the build's SOURCE_DATE_EPOCH. The package manager gets it, and
    // the packages layer clamps every mtime to it. Chosen when the lock is made (the build's
    // start); absent in locks written before it existed, whose layers clamp to 0. Not part of
    // the identity.
    std::optional<std::int64_t> source_date_epoch;

    friend bool operator==(const LockFile&, const LockFile&) = default;
};

// A lock carrying the manifest's settings; the caller fills pinned_image, image_digest and
// packages, then calls assign_identity.
LockFile lock_from_manifest(const NormalizedManifest& manifest);

// Stable, commented TOML (packages sorted by name, arch, version; mounts by label).
std::string render_lock(const LockFile& lock);
// Strict parse; Error(manifest) with file:line:column for unknown keys and wrong types. A
// lock_version 2 file (an older karapace) or > 3 (a newer one) is refused with what to do.
LockFile parse_lock(std::string_view text, const std::string& source_name);
LockFile read_lock(const std::string& path);
// Atomic replace (temp file, fsync, rename, fsync dir).
void write_lock(const std::string& path, const LockFile& lock);

}  // namespace karapace::schema
