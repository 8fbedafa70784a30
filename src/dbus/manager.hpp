// org.karapace.Manager1 at /org/karapace/Manager1: decodes each call, runs it on core::Engine off
// the bus loop (a worker thread answering later, or a Job1 for long operations), encodes the
// answer, and tells listeners which environments changed.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <sdbus-c++/sdbus-c++.h>

#include "bus_loop.hpp"
#include "caller.hpp"
#include "encode.hpp"
#include "env_list_cache.hpp"
#include "idle.hpp"
#include "job_runner.hpp"
#include "karapace/core/engine.hpp"
#include "manager1_adaptor.h"
#include "store_records.hpp"
#include "store_watch.hpp"
#include "worker_threads.hpp"

namespace karapace::dbus {

inline constexpr const char* service_name = "org.karapace.Manager1";
inline constexpr const char* manager_path = "/org/karapace/Manager1";

struct ManagerSettings;
// The engine's options for the service's calls (with progress: for a job).
core::EngineOptions engine_options_for(const ManagerSettings& settings,
                                       JobProgress* progress = nullptr);

struct ManagerSettings {
    std::string store_root;  // absolute
    std::size_t exec_output_cap = 0;
    // Calls answered directly give up on a busy store before the caller's D-Bus timeout (25 s by
    // default) would; jobs wait as long as it takes and say so in their Step.
    std::chrono::milliseconds call_lock_timeout{20000};
};

class Manager final
    : public sdbus::AdaptorInterfaces<org::karapace::Manager1_adaptor, sdbus::Properties_adaptor> {
public:
    Manager(sdbus::IConnection& connection, ManagerSettings settings, BusLoop& loop,
            IdleTracker& idle, WorkerThreads& threads, JobRunner& jobs,
            const PropertyReaders& readers, StoreEnvList& env_list);
    ~Manager();

private:
    // Properties
    // Reading a property is a call too: it restarts the idle period (after the caller check).
    std::string Version() override;
    uint32_t ApiVersion() override {
        read_property();
        return 1;
    }
    std::string StorePath() override {
        read_property();
        return settings_.store_root;
    }
    void read_property();

    // Methods
    void ListEnvironments(sdbus::Result<std::vector<EnvRecord>>&& result) override;
    void GetEnvironment(sdbus::Result<ResultMap>&& result, std::string env) override;
    sdbus::ObjectPath Build(const std::string& manifest_path, const ResultMap& options) override;
    sdbus::ObjectPath Rebuild(const std::string& manifest_path, const ResultMap& options) override;
    void Destroy(sdbus::Result<>&& result, std::string env, bool force) override;
    void Stop(sdbus::Result<uint32_t>&& result, std::string env) override;
    void Freeze(sdbus::Result<>&& result, std::string env) override;
    void Archive(sdbus::Result<>&& result, std::string env) override;
    void Rename(sdbus::Result<>&& result, std::string env, std::string name) override;
    sdbus::ObjectPath Commit(const std::string& env) override;
    sdbus::ObjectPath Push(const std::string& env, const ResultMap& options) override;
    sdbus::ObjectPath Pull(const std::string& reference, const ResultMap& options) override;
    void ListSnapshots(sdbus::Result<std::vector<SnapshotRecord>>&& result,
                       std::string env) override;
    sdbus::ObjectPath Restore(const std::string& env, const std::string& snapshot) override;
    void Diff(sdbus::Result<std::vector<std::string>, std::vector<std::string>,
                            std::vector<std::string>>&& result,
              std::string env) override;
    sdbus::ObjectPath Gc(const bool& dry_run) override;
    sdbus::ObjectPath VerifyStore() override;
    void Exec(sdbus::Result<int32_t, std::vector<uint8_t>, std::vector<uint8_t>, bool>&& result,
              std::string env, std::vector<std::string> argv,
              std::vector<std::string> env_vars) override;
    void LaunchApp(sdbus::Result<std::string>&& result, std::string env,
                   std::vector<std::string> argv) override;
    void Export(sdbus::Result<std::vector<ExportRecord>, std::vector<std::string>>&& result,
                std::string env, std::vector<std::string> apps, std::vector<std::string> bins,
                ResultMap options) override;
    void Unexport(sdbus::Result<std::vector<ExportRecord>>&& result, std::string env,
                  std::vector<std::string> apps, std::vector<std::string> bins, bool all) override;
    void ListExports(sdbus::Result<std::vector<ExportRecord>>&& result, std::string env) override;
    std::vector<sdbus::ObjectPath> ListJobs() override;
    std::vector<sdbus::Struct<std::string, std::string, std::string>> ListTemplates() override;
    void CreateFromTemplate(sdbus::Result<std::string>&& result, std::string name, std::string dir,
                            ResultMap options) override;

    // Every call: restart the idle period, refuse other users, log it.
    void accept(const char* method, const std::string& args = {});
    core::EngineOptions engine_options(JobProgress* progress = nullptr) const;

    // Runs `work` on a worker thread; it returns a function that the loop thread calls to get the
    // reply values. Failures anywhere become the matching org.karapace.Error. `after` runs on the
    // worker once the reply is handed to the loop (work that need not delay the answer).
    template <typename... R, typename Work>
    void answer_later(sdbus::Result<R...>&& result, Work work, std::function<void()> after = {});
    // ListEnvironments' reply values, encoded again only when the cache's answer changed.
    std::shared_ptr<const std::vector<EnvRecord>> encoded_list(const EnvListCache::Summaries& envs);
    sdbus::ObjectPath start_job(const char* kind, std::string description, JobRunner::Work work,
                                std::string subject, bool notify = true);
    // The service changed environments: ListEnvironments reads them again, listeners hear of it.
    void environment_added(const std::string& env_id);
    void environment_changed(const std::string& env_id);
    void environment_removed(const std::string& env_id);
    sdbus::ObjectPath start_build(const char* kind, const std::string& manifest_path,
                                  const ResultMap& options);

    ManagerSettings settings_;
    BusLoop& loop_;
    IdleTracker& idle_;
    WorkerThreads& threads_;
    JobRunner& jobs_;
    const PropertyReaders& readers_;
    StoreEnvList& env_list_;
    std::mutex encoded_mutex_;
    EnvListCache::Summaries encoded_from_;
    std::shared_ptr<const std::vector<EnvRecord>> encoded_;
};

}  // namespace karapace::dbus
