// Layer records under `layers/<hex>.json`, named by the digest of the layer tar. The tar is
// either kept as an object or, for a layer stored once, regenerated on demand from its unpacked
// tree (`layers-unpacked/<hex>/`). Each record carries an embedded checksum verified on every read.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "karapace/store/layout.hpp"
#include "karapace/util/digest.hpp"

namespace karapace::store {

enum class LayerKind { base, packages, snapshot };
std::string_view layer_kind_name(LayerKind kind) noexcept;
// Throws Error(store) for unknown names.
LayerKind parse_layer_kind(std::string_view name);

// Where the layer's bytes live. `object`: the tar is `objects/sha256/<hex>` (and the layer may
// also be unpacked). `unpacked`: only `layers-unpacked/<hex>/` is kept; packing it again with
// `mtime_clamp` gives the tar whose digest names the layer (its identity, as for a Nix NAR).
enum class LayerStorage { object, unpacked };

struct Layer {
    Digest digest;  // the tar
    LayerKind kind = LayerKind::packages;
    std::optional<Digest> parent;  // the layer it was taken on top of, if any
    std::uint64_t size = 0;        // bytes of the tar
    std::string created;           // RFC 3339
    std::uint64_t file_count = 0;  // entries in the tar
    LayerStorage stored = LayerStorage::object;
    // With LayerStorage::unpacked: the PackOptions::mtime_clamp that regenerates the tar.
    std::int64_t mtime_clamp = 0;
    // With LayerStorage::object: why the tar is kept although the layer is unpacked (packing the
    // tree again gives other bytes: a layer another tool wrote). Empty when never checked.
    std::string tar_kept;
};

boost::json::object to_json(const Layer& layer);

class LayerStore {
public:
    explicit LayerStore(Layout layout) : layout_(std::move(layout)) {}

    // Writes the record atomically. Idempotent: an intact record for the same digest is kept.
    void put(const Layer& layer) const;
    // Writes the record atomically, replacing an existing one (a layer becoming stored once).
    void replace(const Layer& layer) const;
    // Verified read: Error(not_found) when missing, Error(store) naming the path when corrupt.
    Layer get(const Digest& digest) const;
    bool exists(const Digest& digest) const;
    void remove(const Digest& digest) const;
    // Digests of all layer records (temp files excluded), sorted.
    std::vector<Digest> list() const;

private:
    Layout layout_;
};

}  // namespace karapace::store
