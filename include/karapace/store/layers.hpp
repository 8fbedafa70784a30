// Layer records under `layers/<hex>.json`, named by the digest of the layer tar (an object).
// Each record carries an embedded checksum verified on every read.
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

struct Layer {
    Digest digest;  // the tar object
    LayerKind kind = LayerKind::packages;
    std::optional<Digest> parent;  // the layer it was taken on top of, if any
    std::uint64_t size = 0;        // bytes of the tar
    std::string created;           // RFC 3339
    std::uint64_t file_count = 0;  // entries in the tar
};

boost::json::object to_json(const Layer& layer);

class LayerStore {
public:
    explicit LayerStore(Layout layout) : layout_(std::move(layout)) {}

    // Writes the record atomically. Idempotent: an intact record for the same digest is kept.
    void put(const Layer& layer) const;
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
