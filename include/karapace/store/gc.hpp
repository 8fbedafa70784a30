// Garbage collection. Roots are every environment's metadata record (archived ones included);
// anything not reachable from them goes: layers, objects, unpacked layer dirs, images, staging
// leftovers, temp files and env dirs without metadata. Refuses to run while any record is
// unreadable, because what an unreadable record references cannot be known. What is younger than
// the grace period is kept and reported, since a running operation may not have recorded it yet.
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

// Builds, pulls and commits fetch, unpack and pack outside the store lock and write the records
// that reference the results last: until then those results look like garbage.
inline constexpr std::chrono::seconds default_gc_grace{std::chrono::minutes(15)};

struct GcOptions {
    bool dry_run = false;
    // Set from a signal handler or a D-Bus Cancel(): gc stops between removals.
    const std::atomic<bool>* cancel = nullptr;
    // Unreferenced entries younger than this are kept: an operation may be producing them outside
    // the lock (packing, downloading) and not have written its metadata yet.
    std::chrono::seconds grace{default_gc_grace};
    // Applied instead of a shorter `grace` while another operation is seen at work in the store
    // (GcReport::in_flight says which). Zero turns the check off, for callers that know nothing
    // else runs.
    std::chrono::seconds busy_grace{default_gc_grace};
    Remover remover = default_remover();
    // Reports removal progress (items); its cancelled() stops gc like `cancel` does.
    ProgressSink* progress = nullptr;
};

struct GcItem {
    std::string kind;  // "layer", "object", "unpacked-layer", "image", "staging", "env", "temp",
                       // "name" (a broken name index entry), "blob" (a docker:// image's
                       // layer blob no kept image names)
    std::string path;  // relative to the store root
    std::uint64_t bytes = 0;
    std::int64_t age = 0;  // seconds since it was last modified
};

struct GcReport {
    bool dry_run = false;
    bool cancelled = false;
    std::vector<GcItem> items;  // what was (or would be) removed
    std::uint64_t bytes = 0;
    std::size_t removed = 0;  // items actually removed (0 on a dry run)
    // Garbage younger than `grace`, left for a later run.
    std::vector<GcItem> kept;
    std::uint64_t kept_bytes = 0;
    std::chrono::seconds grace{0};  // the grace period applied
    // Why a grace period shorter than the default was not applied: other operations at work
    // ("staging/build-x1y2z3, 2m old"). Empty when the requested one was.
    std::vector<std::string> in_flight;
    std::size_t count(std::string_view kind) const;
};

// Requires `lock` held exclusively. Error(store) when a metadata record is unreadable.
GcReport collect_garbage(const Layout& layout, const StoreLock& lock, const GcOptions& opts);

boost::json::object to_json(const GcReport& r);
std::string human_summary(const GcReport& r);

}  // namespace karapace::store
