// Step: PID 1 of the sandbox's pid namespace, inside our own binary. The kernel delivers to a
// namespace init only the signals it handles, and kills the whole namespace when it exits — so
// init must forward signals to the command, reap what gets reparented to it, and exit exactly
// when the command does, with its status.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

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

void run_init(pid_t child, const sigset_t& forwarded) {
    for (;;) {
        siginfo_t info{};
        int sig = ::sigwaitinfo(&forwarded, &info);
        if (sig < 0) continue;  // EINTR
        if (sig != SIGCHLD) {
            // A signal the terminal sent to our whole process group (Ctrl-C, resize) has
            // reached the command too; forwarding it would deliver it twice.
            if (info.si_code != SI_KERNEL) ::kill(child, sig);
            continue;
        }
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) break;
            if (pid == child) ::_exit(decode_status(status));
        }
    }
}

}  // namespace karapace::sandbox
