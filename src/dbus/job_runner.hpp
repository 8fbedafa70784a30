// Starts long operations as org.karapace.Job1 objects at /org/karapace/Job1/<n>, each on its own
// worker thread. The service stays busy (no idle exit) while any job runs. Finished jobs stay on
// the bus for late readers until more than `keep_finished` have piled up.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "bus_loop.hpp"
#include "caller.hpp"
#include "idle.hpp"
#include "job.hpp"
#include "notifier.hpp"
#include "worker_threads.hpp"

namespace karapace::dbus {

inline constexpr const char* job_path_prefix = "/org/karapace/Job1/";

class JobRunner {
public:
    // Runs on the loop thread once the work succeeded: builds the Result map (sdbus values are
    // made on the loop thread only) and may emit signals.
    using Encoder = std::function<ResultMap()>;
    // Runs on the worker thread; reports through the JobProgress and throws on failure.
    using Work = std::function<Encoder(JobProgress&)>;

    JobRunner(sdbus::IConnection& connection, BusLoop& loop, IdleTracker& idle,
              WorkerThreads& threads, const PropertyReaders& readers,
              std::size_t keep_finished = 32);
    ~JobRunner();
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Who hears that a job ended (desktop notifications); loop thread.
    using FinishedHook = std::function<void(const JobNotice&)>;
    void on_finished(FinishedHook hook) { on_finished_ = std::move(hook); }

    // Loop thread only. Returns the new job's object path. `subject` names what the job works on
    // in notifications (a name in the result wins); `notify` false: no notification.
    sdbus::ObjectPath start(std::string kind, std::string description, Work work,
                            std::string subject = {}, bool notify = true);

    std::vector<sdbus::ObjectPath> paths() const;
    std::size_t running() const;
    // Asks every running job to stop (SIGTERM).
    void cancel_all();

private:
    struct Entry {
        std::unique_ptr<Job> job;
        std::unique_ptr<BusyGuard> busy;  // released when the job finishes
        std::string kind, subject;
        bool notify = true;
    };
    Job* find(std::uint64_t id);
    void complete(std::uint64_t id, JobStatus status, Encoder encode, std::string error,
                  std::string message);
    void forget_old();

    sdbus::IConnection& connection_;
    BusLoop& loop_;
    IdleTracker& idle_;
    WorkerThreads& threads_;
    const PropertyReaders& readers_;
    std::size_t keep_finished_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, Entry> jobs_;
    FinishedHook on_finished_;
};

}  // namespace karapace::dbus
