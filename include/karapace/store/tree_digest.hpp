// The digest of a directory tree as it lies on disk, so a cached root filesystem can be checked
// for changes made after it was unpacked. A walk in byte order of the names hashes, for every
// entry: its path, type, permission bits, owner and what it holds (the SHA-256 of a regular file's
// contents and its file capability, a symlink's target, a device's numbers). Times are left out.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>

#include "karapace/util/digest.hpp"

namespace karapace::store {

// Names the encoding of the walk; hashed first, so a later scheme can never collide with it.
inline constexpr const char* tree_digest_scheme = "karapace-tree-v1";

struct TreeDigest {
    Digest digest;
    std::uint64_t entries = 0;  // every entry, the root directory included
    std::uint64_t bytes = 0;    // sizes of the regular files

    friend bool operator==(const TreeDigest&, const TreeDigest&) = default;
};

// Walks `root` without following symlinks, streaming file contents through the hasher. Owners are
// numeric ids as this process sees them: a tree unpacked inside a user namespace must be digested
// inside the same mapping. Error(store) naming the entry that cannot be read.
TreeDigest digest_tree(const std::string& root);

// What an unpack hashed while it wrote each regular file (UnpackOptions::written), by device and
// inode, with the size and mtime the file was left with.
struct WrittenContent {
    Digest digest;
    std::uint64_t size = 0;
    std::int64_t mtime_sec = 0;
    long mtime_nsec = 0;
};
using WrittenContents = std::map<std::pair<std::uint64_t, std::uint64_t>, WrittenContent>;

// The same digest, taking a regular file's content hash from `written` instead of reading the
// file again when the file still has the recorded size and mtime. For a tree this process has just
// unpacked into a directory nobody else writes to (a staging directory of the image cache).
TreeDigest digest_unpacked_tree(const std::string& root, const WrittenContents& written);

// {"scheme": "karapace-tree-v1", "digest": "sha256:…", "entries": N, "bytes": N}
boost::json::object to_json(const TreeDigest& tree);
// Error(store) naming `what` when `v` is not such an object or names another scheme.
TreeDigest tree_digest_from_json(const boost::json::value& v, const std::string& what);
// What the counts tell about how `now` differs from `recorded` ("3 entries more than recorded"),
// or that a file's contents, mode, owner or link target changed when the counts agree.
std::string describe_difference(const TreeDigest& recorded, const TreeDigest& now);

// How a caller computes tree digests: directly, or inside a user namespace (see the image cache).
using TreeDigester = std::function<TreeDigest(const std::string& root)>;

}  // namespace karapace::store
