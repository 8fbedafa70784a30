// A job's progress as the engine reports it (ProgressSink) and as org.karapace.Job1 shows it
// (Step, Progress, Note). Written by the job's worker thread, read by the bus loop: every field
// is behind one mutex, and changes are collected until the loop takes them, so a flood of
// advance() calls becomes one PropertiesChanged per loop turn.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "karapace/util/progress.hpp"

namespace karapace::dbus {

class JobProgress final : public ProgressSink {
public:
    // `wake` is called (from the reporting thread) when the first change since the last take()
    // arrives; it posts a task that calls take().
    explicit JobProgress(std::function<void()> wake) : wake_(std::move(wake)) {}

    void step(std::string_view description, std::uint64_t total, ProgressUnit unit) override;
    void advance(std::uint64_t done) override;
    void finish(bool ok) override;
    void note(std::string_view line) override;
    void resize(std::uint64_t total) override;
    // From an operation reported in weighted phases: from then on Progress is the whole job's.
    void overall(double fraction) override;
    bool cancelled() const override { return cancelled_.load(); }

    // Cancel() on the job object.
    void cancel() { cancelled_.store(true); }
    // The engine is waiting for the store lock; `message` names the holder. Shown as the Step.
    void waiting_for_lock(const std::string& message);

    std::string current_step() const;
    // Percent of the whole job when the operation reports its phases, else of the current step;
    // -1 when unknown.
    int percent() const;
    // The job is over: Step is cleared and, when it succeeded, Progress is 100. Returns the
    // properties that changed.
    std::vector<std::string> end(bool succeeded);

    struct Changes {
        std::vector<std::string> properties;  // Job1 property names
        std::vector<std::string> notes;
    };
    Changes take();

private:
    std::function<void()> wake_;
    mutable std::mutex mutex_;
    std::string step_;
    std::uint64_t total_ = 0;
    int percent_ = -1;
    bool step_changed_ = false, percent_changed_ = false;
    bool phased_ = false;  // percent_ follows overall(), not the steps
    std::vector<std::string> notes_;
    bool wake_pending_ = false;
    std::atomic<bool> cancelled_{false};
};

}  // namespace karapace::dbus
