// OCI images as base images (`docker://registry/repo:tag`, `…@sha256:`): reading image indexes,
// manifests and configs (OCI and Docker schema 2 media types), choosing this machine's platform,
// and fetching an image through the registry client of remote/ into the image cache, where its
// layers (kept by digest, so images sharing a layer fetch it once) are applied onto one rootfs
// cached under the manifest digest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/image/cache.hpp"
#include "karapace/image/config.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/remote/reference.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

struct OciPlatform {
    std::string os = "linux";
    std::string architecture;  // OCI naming: amd64, arm64, arm, 386...
    std::string variant;       // "v8", "v7"; empty when it does not matter
    // "linux/arm64/v8"
    std::string str() const;
};

// The platform images are chosen for: linux and `config.arch` (else the host's) in OCI naming.
OciPlatform host_platform(const Config& config);

struct OciLayer {
    std::string media_type;
    Digest digest;
    std::uint64_t size = 0;
};

struct OciManifest {
    Digest config_digest;
    std::uint64_t config_size = 0;
    std::vector<OciLayer> layers;  // bottom first
};

// What a build and a run take from the image config.
struct OciConfig {
    OciPlatform platform;
    std::vector<Digest> diff_ids;
    std::vector<std::string> env;  // "NAME=value"
    std::string user;
    std::string working_dir;
};

// True for an OCI image index or a Docker manifest list.
bool is_index(std::string_view media_type, std::string_view body);
// The digest of the index entry for `want`. Error(image) naming `what` and listing the platforms
// the index has when none fits.
Digest choose_platform(std::string_view index, const OciPlatform& want, const std::string& what);
// An image manifest with its layers checked to be tars (plain, gzip or zstd). Error(image) naming
// `what` for schema 1, for artifacts that are not container images, for non-distributable layers.
OciManifest parse_oci_manifest(std::string_view body, std::string_view media_type,
                               const std::string& what);
OciConfig parse_oci_config(std::string_view body, const std::string& what);

// Where the image lives on the registry (docker.io's API host is registry-1.docker.io).
remote::ImageReference registry_reference(const ImageRef& ref);

// The reference with the configured default registry applied to a short name.
ImageRef qualify(const ImageRef& ref, const Config& config);

struct OciResolution {
    Digest manifest;               // the image manifest for this platform
    std::optional<Digest> index;   // the index it was chosen from, if any
    std::string pinned_reference;  // docker://registry/repo[:tag]@sha256:<manifest>
};

// Asks the registry which manifest `ref` names for this platform (for `karapace pin`).
OciResolution resolve_oci(const ImageRef& ref, const Config& config, ProgressSink& progress);

// Fetches the image (layers already in the cache are not fetched again), applies its layers and
// installs the rootfs in `cache` under the manifest digest. Call with the reference's lock held;
// nothing is left in the cache when a digest does not match.
CachedImage fetch_oci(const ImageRef& ref, const ImageCache& cache, const Config& config,
                      ProgressSink& progress);

}  // namespace karapace::image
