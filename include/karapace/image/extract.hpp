// Turning a verified image tarball into a root filesystem directory, digesting one, and removing
// one again. As
// root this happens directly; an unprivileged user does it inside a user namespace (container root
// = the user, 1… = the user's sub-ids), so root-owned files and other owners survive extraction
// and the digest sees the owners, and reads the files, the way the container does.
// Unpacking is the store's hardened unpack: no absolute paths, no `..`, no writes through
// symlinks, no device nodes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "karapace/store/tar.hpp"
#include "karapace/store/tree_digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

struct ExtractStats {
    std::uint64_t entries = 0;
    std::uint64_t bytes = 0;  // file contents
    store::TreeDigest tree;   // of the tree as extracted (see digest_rootfs)
};

// Extracts `tarball` (any compression) into `dest_dir` (created). On failure `dest_dir` may hold a
// partial tree: callers extract into a staging directory.
ExtractStats extract_rootfs(const std::string& tarball, const std::string& dest_dir,
                            ProgressSink& progress);

// One layer of an OCI image: its blob file (as the registry served it) and the digests it must
// have, compressed and not.
struct LayerFile {
    std::string path;
    store::LayerDigests digests;
};

// Applies `layers` bottom first onto a new root filesystem at `dest_dir` (created), with OCI
// whiteouts and the same hardening as extract_rootfs, checking both digests of every layer in the
// pass that extracts it. Error(image) naming the layer (1-based) on failure; `dest_dir` then holds
// a partial tree (callers work in a staging directory).
ExtractStats apply_layers(const std::vector<LayerFile>& layers, const std::string& dest_dir,
                          ProgressSink& progress);

// The tree digest of a root filesystem made by extract_rootfs, computed with the same id mapping
// (inside the user namespace when unprivileged: its files belong to sub-uids, and some are
// readable by their owners only).
store::TreeDigest digest_rootfs(const std::string& rootfs);

// Removes a tree made by extract_rootfs (inside the user namespace when unprivileged).
void remove_rootfs_tree(const std::string& path);

}  // namespace karapace::image
