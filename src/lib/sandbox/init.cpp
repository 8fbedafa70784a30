// Step: PID 1 of the sandbox's pid namespace, inside our own binary. The kernel delivers to a
// namespace init only the signals it handles, and kills the whole namespace when it exits — so
// init must forward signals to the command, reap what gets reparented to it, and exit exactly
// when the command does, with its status.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "karapace/util/process.hpp"
#include "sandbox/child.hpp"
#include "sandbox/steps.hpp"

namespace karapace::sandbox {

sigset_t init_signal_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD})
        sigaddset(&set, sig);
    return set;
}

void forget_caller_environment() {
    // arg_start, arg_end, env_start, env_end are fields 48 to 51 of /proc/self/stat; what
    // /proc/1/cmdline and /proc/1/environ show is the memory between them.
    char buf[2048];
    int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return;
    buf[n] = '\0';
    const char* p = proc_stat_field(buf, 48);
    if (p == nullptr) return;
    unsigned long field[4] = {};  // fields 48 to 51
    for (auto& value : field) {
        char* end = nullptr;
        value = std::strtoul(p, &end, 10);
        p = end;
    }
    unsigned long arg_start = field[0], arg_end = field[1];
    unsigned long env_start = field[2], env_end = field[3];
    static char* empty[] = {nullptr};
    environ = empty;
    if (env_start != 0 && env_end > env_start)
        std::memset(reinterpret_cast<void*>(env_start), 0, env_end - env_start);
    if (arg_start != 0 && arg_end > arg_start) {
        static constexpr char name[] = "karapace-init";
        std::size_t len = arg_end - arg_start;
        std::memset(reinterpret_cast<void*>(arg_start), 0, len);
        std::memcpy(reinterpret_cast<void*>(arg_start), name, std::min(len - 1, sizeof name - 1));
    }
}

namespace {

// /dev/null in place of the caller's terminal or pipes: a lingering init must not hold them (a
// shell reading the command's output waits for every writer to close it).
void release_stdio() {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    for (int fd = 0; fd < 3; ++fd) {
        if (null >= 0 && null != fd)
            ::dup2(null, fd);
        else if (null < 0)
            ::close(fd);
    }
    if (null > 2) ::close(null);
}

// Lingering: the sandbox stays as it is, with nothing running in it, for runs that join it (each
// sends SIGUSR1, and the time starts again) until `seconds` pass without one or a signal that
// ends sessions (stop's SIGTERM) arrives.
void linger(const sigset_t& forwarded, int seconds) {
    for (;;) {
        timespec wait{seconds, 0};
        siginfo_t info{};
        int sig = ::sigtimedwait(&forwarded, &info, &wait);
        if (sig < 0 && errno == EINTR) continue;
        if (sig == SIGUSR1 || sig == SIGCHLD || sig == SIGWINCH || sig == SIGCONT) {
            while (::waitpid(-1, nullptr, WNOHANG) > 0) {}
            continue;
        }
        return;  // the time is up, or an end was asked for
    }
}

// The command has ended: nothing else in the namespace may outlive it (background processes
// still writing to the writable layer), so init ends them and reaps every one before telling the
// parent the status. The parent can then return while the kernel tears the namespaces down, or
// while init lingers (`linger_for` seconds) for the next run.
[[noreturn]] void finish(int status, int status_fd, const sigset_t& forwarded, int linger_for) {
    if (status_fd >= 0) {
        ::signal(SIGPIPE, SIG_IGN);  // a parent that stopped listening must not change the status
        ::kill(-1, SIGKILL);         // every process of this pid namespace but init
        while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {}
        if (linger_for > 0) release_stdio();
        ssize_t ignored = ::write(status_fd, &status, sizeof status);
        (void)ignored;
        ::close(status_fd);
        if (linger_for > 0) linger(forwarded, linger_for);
    }
    ::_exit(status);
}

}  // namespace

void run_init(pid_t child, const sigset_t& forwarded, bool own_session, int status_fd,
              int linger_for) {
    for (;;) {
        siginfo_t info{};
        int sig = ::sigwaitinfo(&forwarded, &info);
        if (sig < 0) continue;  // EINTR
        if (sig != SIGCHLD) {
            // A signal the terminal sent to our whole process group (Ctrl-C, resize) has
            // reached the command too, unless it runs in a session of its own; forwarding it
            // would deliver it twice.
            if (own_session || info.si_code != SI_KERNEL) ::kill(child, sig);
            continue;
        }
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) break;
            if (pid == child) finish(decode_status(status), status_fd, forwarded, linger_for);
        }
    }
}

}  // namespace karapace::sandbox
