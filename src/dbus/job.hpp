// One org.karapace.Job1 object: the bus face of a long operation. Lives on the bus loop thread;
// the worker thread only touches its JobProgress.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include <sdbus-c++/sdbus-c++.h>

#include "caller.hpp"
#include "job1_adaptor.h"
#include "job_progress.hpp"

namespace karapace::dbus {

enum class JobStatus { running, succeeded, failed, cancelled };
std::string_view job_status_name(JobStatus status) noexcept;

using ResultMap = std::map<std::string, sdbus::Variant>;

class Job final
    : public sdbus::AdaptorInterfaces<org::karapace::Job1_adaptor, sdbus::Properties_adaptor> {
public:
    Job(sdbus::IConnection& connection, std::string path, std::string kind, std::string description,
        std::shared_ptr<JobProgress> progress, const PropertyReaders& readers);
    ~Job();

    JobProgress& progress() { return *progress_; }
    JobStatus status() const { return status_; }

    // Emits PropertiesChanged for what the worker changed since the last call, and its notes.
    void publish_progress();
    // Records the outcome and emits PropertiesChanged and Finished (once).
    void finish(JobStatus status, ResultMap result, std::string error, std::string message);

private:
    void Cancel() override;
    // Every property is read through `checked`, which refuses readers of another uid first.
    template <typename T>
    T checked(T value) const {
        readers_.require_same_user();
        return value;
    }
    std::string Kind() override { return checked(kind_); }
    std::string Description() override { return checked(description_); }
    std::string Step() override { return checked(progress_->current_step()); }
    int32_t Progress() override { return checked(progress_->percent()); }
    std::string Status() override { return checked(std::string(job_status_name(status_))); }
    std::string Error() override { return checked(error_); }
    std::string ErrorMessage() override { return checked(error_message_); }
    std::map<std::string, sdbus::Variant> Result() override { return checked(result_); }

    const PropertyReaders& readers_;
    std::string kind_, description_;
    std::shared_ptr<JobProgress> progress_;
    JobStatus status_ = JobStatus::running;
    ResultMap result_;
    std::string error_, error_message_;
};

}  // namespace karapace::dbus
