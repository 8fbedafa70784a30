// Rules shared by tar packing and unpacking: entry path normalisation and the xattr allowlist.
#pragma once

#include <string>
#include <string_view>

namespace karapace::store {

struct EntryPath {
    bool ok = false;
    std::string error;  // why the path was refused
    std::string rel;    // normalised relative path, "" for the root

    std::string parent() const {
        auto pos = rel.rfind('/');
        return pos == std::string::npos ? std::string() : rel.substr(0, pos);
    }
    std::string name() const {
        auto pos = rel.rfind('/');
        return pos == std::string::npos ? rel : rel.substr(pos + 1);
    }
};

// Drops "." components, empty components and a trailing slash; refuses absolute paths, "..",
// over-long names and NUL bytes.
EntryPath normalise_entry_path(std::string_view raw);

// `security.capability` and `user.*` travel in layers; `user.overlay.*` is overlayfs bookkeeping
// and `trusted.*`/`security.selinux` depend on the host.
bool layer_xattr_allowed(std::string_view name);

}  // namespace karapace::store
