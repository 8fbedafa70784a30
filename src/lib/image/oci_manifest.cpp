#include <boost/json.hpp>

#include "karapace/image/oci.hpp"
#include "karapace/remote/oci_image.hpp"
#include "karapace/util/error.hpp"

namespace karapace::image {

namespace bj = boost::json;

namespace {

constexpr std::string_view oci_index = "application/vnd.oci.image.index.v1+json";
constexpr std::string_view docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr std::string_view oci_manifest = "application/vnd.oci.image.manifest.v1+json";
constexpr std::string_view docker_manifest = "application/vnd.docker.distribution.manifest.v2+json";

[[noreturn]] void bad(const std::string& what, const std::string& why, std::string hint = {}) {
    if (hint.empty()) hint = "the registry serves something that is not a container image there";
    throw Error(Errc::image, what + ": " + why, std::move(hint));
}

bj::object parse_object(std::string_view body, const std::string& what) {
    bj::error_code ec;
    auto v = bj::parse(body, ec);
    if (ec || !v.is_object()) bad(what, "the document is not a JSON object");
    return std::move(v.as_object());
}

std::string string_at(const bj::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

Digest digest_at(const bj::object& o, const std::string& what, const std::string& where) {
    auto text = string_at(o, "digest");
    if (text.rfind("sha256:", 0) != 0 || !Digest::is_hex(text.substr(7)))
        bad(what, where + " has no sha256 digest ('" + text.substr(0, 80) + "')",
            "only sha256 digests are supported");
    return Digest::from_hex(text.substr(7));
}

std::uint64_t size_at(const bj::object& o, const std::string& what, const std::string& where) {
    auto* v = o.if_contains("size");
    if (v == nullptr || !(v->is_int64() || v->is_uint64()) || (v->is_int64() && v->as_int64() < 0))
        bad(what, where + " has no valid size");
    return v->is_uint64() ? v->as_uint64() : static_cast<std::uint64_t>(v->as_int64());
}

std::string media_type_of(const bj::object& o, std::string_view header) {
    auto body_type = string_at(o, "mediaType");
    return body_type.empty() ? std::string(header) : body_type;
}

void refuse_schema1(const bj::object& o, std::string_view media_type, const std::string& what) {
    auto* version = o.if_contains("schemaVersion");
    bool v1 = (version != nullptr && version->is_int64() && version->as_int64() == 1) ||
              media_type.find("distribution.manifest.v1") != std::string_view::npos;
    if (v1)
        bad(what, "it is a Docker schema 1 manifest, which karapace does not read",
            "schema 1 is deprecated and unsigned content; push the image again with a current "
            "docker, podman or skopeo (they write schema 2 or OCI manifests)");
}

bool accepted_layer(std::string_view t) {
    return t == "application/vnd.oci.image.layer.v1.tar" ||
           t == "application/vnd.oci.image.layer.v1.tar+gzip" ||
           t == "application/vnd.oci.image.layer.v1.tar+zstd" ||
           t == "application/vnd.docker.image.rootfs.diff.tar.gzip" ||
           t == "application/vnd.docker.image.rootfs.diff.tar";
}

}  // namespace

std::string OciPlatform::str() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

OciPlatform host_platform(const Config& config) {
    OciPlatform p;
    auto arch = effective_arch(config);
    p.architecture = remote::oci_architecture(arch);
    if (arch == "arm64") p.variant = "v8";
    if (arch == "armhf") p.variant = "v7";
    if (arch == "armel") p.variant = "v6";
    return p;
}

bool is_index(std::string_view media_type, std::string_view body) {
    if (media_type == oci_index || media_type == docker_list) return true;
    if (media_type == oci_manifest || media_type == docker_manifest) return false;
    bj::error_code ec;
    auto v = bj::parse(body, ec);
    if (ec || !v.is_object()) return false;
    auto type = string_at(v.as_object(), "mediaType");
    if (type == oci_index || type == docker_list) return true;
    return type.empty() && v.as_object().contains("manifests");
}

Digest choose_platform(std::string_view index, const OciPlatform& want, const std::string& what) {
    auto o = parse_object(index, what);
    auto* list = o.if_contains("manifests");
    if (list == nullptr || !list->is_array()) bad(what, "the image index has no manifests");
    std::optional<Digest> loose;
    std::vector<std::string> offered;
    std::size_t n = 0;
    for (const auto& entry : list->as_array()) {
        ++n;
        if (!entry.is_object()) continue;
        const auto& e = entry.as_object();
        auto* platform = e.if_contains("platform");
        if (platform == nullptr || !platform->is_object()) continue;
        OciPlatform p;
        p.os = string_at(platform->as_object(), "os");
        p.architecture = string_at(platform->as_object(), "architecture");
        p.variant = string_at(platform->as_object(), "variant");
        // Attestations and signatures are filed under "unknown/unknown".
        if (p.os == "unknown" || p.architecture == "unknown") continue;
        offered.push_back(p.str());
        if (p.os != want.os || p.architecture != want.architecture) continue;
        auto d = digest_at(e, what, "index entry " + std::to_string(n));
        if (p.variant == want.variant) return d;
        if (!loose && (p.variant.empty() || want.variant.empty())) loose = d;
    }
    if (loose) return *loose;
    std::string list_text;
    for (const auto& p : offered)
        list_text += (list_text.empty() ? "" : ", ") + p;
    throw Error(Errc::image,
                what + " has no image for " + want.str() + "; the index offers " +
                    (list_text.empty() ? std::string("no platforms") : list_text),
                "choose an image built for " + want.str() +
                    " ([images] arch in ~/.config/karapace/config.toml picks another "
                    "architecture, which then needs an emulator to run)");
}

OciManifest parse_oci_manifest(std::string_view body, std::string_view media_type,
                               const std::string& what) {
    auto o = parse_object(body, what);
    auto type = media_type_of(o, media_type);
    refuse_schema1(o, type, what);
    if (!type.empty() && type != oci_manifest && type != docker_manifest)
        bad(what, "the manifest has media type '" + type + "', not an image manifest");
    auto* config = o.if_contains("config");
    if (config == nullptr || !config->is_object()) bad(what, "the manifest has no config");
    auto config_type = string_at(config->as_object(), "mediaType");
    if (config_type != "application/vnd.oci.image.config.v1+json" &&
        config_type != "application/vnd.docker.container.image.v1+json")
        bad(what, "its config has media type '" + config_type + "': it is not a container image",
            "an OCI artifact (a Helm chart, a signature...) cannot be a base image");
    OciManifest m;
    m.config_digest = digest_at(config->as_object(), what, "the config");
    m.config_size = size_at(config->as_object(), what, "the config");
    auto* layers = o.if_contains("layers");
    if (layers == nullptr || !layers->is_array()) bad(what, "the manifest has no layers");
    std::size_t n = 0;
    for (const auto& v : layers->as_array()) {
        ++n;
        const std::string where = "layer " + std::to_string(n);
        if (!v.is_object()) bad(what, where + " is not a descriptor");
        OciLayer l;
        l.media_type = string_at(v.as_object(), "mediaType");
        if (!accepted_layer(l.media_type))
            bad(what,
                where + " has media type '" + l.media_type +
                    "'; karapace reads tar layers, plain, gzip or zstd",
                l.media_type.find("foreign") != std::string::npos ||
                        l.media_type.find("nondistributable") != std::string::npos
                    ? "non-distributable layers (Windows base layers) are not served by the "
                      "registry; use a Linux image"
                    : "");
        l.digest = digest_at(v.as_object(), what, where);
        l.size = size_at(v.as_object(), what, where);
        m.layers.push_back(std::move(l));
    }
    if (m.layers.empty()) bad(what, "the manifest has no layers");
    return m;
}

OciConfig parse_oci_config(std::string_view body, const std::string& what) {
    auto o = parse_object(body, what);
    OciConfig c;
    c.platform.os = string_at(o, "os");
    c.platform.architecture = string_at(o, "architecture");
    c.platform.variant = string_at(o, "variant");
    auto* rootfs = o.if_contains("rootfs");
    if (rootfs == nullptr || !rootfs->is_object()) bad(what, "the image config has no rootfs");
    auto* ids = rootfs->as_object().if_contains("diff_ids");
    if (ids == nullptr || !ids->is_array()) bad(what, "the image config has no rootfs.diff_ids");
    for (const auto& v : ids->as_array()) {
        std::string text = v.is_string() ? std::string(v.as_string()) : std::string();
        if (text.rfind("sha256:", 0) != 0 || !Digest::is_hex(text.substr(7)))
            bad(what, "rootfs.diff_ids holds '" + text.substr(0, 80) + "', not a sha256 digest");
        c.diff_ids.push_back(Digest::from_hex(text.substr(7)));
    }
    if (auto* cfg = o.if_contains("config"); cfg != nullptr && cfg->is_object()) {
        const auto& co = cfg->as_object();
        c.user = string_at(co, "User");
        c.working_dir = string_at(co, "WorkingDir");
        if (auto* env = co.if_contains("Env"); env != nullptr && env->is_array())
            for (const auto& e : env->as_array())
                if (e.is_string()) c.env.emplace_back(e.as_string());
    }
    return c;
}

}  // namespace karapace::image
