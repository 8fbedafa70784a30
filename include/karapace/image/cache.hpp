// The image cache under `<store>/images/`: one directory per image, named by the sha256 of the
// tarball it came from, holding `rootfs/` and `image.json`; an index from references to digests
// (`refs/`) so a pinned reference seen before resolves without the network; per-image locks so
// two processes asking for the same image fetch it once; `downloads/` for resumable transfers.
// An image directory appears by one rename of a fully extracted staging directory, so a crash
// never leaves a half image that looks cached.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/image/extract.hpp"
#include "karapace/schema/image_config.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/store/tree_digest.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

// The contents of image.json.
struct ImageRecord {
    std::string reference;         // as first asked for ("debian/bookworm")
    std::string pinned_reference;  // what gives the same bytes again (URL#sha256=…, bootstrap@ts)
    Digest digest;                 // sha256 of the tarball (for bootstrap: of mmdebstrap's tar)
    std::uint64_t size = 0;        // bytes of the tarball
    std::uint64_t unpacked_bytes = 0;
    std::uint64_t entries = 0;
    std::string source;  // "lxc", "url", "bootstrap"
    std::string arch;
    std::string build;    // simplestreams version ("20261128_05:24") or bootstrap mirror
    std::string created;  // RFC 3339, when it entered the cache
    // The digest of rootfs/ as unpacked, which verify-store recomputes. Absent only in records
    // written before karapace recorded it (they carry no checksum either): such an image cannot
    // be verified, and a rebuild fetches it again.
    std::optional<store::TreeDigest> tree;
    // A docker:// image's Env, User and WorkingDir; empty for other images and for OCI images
    // cached before karapace recorded them.
    schema::ImageConfig config;
    // A docker:// image's layer blobs in images/blobs/: gc keeps the blobs a cached image names.
    std::vector<Digest> blobs;
};

struct CachedImage {
    std::string dir;     // <store>/images/<hex>
    std::string rootfs;  // <dir>/rootfs
    ImageRecord record;
};

// An exclusive flock on one image key, released on destruction.
class ImageLock {
public:
    ImageLock() = default;
    explicit ImageLock(UniqueFd fd) : fd_(std::move(fd)) {}

private:
    UniqueFd fd_;
};

class ImageCache {
public:
    explicit ImageCache(const std::string& store_root);

    const std::string& dir() const noexcept { return dir_; }
    std::string image_dir(const Digest& d) const { return dir_ + "/" + d.hex(); }

    // A complete image with this digest, or nullopt. A directory whose image.json is unreadable
    // (corrupt, or its checksum does not match) or that verify-store marked damaged is reported
    // with a warning and treated as absent, so the next fetch replaces it.
    std::optional<CachedImage> find(const Digest& digest) const;
    // Why verify-store marked the image damaged, or nullopt (also when it is not cached). One
    // stat when it is not marked: enter and exec ask before every run.
    std::optional<std::string> damage(const Digest& digest) const;
    // Marks the image damaged (`images/<hex>/damaged`, with the reason): nothing uses it again
    // until it is fetched anew, which replaces its directory and so clears the mark.
    void mark_damaged(const Digest& digest, const std::string& reason) const;
    // The image a reference was last resolved to (through refs/), if it is still cached.
    std::optional<CachedImage> find_reference(std::string_view reference) const;
    void remember(std::string_view reference, const Digest& digest) const;
    void forget_references_to(const Digest& digest) const;

    // Waits for the lock of `key` (a digest hex or a hashed reference); `progress` hears about it
    // when another process holds it.
    ImageLock lock(std::string_view key, ProgressSink& progress) const;
    // Where a download or bootstrap for `key` writes its tarball (resumable across runs).
    std::string download_path(std::string_view key) const;

    // Extracts `tarball` into a staging directory next to the images, digests the tree, writes
    // image.json (sealed with a checksum), and renames it to images/<record.digest hex>, replacing
    // a damaged or unverifiable copy there. Call with the image's lock held.
    CachedImage install(const std::string& tarball, ImageRecord record,
                        ProgressSink& progress) const;

    // The same for a root filesystem that `fill` creates at the path it is given (the layers of
    // an OCI image), returning what extract_rootfs would.
    CachedImage install_tree(ImageRecord record,
                             const std::function<ExtractStats(const std::string&)>& fill) const;

    // Where OCI layer blobs are kept as the registry served them, by digest, so images that
    // share a layer fetch it once.
    std::string blob_path(const Digest& digest) const { return dir_ + "/blobs/" + digest.hex(); }

    // The layer blobs the cached images other than `except` name (records that cannot be read
    // name none).
    std::set<Digest> blobs_in_use(const std::optional<Digest>& except = std::nullopt) const;

    // All complete images, sorted by creation time.
    std::vector<CachedImage> list() const;
    // Removes the image directory (atomically out of sight first) and the references to it.
    void remove(const Digest& digest) const;

private:
    store::Layout layout_;
    std::string dir_;
};

// The lock/download key for a reference whose digest is not known yet.
std::string reference_key(std::string_view reference);

}  // namespace karapace::image
