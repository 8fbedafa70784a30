// Read-only view of an environment's files as its overlay mount shows them, computed from the
// layer directories without mounting anything: the topmost layer holding a path wins, whiteouts
// (character device 0/0) hide a path in the layers below, opaque directories
// (user./trusted.overlay.opaque = "y") hide the lower layers' content of that directory, and
// symbolic links are followed inside the view, never out to the host.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::exports {

struct TreeEntry {
    std::string path;  // where the file is on the host (inside one layer)
    std::string rel;   // its path inside the environment, without the leading '/'
    struct stat st {};
};

class MergedTree {
public:
    // `layers`: upper first, base rootfs last.
    explicit MergedTree(std::vector<std::string> layers);

    // The entry at `path` (absolute or relative to the environment's root), following symbolic
    // links (the last one too unless `follow_last` is false); nullopt when it does not exist.
    std::optional<TreeEntry> find(std::string_view path, bool follow_last = true) const;
    // Names in the directory at `path`, sorted; empty when it is not a directory.
    std::vector<std::string> list(std::string_view path) const;

private:
    std::optional<TreeEntry> lookup(const std::vector<std::string>& parts) const;
    std::vector<std::string> layers_;
};

}  // namespace karapace::exports
