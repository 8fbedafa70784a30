#include "sandbox/child.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/close_range.h>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "karapace/util/error.hpp"
#include "sandbox/init_start.hpp"

namespace karapace::sandbox {

void throw_clone_error(int err) {
    std::string hint;
    if (err == EPERM || err == ENOSPC || err == EINVAL)
        hint =
            "user namespaces may be disabled: check sysctl kernel.unprivileged_userns_clone, "
            "user.max_user_namespaces and AppArmor's apparmor_restrict_unprivileged_userns";
    throw Error(err == EPERM ? Errc::permission : Errc::runtime,
                std::string("cannot create the sandbox namespaces: ") + std::strerror(err), hint);
}

pid_t clone_process(unsigned long flags) {
    // The raw system call: glibc's clone() wants a separate stack, fork() cannot take flags.
    long pid = ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid < 0) throw_clone_error(errno);
    return static_cast<pid_t>(pid);
}

int decode_status(int status) noexcept { return init_start::decode_status(status); }

int wait_exit_status(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) throw_errno(Errc::runtime, "cannot wait for the sandbox process");
    }
    return decode_status(status);
}

bool wait_for_byte(int fd) noexcept {
    char c;
    for (;;) {
        ssize_t n = ::read(fd, &c, 1);
        if (n == 1) return true;
        if (n < 0 && errno == EINTR) continue;
        return false;
    }
}

void send_byte(int fd) noexcept {
    char c = 1;
    while (::write(fd, &c, 1) < 0 && errno == EINTR) {}
}

}  // namespace karapace::sandbox

namespace karapace::sandbox {

void close_fds_except(std::vector<int> keep) {
    std::sort(keep.begin(), keep.end());
    unsigned int next = 3;
    for (int fd : keep) {
        if (fd < static_cast<int>(next)) continue;
        if (static_cast<unsigned int>(fd) > next) ::close_range(next, fd - 1, 0);
        next = fd + 1;
    }
    ::close_range(next, ~0U, 0);
}

ChildGuard::~ChildGuard() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    try {
        wait_exit_status(pid_);
    } catch (...) {}
}

void redirect_stdio(const std::array<int, 3>& fds) {
    for (int i = 0; i < 3; ++i)
        if (fds[i] >= 0 && fds[i] != i && ::dup2(fds[i], i) < 0)
            throw_errno(Errc::runtime, "cannot set up the standard streams of the command");
}

}  // namespace karapace::sandbox
