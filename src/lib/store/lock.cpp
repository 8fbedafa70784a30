#include "karapace/store/lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <string>
#include <thread>

#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"

namespace karapace::store {

namespace {

UniqueFd open_lock_file(const Layout& layout) {
    make_dirs(layout.store_dir(), 0700);
    UniqueFd fd(::open(layout.lock_file().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) throw_errno(Errc::store, "cannot open the store lock " + layout.lock_file());
    return fd;
}

bool try_flock(int fd, LockMode mode) {
    int op = (mode == LockMode::exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
    for (;;) {
        if (::flock(fd, op) == 0) return true;
        if (errno == EINTR) continue;
        if (errno == EWOULDBLOCK) return false;
        throw_errno(Errc::store, "cannot lock the store");
    }
}

// The lock file holds "<pid> <start time>" of the last holder. It is rewritten in place (never
// replaced: the flock is on this inode).
void record_holder(int fd) {
    int pid = static_cast<int>(::getpid());
    auto start = process_start_time(pid).value_or(0);
    std::string text = std::to_string(pid) + " " + std::to_string(start) + "\n";
    if (::ftruncate(fd, 0) == 0) {
        if (::pwrite(fd, text.data(), text.size(), 0) < 0)
            log::debug("cannot record the store lock holder: ", std::strerror(errno));
    }
}

std::string waiting_message(const Layout& layout) {
    auto holder = lock_holder(layout);
    if (holder) return "waiting for store lock (held by pid " + std::to_string(*holder) + ")";
    return "waiting for store lock (held by another process)";
}

}  // namespace

std::optional<int> lock_holder(const Layout& layout) {
    std::string text;
    try {
        text = read_file_limited(layout.lock_file(), 256);
    } catch (const Error&) {
        return std::nullopt;
    }
    std::istringstream in(text);
    int pid = 0;
    unsigned long long start = 0;
    if (!(in >> pid >> start) || pid <= 0) return std::nullopt;
    if (!process_alive(pid, start)) return std::nullopt;
    return pid;
}

StoreLock StoreLock::acquire(const Layout& layout, LockMode mode, const LockOptions& opts) {
    UniqueFd fd = open_lock_file(layout);
    if (try_flock(fd.get(), mode)) {
        record_holder(fd.get());
        return StoreLock(std::move(fd), mode);
    }
    std::string message = waiting_message(layout);
    if (opts.timeout.count() == 0)
        throw Error(Errc::busy, "cannot take the store lock at once: " + message,
                    "try again when the other karapace command has finished");
    if (opts.on_wait) opts.on_wait(message);
    auto start = std::chrono::steady_clock::now();
    auto pause = std::chrono::milliseconds(5);
    for (;;) {
        std::this_thread::sleep_for(pause);
        if (try_flock(fd.get(), mode)) break;
        pause = std::min(pause * 2, std::chrono::milliseconds(100));
        if (opts.timeout.count() > 0 && std::chrono::steady_clock::now() - start >= opts.timeout)
            throw Error(
                Errc::busy,
                log::cat("timed out after ", opts.timeout.count(), " ms ", waiting_message(layout)),
                "the other karapace command still runs; wait for it or raise "
                "--lock-timeout");
    }
    record_holder(fd.get());
    return StoreLock(std::move(fd), mode);
}

std::optional<StoreLock> StoreLock::try_acquire(const Layout& layout, LockMode mode) {
    UniqueFd fd = open_lock_file(layout);
    if (!try_flock(fd.get(), mode)) return std::nullopt;
    record_holder(fd.get());
    return StoreLock(std::move(fd), mode);
}

void StoreLock::require_exclusive(const char* operation) const {
    if (!fd_ || mode_ != LockMode::exclusive)
        throw Error(Errc::failed,
                    std::string(operation) + " needs the store lock held exclusively");
}

void StoreLock::release() noexcept { fd_.reset(); }

}  // namespace karapace::store
