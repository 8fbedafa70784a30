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
//   slice=N         the command's time slice in nanoseconds, 0 for the kernel's default: the
//                   caller's, which the run's own processes shortened (slice.hpp)
//   cpus=HEX        the processors the command may run on, a hexadecimal mask as taskset(1)
//                   writes one (processor 0 the lowest bit): the caller's, which a new
//                   sandbox's own processes narrowed to one (cpus.hpp); a lingering init takes
//                   them back itself when it starts lingering (not in a lingering init's
//                   requests: it takes runs only from callers with its processors)
//   nnp             the command gets no_new_privs
//   cwd=PATH        the command's working directory
//   interactive     the command takes the terminal's foreground
//   serve=N         descriptor N is a listening socket on which a lingering init takes runs
//                   (below)
//
// Everything here is allocation-free and never throws, and what init uses of it calls no libc:
// init is a static program without the C++ runtime, and on x86-64 without libc.
#pragma once

#include <errno.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

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
inline constexpr int kInitSignals[] = {SIGTERM, SIGINT,   SIGHUP,  SIGQUIT, SIGUSR1,
                                       SIGUSR2, SIGWINCH, SIGCONT, SIGCHLD};
inline sigset_t signal_set() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kInitSignals)
        sigaddset(&set, sig);
    return set;
}
// The same as the kernel's 64-bit signal mask (rt_sigprocmask, rt_sigtimedwait).
constexpr std::uint64_t signal_bit(int sig) { return std::uint64_t{1} << (sig - 1); }
constexpr std::uint64_t signal_mask() {
    std::uint64_t mask = 0;
    for (int sig : kInitSignals)
        mask |= signal_bit(sig);
    return mask;
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
    const char* texts[] = {message, hint};
    for (const char* text : texts) {
        std::size_t n = 0;
        while (text && text[n] && n < kMaxText)
            ++n;
        out[pos++] = static_cast<char>(n & 0xff);
        out[pos++] = static_cast<char>(n >> 8);
        for (std::size_t i = 0; i < n; ++i)
            out[pos++] = text[i];
    }
    return pos;
}

// ---- runs a lingering init starts -----------------------------------------------------------
// A lingering init (go byte kGoLinger) with serve=N accepts connections on that SOCK_SEQPACKET
// socket, one at a time, while nothing runs in its sandbox: a caller of init's own user asks it
// to start a command there, which saves the caller the processes that joining takes (a helper
// that enters the namespaces, an init of its own). The request is two messages: a RunRequest with
// the command's standard input, output and error attached (SCM_RIGHTS, three descriptors), then
// `bytes` bytes of NUL-terminated strings: `options` of init's per-command options (ids, caps,
// seccomp, nnp, cwd, slice; the first four must be what the sandbox's first command got),
// `arguments` of the command line, `environment` of its environment. Each reply is one message:
// kReplyAccepted once init has taken the request (a request it does not take gets no reply, and
// the caller starts its run another way), an encoded error after kReplyError when the command
// could not be started, and kReplyStatus with the command's status as an int once everything it
// left running has ended.
struct RunRequest {
    std::uint32_t magic, bytes, options, arguments, environment;
};
inline constexpr std::uint32_t kRunRequestMagic = 0x6b707231;  // "kpr1"

// A RunRequest with room for its three descriptors, as sendmsg and recvmsg take it.
struct RunRequestMessage {
    RunRequest header{};
    alignas(cmsghdr) char control[CMSG_SPACE(3 * sizeof(int))] = {};
    iovec part{&header, sizeof header};
    msghdr message{};
    RunRequestMessage() {
        message.msg_iov = &part;
        message.msg_iovlen = 1;
        message.msg_control = control;
        message.msg_controllen = sizeof control;
    }
    RunRequestMessage(const RunRequestMessage&) = delete;
    RunRequestMessage& operator=(const RunRequestMessage&) = delete;
};
inline constexpr std::uint32_t kMaxRunRequestBytes = 1u << 20;
inline constexpr char kReplyAccepted = 'A';
inline constexpr char kReplyError = 'E';
inline constexpr char kReplyStatus = 'S';

// ---- the command's last steps before execve ------------------------------------------------
// Made through `sys(number, arguments...)`, which returns what the kernel returned: a negative
// errno on failure. The library passes LibcSys; karapace-init, which has no libc on some
// architectures, its own. Each returns 0, or the errno of the call that failed.

// A system call argument as the kernel takes it.
template <typename T>
long as_argument(T value) {
    if constexpr (std::is_null_pointer_v<T>)
        return 0;
    else if constexpr (std::is_pointer_v<T>)
        return reinterpret_cast<long>(value);
    else
        return static_cast<long>(value);
}

struct LibcSys {
    template <typename... A>
    long operator()(long number, A... arguments) const {
        long r = ::syscall(number, as_argument(arguments)...);
        return r < 0 ? -errno : r;
    }
};

