#include "job_progress.hpp"

#include <algorithm>
#include <utility>

namespace karapace::dbus {

namespace {
// Notes are for people watching; past this many unread ones the oldest are dropped.
constexpr std::size_t max_pending_notes = 256;
}  // namespace

void JobProgress::step(std::string_view description, std::uint64_t total, ProgressUnit) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (step_ != description) {
            step_ = description;
            step_changed_ = true;
        }
        total_ = total;
        int percent = total > 0 ? 0 : -1;
        if (!phased_ && percent != percent_) {
            percent_ = percent;
            percent_changed_ = true;
        }
        wake = !std::exchange(wake_pending_, true);
    }
    if (wake && wake_) wake_();
}

void JobProgress::advance(std::uint64_t done) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (total_ == 0 || phased_) return;
        int percent = static_cast<int>(std::min<std::uint64_t>(done, total_) * 100 / total_);
        if (percent == percent_) return;
        percent_ = percent;
        percent_changed_ = true;
        wake = !std::exchange(wake_pending_, true);
    }
    if (wake && wake_) wake_();
}

void JobProgress::finish(bool ok) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (!ok || total_ == 0 || percent_ == 100 || phased_) return;
        percent_ = 100;
        percent_changed_ = true;
        wake = !std::exchange(wake_pending_, true);
    }
    if (wake && wake_) wake_();
}

void JobProgress::note(std::string_view line) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        if (notes_.size() >= max_pending_notes) notes_.erase(notes_.begin());
        notes_.emplace_back(line);
        wake = !std::exchange(wake_pending_, true);
    }
    if (wake && wake_) wake_();
}

void JobProgress::resize(std::uint64_t total) {
    std::lock_guard lock(mutex_);
    total_ = total;
}

void JobProgress::overall(double fraction) {
    bool wake = false;
    {
        std::lock_guard lock(mutex_);
        int percent = static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 100);
        if (phased_ && percent <= percent_) return;
        phased_ = true;
        percent_ = percent;
        percent_changed_ = true;
        wake = !std::exchange(wake_pending_, true);
    }
    if (wake && wake_) wake_();
}

std::vector<std::string> JobProgress::end(bool succeeded) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> changed;
    if (!step_.empty()) {
        step_.clear();
        changed.emplace_back("Step");
    }
    if (succeeded && percent_ != 100) {
        percent_ = 100;
        changed.emplace_back("Progress");
    }
    step_changed_ = percent_changed_ = false;
    return changed;
}

void JobProgress::waiting_for_lock(const std::string& message) {
    step(message.empty() ? std::string("waiting for the store lock") : message, 0,
         ProgressUnit::items);
}

std::string JobProgress::current_step() const {
    std::lock_guard lock(mutex_);
    return step_;
}

int JobProgress::percent() const {
    std::lock_guard lock(mutex_);
    return percent_;
}

JobProgress::Changes JobProgress::take() {
    std::lock_guard lock(mutex_);
    Changes changes;
    if (std::exchange(step_changed_, false)) changes.properties.emplace_back("Step");
    if (std::exchange(percent_changed_, false)) changes.properties.emplace_back("Progress");
    changes.notes = std::move(notes_);
    notes_.clear();
    wake_pending_ = false;
    return changes;
}

}  // namespace karapace::dbus
