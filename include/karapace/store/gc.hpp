// Garbage collection. Roots are every environment's metadata record (archived ones included);
// anything not reachable from them goes: layers, objects, unpacked layer dirs, images, staging
// leftovers, temp files and env dirs without metadata. Refuses to run while any record is
// unreadable, because what an unreadable record references cannot be known.
#pragma once

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "karapace/store/layout.hpp"
#include "karapace/store/remove.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::store {

class StoreLock;

struct GcOptions {
    bool dry_run = false;
    // Set from a signal handler or a D-Bus Cancel(): gc stops between removals.
    const std::atomic<bool>* cancel = nullptr;
    // Unreferenced entries younger than this are kept: an operation may be producing them outside
    // the lock (packing, downloading) and not have written its metadata yet.
    std::chrono::seconds grace{std::chrono::minutes(15)};
    Remover remover = default_remover();
    // Reports removal progress (items); its cancelled() stops gc like `cancel` does.
    ProgressSink* progress = nullptr;
};

struct GcItem {
    std::string kind;  // "layer", "object", "unpacked-layer", "image", "staging", "env", "temp",
                       // "name" (a broken name index entry)
    std::string path;  // relative to the store root
    std::uint64_t bytes = 0;
};

struct GcReport {
    bool dry_run = false;
    bool cancelled = false;
    std::vector<GcItem> items;  // what was (or would be) removed
    std::uint64_t bytes = 0;
    std::size_t removed = 0;  // items actually removed (0 on a dry run)
    std::size_t count(std::string_view kind) const;
};

// Requires `lock` held exclusively. Error(store) when a metadata record is unreadable.
GcReport collect_garbage(const Layout& layout, const StoreLock& lock, const GcOptions& opts);

boost::json::object to_json(const GcReport& r);
std::string human_summary(const GcReport& r);

}  // namespace karapace::store
