#include "karapace/remote/oci_image.hpp"

#include <boost/json.hpp>

#include <optional>
#include <sstream>

#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"

namespace karapace::remote {

namespace bj = boost::json;

namespace {

constexpr const char* docker_manifest_type = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* docker_config_type = "application/vnd.docker.container.image.v1+json";
constexpr const char* image_format = "1";

[[noreturn]] void not_env(const std::string& what, const std::string& why, std::string hint = {}) {
    if (hint.empty())
        hint =
            "pull only references that `karapace push` published; other images are not "
            "environments";
    throw Error(Errc::remote, what + " is not a karapace environment image: " + why,
                std::move(hint));
}

const bj::object* object_at(const bj::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_object() ? &v->as_object() : nullptr;
}

std::string string_at(const bj::object& o, std::string_view key) {
    auto* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Digest digest_at(const bj::object& o, const std::string& what, const std::string& where) {
    auto text = string_at(o, "digest");
    if (text.rfind("sha256:", 0) != 0 || !Digest::is_hex(text.substr(7)))
        not_env(what, where + " has no sha256 digest");
    return Digest::from_hex(text.substr(7));
}

std::uint64_t size_at(const bj::object& o, const std::string& what, const std::string& where) {
    auto* v = o.if_contains("size");
    if (v == nullptr || !(v->is_int64() || v->is_uint64()) || (v->is_int64() && v->as_int64() < 0))
        not_env(what, where + " has no size");
    return v->is_uint64() ? v->as_uint64() : static_cast<std::uint64_t>(v->as_int64());
}

bool layer_type_known(std::string_view t, bool& compressed) {
    compressed = t != oci_layer_media_type && t != "application/vnd.docker.image.rootfs.diff.tar";
    return !compressed || t == "application/vnd.oci.image.layer.v1.tar+gzip" ||
           t == "application/vnd.oci.image.layer.v1.tar+zstd" ||
           t == "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

std::optional<LayerRole> role_named(std::string_view name) {
    if (name == "base") return LayerRole::base;
    if (name == "packages") return LayerRole::packages;
    if (name == "snapshot") return LayerRole::snapshot;
    return std::nullopt;
}

// The history entry push writes for a layer of each role.
std::optional<LayerRole> role_of_history(std::string_view created_by) {
    if (created_by == "karapace: base image") return LayerRole::base;
    if (created_by == "karapace: packages") return LayerRole::packages;
    if (created_by == "karapace: committed snapshot") return LayerRole::snapshot;
    return std::nullopt;
}

void check_role_order(const std::vector<ImageLayer>& layers, const std::string& what) {
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const bool first = i == 0;
        const bool last = i + 1 == layers.size();
        if ((layers[i].role == LayerRole::base) != first)
            not_env(what, "the base layer must come first, and only once");
        if (layers[i].role == LayerRole::snapshot && !last)
            not_env(what, "a snapshot layer must be the last one");
    }
}

bj::value parse_json(std::string_view text, const std::string& what, const std::string& which) {
    boost::system::error_code ec;
    auto v = bj::parse(text, ec);
    if (ec || !v.is_object()) not_env(what, "its " + which + " is not a JSON object");
    return v;
}

}  // namespace

std::string_view layer_role_name(LayerRole role) noexcept {
    switch (role) {
    case LayerRole::base: return "base";
    case LayerRole::packages: return "packages";
    case LayerRole::snapshot: return "snapshot";
    }
    return "packages";
}

BuiltImage build_image(const EnvImage& image) {
    bj::array diff_ids;
    bj::array history;
    for (const auto& l : image.layers) {
        diff_ids.push_back(bj::value(l.digest.str()));
        std::string created_by;
        switch (l.role) {
        case LayerRole::base: created_by = "karapace: base image"; break;
        case LayerRole::packages: created_by = "karapace: packages"; break;
        case LayerRole::snapshot: created_by = "karapace: committed snapshot"; break;
        }
        history.push_back(bj::object{{"created_by", created_by}});
    }
    bj::object labels;
    labels[label_format] = image_format;
    labels[label_env_id] = image.env_id;
    if (!image.name.empty()) labels[label_name] = image.name;
    labels[label_lock] = image.lock_text;
    labels[label_manifest] = image.manifest_json;
    std::string roles;
    for (const auto& l : image.layers)
        roles += (roles.empty() ? "" : " ") + std::string(layer_role_name(l.role));
    labels[label_layers] = roles;

    bj::object config;
    config["architecture"] = image.architecture;
    config["os"] = "linux";
    config["config"] = bj::object{
        {"Env", bj::array{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
        {"Cmd", bj::array{"/bin/sh"}},
        {"Labels", labels},
    };
    config["rootfs"] = bj::object{{"type", "layers"}, {"diff_ids", diff_ids}};
    config["history"] = history;

    BuiltImage out;
    out.config = json::compact(config);
    out.config_digest = sha256(out.config);

    bj::array layers;
    for (const auto& l : image.layers)
        layers.push_back(bj::object{
            {"mediaType", oci_layer_media_type},
            {"digest", l.digest.str()},
            {"size", l.size},
            {"annotations", bj::object{{annotation_layer, std::string(layer_role_name(l.role))}}},
        });
    bj::object annotations;
    annotations[label_env_id] = image.env_id;
    if (!image.name.empty()) annotations["org.opencontainers.image.title"] = image.name;
    bj::object manifest;
    manifest["schemaVersion"] = 2;
    manifest["mediaType"] = oci_manifest_media_type;
    manifest["config"] = bj::object{
        {"mediaType", oci_config_media_type},
        {"digest", out.config_digest.str()},
        {"size", out.config.size()},
    };
    manifest["layers"] = layers;
    manifest["annotations"] = annotations;
    out.manifest = json::compact(manifest);
    out.manifest_digest = sha256(out.manifest);
    return out;
}

ParsedManifest parse_manifest(std::string_view body, std::string_view media_type,
                              const std::string& what) {
    auto doc = parse_json(body, what, "manifest");
    const auto& m = doc.as_object();
    std::string declared = string_at(m, "mediaType");
    std::string type = declared.empty() ? std::string(media_type) : declared;
    if (type.find("index") != std::string::npos ||
        type.find("manifest.list") != std::string::npos || m.contains("manifests"))
        not_env(what, "it is a multi-platform image index");
    if (!type.empty() && type != oci_manifest_media_type && type != docker_manifest_type)
        not_env(what, "its manifest has media type '" + type + "'");
    auto* version = m.if_contains("schemaVersion");
    if (version == nullptr || !version->is_int64() || version->as_int64() != 2)
        not_env(what, "its manifest is not schemaVersion 2");

    ParsedManifest out;
    auto* config = object_at(m, "config");
    if (config == nullptr) not_env(what, "its manifest has no config");
    auto config_type = string_at(*config, "mediaType");
    if (config_type != oci_config_media_type && config_type != docker_config_type)
        not_env(what, "its config has media type '" + config_type + "'");
    out.config_digest = digest_at(*config, what, "the config descriptor");
    out.config_size = size_at(*config, what, "the config descriptor");

    auto* layers = m.if_contains("layers");
    if (layers == nullptr || !layers->is_array() || layers->as_array().empty())
        not_env(what, "its manifest lists no layers");
    bool all_annotated = true;
    for (std::size_t i = 0; i < layers->as_array().size(); ++i) {
        const auto& v = layers->as_array()[i];
        const std::string where = "layer " + std::to_string(i + 1);
        if (!v.is_object()) not_env(what, where + " is not an object");
        const auto& l = v.as_object();
        auto type_of_layer = string_at(l, "mediaType");
        ImageLayer layer;
        if (!layer_type_known(type_of_layer, layer.compressed))
            not_env(what, where + " has media type '" + type_of_layer +
                              "' (environments have tar layers: plain, gzip or zstd)");
        layer.blob = digest_at(l, what, where);
        layer.blob_size = size_at(l, what, where);
        layer.digest = layer.blob;
        layer.size = layer.compressed ? 0 : layer.blob_size;
        auto* ann = object_at(l, "annotations");
        auto role = role_named(ann ? string_at(*ann, annotation_layer) : std::string());
        if (role) layer.role = *role;
        all_annotated = all_annotated && role.has_value();
        out.role_annotated.push_back(role.has_value());
        out.layers.push_back(layer);
    }
    if (all_annotated) check_role_order(out.layers, what);
    return out;
}

EnvImage parse_config(std::string_view text, const ParsedManifest& manifest,
                      const std::string& what) {
    auto doc = parse_json(text, what, "config");
    const auto& c = doc.as_object();
    EnvImage out;
    out.architecture = string_at(c, "architecture");
    if (string_at(c, "os") != "linux") not_env(what, "its config is not for os linux");
    auto* rootfs = object_at(c, "rootfs");
    auto* diff_ids = rootfs ? rootfs->if_contains("diff_ids") : nullptr;
    if (diff_ids == nullptr || !diff_ids->is_array()) not_env(what, "its config has no diff_ids");
    const auto& ids = diff_ids->as_array();
    if (ids.size() != manifest.layers.size())
        not_env(what, "its config names " + std::to_string(ids.size()) + " layers, its manifest " +
                          std::to_string(manifest.layers.size()));
    out.layers = manifest.layers;
    for (std::size_t i = 0; i < ids.size(); ++i) {
        auto& layer = out.layers[i];
        const std::string text = ids[i].is_string() ? std::string(ids[i].as_string()) : "";
        if (!layer.compressed) {
            if (text != layer.blob.str())
                not_env(what, "diff_id " + std::to_string(i + 1) +
                                  " of its config differs from the digest of layer " +
                                  std::to_string(i + 1));
            continue;
        }
        if (text.rfind("sha256:", 0) != 0 || !Digest::is_hex(text.substr(7)))
            not_env(what, "diff_id " + std::to_string(i + 1) + " of its config is not a digest");
        layer.digest = Digest::from_hex(text.substr(7));
    }
    auto* inner = object_at(c, "config");
    auto* labels = inner ? object_at(*inner, "Labels") : nullptr;
    if (labels == nullptr || !labels->contains(label_lock))
        not_env(what, std::string("its config has no ") + label_lock + " label");
    auto format = string_at(*labels, label_format);
    if (format != image_format)
        throw Error(Errc::remote,
                    what + " uses environment image format '" + format +
                        "', which this karapace does not know",
                    "upgrade karapace to pull it");
    out.env_id = string_at(*labels, label_env_id);
    out.name = string_at(*labels, label_name);
    out.lock_text = string_at(*labels, label_lock);
    out.manifest_json = string_at(*labels, label_manifest);
    if (out.lock_text.empty() || out.manifest_json.empty() || out.env_id.empty())
        not_env(what, "its config lacks the lock, the manifest or the environment id");

    // The layers' roles: the config's label, else each layer's annotation, else the history
    // (written by every push, and kept by mirrors, which copy the config as it is).
    std::vector<std::optional<LayerRole>> roles(out.layers.size());
    if (labels->contains(label_layers)) {
        std::istringstream words(string_at(*labels, label_layers));
        std::vector<std::string> names;
        for (std::string w; words >> w;)
            names.push_back(w);
        if (names.size() != out.layers.size())
            not_env(what, std::string("its ") + label_layers + " label names " +
                              std::to_string(names.size()) + " layers, its manifest " +
                              std::to_string(out.layers.size()));
        for (std::size_t i = 0; i < names.size(); ++i) {
            roles[i] = role_named(names[i]);
            if (!roles[i])
                not_env(what, std::string("its ") + label_layers + " label names the role '" +
                                  names[i] + "'");
        }
    } else {
        std::vector<std::optional<LayerRole>> history;
        if (auto* h = c.if_contains("history"); h != nullptr && h->is_array())
            for (const auto& e : h->as_array()) {
                if (!e.is_object()) continue;
                auto* empty = e.as_object().if_contains("empty_layer");
                if (empty != nullptr && empty->is_bool() && empty->as_bool()) continue;
                history.push_back(role_of_history(string_at(e.as_object(), "created_by")));
            }
        for (std::size_t i = 0; i < out.layers.size(); ++i) {
            if (manifest.role_annotated.size() > i && manifest.role_annotated[i])
                roles[i] = out.layers[i].role;
            else if (history.size() == out.layers.size())
                roles[i] = history[i];
            if (!roles[i])
                not_env(what, "layer " + std::to_string(i + 1) +
                                  " has no role: neither its config's " + label_layers +
                                  " label, nor its " + annotation_layer +
                                  " annotation, nor the config's history names one");
        }
    }
    for (std::size_t i = 0; i < out.layers.size(); ++i)
        out.layers[i].role = *roles[i];
    check_role_order(out.layers, what);
    return out;
}

std::string oci_architecture(std::string_view debian_arch) {
    if (debian_arch == "armhf" || debian_arch == "armel") return "arm";
    if (debian_arch == "i386") return "386";
    if (debian_arch == "ppc64el") return "ppc64le";
    return std::string(debian_arch);
}

}  // namespace karapace::remote
