#include "idle.hpp"

namespace karapace::dbus {

IdleTracker::IdleTracker(std::chrono::milliseconds timeout, Clock::time_point now)
    : timeout_(timeout), last_activity_(now) {}

void IdleTracker::touch(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    last_activity_ = now;
}

void IdleTracker::begin(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    ++busy_;
    last_activity_ = now;
}

void IdleTracker::end(Clock::time_point now) {
    std::lock_guard lock(mutex_);
    if (busy_ > 0) --busy_;
    // The idle period starts when the last piece of work ends, not when it began.
    last_activity_ = now;
}

std::size_t IdleTracker::busy() const {
    std::lock_guard lock(mutex_);
    return busy_;
}

bool IdleTracker::expired(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    if (timeout_.count() <= 0 || busy_ > 0) return false;
    return now - last_activity_ >= timeout_;
}

std::optional<std::chrono::milliseconds> IdleTracker::remaining(Clock::time_point now) const {
    std::lock_guard lock(mutex_);
    if (timeout_.count() <= 0 || busy_ > 0) return std::nullopt;
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(last_activity_ + timeout_ - now);
    return left.count() > 0 ? left : std::chrono::milliseconds(0);
}

}  // namespace karapace::dbus
