#include "job.hpp"

#include "caller.hpp"

namespace karapace::dbus {

std::string_view job_status_name(JobStatus status) noexcept {
    switch (status) {
    case JobStatus::running: return "running";
    case JobStatus::succeeded: return "succeeded";
    case JobStatus::failed: return "failed";
    case JobStatus::cancelled: return "cancelled";
    }
    return "failed";
}

Job::Job(sdbus::IConnection& connection, std::string path, std::string kind,
         std::string description, std::shared_ptr<JobProgress> progress,
         const PropertyReaders& readers)
    : AdaptorInterfaces(connection, std::move(path)),
      readers_(readers),
      kind_(std::move(kind)),
      description_(std::move(description)),
      progress_(std::move(progress)) {
    registerAdaptor();
}

Job::~Job() { unregisterAdaptor(); }

void Job::Cancel() {
    readers_.require_same_user(getObject());
    if (status_ == JobStatus::running) progress_->cancel();
}

void Job::publish_progress() {
    auto changes = progress_->take();
    if (!changes.properties.empty()) {
        emitPropertiesChangedSignal(org::karapace::Job1_adaptor::INTERFACE_NAME,
                                    changes.properties);
    }
    for (const auto& line : changes.notes)
        emitNote(line);
}

void Job::finish(JobStatus status, ResultMap result, std::string error, std::string message) {
    if (status_ != JobStatus::running) return;
    publish_progress();
    status_ = status;
    result_ = std::move(result);
    error_ = std::move(error);
    error_message_ = std::move(message);
    auto changed = progress_->end(status == JobStatus::succeeded);
    changed.insert(changed.end(), {"Status", "Result", "Error", "ErrorMessage"});
    emitPropertiesChangedSignal(org::karapace::Job1_adaptor::INTERFACE_NAME, changed);
    emitFinished(std::string(job_status_name(status_)), result_, error_, error_message_);
}

}  // namespace karapace::dbus
