// The service's one event loop. Every sd-bus call happens on the thread that runs it (sd-bus
// connections are not thread-safe); worker threads hand results back with post(). It also
// watches SIGTERM/SIGINT/SIGHUP and decides when the service is idle long enough to exit.
#pragma once

#include <deque>
#include <functional>
#include <mutex>

#include <sdbus-c++/IConnection.h>

#include "idle.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::dbus {

class BusLoop {
public:
    enum class Exit { idle, signal };

    BusLoop(sdbus::IConnection& connection, IdleTracker& idle);
    ~BusLoop();
    BusLoop(const BusLoop&) = delete;
    BusLoop& operator=(const BusLoop&) = delete;

    // Queues `task` to run on the loop thread. Safe from any thread, including signal-free
    // worker threads; tasks posted after the loop has ended run in the next run()/drain().
    void post(std::function<void()> task);

    // Called once on the loop thread when a termination signal arrives (cancel jobs there).
    void on_terminate(std::function<void()> handler) { on_terminate_ = std::move(handler); }
    // Called on the loop thread after each message sd-bus has dispatched.
    void after_each_message(std::function<void()> handler) { after_message_ = std::move(handler); }
    // Called on the loop thread whenever `fd` is readable (one fd: the store watch). The handler
    // must read what is there without blocking; it never counts as activity for idle exit.
    void on_readable(int fd, std::function<void()> handler) {
        watched_fd_ = fd;
        on_readable_ = std::move(handler);
    }

    // Serves the bus until the idle tracker expires, or a termination signal arrived and all
    // work has finished.
    Exit run();
    // Serves what is already queued and any work still running, then returns (used after the
    // bus name has been released, so that no accepted call goes unanswered).
    void drain();

private:
    void run_tasks();
    void dispatch_bus();
    void wait(int timeout_ms);

    sdbus::IConnection& connection_;
    IdleTracker& idle_;
    UniqueFd wake_;
    std::mutex mutex_;
    std::deque<std::function<void()>> tasks_;
    std::function<void()> on_terminate_;
    std::function<void()> after_message_;
    int watched_fd_ = -1;
    std::function<void()> on_readable_;
    bool terminating_ = false;
};

}  // namespace karapace::dbus
