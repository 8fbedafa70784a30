// What ListEnvironments answers, kept between calls: each environment's summary is read (and
// verified) once and again only when something says it changed — a watch on the store (inotify,
// store_watch.hpp) or the service's own work. Whatever the watch cannot vouch for is read on every
// call, as without a cache: the whole store while it is not watched (no store yet, watch limit
// reached, the store directory replaced) or after the kernel dropped events, an environment whose
// directories could not be watched, and an environment with sessions (a session's process can
// die without a word to the store).
//
// A full read answers before it watches: the environments' watches (two inotify watches each)
// are set up by watch_unwatched() once the answer is on its way, and each summary is then checked
// against its files again, so a change between the read and the watch is not lost; where the
// check finds a change, the next call reads it again. A call before that checks every summary not
// yet watched against its files.
//
// The summaries also outlive the service (KeptSummaries: a file in the store), so that the first
// call after the service starts reads only the records that changed since: a kept summary is used
// again only where the record file and the environment's sessions directory are the very files
// they were (RecordStamp), and only for an environment without sessions.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
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

// What lstat says of one file: device, inode, size, modification and change times (nanoseconds);
// all zero, not `present`, for a file that is not there.
struct FileStamp {
    std::uint64_t dev = 0, ino = 0, size = 0;
    std::int64_t mtime = 0, ctime = 0;
    bool present = false;
    friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

// The record file and the sessions directory a summary was read from.
// `settled` is false while the record or the directory changed within the last two seconds: a
// second change within the same tick of the file system's clock would leave the same description,
// so such a summary is not kept beyond this run of the service.
struct RecordStamp {
    FileStamp record;
    FileStamp sessions;
    bool settled = false;
    bool same_files(const RecordStamp& o) const {
        return record == o.record && sessions == o.sessions;
    }
};

struct KeptSummary {
    RecordStamp stamp;
    core::EnvSummary summary;
};

// Summaries kept between runs of the service, by record file name. load() returns nothing for
// anything it cannot read; save() is best effort.
class KeptSummaries {
public:
    virtual ~KeptSummaries() = default;
    virtual std::map<std::string, KeptSummary> load() = 0;
    virtual void save(const std::map<std::string, KeptSummary>& summaries) = 0;
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
    // What load() would read now, taken before it reads; nullopt when that cannot be said.
    virtual std::optional<RecordStamp> stamp(const std::string& /*env_id*/) { return std::nullopt; }
};

class EnvListCache {
public:
    EnvListCache(ChangeSource& changes, RecordSource& records, KeptSummaries* kept = nullptr)
        : changes_(changes), records_(records), kept_(kept) {}
    // Keeps what changed since the summaries were last kept.
    ~EnvListCache();
    EnvListCache(const EnvListCache&) = delete;
    EnvListCache& operator=(const EnvListCache&) = delete;

    using Summaries = std::shared_ptr<const std::vector<core::EnvSummary>>;
    // Every readable environment, sorted by id. A damaged record (or a stray file among them) is
    // logged on every call and left out, as the engine's list() does. The same object as the last
    // call's when nothing was read again since.
    Summaries list();
    // The last answer, when it is current without reading anything: every summary watched (and
    // no environment running), no change reported or made by the service since, and no list() in
    // progress. Cheap enough for the bus loop (one read of the change source). Otherwise nullopt,
    // and what it took from the change source is left to the next list().
    std::optional<Summaries> list_if_current();

    // Sets up the watches a full read left for later (see above), and keeps the summaries for the
    // next run when they changed; a summary whose files changed meanwhile is read again on the
    // next call. Call it after answering. Until it is called, each list() checks the summaries
    // read but not watched against their files (RecordStamp) and reads the changed ones again.
    void watch_unwatched();
    // A list() is waiting for another to end (the read ahead, say).
    bool list_waiting() const { return waiting_.load() > 0; }

    // The service changed `env_id` (or, with invalidate_all, anything): read it again next time.
    // Cheap and never waits for a list() in progress, so the bus loop may call it.
    void invalidate(const std::string& env_id);
    void invalidate_all();

private:
    struct Entry {
        std::optional<core::EnvSummary> summary;
        std::string error;         // why the file cannot be read, when summary is empty
        bool watched = false;      // changes to it will be reported
        bool watch_later = false;  // to be watched by watch_unwatched(), then checked
        std::optional<RecordStamp> stamp;
        bool from_kept = false;  // the summary came from an earlier run of the service
        bool live() const { return summary && summary->sessions > 0; }
        // Its summary stands until an event says otherwise: watched, and not running.
        bool current() const { return watched && !watch_later && !live(); }
    };

    void reload_all();
    void reload(const std::string& env_id);
    // `kept`: a summary from an earlier run of the service, used when its files are the same.
    // `watch_now`: watch it before reading it, or leave that to watch_unwatched().
    Entry read(const std::string& file, const KeptSummary* kept, bool watch_now);
    // Whether the record and sessions directory of `env_id` are still the files `entry` was read
    // from (its stamp); false when either stamp cannot be taken.
    bool files_unchanged(const std::string& env_id, const Entry& entry);
    void keep();

    ChangeSource& changes_;
    RecordSource& records_;
    KeptSummaries* kept_;

    std::mutex mutex_;  // held for a whole list()
    std::atomic<int> waiting_{0};
    std::map<std::string, Entry> entries_;  // by file name in the metadata directory
    bool loaded_ = false;
    bool store_watched_ = false;
    bool kept_loaded_ = false;  // the kept summaries were offered to the first full read
    bool changed_ = false;      // something was read since the summaries were last kept
    bool watch_later_ = false;  // entries wait for watch_unwatched()
    Summaries answer_;          // the last answer, while nothing was read again

    std::mutex pending_mutex_;  // held only to note or take invalidations
    std::set<std::string> pending_;
    bool pending_all_ = false;
};

// "<env_id>.json" for a record file name, nullopt for anything else.
std::optional<std::string> env_id_of_record_file(const std::string& file);

}  // namespace karapace::dbus
