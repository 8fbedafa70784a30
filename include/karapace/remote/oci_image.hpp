// An environment as an OCI image: layers are the store's uncompressed layer tars (the base image
// packed as a layer, then the packages layer, then the latest committed snapshot), the image
// config carries rootfs.diff_ids and, in `config.Labels`, karapace's own record (the lock, the
// normalised manifest, the environment id and name, the layers' roles) so pull can rebuild the
// environment; each layer descriptor also says its role in the `org.karapace.layer` annotation.
// The JSON is generated in a fixed key order without timestamps, so pushing the same environment
// twice gives the same manifest digest.
//
// Mirroring (`podman pull` + `podman push`, `skopeo copy`) keeps the config as it is but may
// compress the layers (gzip, zstd), change the media types and drop the annotations: pull then
// takes each layer's role from the config (the `org.karapace.layers` label, or for images pushed
// before it existed the `history` entries push writes) and its digest from `rootfs.diff_ids`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/util/digest.hpp"

namespace karapace::remote {

inline constexpr const char* oci_manifest_media_type = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* oci_config_media_type = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* oci_layer_media_type = "application/vnd.oci.image.layer.v1.tar";

inline constexpr const char* label_env_id = "org.karapace.env-id";
inline constexpr const char* label_name = "org.karapace.name";
inline constexpr const char* label_lock = "org.karapace.lock";
inline constexpr const char* label_manifest = "org.karapace.manifest";
inline constexpr const char* label_format = "org.karapace.image-format";
inline constexpr const char* label_layers = "org.karapace.layers";  // "base packages snapshot"
inline constexpr const char* annotation_layer = "org.karapace.layer";

enum class LayerRole { base, packages, snapshot };
std::string_view layer_role_name(LayerRole role) noexcept;

struct ImageLayer {
    Digest digest;           // of the uncompressed tar: the store's layer object and the diff_id
    std::uint64_t size = 0;  // of the uncompressed tar; 0 for a compressed blob until unpacked
    LayerRole role = LayerRole::packages;
    // The blob as the registry holds it: the tar itself as push sends it (`blob` == `digest`), or
    // gzip or zstd of it after a mirror recompressed it.
    Digest blob;
    std::uint64_t blob_size = 0;
    bool compressed = false;
    friend bool operator==(const ImageLayer& a, const ImageLayer& b) {
        return a.digest == b.digest && a.size == b.size && a.role == b.role;
    }
};

// What an environment image says about the environment.
struct EnvImage {
    std::string env_id;
    std::string name;                // empty when the environment was unnamed
    std::string lock_text;           // karapace.lock as stored
    std::string manifest_json;       // canonical JSON of the normalised manifest
    std::string architecture;        // OCI naming: amd64, arm64, arm, 386, ppc64le, s390x, riscv64
    std::vector<ImageLayer> layers;  // bottom first: base, packages..., snapshot?
};

struct BuiltImage {
    std::string config;
    Digest config_digest;
    std::string manifest;
    Digest manifest_digest;
};

// The config and manifest documents for `image`.
BuiltImage build_image(const EnvImage& image);

// A manifest read back: its config descriptor and layers. Until the config is read, a layer's
// `digest` is its blob digest, and its role is known only where the annotation survived.
struct ParsedManifest {
    Digest config_digest;
    std::uint64_t config_size = 0;
    std::vector<ImageLayer> layers;
    std::vector<bool> role_annotated;  // per layer
};

// Error(remote) naming `what` (the reference) when the document is not an OCI or Docker image
// manifest: an index, layers that are not tars (plain, gzip or zstd), annotated roles out of
// order (one base first, packages, at most one snapshot last).
ParsedManifest parse_manifest(std::string_view body, std::string_view media_type,
                              const std::string& what);
// The environment record from the config, checked against the manifest: each layer's digest is
// its diff_id (an uncompressed blob must hash to it), its role comes from the config's
// `org.karapace.layers` label, else the annotation, else the config's history; Error(remote)
// naming `what` when labels are missing or disagree.
EnvImage parse_config(std::string_view config, const ParsedManifest& manifest,
                      const std::string& what);

// Debian architecture names to OCI ones (amd64 -> amd64, arm64 -> arm64, armhf -> arm,
// i386 -> 386, ppc64el -> ppc64le); others unchanged.
std::string oci_architecture(std::string_view debian_arch);

}  // namespace karapace::remote
