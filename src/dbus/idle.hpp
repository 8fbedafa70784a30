// When the service may exit: after `timeout` with no call in flight, no job running and no call
// received. Thread-safe; the bus loop asks it how long it may sleep.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>

namespace karapace::dbus {

class IdleTracker {
public:
    using Clock = std::chrono::steady_clock;

    // A zero timeout disables idle exit.
    explicit IdleTracker(std::chrono::milliseconds timeout, Clock::time_point now = Clock::now());

    // A call was received: restarts the idle period.
    void touch(Clock::time_point now = Clock::now());
    // Work (a call answered later, a job) started or ended; while any is open the service is busy.
    void begin(Clock::time_point now = Clock::now());
    void end(Clock::time_point now = Clock::now());

    std::size_t busy() const;
    // True when the service has been idle for the whole timeout.
    bool expired(Clock::time_point now = Clock::now()) const;
    // How long until expired() can become true; nullopt while busy or when idle exit is off.
    std::optional<std::chrono::milliseconds> remaining(Clock::time_point now = Clock::now()) const;

private:
    mutable std::mutex mutex_;
    std::chrono::milliseconds timeout_;
    Clock::time_point last_activity_;
    std::size_t busy_ = 0;
};

// Marks one unit of work for an IdleTracker for as long as it lives.
class BusyGuard {
public:
    explicit BusyGuard(IdleTracker& tracker) : tracker_(&tracker) { tracker_->begin(); }
    ~BusyGuard() {
        if (tracker_) tracker_->end();
    }
    BusyGuard(BusyGuard&& other) noexcept : tracker_(other.tracker_) { other.tracker_ = nullptr; }
    BusyGuard(const BusyGuard&) = delete;
    BusyGuard& operator=(const BusyGuard&) = delete;
    BusyGuard& operator=(BusyGuard&&) = delete;

private:
    IdleTracker* tracker_;
};

}  // namespace karapace::dbus
