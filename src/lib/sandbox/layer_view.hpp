// Reading what the environment's root will show, from its layer directories, before it is
// mounted: the GPU step looks for the image's ld.so.cache and musl loader, the mount plan for
// mount targets that are symlinks in the image. Lookups follow overlayfs's rules.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "karapace/sandbox/spec.hpp"

namespace karapace::sandbox {

// The layer directories of a run, top first: the writable layer (unless read-only), then the
// lower ones.
std::vector<std::string> root_layers(const SandboxSpec& spec);
bool has_writable_upper(const SandboxSpec& spec);

// What the merged root shows at `rel` (relative to the root): the first layer that has the path
// wins; a whiteout (a 0/0 character device, or a file marked by xattr) or an opaque directory on
// the way ends the search; a directory that is a symlink on the way is followed inside the root.
// A path this user cannot look into counts as `other` (unknown), never as absent.
enum class Seen { absent, file, symlink, directory, other };
struct Found {
    Seen seen = Seen::absent;
    std::string path;       // in the layer directory
    std::size_t layer = 0;  // index into the layers
    // Absent because a layer hides what lies below (a whiteout or an opaque directory on the
    // way), not because no layer has it: a layer put below all of them would not be seen there.
    bool hidden = false;
};
Found find_in_layers(const std::vector<std::string>& layers, const std::string& rel);

// The same lookups with what lstat said of each path looked at remembered, and for directories
// on the way whether they are opaque: a mount plan asks about many paths below the same few
// directories (/etc), each in every layer. For one planning pass: the layers do not change
// meanwhile.
class LayerView {
public:
    explicit LayerView(std::vector<std::string> layers) : layers_(std::move(layers)) {}
    Found find(const std::string& rel);
    bool empty() const { return layers_.empty(); }

private:
    struct Lstat {
        int err = 0;  // 0, or lstat's errno
        struct stat st {};
        std::optional<bool> opaque;  // directories: asked once
    };
    Lstat& lstat(const std::string& path);
    Found find(const std::string& rel, int depth);

    std::vector<std::string> layers_;
    std::unordered_map<std::string, Lstat> seen_;
};

}  // namespace karapace::sandbox
