// The command's confinement, applied in a child process: the capabilities it keeps and the
// seccomp filter's answers to the calls it refuses and to the ones it must let through.
#include "karapace/sandbox/confine.hpp"

#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <fstream>
#include <string>

#include "karapace/sandbox/userns.hpp"
#include "sandbox/init_start.hpp"

using namespace karapace::sandbox;

namespace {

// Runs `fn` in a forked child and returns its exit status (the parent stays unconfined).
template <typename F>
int in_child(F fn) {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(fn());
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string status_line(const std::string& key) {
    std::ifstream in("/proc/self/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
    return {};
}

}  // namespace

TEST_CASE("the filter refuses TIOCSTI, TIOCLINUX and the keyring, and lets other calls through") {
    int status = in_child([] {
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 10;
        auto prog = seccomp_program();
        if (init_start::install_filter(init_start::LibcSys{}, prog.data(),
                                       static_cast<unsigned short>(prog.size())) != 0)
            return 19;
        char c = 'x';
        if (::ioctl(0, TIOCSTI, &c) != -1 || errno != EPERM) return 11;
        // The kernel reads the request as 32 bits: a set high half must not slip through.
        if (::syscall(SYS_ioctl, 0, 0x100000000UL | TIOCSTI, &c) != -1 || errno != EPERM) return 12;
        if (::ioctl(0, TIOCLINUX, &c) != -1 || errno != EPERM) return 13;
        if (::syscall(SYS_keyctl, 0, 0, 0, 0, 0) != -1 || errno != ENOSYS) return 14;
        if (::syscall(SYS_add_key, "user", "k", "v", 1, 0) != -1 || errno != ENOSYS) return 15;
        // An ordinary ioctl reaches the kernel (a pipe is no terminal).
        int fds[2];
        if (::pipe(fds) != 0) return 16;
        int n = 0;
        if (::ioctl(fds[0], FIONREAD, &n) != 0) return 17;
        if (::getpid() <= 0) return 18;
        return 0;
    });
    CHECK(status == 0);
}

TEST_CASE("the kernel's last capability is read once, as PR_CAPBSET_READ finds it") {
    int probed = -1;
    while (probed < 63 && ::prctl(PR_CAPBSET_READ, probed + 1, 0, 0, 0) >= 0)
        ++probed;
    CHECK(last_capability() == probed);
}

TEST_CASE("root inside keeps a container's usual capabilities, never CAP_SYS_ADMIN") {
    for (int given : {-1, last_capability()}) {
        int status = run_in_userns(
            [given] {
                return in_child([given] {
                    if (init_start::keep_capabilities(init_start::LibcSys{},
                                                      container_capability_mask(), given) != 0)
                        return 23;
                    std::uint64_t want = 0;
                    for (const auto& c : container_capabilities())
                        want |= std::uint64_t{1} << c.value;
                    auto bounding = std::stoull(status_line("CapBnd"), nullptr, 16);
                    auto effective = std::stoull(status_line("CapEff"), nullptr, 16);
                    if (bounding != want) return 20;
                    if (effective != want) return 21;
                    if (::prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0) return 22;
                    return 0;
                });
            },
            IdMapping::container_root);
        CHECK(status == 0);
    }
}