// Only these capabilities stay in the bounding, permitted and effective sets; the rest of the
// bounding set (up to `last_cap`, or while PR_CAPBSET_READ knows the capability when it is -1) is
// dropped, the inheritable and ambient sets cleared.
template <typename Sys>
int keep_capabilities(const Sys& sys, std::uint64_t keep, int last_cap) noexcept {
    auto known = [&](int cap) {
        return last_cap >= 0 ? cap <= last_cap : sys(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0) >= 0;
    };
    for (int cap = 0; cap < 64 && known(cap); ++cap) {
        if ((keep >> cap) & 1) continue;
        if (long r = sys(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0); r < 0)
            return static_cast<int>(-r);
    }
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[2] = {};
    if (long r = sys(SYS_capget, &header, &data[0]); r < 0) return static_cast<int>(-r);
    for (int i = 0; i < 2; ++i) {
        auto mask = static_cast<std::uint32_t>(keep >> (32 * i));
        data[i].effective &= mask;
        data[i].permitted &= mask;
        // None inheritable (as Docker and Podman give): init passed the set on in it.
        data[i].inheritable = 0;
    }
    if (long r = sys(SYS_capset, &header, &data[0]); r < 0) return static_cast<int>(-r);
    // Kernels before 4.3 have no ambient set; nothing to clear there.
    long r = sys(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    return r < 0 && r != -EINVAL ? static_cast<int>(-r) : 0;
}

template <typename Sys>
int install_filter(const Sys& sys, sock_filter* program, unsigned short length) noexcept {
    sock_fprog fprog{length, program};
    long r = sys(SYS_prctl, PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
    return r < 0 ? static_cast<int>(-r) : 0;
}

// The scheduling attributes of sched_getattr(2)/sched_setattr(2) as far as a normal task has
// them (SCHED_ATTR_SIZE_VER0).
struct SchedAttr {
    std::uint32_t size = sizeof(SchedAttr);
    std::uint32_t policy = 0;
    std::uint64_t flags = 0;
    std::int32_t nice = 0;
    std::uint32_t priority = 0;
    // For a normal task (Linux 6.12 and later): its time slice in nanoseconds; 0 elsewhere.
    std::uint64_t runtime = 0, deadline = 0, period = 0;
};
static_assert(sizeof(SchedAttr) == 48);

// The attributes of process `pid` (0: the calling thread); false when the kernel has no
// sched_getattr or there is no such process.
template <typename Sys>
bool get_sched(const Sys& sys, SchedAttr& attr, pid_t pid = 0) noexcept {
    return sys(SYS_sched_getattr, pid, &attr, sizeof attr, 0) == 0;
}

// Gives the calling thread, a normal task, the time slice `runtime` (nanoseconds; 0 for the
// kernel's default), its policy and nice value as they are. 0, or the errno.
template <typename Sys>
int set_slice(const Sys& sys, std::uint64_t runtime) noexcept {
    SchedAttr attr;
    if (!get_sched(sys, attr)) return ENOSYS;
    attr.size = sizeof attr;
    attr.flags = 0;
    attr.runtime = runtime;
    long r = sys(SYS_sched_setattr, 0, &attr, 0);
    return r < 0 ? static_cast<int>(-r) : 0;
}

// The processors a thread may run on, as sched_setaffinity(2) takes them: processor i is bit
// i % 64 of word i / 64. `words` of them count (none: unknown).
struct CpuMask {
    static constexpr std::size_t kMaxWords = 128;  // 8,192 processors
    std::uint64_t bits[kMaxWords] = {};
    std::size_t words = 0;
    std::size_t bytes() const noexcept { return words * sizeof bits[0]; }
};

// `hex` (cpus=HEX) into `out`; false when it is empty, longer than a mask holds, or anything but
// lower-case hexadecimal digits.
inline bool parse_cpu_mask(const char* hex, CpuMask& out) noexcept {
    std::size_t n = 0;
    while (hex[n])
        ++n;
    if (n == 0 || n > 16 * CpuMask::kMaxWords) return false;
    out = CpuMask{};
    for (std::size_t i = 0; i < n; ++i) {
        char c = hex[n - 1 - i];  // the lowest digit first
        unsigned digit;
        if (c >= '0' && c <= '9')
            digit = static_cast<unsigned>(c - '0');
        else if (c >= 'a' && c <= 'f')
            digit = static_cast<unsigned>(c - 'a' + 10);
        else
            return false;
        out.bits[i / 16] |= std::uint64_t{digit} << (4 * (i % 16));
    }
    out.words = (n + 15) / 16;
    return true;
}

// Lets the calling thread run on the processors of `mask` (all of them that are online and its
// cgroup allows). 0, or the errno.
template <typename Sys>
int set_cpus(const Sys& sys, const CpuMask& mask) noexcept {
    long r = sys(SYS_sched_setaffinity, 0, mask.bytes(), mask.bits);
    return r < 0 ? static_cast<int>(-r) : 0;
}

// tcsetpgrp from a background process group raises SIGTTOU; blocked around the call.
template <typename Sys>
void set_foreground(const Sys& sys, pid_t pgrp) noexcept {
    std::uint64_t block = signal_bit(SIGTTOU), old = 0;
    sys(SYS_rt_sigprocmask, SIG_BLOCK, &block, &old, sizeof block);
    sys(SYS_ioctl, STDIN_FILENO, TIOCSPGRP, &pgrp);
    sys(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof old);
}

// Whether `fd` is a terminal (what isatty(3) asks the kernel).
template <typename Sys>
bool is_terminal(const Sys& sys, int fd) noexcept {
    alignas(8) unsigned char termios[64];
    return sys(SYS_ioctl, fd, TCGETS, termios) == 0;
}

// The command becomes a process group of its own and the terminal's foreground group.
template <typename Sys>
void take_terminal_foreground(const Sys& sys) noexcept {
    if (!is_terminal(sys, STDIN_FILENO)) return;
    sys(SYS_setpgid, 0, 0);
    set_foreground(sys, static_cast<pid_t>(sys(SYS_getpgid, 0)));
}

}  // namespace karapace::sandbox::init_start
