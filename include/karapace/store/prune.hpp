// Leaving paths out of a tree before it is packed into a layer: the package managers' caches,
// indexes and install logs (pkg::LayerExclusion tables) are removed from a build's writable
// layer, so the layer holds what was installed and nothing that differs from run to run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karapace::store {

// Removes from the tree at `root` every entry that matches one of `patterns`: paths relative to
// `root` whose components may hold fnmatch wildcards ("var/log/apt/*"). Directories on the way
// are never followed through symlinks; a matching directory goes with everything below it.
// Overlay whiteouts (char 0/0 devices) are kept: they hide a file of a lower layer, and removing
// one would bring that file back. Returns the removed paths, relative to `root`, sorted.
std::vector<std::string> prune_tree(const std::string& root,
                                    const std::vector<std::string_view>& patterns);

}  // namespace karapace::store
