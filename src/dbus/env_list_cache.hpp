// What ListEnvironments answers, kept between calls: each environment's summary is read (and
// verified) once and again only when something says it changed — a watch on the store (inotify,
// store_watch.hpp) or the service's own work. Whatever the watch cannot vouch for is read on every
// call, as without a cache: the whole store while it is not watched (no store yet, watch limit
// reached, the store directory replaced) or after the kernel dropped events, an environment whose
// directories could not be watched, and an environment with sessions (a session's process can
// die without a word to the store).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "karapace/core/engine.hpp"

namespace karapace::dbus {

// What changed in the store since the last look.
struct StoreChanges {
    bool everything = false;  // events were lost (queue overflow): read every record again
    bool store_lost = false;  // the store's directories went or were replaced: watch again
    std::set<std::string> envs;
};

// Where the changes come from: inotify on the store in the service, a fake in tests. Called only
// by the cache, one call at a time.
class ChangeSource {
public:
    virtual ~ChangeSource() = default;
    // Starts (or restarts) watching the store itself; false when it cannot (no store yet, a watch
    // refused).
    virtual bool watch_store() = 0;
    // Watches what one environment's summary depends on besides its record (its sessions); false
    // when a watch was refused.
    virtual bool watch_env(const std::string& env_id) = 0;
    virtual void unwatch_env(const std::string& env_id) = 0;
    virtual StoreChanges take() = 0;
};

// Where the summaries come from: the store through the engine in the service, a fake in tests.
class RecordSource {
public:
    virtual ~RecordSource() = default;
    // Called before each pass over the store (one call of list()).
    virtual void begin() {}
    // The files of the metadata directory (temporary files aside), sorted.
    virtual std::vector<std::string> record_files() = 0;
    virtual std::string record_path(const std::string& file) = 0;
    // nullopt when the record is gone; Error when it cannot be read.
    virtual std::optional<core::EnvSummary> load(const std::string& env_id) = 0;
};

class EnvListCache {
public:
    EnvListCache(ChangeSource& changes, RecordSource& records)
        : changes_(changes), records_(records) {}

    // Every readable environment, sorted by id. A damaged record (or a stray file among them) is
    // logged on every call and left out, as the engine's list() does.
    std::vector<core::EnvSummary> list();

    // The service changed `env_id` (or, with invalidate_all, anything): read it again next time.
    // Cheap and never waits for a list() in progress, so the bus loop may call it.
    void invalidate(const std::string& env_id);
    void invalidate_all();

private:
    struct Entry {
        std::optional<core::EnvSummary> summary;
        std::string error;     // why the file cannot be read, when summary is empty
        bool watched = false;  // changes to it will be reported
    };

    void reload_all();
    void reload(const std::string& env_id);
    Entry read(const std::string& file);

    ChangeSource& changes_;
    RecordSource& records_;

    std::mutex mutex_;                      // held for a whole list()
    std::map<std::string, Entry> entries_;  // by file name in the metadata directory
    bool loaded_ = false;
    bool store_watched_ = false;

    std::mutex pending_mutex_;  // held only to note or take invalidations
    std::set<std::string> pending_;
    bool pending_all_ = false;
};

// "<env_id>.json" for a record file name, nullopt for anything else.
std::optional<std::string> env_id_of_record_file(const std::string& file);

}  // namespace karapace::dbus
