#include "karapace/store/layers.hpp"

#include <unistd.h>

#include <cerrno>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "store/fsutil.hpp"
#include "store/record.hpp"

namespace karapace::store {

namespace bj = boost::json;

std::string_view layer_kind_name(LayerKind kind) noexcept {
    switch (kind) {
    case LayerKind::base: return "base";
    case LayerKind::packages: return "packages";
    case LayerKind::snapshot: return "snapshot";
    }
    return "packages";
}

LayerKind parse_layer_kind(std::string_view name) {
    if (name == "base") return LayerKind::base;
    if (name == "packages") return LayerKind::packages;
    if (name == "snapshot") return LayerKind::snapshot;
    throw Error(Errc::store, "unknown layer kind '" + std::string(name) + "'");
}

bj::object to_json(const Layer& l) {
    bj::object o;
    o["digest"] = l.digest.str();
    o["kind"] = layer_kind_name(l.kind);
    o["parent"] = l.parent ? bj::value(l.parent->str()) : bj::value(nullptr);
    o["size"] = l.size;
    o["created"] = l.created;
    o["file_count"] = l.file_count;
    // Written only for layers stored once, so the records of tar objects keep their old form
    // (and are read the same by older versions).
    if (l.stored == LayerStorage::unpacked) {
        o["stored"] = "unpacked";
        o["mtime_clamp"] = l.mtime_clamp;
    } else if (!l.tar_kept.empty()) {
        o["stored"] = "object";
        o["tar_kept"] = l.tar_kept;
    }
    return o;
}

namespace {

Layer layer_from_json(const bj::object& o, const std::string& path) {
    try {
        Layer l;
        l.digest = Digest::parse(json::get_string(o, "digest", path));
        l.kind = parse_layer_kind(json::get_string(o, "kind", path));
        const auto& parent = json::field(o, "parent", path);
        if (!parent.is_null()) l.parent = Digest::parse(json::get_string(o, "parent", path));
        l.size = static_cast<std::uint64_t>(json::get_int(o, "size", path));
        l.created = json::get_string(o, "created", path);
        l.file_count = static_cast<std::uint64_t>(json::get_int(o, "file_count", path));
        if (o.contains("stored")) {
            auto stored = json::get_string(o, "stored", path);
            if (stored == "unpacked") {
                l.stored = LayerStorage::unpacked;
                l.mtime_clamp = json::get_int(o, "mtime_clamp", path);
            } else if (stored == "object") {
                l.tar_kept = json::get_string(o, "tar_kept", path);
            } else {
                throw Error(Errc::store, path + ": unknown layer storage '" + stored + "'");
            }
        }
        return l;
    } catch (const Error& e) {
        throw Error(Errc::store, std::string("corrupt layer record: ") + e.what(),
                    "run `karapace verify-store`");
    }
}

}  // namespace

void LayerStore::put(const Layer& layer) const {
    std::string path = layout_.layer_path(layer.digest);
    if (::access(path.c_str(), F_OK) == 0) {
        try {
            get(layer.digest);
            return;
        } catch (const Error& e) {
            if (e.code() != Errc::store) throw;
            // A damaged record for the same layer: replace it with a good one.
        }
    }
    std::string text = seal_record(to_json(layer));
    fault_point("layer-put.before-write");
    write_file_atomic(path, text, 0644);
    fault_point("layer-put.after-write");
}

void LayerStore::replace(const Layer& layer) const {
    std::string text = seal_record(to_json(layer));
    fault_point("layer-put.before-write");
    write_file_atomic(layout_.layer_path(layer.digest), text, 0644);
    fault_point("layer-put.after-write");
}

Layer LayerStore::get(const Digest& digest) const {
    std::string path = layout_.layer_path(digest);
    std::string text;
    try {
        text = read_file_limited(path, 1 << 20);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found)
            throw Error(Errc::not_found, "layer " + digest.str() + " is not in the store",
                        "rebuild the environment that uses it");
        throw Error(Errc::store, e.what(), "run `karapace verify-store`");
    }
    Layer l = layer_from_json(open_record(text, path), path);
    if (l.digest != digest)
        throw Error(Errc::store,
                    "corrupt layer record " + path + ": it describes " + l.digest.str(),
                    "run `karapace verify-store`");
    return l;
}

bool LayerStore::exists(const Digest& digest) const {
    return ::access(layout_.layer_path(digest).c_str(), F_OK) == 0;
}

void LayerStore::remove(const Digest& digest) const {
    if (::unlink(layout_.layer_path(digest).c_str()) != 0 && errno != ENOENT)
        throw_errno(Errc::store, "cannot remove layer record " + layout_.layer_path(digest));
}

std::vector<Digest> LayerStore::list() const {
    std::vector<Digest> out;
    for (const auto& name : list_dir(layout_.layers_dir())) {
        if (name.size() != 64 + 5 || !name.ends_with(".json")) continue;
        auto hex = name.substr(0, 64);
        if (Digest::is_hex(hex)) out.push_back(Digest::from_hex(hex));
    }
    return out;
}

}  // namespace karapace::store
