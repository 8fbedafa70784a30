// Process plumbing shared by the sandbox steps: a fork-like clone into new namespaces, the
// bytes that synchronise parent and child over a Pipe (util/fd.hpp), and exit-status decoding.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <array>
#include <utility>
#include <vector>

#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

// clone(2) with fork semantics (the child returns 0 and runs on a copy of our stack) into the
// namespaces in `flags`. Throws Error(runtime) when the kernel refuses, with a hint for the
// usual cause (user namespaces disabled).
pid_t clone_process(unsigned long flags);
// The same error for a clone(2) that failed with `err`.
[[noreturn]] void throw_clone_error(int err);

// Waits for `pid` (retrying on EINTR) and returns its exit code, or 128 + signal.
int wait_exit_status(pid_t pid);

// Decodes a waitpid status the same way.
int decode_status(int status) noexcept;

// Kills (SIGKILL) and reaps the child unless released: an error before the child was let go must
// not leave it waiting.
class ChildGuard {
public:
    explicit ChildGuard(pid_t pid) : pid_(pid) {}
    ~ChildGuard();
    pid_t release() noexcept { return std::exchange(pid_, -1); }
    ChildGuard(const ChildGuard&) = delete;
    ChildGuard& operator=(const ChildGuard&) = delete;

private:
    pid_t pid_;
};

// The signals a run passes on from the caller to the sandbox (and init to the command).
inline constexpr std::array kForwardedSignals{SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// Caller-chosen stdio (a captured build step, a D-Bus Exec) in place of the inherited one:
// descriptors >= 0 in `fds` (stdin, stdout, stderr) are dup2'ed onto 0, 1, 2.
void redirect_stdio(const std::array<int, 3>& fds);

// Blocks until one byte arrives on `fd`; false on end of file (the other side gave up).
bool wait_for_byte(int fd) noexcept;
void send_byte(int fd) noexcept;

}  // namespace karapace::sandbox

namespace karapace::sandbox {
// Closes every fd from 3 up except those in `keep`.
void close_fds_except(std::vector<int> keep);
}  // namespace karapace::sandbox
