#include "bus_loop.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>

#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"

namespace karapace::dbus {

namespace {

// Written by the signal handler, read by the loop. The handler only stores and writes to the
// eventfd, both async-signal-safe; signals are not blocked so that children of the sandbox
// inherit a clean signal mask.
std::atomic<int> received_signal{0};
std::atomic<int> signal_wake_fd{-1};

void on_signal(int signo) {
    int saved = errno;
    received_signal.store(signo);
    std::uint64_t one = 1;
    int fd = signal_wake_fd.load();
    if (fd >= 0) (void)!::write(fd, &one, sizeof one);
    errno = saved;
}

void install_signal_handlers() {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signo : {SIGTERM, SIGINT, SIGHUP})
        ::sigaction(signo, &action, nullptr);
    ignore_sigpipe();
}

}  // namespace

BusLoop::BusLoop(sdbus::IConnection& connection, IdleTracker& idle)
    : connection_(connection), idle_(idle), wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (!wake_) throw_errno(Errc::failed, "eventfd for the bus loop");
    signal_wake_fd.store(wake_.get());
    install_signal_handlers();
}

BusLoop::~BusLoop() { signal_wake_fd.store(-1); }

void BusLoop::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        tasks_.push_back(std::move(task));
    }
    std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
}

void BusLoop::run_tasks() {
    std::uint64_t count = 0;
    (void)!::read(wake_.get(), &count, sizeof count);
    for (;;) {
        std::function<void()> task;
        {
            std::lock_guard lock(mutex_);
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        try {
            task();
        } catch (const std::exception& e) {
            log::error("bus loop task: ", e.what());
        }
    }
}

void BusLoop::dispatch_bus() {
    // Each processed message may queue replies or signals; keep going until sd-bus has nothing.
    for (;;) {
        const bool more = connection_.processPendingRequest();
        if (after_message_) after_message_();
        if (!more) return;
    }
}

void BusLoop::wait(int timeout_ms) {
    auto poll_data = connection_.getEventLoopPollData();
    int bus_timeout = poll_data.getPollTimeout();
    if (bus_timeout >= 0)
        timeout_ms = timeout_ms < 0 ? bus_timeout : std::min(timeout_ms, bus_timeout);
    pollfd fds[3] = {{poll_data.fd, poll_data.events, 0},
                     {wake_.get(), POLLIN, 0},
                     {watched_fd_, POLLIN, 0}};  // a negative fd is skipped
    if (::poll(fds, 3, timeout_ms) < 0) {
        if (errno != EINTR) throw_errno(Errc::failed, "poll on the bus");
        return;
    }
    if ((fds[2].revents & POLLIN) && on_readable_) {
        try {
            on_readable_();
        } catch (const std::exception& e) {
            log::error("reading ", watched_fd_, ": ", e.what());
        }
    }
}

BusLoop::Exit BusLoop::run() {
    for (;;) {
        run_tasks();
        dispatch_bus();
        run_tasks();
        if (!terminating_ && received_signal.load() != 0) {
            terminating_ = true;
            log::info("signal ", received_signal.load(), ", finishing running work");
            if (on_terminate_) on_terminate_();
        }
        if (terminating_ && idle_.busy() == 0) return Exit::signal;
        if (idle_.expired()) return Exit::idle;
        auto left = idle_.remaining();
        int timeout_ms =
            left ? static_cast<int>(std::min<long long>(left->count() + 1, 60000)) : -1;
        wait(timeout_ms);
    }
}

void BusLoop::drain() {
    for (;;) {
        run_tasks();
        dispatch_bus();
        run_tasks();
        if (idle_.busy() == 0) {
            std::lock_guard lock(mutex_);
            if (tasks_.empty()) return;
            continue;
        }
        wait(100);
    }
}

}  // namespace karapace::dbus
