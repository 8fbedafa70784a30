// Removing directory trees that the store owns (env dirs, unpacked layers, images, staging).
// Trees made inside a user namespace can hold read-only directories and files owned by sub-uids;
// callers that can enter the namespace plug their own remover in.
#pragma once

#include <functional>
#include <string>

namespace karapace::store {

// Removes `path` (file or directory tree) without following symlinks, making read-only
// directories writable as it goes. A missing path is not an error.
void remove_tree(const std::string& path);

// How the store removes trees; the engine may route removal through the user namespace.
using Remover = std::function<void(const std::string& path)>;
Remover default_remover();

// Total bytes (st_blocks-independent apparent sizes) of the files below `path`, not following
// symlinks; 0 when it does not exist.
std::uint64_t tree_size(const std::string& path);

}  // namespace karapace::store
