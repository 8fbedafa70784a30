// The host as the GPU step sees it: "/" normally, a directory for tests. Paths are given as the
// host sees them (/usr/lib/libcuda.so.1) and symlinks are followed inside the root, as they
// would be on a host whose root the directory is.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

struct ResolvedFile {
    std::string host_view;  // the resolved path as the host sees it (below the root)
    std::string reach;      // the same file as this process reaches it (root + host_view)
    struct stat st {};
    UniqueFd fd;  // O_PATH
};

class HostRoot {
public:
    explicit HostRoot(std::string root);

    const std::string& root() const noexcept { return root_; }
    // Follows `path` inside the root; nullopt when it does not exist (or the root is unusable).
    std::optional<ResolvedFile> resolve(const std::string& path) const;
    // A small file's contents; nullopt when missing, unreadable or larger than `limit`.
    std::optional<std::string> read(const std::string& path, std::size_t limit) const;
    // Names in a directory (no dot entries), sorted; empty when it cannot be read.
    std::vector<std::string> list(const std::string& dir) const;

private:
    std::string root_;  // "" for "/"
    UniqueFd fd_;
};

// "/a/b/c" -> "/a/b"; "/a" -> "/".
std::string parent_dir(const std::string& path);
// "/a/b/c" -> "c".
std::string base_name(const std::string& path);

}  // namespace karapace::sandbox
