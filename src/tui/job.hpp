// One long engine operation at a time, run on a thread of its own so the screen stays live: the
// operation reports through the ProgressSink interface like it does to the CLI's progress bar,
// the TUI reads the latest step for its status line, and a pipe wakes the main loop whenever
// there is something new to draw or the operation has ended.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "karapace/util/fd.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::tui {

// How an operation ended: the status text (the CLI's words), or the error and its hint.
struct JobOutcome {
    bool ok = false;
    std::string message;
    std::string hint;
};

// What the status line shows while an operation runs.
struct JobProgress {
    std::string title;  // "destroy web"
    std::string step;   // the current step's description, empty before the first
    std::uint64_t done = 0, total = 0;
    ProgressUnit unit = ProgressUnit::items;
    std::string note;  // the latest note (a package manager's line)
    double elapsed = 0;
};

class JobRunner final : private ProgressSink {
public:
    // The operation: it returns its status text, or throws (karapace::Error or anything else).
    using Work = std::function<std::string(ProgressSink&)>;
    // Runs on the main loop's thread once the operation has ended, before its outcome is shown.
    using Then = std::function<void(const JobOutcome&)>;

    JobRunner();
    // Asks a running operation to stop at its next safe point and waits for it.
    ~JobRunner() override;
    JobRunner(const JobRunner&) = delete;
    JobRunner& operator=(const JobRunner&) = delete;

    // Readable when there is progress to draw or an outcome to collect.
    int wake_fd() const noexcept { return wake_read_.get(); }
    void drain_wake() noexcept;

    bool busy() const noexcept { return running_.load(); }
    // Starts `work`; false when another operation is still running.
    bool start(std::string title, Work work, Then then = {});
    JobProgress progress() const;
    // The outcome of an operation that has ended (its thread joined, `then` run), once.
    std::optional<JobOutcome> collect();
    // Makes cancelled() true for the running operation.
    void cancel() noexcept { cancel_.store(true); }
    const std::string& title() const noexcept { return title_; }

private:
    void step(std::string_view description, std::uint64_t total, ProgressUnit unit) override;
    void advance(std::uint64_t done) override;
    void finish(bool ok) override;
    void note(std::string_view line) override;
    bool cancelled() const override { return cancel_.load(); }
    void wake() noexcept;

    UniqueFd wake_read_, wake_write_;
    std::thread thread_;
    std::atomic<bool> running_{false};
    std::atomic<bool> cancel_{false};
    std::string title_;
    Then then_;
    mutable std::mutex mu_;
    JobProgress progress_;
    std::chrono::steady_clock::time_point started_;
    std::optional<JobOutcome> outcome_;
    std::chrono::steady_clock::time_point last_wake_;
};

}  // namespace karapace::tui
