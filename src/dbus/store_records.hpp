// The store's environment records as the ListEnvironments cache reads them: through core::Engine,
// so that every read is verified and an interrupted operation is rolled back first, as for any
// other call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "env_list_cache.hpp"
#include "karapace/core/engine.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/util/fd.hpp"
#include "store_watch.hpp"

namespace karapace::dbus {

class EngineRecords final : public RecordSource {
public:
    EngineRecords(const std::string& store_root, std::function<core::EngineOptions()> options)
        : layout_(store_root), options_(std::move(options)) {}

    void begin() override;
    std::vector<std::string> record_files() override;
    std::string record_path(const std::string& file) override;
    std::optional<core::EnvSummary> load(const std::string& env_id) override;
    std::optional<RecordStamp> stamp(const std::string& env_id) override;

private:
    store::Layout layout_;
    std::function<core::EngineOptions()> options_;
    std::optional<core::Engine> engine_;
    UniqueFd metadata_fd_, envs_fd_;  // opened by a pass's first stamp(); -1 when absent
    bool dirs_open_ = false;
};

// The summaries kept in the store (store/list-cache.json), for the next run of the service. The
// file is a cache: one that cannot be read or is of another format counts as empty, and every
// summary in it is checked against its record before it is used (RecordStamp).
class StoreKeptSummaries final : public KeptSummaries {
public:
    explicit StoreKeptSummaries(const std::string& store_root);
    std::map<std::string, KeptSummary> load() override;
    void save(const std::map<std::string, KeptSummary>& summaries) override;

private:
    std::string path_;
};

// ListEnvironments' cache as the service runs it: on the store's records (through the engine),
// watched by inotify, with the summaries kept for the next run.
class StoreEnvList {
public:
    StoreEnvList(const std::string& store_root, std::function<core::EngineOptions()> options);
    // Waits for the read ahead.
    ~StoreEnvList();
    StoreEnvList(const StoreEnvList&) = delete;
    StoreEnvList& operator=(const StoreEnvList&) = delete;

    // Does, on a thread of its own, what a first ListEnvironments would: reads every record (or
    // takes the kept summaries) and watches them. The service starts it once connected to the
    // bus; a ListEnvironments then finds the answer ready, or waits for the read in progress (the
    // cache's lock) instead of reading again. Best effort: a failure is logged, and the next call
    // reads as if nothing had been read ahead.
    void read_ahead();

    StoreWatch watch;
    EngineRecords records;
    StoreKeptSummaries kept;
    EnvListCache cache;

private:
    std::thread ahead_;
};

}  // namespace karapace::dbus
