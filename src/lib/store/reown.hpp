// Changing the owners of a store's trees in place, for the format 3 -> 4 migration of a store
// written by an unprivileged user (store/migrate.cpp). Runs inside the user namespace that maps
// every id involved, as its root.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace karapace::store {

// One step of an owner swap: every entry owned by `from` (uid and gid each, independently) gets
// `to`. Set-id bits, which the kernel clears on chown, are put back; a file capability is
// rewritten in the namespace's own terms so that it belongs to this namespace's root.
struct ReownStep {
    uid_t from_uid, to_uid;
    gid_t from_gid, to_gid;
};

struct ReownCount {
    std::uint64_t entries = 0, changed = 0, capabilities = 0;
};

// Walks `root` (the directory itself only when `include_top`) without following symbolic links
// or crossing into other file systems. Error(store) names the entry that failed.
ReownCount reown_tree(const std::string& root, bool include_top, const ReownStep& step);

// The first entry below `root` (or `root` itself with `include_top`) owned by `uid` or `gid`;
// empty when there is none.
std::string find_owned_by(const std::string& root, bool include_top, uid_t uid, gid_t gid);

}  // namespace karapace::store
