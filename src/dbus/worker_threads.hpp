// Threads that run engine calls off the bus loop. Each finished thread is joined on the loop
// thread; join_all() waits for the rest at shutdown.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "bus_loop.hpp"

namespace karapace::dbus {

class WorkerThreads {
public:
    WorkerThreads(BusLoop& loop, std::size_t max_threads) : loop_(loop), max_(max_threads) {}
    ~WorkerThreads() { join_all(); }
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;

    // Runs `work` on a new thread. Loop thread only. Throws Error(busy) when `max_threads` are
    // already running, so that a flood of calls cannot exhaust the process.
    void spawn(std::function<void()> work);
    std::size_t running() const { return threads_.size(); }
    void join_all();
    // Waits up to `limit` for every thread's work to return, without the loop; false on timeout
    // (used when the bus is gone and no task will run again).
    bool wait_finished(std::chrono::milliseconds limit) const;

private:
    void reap(std::uint64_t id);

    BusLoop& loop_;
    std::size_t max_;
    std::uint64_t next_id_ = 0;
    std::map<std::uint64_t, std::thread> threads_;
    std::atomic<std::size_t> live_{0};
};

}  // namespace karapace::dbus
