// `migrate`: recognises stores written by earlier Karapace versions (format 2: BLAKE3-named
// objects under `store/`) and reports what they hold. Nothing changes unless `apply` is set, and
// then the old store is only moved aside so a format 3 store can be created next to it.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
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
    std::string status;  // "none" (no store), "current", "newer", "legacy", "migrated", "unknown"
    int found_version = 0;
    int current_version = format_version;
    std::uint64_t objects = 0, object_bytes = 0, layers = 0;
    std::vector<LegacyEnv> environments;
    std::vector<std::string> images;  // cached image dirs of the old store
    std::string backup_path;          // where the old store went (apply only)
    std::vector<std::string> advice;  // what the user can do, one step per line
};

struct MigrateOptions {
    // Move the format-2 store aside (`<root>/format2-<timestamp>/`) and create a format 3 store.
    bool apply = false;
};

MigrateReport migrate_store(const std::string& root, const MigrateOptions& opts = {});

boost::json::object to_json(const MigrateReport& r);
std::string human_summary(const MigrateReport& r);

}  // namespace karapace::store
