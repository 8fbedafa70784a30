#include "job_runner.hpp"

#include "errors.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::dbus {

JobRunner::JobRunner(sdbus::IConnection& connection, BusLoop& loop, IdleTracker& idle,
                     WorkerThreads& threads, const PropertyReaders& readers,
                     std::size_t keep_finished)
    : connection_(connection),
      loop_(loop),
      idle_(idle),
      threads_(threads),
      readers_(readers),
      keep_finished_(keep_finished) {}

JobRunner::~JobRunner() = default;

Job* JobRunner::find(std::uint64_t id) {
    auto it = jobs_.find(id);
    return it == jobs_.end() ? nullptr : it->second.job.get();
}

sdbus::ObjectPath JobRunner::start(std::string kind, std::string description, Work work,
                                   std::string subject, bool notify) {
    auto id = next_id_++;
    std::string path = job_path_prefix + std::to_string(id);
    auto progress = std::make_shared<JobProgress>([this, id] {
        loop_.post([this, id] {
            if (auto* job = find(id)) job->publish_progress();
        });
    });
    log::info("job ", id, ": ", description);
    Entry entry{
        std::make_unique<Job>(connection_, path, kind, std::move(description), progress, readers_),
        std::make_unique<BusyGuard>(idle_), kind, std::move(subject), notify};
    jobs_.emplace(id, std::move(entry));
    try {
        threads_.spawn([this, id, progress, work = std::move(work)] {
            Encoder encode;
            JobStatus status = JobStatus::succeeded;
            std::string error, message;
            try {
                encode = work(*progress);
            } catch (const karapace::Error& e) {
                status = e.code() == Errc::cancelled ? JobStatus::cancelled : JobStatus::failed;
                error = dbus_error_name(e.code());
                message = error_text(e.what(), e.hint());
            } catch (...) {
                auto dbus_error = to_dbus_error(std::current_exception());
                status = JobStatus::failed;
                error = dbus_error.getName();
                message = dbus_error.getMessage();
            }
            // A job asked to stop that ran to the end anyway still succeeded: its effect exists.
            loop_.post([this, id, status, encode = std::move(encode), error = std::move(error),
                        message = std::move(message)]() mutable {
                complete(id, status, std::move(encode), std::move(error), std::move(message));
            });
        });
    } catch (...) {
        jobs_.erase(id);
        throw;
    }
    return sdbus::ObjectPath(path);
}

void JobRunner::complete(std::uint64_t id, JobStatus status, Encoder encode, std::string error,
                         std::string message) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    ResultMap result;
    if (status == JobStatus::succeeded && encode) {
        try {
            result = encode();
        } catch (...) {
            auto dbus_error = to_dbus_error(std::current_exception());
            status = JobStatus::failed;
            error = dbus_error.getName();
            message = dbus_error.getMessage();
        }
    }
    log::info("job ", id, " ", job_status_name(status), message.empty() ? "" : ": ", message);
    if (on_finished_ && it->second.notify) {
        JobNotice notice{it->second.kind, it->second.subject, status == JobStatus::succeeded,
                         status == JobStatus::cancelled, message};
        for (const char* key : {"name", "short_id"}) {
            auto found = result.find(key);
            if (found != result.end() && found->second.containsValueOfType<std::string>() &&
                !found->second.get<std::string>().empty()) {
                notice.subject = found->second.get<std::string>();
                break;
            }
        }
        on_finished_(notice);
    }
    it->second.job->finish(status, std::move(result), std::move(error), std::move(message));
    it->second.busy.reset();
    forget_old();
}

void JobRunner::forget_old() {
    std::size_t finished = 0;
    for (const auto& [id, entry] : jobs_)
        finished += entry.busy ? 0 : 1;
    for (auto it = jobs_.begin(); finished > keep_finished_ && it != jobs_.end();) {
        if (!it->second.busy) {
            it = jobs_.erase(it);
            --finished;
        } else {
            ++it;
        }
    }
}

std::vector<sdbus::ObjectPath> JobRunner::paths() const {
    std::vector<sdbus::ObjectPath> out;
    for (const auto& [id, entry] : jobs_)
        out.emplace_back(entry.job->getObjectPath());
    return out;
}

std::size_t JobRunner::running() const {
    std::size_t count = 0;
    for (const auto& [id, entry] : jobs_)
        count += entry.busy ? 1 : 0;
    return count;
}

void JobRunner::cancel_all() {
    for (auto& [id, entry] : jobs_) {
        if (entry.busy) entry.job->progress().cancel();
    }
}

}  // namespace karapace::dbus
