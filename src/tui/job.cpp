#include "tui/job.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <exception>
#include <new>

#include "karapace/util/error.hpp"

namespace karapace::tui {

namespace {
// Progress wakes the screen at most this often; the end of an operation always wakes it.
constexpr auto wake_interval = std::chrono::milliseconds(50);
}  // namespace

JobRunner::JobRunner() {
    Pipe p;
    // Neither end may block: a burst of progress must not stall the operation, and draining
    // stops when the pipe is empty.
    ::fcntl(p.read.get(), F_SETFL, O_NONBLOCK);
    ::fcntl(p.write.get(), F_SETFL, O_NONBLOCK);
    wake_read_ = std::move(p.read);
    wake_write_ = std::move(p.write);
}

JobRunner::~JobRunner() {
    cancel();
    if (thread_.joinable()) thread_.join();
}

void JobRunner::wake() noexcept {
    char c = 1;
    ssize_t ignored = ::write(wake_write_.get(), &c, 1);
    (void)ignored;
}

void JobRunner::drain_wake() noexcept {
    char buf[64];
    while (::read(wake_read_.get(), buf, sizeof buf) > 0) {}
}

bool JobRunner::start(std::string title, Work work, Then then) {
    if (running_.load()) return false;
    if (thread_.joinable()) thread_.join();  // a finished operation not collected yet
    title_ = std::move(title);
    then_ = std::move(then);
    cancel_.store(false);
    {
        std::lock_guard lock(mu_);
        progress_ = JobProgress{};
        progress_.title = title_;
        outcome_.reset();
        started_ = std::chrono::steady_clock::now();
    }
    running_.store(true);
    thread_ = std::thread([this, work = std::move(work)] {
        JobOutcome out;
        try {
            out.message = work(*this);
            out.ok = true;
        } catch (const Error& e) {
            out.message = std::string("error: ") + e.what();
            out.hint = e.hint();
        } catch (const std::bad_alloc&) {
            out.message = "error: out of memory";
        } catch (const std::exception& e) {
            // A bug in the operation: the screen stays up and says so.
            out.message = std::string("error: internal error: ") + e.what();
            out.hint = "please report this with what you did in the TUI";
        }
        {
            std::lock_guard lock(mu_);
            outcome_ = std::move(out);
        }
        running_.store(false);
        wake();
    });
    return true;
}

JobProgress JobRunner::progress() const {
    std::lock_guard lock(mu_);
    auto p = progress_;
    p.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    return p;
}

std::optional<JobOutcome> JobRunner::collect() {
    if (running_.load()) return std::nullopt;
    std::optional<JobOutcome> out;
    {
        std::lock_guard lock(mu_);
        out = std::exchange(outcome_, std::nullopt);
    }
    if (!out) return std::nullopt;
    if (thread_.joinable()) thread_.join();
    if (then_) std::exchange(then_, {})(*out);
    return out;
}

void JobRunner::step(std::string_view description, std::uint64_t total, ProgressUnit unit) {
    {
        std::lock_guard lock(mu_);
        progress_.step = description;
        progress_.total = total;
        progress_.done = 0;
        progress_.unit = unit;
    }
    wake();
}

void JobRunner::advance(std::uint64_t done) {
    auto now = std::chrono::steady_clock::now();
    bool due = false;
    {
        std::lock_guard lock(mu_);
        progress_.done = done;
        if (now - last_wake_ >= wake_interval) {
            last_wake_ = now;
            due = true;
        }
    }
    if (due) wake();
}

void JobRunner::finish(bool ok) {
    (void)ok;
    wake();
}

void JobRunner::note(std::string_view line) {
    {
        std::lock_guard lock(mu_);
        progress_.note = line;
    }
    wake();
}

}  // namespace karapace::tui
