// `migrate`: recognises stores written by earlier Karapace versions and reports what they hold.
// Nothing changes unless `apply` is set. Format 2 (BLAKE3-named objects under `store/`) is only
// moved aside so a new store can be created next to it. Format 3 becomes format 4 in place: a store
// written by root needs nothing else; in one written by an unprivileged user with sub-ids, what
// container root owned was the user's own id and becomes the sub-id container root has now (and
// the reverse), so root inside is not the user and sudo works.
#pragma once

#include <sys/types.h>
#include <boost/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "karapace/store/layout.hpp"

namespace karapace::store {

struct LegacyEnv {
    std::string env_id;
    std::string name;  // empty when unnamed
    std::string state;
    std::string path;
    std::string error;  // set when the record could not be read
};

struct MigrateReport {
    // "none" (no store), "current", "newer", "legacy", "owners" (format 3 -> 4 to apply),
    // "migrated", "unknown"
    std::string status;
    int found_version = 0;
    int current_version = format_version;
    std::uint64_t objects = 0, object_bytes = 0, layers = 0;
    std::vector<LegacyEnv> environments;
    std::vector<std::string> images;  // cached image dirs of the old store
    std::string backup_path;          // where the old store went (apply only)
    std::vector<std::string> trees;   // format 3 -> 4: the trees whose owners change
    std::vector<std::string> advice;  // what the user can do, one step per line
};

// How the format 3 -> 4 owner change runs: `as_container_root` runs a function inside a user
// namespace with format 4's id map, as its root; inside, the caller is `self_uid`/`self_gid`, and
// `spare_uid`/`spare_gid` are ids no file has (0 when the map has none: the caller's id range
// ends below its own id, and root simply takes what the caller owned).
struct OwnerMigration {
    std::function<void(const std::function<void()>&)> as_container_root;
    uid_t self_uid = 0, spare_uid = 0;
    gid_t self_gid = 0, spare_gid = 0;
};

struct MigrateOptions {
    // Format 2: move the store aside (`<root>/format2-<timestamp>/`) and create a new one.
    // Format 3: change it to format 4 in place.
    bool apply = false;
    // Absent for a caller without sub-ids (their stores map container root to themselves in
    // both formats, so only the version changes).
    std::optional<OwnerMigration> owners;
    // Told before each of the owner change's steps: "step 1 of 3: ...".
    std::function<void(const std::string&)> on_step;
};

MigrateReport migrate_store(const std::string& root, const MigrateOptions& opts = {});

boost::json::object to_json(const MigrateReport& r);
std::string human_summary(const MigrateReport& r);

}  // namespace karapace::store
