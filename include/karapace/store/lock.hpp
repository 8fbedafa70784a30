// The store lock: flock(2) on `store/lock`, shared for readers that need a stable view, exclusive
// for writers, held only for short critical sections. The holder's pid is written into the lock
// file so a waiting process can say who it waits for.
#pragma once

#include <chrono>
#include <functional>
#include <optional>

#include "karapace/store/layout.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::store {

enum class LockMode { shared, exclusive };

struct LockOptions {
    // How long to wait; negative waits forever, zero fails at once.
    std::chrono::milliseconds timeout{-1};
    // Called once when the lock is busy, with the message "waiting for store lock (held by pid N)".
    std::function<void(const std::string& message)> on_wait;
};

class StoreLock {
public:
    // Takes the lock, waiting as `opts` says; Error(busy) naming the holder on timeout.
    static StoreLock acquire(const Layout& layout, LockMode mode, const LockOptions& opts = {});
    // nullopt when the lock is held in a conflicting mode.
    static std::optional<StoreLock> try_acquire(const Layout& layout, LockMode mode);

    StoreLock(StoreLock&&) noexcept = default;
    StoreLock& operator=(StoreLock&&) noexcept = default;

    LockMode mode() const noexcept { return mode_; }
    bool held() const noexcept { return static_cast<bool>(fd_); }
    // Throws Error(failed) unless this lock is held exclusively (a precondition of recovery, gc).
    void require_exclusive(const char* operation) const;
    void release() noexcept;

private:
    StoreLock(UniqueFd fd, LockMode mode) : fd_(std::move(fd)), mode_(mode) {}
    UniqueFd fd_;
    LockMode mode_;
};

// The pid recorded in the lock file by the last holder, when that process is still alive.
std::optional<int> lock_holder(const Layout& layout);

}  // namespace karapace::store
