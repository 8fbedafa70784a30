// What the library and the sandbox's init program (src/init/karapace_init.cpp) share. The
// library builds the sandbox and then executes `karapace-init`, a small static program, as PID 1
// (a fresh process image instead of a copy of the caller's memory: nothing of the caller's is in
// it, and neither the caller nor init pays the copy-on-write faults a fork costs). init starts
// the command, confines it and waits for it. Its command line:
//
//   karapace-init [OPTION]... -- COMMAND [ARGUMENT]...
//
// with the command's environment as its own. Both are wiped from init's memory (what
// /proc/1/cmdline and /proc/1/environ show) before the command starts. Options:
//
//   go-fd=N         read the go byte (below) from descriptor N first
//   go=C            the go byte, already read by whoever executed init
//   err=N           the error pipe: errors until the command executes (wire format, below)
//   status=N        the status pipe: the command's status as an int, once all else has ended
//   linger=S        seconds a lingering sandbox stays (when the go byte says it lingers)
//   listen=N        descriptors 3 .. 3+N-1 are socket-activation sockets passed on
//   ids=UID:GID     the command becomes these ids in the user namespace
//   caps=MASK:LAST  the capabilities (hexadecimal bit mask) the command keeps; LAST is the
//                   kernel's last capability, -1 when unknown
//   seccomp=HEX     the command's seccomp filter, a classic BPF program in hexadecimal
//   rlimit-as=N     RLIMIT_AS for the command (when the go byte says so)
//   rlimit-nproc=N  RLIMIT_NPROC for the command (when the go byte says so)
//   nnp             the command gets no_new_privs
//   cwd=PATH        the command's working directory
//   interactive     the command takes the terminal's foreground
//
// Everything here is allocation-free and never throws: init is a static program without the C++
// runtime's exceptions.
#pragma once

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace karapace::sandbox::init_start {

// The go byte: the parent has set up everything (id maps, limits, the session record).
inline constexpr char kGo = 'g';
inline constexpr char kGoWithRlimits = 'r';
// The same, and init lingers once the command has ended (SandboxSpec::linger).
inline constexpr char kGoLinger = 'l';
inline constexpr char kGoWithRlimitsLinger = 'L';

constexpr char go_byte(bool rlimits, bool lingers) {
    return lingers ? (rlimits ? kGoWithRlimitsLinger : kGoLinger)
                   : (rlimits ? kGoWithRlimits : kGo);
}
constexpr bool go_sets_rlimits(char go) {
    return go == kGoWithRlimits || go == kGoWithRlimitsLinger;
}
constexpr bool go_lingers(char go) { return go == kGoLinger || go == kGoWithRlimitsLinger; }

// The signals init forwards to the command, plus SIGCHLD: blocked before init is executed (a
// namespace's init drops signals it has no handler for unless they are blocked, and the mask
// survives execve), and waited for with sigwaitinfo.
inline sigset_t signal_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD})
        sigaddset(&set, sig);
    return set;
}

// A waitpid status as an exit code: the code, or 128 + the signal.
constexpr int decode_status(int status) noexcept {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}

// The error wire format (wire.hpp): the category, then the message and the hint, each as a
// little-endian 16-bit length and its bytes. Texts are cut at kMaxText so that a whole error
// stays below PIPE_BUF: one write, atomic, never blocking on an empty pipe.
inline constexpr std::size_t kMaxText = 1800;
inline constexpr std::size_t kMaxEncodedError = 1 + 2 * (2 + kMaxText);

// Encodes into `out` (kMaxEncodedError bytes); returns the length.
inline std::size_t encode_error(char* out, unsigned char code, const char* message,
                                const char* hint) noexcept {
    std::size_t pos = 0;
    out[pos++] = static_cast<char>(code);
    for (const char* text : {message, hint}) {
        std::size_t n = text ? std::strlen(text) : 0;
        if (n > kMaxText) n = kMaxText;
        out[pos++] = static_cast<char>(n & 0xff);
        out[pos++] = static_cast<char>(n >> 8);
        if (n) std::memcpy(out + pos, text, n);
        pos += n;
    }
    return pos;
}

// ---- the command's last steps before execve ------------------------------------------------
// Each returns 0, or the errno of the call that failed.

// Only these capabilities stay in the bounding, permitted and effective sets; the rest of the
// bounding set (up to `last_cap`, or while PR_CAPBSET_READ knows the capability when it is -1) is
// dropped, the inheritable and ambient sets cleared.
inline int keep_capabilities(std::uint64_t keep, int last_cap) noexcept {
    auto known = [last_cap](int cap) {
        return last_cap >= 0 ? cap <= last_cap : ::prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
    };
    for (int cap = 0; cap < 64 && known(cap); ++cap) {
        if ((keep >> cap) & 1) continue;
        if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return errno;
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return errno;
    for (int i = 0; i < 2; ++i) {
        auto mask = static_cast<std::uint32_t>(keep >> (32 * i));
        data[i].effective &= mask;
        data[i].permitted &= mask;
        // None inheritable (as Docker and Podman give): init passed the set on in it.
        data[i].inheritable = 0;
    }
    if (::syscall(SYS_capset, &header, data) != 0) return errno;
    // Kernels before 4.3 have no ambient set; nothing to clear there.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        return errno;
    return 0;
}

inline int install_filter(sock_filter* program, unsigned short length) noexcept {
    sock_fprog fprog{length, program};
    return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0) == 0 ? 0 : errno;
}

// tcsetpgrp from a background process group raises SIGTTOU; blocked around the call.
inline void set_foreground(pid_t pgrp) noexcept {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &block, &old);
    ::tcsetpgrp(STDIN_FILENO, pgrp);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
}

// The command becomes a process group of its own and the terminal's foreground group.
inline void take_terminal_foreground() noexcept {
    if (!::isatty(STDIN_FILENO)) return;
    ::setpgid(0, 0);
    set_foreground(::getpgrp());
}

}  // namespace karapace::sandbox::init_start
