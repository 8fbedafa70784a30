// `verify-store`: re-hashes every object (on all cores), checks every layer and metadata record
// and the references between them, the name index, the WAL, and the cached images (their records
// and the digest of every file of their root filesystems). It only reads: the caller decides what
// to do about damaged images (the engine marks them, see image::ImageCache::mark_damaged).
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "karapace/store/layout.hpp"
#include "karapace/store/tree_digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::store {

struct VerifyFailure {
    std::string kind;  // "object", "layer", "metadata", "name", "image", "wal"
    std::string path;
    std::string reason;
};

struct VerifyReport {
    std::uint64_t objects_checked = 0, objects_ok = 0, object_bytes = 0;
    std::uint64_t layers_checked = 0, layers_ok = 0;
    // Layers stored once (their tar packed again and compared), and layers kept as tar objects.
    std::uint64_t layers_unpacked = 0, layers_with_tar = 0;
    std::uint64_t metadata_checked = 0, metadata_ok = 0;
    std::uint64_t names_checked = 0, names_ok = 0;
    std::uint64_t images_checked = 0, images_ok = 0;
    std::uint64_t wal_entries = 0;
    unsigned threads = 1;
    std::vector<VerifyFailure> failures;
    // Images found damaged now (changed files, a corrupt or edited image.json, a missing rootfs),
    // with the reason; a subset of the image failures. Images already marked damaged, and images
    // cached before tree digests existed (unverifiable), are failures but not listed here.
    std::vector<std::pair<Digest, std::string>> damaged_images;
    bool ok() const noexcept { return failures.empty(); }
};

// The tar of a layer stored once, packed again from its unpacked tree `dir` with `mtime_clamp`.
struct RegeneratedTar {
    Digest digest;
    std::uint64_t size = 0;
};
using TarRegenerator =
    std::function<RegeneratedTar(const std::string& dir, std::int64_t mtime_clamp)>;
// Packs in this process (pack_tree, hashing only).
RegeneratedTar regenerate_tar(const std::string& dir, std::int64_t mtime_clamp);

struct VerifyOptions {
    unsigned threads = 0;  // 0: one per core
    ProgressSink* progress = nullptr;
    // Computes the digest of an image's rootfs/; the engine runs it inside the user namespace
    // for unprivileged users, whose image files belong to sub-uids.
    TreeDigester digest_rootfs = digest_tree;
    // Packs a layer stored once again; the engine runs it inside the user namespace for
    // unprivileged users, like digest_rootfs.
    TarRegenerator regenerate_layer = regenerate_tar;
};

VerifyReport verify_store(const Layout& layout, const VerifyOptions& opts = {});

boost::json::object to_json(const VerifyReport& r);
// "store OK: 12 objects (3.1 MB), 4 layers, 2 environments, 1 image" or a list of failures.
std::string human_summary(const VerifyReport& r);
// Error(store) summarising the failures, when there are any.
void require_clean(const VerifyReport& r);

}  // namespace karapace::store
