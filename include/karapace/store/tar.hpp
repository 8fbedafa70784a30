// Tar streams for layers and base images. Packing writes a deterministic OCI layer tar (sorted
// entries, clamped mtimes, numeric owners, overlay whiteouts as `.wh.` entries) straight into the
// object store; unpacking reads any compression libarchive knows, refusing entries that would
// escape the destination, write through symlinks or create device nodes.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <string>

#include "karapace/store/tree_digest.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::store {

class ObjectStore;

// How unpack recreates OCI whiteouts (`.wh.<name>`, `.wh..wh..opq`).
enum class WhiteoutFormat {
    overlay,  // char 0/0 device + opaque xattr, what overlayfs reads from an upper or lower dir
    oci,      // keep the `.wh.` files as they are (for inspection outside a user namespace)
    // Flatten: a whiteout removes what earlier layers put at its name, an opaque marker empties
    // its directory of everything this layer did not bring. Nothing of either is kept. Used to
    // apply the layers of an OCI image one by one onto one root filesystem.
    apply,
};

struct UnpackOptions {
    // false: an archive containing whiteouts is refused (base image tarballs have none).
    bool allow_whiteouts = true;
    // Restore numeric uid/gid. Needs root, or a user namespace that maps every id in the
    // archive; an id the process cannot assign is an error naming the entry. Unprivileged callers
    // outside a user namespace set this to false (files then belong to the caller).
    bool keep_ownership = true;
    // Restore `security.capability` and `user.*` xattrs (never `user.overlay.*`/`trusted.*`).
    bool keep_xattrs = true;
    ProgressSink* progress = nullptr;
    // Refuse archives whose file contents add up to more than this (0: no limit).
    std::uint64_t max_bytes = 0;
    // Skip device nodes (other than whiteouts) instead of refusing the archive. For base image
    // tarballs, whose /dev entries the sandbox replaces with its own minimal /dev anyway.
    bool skip_devices = false;
    WhiteoutFormat whiteouts = WhiteoutFormat::overlay;
    // Xattr that marks an opaque directory: "user.overlay.opaque" for overlayfs mounted with
    // `userxattr` (inside a user namespace), "trusted.overlay.opaque" for overlayfs as real root.
    std::string opaque_xattr = "user.overlay.opaque";
    // When set, each regular file's contents are hashed as they are written and recorded here
    // (removed again for a file whose hash is not known whole: a sparse one), so that
    // digest_unpacked_tree(dest, *written) need not read them back.
    WrittenContents* written = nullptr;
};

struct UnpackStats {
    std::uint64_t entries = 0, bytes = 0;
    std::uint64_t skipped_devices = 0;  // with UnpackOptions::skip_devices
};

boost::json::object to_json(const UnpackStats& s);

// Extracts the archive read from `fd` (plain, gzip, xz, zstd, bzip2...) into `dest_dir`, which is
// created if missing. Streams: memory use does not depend on the archive size. Throws Error naming
// the offending entry for absolute paths, `..`, paths through symlinks, hardlinks leaving the tree,
// device nodes (other than whiteouts), and for corrupt archives. On error the destination holds a
// partial tree: unpack into a staging directory and remove it on failure.
UnpackStats unpack_tar_fd(int fd, const std::string& dest_dir, const UnpackOptions& opts);
UnpackStats unpack_tar_file(const std::string& tar_path, const std::string& dest_dir,
                            const UnpackOptions& opts);
// Extracts a layer tar stored as an object, verifying its digest in the same pass (the object is
// read once). Error(store) when the content does not match; the destination then holds a partial
// tree that the caller removes.
UnpackStats unpack_layer(const ObjectStore& objects, const Digest& layer,
                         const std::string& dest_dir, const UnpackOptions& opts);

// A pull source of tar bytes (any compression libarchive reads): points `*data` at the next
// bytes and returns how many, 0 at the end. It may throw Error; the unpack then rethrows it.
using TarSource = std::function<std::size_t(const void** data)>;
UnpackStats unpack_tar_source(const TarSource& source, const std::string& dest_dir,
                              const UnpackOptions& opts);

// What an OCI image layer blob must hash to: as stored (compressed) and as a tar (the config's
// rootfs.diff_ids entry). Equal for an uncompressed layer.
struct LayerDigests {
    Digest blob;
    Digest diff_id;
};

// Extracts an OCI image layer blob (a tar, plain, gzip or zstd) read from `fd` onto `dest_dir`,
// checking in the same pass that the blob hashes to `digests.blob` and its decompressed stream to
// `digests.diff_id`. Error(image) naming which digest did not match; the destination may then hold
// part of the layer (callers apply layers in a staging directory).
UnpackStats apply_image_layer(int fd, const LayerDigests& digests, const std::string& dest_dir,
                              const UnpackOptions& opts);
// Decompresses an OCI image layer blob (plain, gzip or zstd) read from `fd` into `out_fd`,
// checking that the blob hashes to `digests.blob` and the tar written to `digests.diff_id`, with
// the errors of apply_image_layer; returns the size of the tar.
std::uint64_t decompress_image_layer(int fd, const LayerDigests& digests, int out_fd);

struct PackOptions {
    // Every mtime is clamped to at most this many seconds since the epoch (SOURCE_DATE_EPOCH
    // semantics); the default 0 makes the tar independent of timestamps.
    std::int64_t mtime_clamp = 0;
    bool keep_xattrs = true;
    ProgressSink* progress = nullptr;
};

struct PackResult {
    Digest digest;            // digest of the tar = object name = OCI layer digest
    std::uint64_t size = 0;   // bytes of the tar
    std::uint64_t files = 0;  // entries written (directories included)
};

boost::json::object to_json(const PackResult& r);

// Packs `dir` into a deterministic tar written to `out` in chunks (never the whole archive in
// memory). The same tree always gives the same bytes.
PackResult pack_tree(const std::string& dir,
                     const std::function<void(const void*, std::size_t)>& out,
                     const PackOptions& opts = {});

// Packs `dir` and stores the tar as an object (hashed while written); returns its digest.
PackResult pack_layer(const std::string& dir, const ObjectStore& objects,
                      const PackOptions& opts = {});

}  // namespace karapace::store
