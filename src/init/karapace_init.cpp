// karapace-init: PID 1 of a sandbox. The library builds the sandbox's namespaces and root and then
// executes this small static program in it (src/lib/sandbox/init_start.hpp: how, and what its
// options mean). It starts the command, which confines itself and executes, and stays as the
// command's init: the kernel delivers to a namespace's init only the signals it handles and kills
// the whole namespace when it exits, so init forwards signals to the command, reaps what gets
// reparented to it, and reports the command's status once nothing else runs in the namespace.
//
// Every step is a system call (init/sys.hpp) on data the command line brought: no libc on x86-64,
// no C++ runtime, no allocation but one mapping for the command's argument and environment.
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <climits>
#include <cstdint>
#include <initializer_list>

#include "init/sys.hpp"
#include "karapace/util/error.hpp"
#include "sandbox/init_start.hpp"

namespace {

using karapace::Errc;
using karapace_init::sys;
namespace is = karapace::sandbox::init_start;

constexpr char kName[] = "karapace-init";

// ---- text, without libc ----------------------------------------------------------------------

std::size_t length(const char* s) {
    std::size_t n = 0;
    while (s[n])
        ++n;
    return n;
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b)
        ++a, ++b;
    return *a == *b;
}

// `s` with `prefix` removed, or nullptr when it does not start with it.
const char* after(const char* s, const char* prefix) {
    while (*prefix)
        if (*s++ != *prefix++) return nullptr;
    return s;
}

// A whole unsigned number in base 10 or 16; false when anything else is there or it overflows.
bool number(const char* s, unsigned long long& out, unsigned base = 10) {
    if (*s == '\0') return false;
    unsigned long long n = 0;
    for (; *s; ++s) {
        unsigned digit;
        if (*s >= '0' && *s <= '9')
            digit = static_cast<unsigned>(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            digit = static_cast<unsigned>(*s - 'a' + 10);
        else
            return false;
        if (n > (~0ULL - digit) / base) return false;
        n = n * base + digit;
    }
    out = n;
    return true;
}

// What the C library's strerror says for the errors a start can meet.
const char* error_text(int err) {
    switch (err) {
    case EPERM: return "Operation not permitted";
    case ENOENT: return "No such file or directory";
    case ESRCH: return "No such process";
    case EINTR: return "Interrupted system call";
    case EIO: return "Input/output error";
    case E2BIG: return "Argument list too long";
    case ENOEXEC: return "Exec format error";
    case EBADF: return "Bad file descriptor";
    case ECHILD: return "No child processes";
    case EAGAIN: return "Resource temporarily unavailable";
    case ENOMEM: return "Cannot allocate memory";
    case EACCES: return "Permission denied";
    case EFAULT: return "Bad address";
    case EBUSY: return "Device or resource busy";
    case EEXIST: return "File exists";
    case ENOTDIR: return "Not a directory";
    case EISDIR: return "Is a directory";
    case EINVAL: return "Invalid argument";
    case ENFILE: return "Too many open files in system";
    case EMFILE: return "Too many open files";
    case ETXTBSY: return "Text file busy";
    case ENOSPC: return "No space left on device";
    case EROFS: return "Read-only file system";
    case ELOOP: return "Too many levels of symbolic links";
    case ENAMETOOLONG: return "File name too long";
    case ENOSYS: return "Function not implemented";
    case EDQUOT: return "Disk quota exceeded";
    default: return nullptr;
    }
}

// A message built in a fixed buffer (cut when full).
class Text {
public:
    Text& add(const char* s) {
        while (*s && n_ < sizeof buf_ - 1)
            buf_[n_++] = *s++;
        buf_[n_] = '\0';
        return *this;
    }
    Text& add_number(unsigned long long v) {
        char digits[24];
        int i = 0;
        do {
            digits[i++] = static_cast<char>('0' + v % 10);
            v /= 10;
        } while (v);
        while (i > 0 && n_ < sizeof buf_ - 1)
            buf_[n_++] = digits[--i];
        buf_[n_] = '\0';
        return *this;
    }
    Text& add_error(int err) {
        if (const char* text = error_text(err)) return add(text);
        return add("error ").add_number(static_cast<unsigned>(err));
    }
    const char* c_str() const { return buf_; }
    std::size_t size() const { return n_; }

private:
    char buf_[PATH_MAX + 256] = {};
    std::size_t n_ = 0;
};

// ---- the plan ----------------------------------------------------------------------------------

// What confines the command: its ids, capabilities, seccomp filter (its length here) and
// no_new_privs.
struct Confinement {
    bool switch_ids = false;
    unsigned uid = 0, gid = 0;
    bool confine_caps = false;
    std::uint64_t caps = 0;
    int last_cap = -1;
    unsigned short filter_length = 0;
    bool nnp = false;
    bool operator==(const Confinement&) const = default;
};

struct Plan {
    int go_fd = -1;
    char go = 0;
    int err_fd = -1;
    int status_fd = -1;
    int linger = 0;
    int listen = 0;
    Confinement confinement;
    std::uint64_t rlimit_as = 0, rlimit_nproc = 0;
    // The caller's time slice, which the command gets back (slice=N).
    bool slice_given = false;
    std::uint64_t slice = 0;
    // The caller's processors, which the command gets back (cpus=HEX); none given: words == 0.
    is::CpuMask cpus;
    bool interactive = false;
    char** argv = nullptr;  // the command's, a copy (the originals are wiped)
    char** envp = nullptr;
    bool own_session = false;
    int serve_fd = -1;
    // While a run asked for on serve_fd is started and waited for: its standard streams, and
    // err_fd is the caller's connection.
    bool serving = false;
    int stdio[3] = {-1, -1, -1};
};

Plan plan;
char cwd[PATH_MAX] = "/";
sock_filter filter[BPF_MAXINSNS];
// A signal that ends sessions (stop's SIGTERM, a hangup) arrived while a command ran: the
// sandbox does not linger after it.
bool end_asked = false;

// One message on a connection of serve=N; a caller that went away raises no SIGPIPE.
void reply(int fd, const void* data, std::size_t n) {
    while (sys(SYS_sendto, fd, data, n, MSG_NOSIGNAL, nullptr, 0) == -EINTR) {}
}

// ---- errors ------------------------------------------------------------------------------------

void send_error(Errc code, const char* message, const char* hint = "") {
    if (plan.err_fd < 0) {
        Text line;
        line.add(kName).add(": ").add(message).add("\n");
        sys(SYS_write, 2, line.c_str(), line.size());
        return;
    }
    char out[1 + is::kMaxEncodedError];
    out[0] = is::kReplyError;
    std::size_t n = is::encode_error(out + 1, static_cast<unsigned char>(code), message, hint);
    if (plan.serving) return reply(plan.err_fd, out, n + 1);
    while (sys(SYS_write, plan.err_fd, out + 1, n) == -EINTR) {}
}

// What failed and the kernel's reason, in the category the library's throw_errno would give.
[[noreturn]] void fail(const Text& what, int err, int status = 125) {
    Text message;
    message.add(what.c_str()).add(": ").add_error(err);
    send_error(err == EACCES || err == EPERM ? Errc::permission : Errc::runtime, message.c_str(),
               err == ENOSPC || err == EDQUOT ? "free some disk space and try again" : "");
    karapace_init::exit_now(status);
}
[[noreturn]] void fail(const char* what, int err) {
    Text t;
    t.add(what);
    fail(t, err);
}

// ---- the command line --------------------------------------------------------------------------

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool parse_filter(const char* hex) {
    std::size_t n = length(hex);
    if (n == 0 || n % (2 * sizeof(sock_filter)) != 0 || n / 2 / sizeof(sock_filter) > BPF_MAXINSNS)
        return false;
    auto* bytes = reinterpret_cast<unsigned char*>(filter);
    for (std::size_t i = 0; i < n / 2; ++i) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    plan.confinement.filter_length = static_cast<unsigned short>(n / 2 / sizeof(sock_filter));
    return true;
}

bool small_number(const char* text, int& out) {
    unsigned long long n = 0;
    if (!number(text, n) || n > INT_MAX) return false;
    out = static_cast<int>(n);
    return true;
}

// "A:B": A copied into `first` (`room` bytes), and B; nullptr without a colon or when A is too
// long.
const char* split_at_colon(const char* v, char* first, std::size_t room) {
    std::size_t i = 0;
    for (; v[i] && v[i] != ':'; ++i) {
        if (i + 1 >= room) return nullptr;
        first[i] = v[i];
    }
    first[i] = '\0';
    return v[i] == ':' ? v + i + 1 : nullptr;
}

bool parse_option(const char* option) {
    unsigned long long n = 0, m = 0;
    if (const char* v = after(option, "go-fd=")) return small_number(v, plan.go_fd);
    if (const char* v = after(option, "go=")) return (plan.go = v[0]) != '\0' && v[1] == '\0';
    if (const char* v = after(option, "err=")) return small_number(v, plan.err_fd);
    if (const char* v = after(option, "status=")) return small_number(v, plan.status_fd);
    if (const char* v = after(option, "linger=")) return small_number(v, plan.linger);
    if (const char* v = after(option, "listen=")) return small_number(v, plan.listen);
    if (const char* v = after(option, "serve=")) return small_number(v, plan.serve_fd);
    char first[24];
    if (const char* v = after(option, "ids=")) {
        const char* gid = split_at_colon(v, first, sizeof first);
        if (!gid || !number(first, n) || !number(gid, m) || n > UINT_MAX || m > UINT_MAX)
            return false;
        plan.confinement.switch_ids = true;
        plan.confinement.uid = static_cast<unsigned>(n);
        plan.confinement.gid = static_cast<unsigned>(m);
        return true;
    }
    if (const char* v = after(option, "caps=")) {
        const char* last = split_at_colon(v, first, sizeof first);
        if (!last || !number(first, n, 16)) return false;
        if (same(last, "-1")) {
            plan.confinement.last_cap = -1;
        } else if (number(last, m) && m <= 63) {
            plan.confinement.last_cap = static_cast<int>(m);
        } else {
            return false;
        }
        plan.confinement.caps = n;
        plan.confinement.confine_caps = true;
        return true;
    }
    if (const char* v = after(option, "seccomp=")) return parse_filter(v);
    if (const char* v = after(option, "slice=")) {
        if (!number(v, n)) return false;
        plan.slice = n;
        return plan.slice_given = true;
    }
    if (const char* v = after(option, "cpus=")) return is::parse_cpu_mask(v, plan.cpus);
    if (const char* v = after(option, "rlimit-as=")) return number(v, n) && (plan.rlimit_as = n);
    if (const char* v = after(option, "rlimit-nproc="))
        return number(v, n) && (plan.rlimit_nproc = n);
    if (const char* v = after(option, "cwd=")) {
        std::size_t n = length(v);
        if (v[0] != '/' || n >= sizeof cwd) return false;
        for (std::size_t i = 0; i <= n; ++i)
            cwd[i] = v[i];
        return true;
    }
    if (same(option, "nnp")) return plan.confinement.nnp = true;
    if (same(option, "interactive")) return plan.interactive = true;
    return false;
}

// A copy of a NULL-terminated string vector, in one mapping.
char** copy_strings(char** strings) {
    std::size_t count = 0, bytes = 0;
    for (; strings[count]; ++count)
        bytes += length(strings[count]) + 1;
    std::size_t size = (count + 1) * sizeof(char*) + bytes;
    long m =
        sys(SYS_mmap, nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m < 0 && m > -4096) return nullptr;
    auto* out = reinterpret_cast<char**>(m);
    char* text = reinterpret_cast<char*>(m) + (count + 1) * sizeof(char*);
    for (std::size_t i = 0; i < count; ++i) {
        out[i] = text;
        for (const char* s = strings[i]; (*text++ = *s++) != '\0';) {}
    }
    out[count] = nullptr;
    return out;
}

// What /proc/1/cmdline and /proc/1/environ show: the memory of init's own arguments and
// environment. Both held the command's (--env values among them), which is not init's to show
// to every process of the sandbox: wiped, the name left.
void wipe_arguments(char** argv, char** envp) {
    std::size_t room = length(argv[0]);
    for (char** list : {argv, envp})
        for (char** s = list; *s; ++s)
            for (char* c = *s; *c; ++c)
                *c = '\0';
    for (std::size_t i = 0; i < room && i < sizeof kName - 1; ++i)
        argv[0][i] = kName[i];
}

void parse(int argc, char** argv, char** envp) {
    int i = 1;
    for (; i < argc && !same(argv[i], "--"); ++i) {
        if (!parse_option(argv[i])) {
            Text message;
            message.add("bad option '").add(argv[i]).add("'");
            send_error(Errc::runtime, message.c_str(),
                       "karapace-init is started by karapace as a sandbox's init; it is not run "
                       "by hand, and must come from the same build as karapace");
            karapace_init::exit_now(125);
        }
    }
    if (i + 1 >= argc) {
        send_error(Errc::runtime, "no command after '--'",
                   "karapace-init is started by karapace as a sandbox's init");
        karapace_init::exit_now(125);
    }
    plan.argv = copy_strings(argv + i + 1);
    plan.envp = copy_strings(envp);
    if (!plan.argv || !plan.envp) fail("cannot copy the command line", ENOMEM);
    wipe_arguments(argv, envp);
}

// ---- the command -------------------------------------------------------------------------------

// Exit statuses as a shell gives them: 127 when there is no such program, 126 when it cannot run.
[[noreturn]] void exec_failed(const Text& what, int err) {
    Text message;
    message.add(what.c_str()).add(": ").add_error(err);
    bool missing = err == ENOENT || err == ENOTDIR;
    send_error(Errc::runtime, message.c_str(),
               missing ? "is it installed in the environment?" : "");
    karapace_init::exit_now(missing ? 127 : 126);
}

// The command's PATH is the one in its own environment, searched here.
[[noreturn]] void exec_command() {
    const char* name = plan.argv[0];
    bool has_slash = false;
    for (const char* c = name; *c; ++c)
        has_slash = has_slash || *c == '/';
    if (has_slash) {
        long r = sys(SYS_execve, name, plan.argv, plan.envp);
        Text what;
        what.add("cannot execute ").add(name);
        exec_failed(what, static_cast<int>(-r));
    }
    const char* path = "";
    for (char** e = plan.envp; *e; ++e)
        if (const char* v = after(*e, "PATH=")) path = v;
    std::size_t name_length = length(name);
    int last = ENOENT;
    char candidate[PATH_MAX];
    while (*path) {
        std::size_t len = 0;
        while (path[len] && path[len] != ':')
            ++len;
        if (len > 0 && len + 1 + name_length < sizeof candidate) {
            for (std::size_t i = 0; i < len; ++i)
                candidate[i] = path[i];
            candidate[len] = '/';
            for (std::size_t i = 0; i <= name_length; ++i)
                candidate[len + 1 + i] = name[i];
            long r = sys(SYS_execve, candidate, plan.argv, plan.envp);
            if (r != -ENOENT && r != -ENOTDIR) last = static_cast<int>(-r);  // EACCES, ENOEXEC
        }
        path += len + (path[len] == ':' ? 1 : 0);
    }
    Text what;
    what.add(name).add(": command not found").add(last == ENOENT ? "" : " or not executable");
    exec_failed(what, last);
}

// The command of a run none of whose streams is a terminal: it gets no terminal, so it cannot
// open /dev/tty and read or push input there, and a process group of its own, out of the way of
// the signals a terminal sends the caller's foreground group (init forwards those the caller
// passes on). Not a session of its own: with autogroup scheduling (on wherever the kernel has
// it) each session is a scheduling group of its own, made and torn down for every command, and on
// a busy machine a command in a group of its own waited longer for a processor
// (docs/performance.md). A process that does not lead its session gives up its controlling
// terminal with TIOCNOTTY on it; without one the open fails (ENXIO) and there is nothing to give
// up.
void leave_terminal() {
    sys(SYS_setpgid, 0, 0);
    long tty = sys(SYS_openat, AT_FDCWD, "/dev/tty", O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (tty < 0) return;
    sys(SYS_ioctl, tty, TIOCNOTTY, 0);
    sys(SYS_close, tty);
}

int command_process(void*) {
    std::uint64_t none = 0;
    sys(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none);
    for (int fd = 0; plan.serving && fd < 3; ++fd)
        if (long r = sys(SYS_dup3, plan.stdio[fd], fd, 0); r < 0)
            fail("cannot pass on the command's standard streams", static_cast<int>(-r));
    // Set again, though the command has it from init (start_command): without this call a new
    // sandbox took 0.2-0.5 ms longer on one processor (measured; docs/performance.md).
    if (plan.slice_given) is::set_slice(sys, plan.slice);
    // Best effort: processors gone offline since the caller asked are left out by the kernel.
    if (plan.cpus.words) is::set_cpus(sys, plan.cpus);
    if (plan.interactive) is::take_terminal_foreground(sys);
    if (plan.own_session) leave_terminal();
    if (is::go_sets_rlimits(plan.go)) {
        struct {
            std::uint64_t cur, max;
        } as{plan.rlimit_as, plan.rlimit_as}, nproc{plan.rlimit_nproc, plan.rlimit_nproc};
        if (long r = plan.rlimit_as ? sys(SYS_prlimit64, 0, RLIMIT_AS, &as, nullptr) : 0; r < 0)
            fail("cannot set RLIMIT_AS", static_cast<int>(-r));
        if (long r = plan.rlimit_nproc ? sys(SYS_prlimit64, 0, RLIMIT_NPROC, &nproc, nullptr) : 0;
            r < 0)
            fail("cannot set RLIMIT_NPROC", static_cast<int>(-r));
    }
    // Only the command becomes the inner ids: init stays the caller's own uid, so the caller
    // can still signal it and open its namespaces to join the sandbox.
    if (plan.confinement.switch_ids) {
        if (long r = sys(SYS_setresgid, plan.confinement.gid, plan.confinement.gid,
                         plan.confinement.gid);
            r < 0) {
            Text what;
            what.add("cannot become group ")
                .add_number(plan.confinement.gid)
                .add(" in the user namespace");
            fail(what, static_cast<int>(-r));
        }
        if (long r = sys(SYS_setresuid, plan.confinement.uid, plan.confinement.uid,
                         plan.confinement.uid);
            r < 0) {
            Text what;
            what.add("cannot become user ")
                .add_number(plan.confinement.uid)
                .add(" in the user namespace");
            fail(what, static_cast<int>(-r));
        }
    }
    // The filter first, while CAP_SYS_ADMIN in the namespace allows it without no_new_privs.
    if (plan.confinement.filter_length > 0) {
        if (int err = is::install_filter(sys, filter, plan.confinement.filter_length))
            fail("cannot install the sandbox's seccomp filter", err);
    }
    if (plan.confinement.confine_caps) {
        if (int err = is::keep_capabilities(sys, plan.confinement.caps, plan.confinement.last_cap))
            fail("cannot restrict the command's capabilities", err);
    }
    if (plan.confinement.nnp) {
        if (long r = sys(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); r < 0)
            fail("cannot set no_new_privs", static_cast<int>(-r));
    }
    if (long r = sys(SYS_chdir, cwd); r < 0) {
        Text what;
        what.add("cannot enter the working directory ").add(cwd);
        fail(what, static_cast<int>(-r));
    }
    // Whatever else is open must not reach the command; the sockets of socket activation do, at
    // their numbers, and LISTEN_PID names this process.
    for (int fd = 3; fd < 3 + plan.listen; ++fd)
        sys(SYS_fcntl, fd, F_SETFD, 0);
    sys(SYS_close_range, 3 + plan.listen, ~0U, CLOSE_RANGE_CLOEXEC);
    for (char** e = plan.envp; *e; ++e) {
        if (char* digits = const_cast<char*>(after(*e, "LISTEN_PID="))) {
            // The placeholder's digits, in place: the pid, then the rest cleared.
            std::size_t room = length(digits);
            Text pid;
            pid.add_number(static_cast<unsigned long long>(sys(SYS_getpid)));
            std::size_t i = 0;
            for (; i < room && i < pid.size(); ++i)
                digits[i] = pid.c_str()[i];
            digits[i] = '\0';
        }
    }
    exec_command();
}

// ---- init --------------------------------------------------------------------------------------

// /dev/null in place of the caller's terminal or pipes: a lingering init must not hold them (a
// shell reading the command's output waits for every writer to close it).
void release_stdio() {
    long null = sys(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0);
    for (int fd = 0; fd < 3; ++fd) {
        if (null >= 0 && null != fd)
            sys(SYS_dup3, null, fd, 0);
        else if (null < 0)
            sys(SYS_close, fd);
    }
    if (null > 2) sys(SYS_close, null);
}

void reap_all(int flags) {
    int status = 0;
    long r;
    while ((r = sys(SYS_wait4, -1, &status, flags, nullptr)) > 0 || r == -EINTR) {}
}

// Nothing in the namespace may outlive the command (background processes still writing to the
// writable layer): every process of this pid namespace but init ends, and is reaped.
void end_the_rest() {
    sys(SYS_kill, -1, SIGKILL);
    reap_all(0);
}

// Waits for one of init's signals, up to `seconds` when it is > 0; the signal, or a negative
// errno (-EAGAIN when the time is up).
long wait_signal(siginfo_t& info, long seconds) {
    const std::uint64_t mask = is::signal_mask();
    struct {
        long sec, nsec;
    } timeout{seconds, 0};
    return sys(SYS_rt_sigtimedwait, &mask, &info, seconds > 0 ? &timeout : nullptr, sizeof mask);
}

bool ends_sessions(long sig) {
    return sig == SIGTERM || sig == SIGINT || sig == SIGHUP || sig == SIGQUIT;
}

// Forwards signals to the command until it has exited; its status.
int wait_for_command(long command) {
    for (;;) {
        siginfo_t info{};
        long sig = wait_signal(info, 0);
        if (sig < 0) continue;  // EINTR
        if (sig != SIGCHLD) {
            end_asked = end_asked || ends_sessions(sig);
            // A signal the terminal sent to our whole process group (Ctrl-C, resize) has
            // reached the command too, unless it runs in a session of its own; forwarding it
            // would deliver it twice.
            if (plan.own_session || info.si_code != SI_KERNEL) sys(SYS_kill, command, sig);
            continue;
        }
        for (;;) {
            int status = 0;
            long pid = sys(SYS_wait4, -1, &status, WNOHANG, nullptr);
            if (pid <= 0) break;
            if (pid == command) return is::decode_status(status);
        }
    }
}

// Starts the command as init's child, sharing init's memory until it executes (CLONE_VM |
// CLONE_VFORK, as posix_spawn does; init waits meanwhile). It runs on its own stack, makes
// system calls on the plan, and writes only LISTEN_PID's digits into it. Its pid, or a negative
// errno.
alignas(64) char command_stack[64 * 1024];
long start_command() {
    // The command gets the caller's time slice (slice=NS) from init, which holds it until the
    // command has executed: init is woken then (vfork), and with the run's short slice it would
    // take the processor from the command it just started, which on one processor cost a new
    // sandbox 0.3-0.9 ms (docs/performance.md). Init takes its own back for the command's end.
    // Best effort: a command that keeps the run's short slice runs all the same.
    is::SchedAttr own;
    bool swap = plan.slice_given && is::get_sched(sys, own) && own.runtime != plan.slice &&
                is::set_slice(sys, plan.slice) == 0;
    long command = karapace_init::start_sharing_memory(command_process, nullptr,
                                                       command_stack + sizeof command_stack);
    if (swap) is::set_slice(sys, own.runtime);
    // Becoming the inner ids made the memory the command shared with init undumpable (the
    // kernel does that to a process whose uid changes); init stays the caller's own, so the
    // caller can open its namespaces to join the sandbox.
    sys(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0);
    return command;
}

// ---- runs asked for on serve=N (init_start.hpp) ------------------------------------------------

// The per-command part of the plan as the command line of a new sandbox leaves it unset.
void clear_command_plan() {
    plan.confinement = {};
    plan.interactive = false;
    plan.rlimit_as = plan.rlimit_nproc = 0;
    plan.slice_given = false;
    plan.slice = 0;
    plan.cpus = {};
    plan.listen = 0;
    cwd[0] = '/';
    cwd[1] = '\0';
}

// The confinement the sandbox's first command got: a request must ask for the very same, so that
// a process that reaches the socket from inside the sandbox gets nothing it does not have.
Confinement first_confinement;
sock_filter first_filter[BPF_MAXINSNS];

void remember_first_confinement() {
    first_confinement = plan.confinement;
    for (unsigned i = 0; i < plan.confinement.filter_length; ++i)
        first_filter[i] = filter[i];
}

bool same_as_first_confinement() {
    if (!(plan.confinement == first_confinement)) return false;
    for (unsigned i = 0; i < plan.confinement.filter_length; ++i)
        if (filter[i].code != first_filter[i].code || filter[i].jt != first_filter[i].jt ||
            filter[i].jf != first_filter[i].jf || filter[i].k != first_filter[i].k)
            return false;
    return true;
}

// The options a request may carry: those of the command alone.
bool request_option(const char* option) {
    for (const char* allowed : {"ids=", "caps=", "seccomp=", "cwd=", "slice="})
        if (after(option, allowed)) return parse_option(option);
    return same(option, "nnp") && parse_option(option);
}

// A request's strings, split in a mapping of their own, unmapped once the run has ended.
struct Request {
    char* memory = nullptr;
    std::size_t size = 0;
    ~Request() {
        if (memory) sys(SYS_munmap, memory, size);
    }
};

// The request's standard streams, which init closes as soon as the command has them: a reader of
// the command's output sees the end when the command ends.
void close_request_streams() {
    for (int& fd : plan.stdio) {
        if (fd >= 0) sys(SYS_close, fd);
        fd = -1;
    }
}

// Takes `count` NUL-terminated strings from text[pos..end) into `list`, then a NULL.
bool take_strings(char** list, std::uint32_t count, char* text, std::size_t& pos, std::size_t end) {
    for (std::uint32_t i = 0; i < count; ++i) {
        if (pos >= end) return false;
        list[i] = text + pos;
        while (pos < end && text[pos] != '\0')
            ++pos;
        if (pos++ >= end) return false;
    }
    list[count] = nullptr;
    return true;
}

// Reads a request from `conn` into the plan; false when it is none. The descriptors it brought
// are in plan.stdio either way.
bool receive_request(long conn, Request& request) {
    is::RunRequestMessage in;
    const is::RunRequest& header = in.header;
    msghdr& message = in.message;
    long n;
    while ((n = sys(SYS_recvmsg, conn, &message, MSG_CMSG_CLOEXEC)) == -EINTR) {}
    int fds = 0;
    if (cmsghdr* c = CMSG_FIRSTHDR(&message);
        n > 0 && c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        fds = static_cast<int>((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        const auto* received = reinterpret_cast<const int*>(CMSG_DATA(c));
        for (int i = 0; i < fds && i < 3; ++i)
            plan.stdio[i] = received[i];
    }
    if (n != sizeof header || fds != 3 || (message.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ||
        header.magic != is::kRunRequestMagic || header.bytes > is::kMaxRunRequestBytes ||
        header.arguments == 0 || header.options > header.bytes || header.arguments > header.bytes ||
        header.environment > header.bytes)
        return false;
    std::size_t lists = std::size_t{header.options} + header.arguments + header.environment + 3;
    request.size = lists * sizeof(char*) + header.bytes + 1;
    long m = sys(SYS_mmap, nullptr, request.size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m < 0 && m > -4096) return false;
    request.memory = reinterpret_cast<char*>(m);
    auto** list = reinterpret_cast<char**>(m);
    char* text = request.memory + lists * sizeof(char*);
    while ((n = sys(SYS_recvfrom, conn, text, header.bytes + 1, 0, nullptr, nullptr)) == -EINTR) {}
    if (n != static_cast<long>(header.bytes)) return false;
    std::size_t pos = 0;
    char** options = list;
    char** argv = options + header.options + 1;
    char** envp = argv + header.arguments + 1;
    if (!take_strings(options, header.options, text, pos, header.bytes) ||
        !take_strings(argv, header.arguments, text, pos, header.bytes) ||
        !take_strings(envp, header.environment, text, pos, header.bytes) || pos != header.bytes)
        return false;
    for (char** o = options; *o; ++o)
        if (!request_option(*o)) return false;
    if (!same_as_first_confinement()) return false;
    plan.argv = argv;
    plan.envp = envp;
    return true;
}

// One run asked for on `conn` by a process of init's own user: the command started in this
// sandbox with the request's streams, arguments, environment and confinement, waited for, what
// it left running ended, its status sent back. False when a signal that ends sessions arrived
// meanwhile.
bool serve(long conn) {
    ucred peer{};
    unsigned peer_size = sizeof peer;
    if (sys(SYS_getsockopt, conn, SOL_SOCKET, SO_PEERCRED, &peer, &peer_size) < 0 ||
        static_cast<long>(peer.uid) != sys(SYS_getuid))
        return true;
    // A caller that connects and sends nothing (or half a request) does not hold the sandbox.
    struct {
        long sec, usec;
    } patience{2, 0};
    sys(SYS_setsockopt, conn, SOL_SOCKET, SO_RCVTIMEO, &patience, sizeof patience);
    clear_command_plan();
    Request request;
    if (!receive_request(conn, request)) {
        close_request_streams();
        return true;
    }
    reply(conn, &is::kReplyAccepted, 1);
    plan.serving = true;
    plan.err_fd = static_cast<int>(conn);
    // Its own session, as the command of a run whose streams are no terminal gets.
    plan.own_session = true;
    long command = start_command();
    int status = 125;
    if (command < 0) send_error(Errc::runtime, "cannot start the command");
    close_request_streams();
    if (command >= 0) status = wait_for_command(command);
    end_the_rest();
    char out[1 + sizeof status];
    out[0] = is::kReplyStatus;
    for (std::size_t i = 0; i < sizeof status; ++i)
        out[1 + i] = reinterpret_cast<const char*>(&status)[i];
    reply(conn, out, sizeof out);
    plan.serving = false;
    plan.err_fd = -1;
    return !end_asked;
}

// Waits up to `seconds` for one of init's signals or, with serve=N, a connection on it: the
// signal, 0 for a connection, or a negative errno (-EAGAIN when the time is up).
long wait_signal_or_run(long signals, siginfo_t& info, long seconds) {
    if (signals < 0) return wait_signal(info, seconds);
    pollfd fds[2] = {{static_cast<int>(signals), POLLIN, 0}, {plan.serve_fd, POLLIN, 0}};
    struct {
        long sec, nsec;
    } timeout{seconds, 0};
    long n = sys(SYS_ppoll, fds, 2, &timeout, nullptr, 0);
    if (n == 0) return -EAGAIN;
    if (n < 0) return n;
    if (fds[0].revents & POLLIN) {
        signalfd_siginfo s{};
        if (sys(SYS_read, signals, &s, sizeof s) != sizeof s) return -EINTR;
        info.si_code = s.ssi_code;
        return s.ssi_signo;
    }
    if (fds[1].revents & POLLIN) return 0;
    // The socket failed: lingering goes on without it.
    plan.serve_fd = -1;
    return -EINTR;
}

// Lingering: the sandbox stays as it is, with nothing running in it, for runs that join it (each
// sends SIGUSR1, and the time starts again) or ask init to start their command (serve=N) until
// `seconds` pass without one or a signal that ends sessions (stop's SIGTERM) arrives.
void linger(int seconds) {
    const std::uint64_t mask = is::signal_mask();
    long signals = plan.serve_fd >= 0
                       ? sys(SYS_signalfd4, -1, &mask, sizeof mask, SFD_CLOEXEC | SFD_NONBLOCK)
                       : -1;
    for (;;) {
        siginfo_t info{};
        long sig = wait_signal_or_run(signals, info, seconds);
        if (sig == -EINTR) continue;
        if (sig == 0) {
            long conn = sys(SYS_accept4, plan.serve_fd, nullptr, nullptr, SOCK_CLOEXEC);
            bool go_on = conn < 0 || serve(conn);
            if (conn >= 0) sys(SYS_close, conn);
            if (!go_on) return;
            continue;
        }
        if (sig == SIGUSR1 || sig == SIGCHLD || sig == SIGWINCH || sig == SIGCONT) {
            reap_all(WNOHANG);
            continue;
        }
        return;  // the time is up, or an end was asked for
    }
}

// The command has ended: what it left running ends, and init tells the parent the status. The
// parent can then return while the kernel tears the namespaces down, or while init lingers for
// the next run.
[[noreturn]] void finish(int status) {
    if (plan.status_fd >= 0) {
        int linger_for = is::go_lingers(plan.go) && !end_asked ? plan.linger : 0;
        // A parent that stopped listening must not change the status.
        std::uint64_t pipe = is::signal_bit(SIGPIPE);
        sys(SYS_rt_sigprocmask, SIG_BLOCK, &pipe, nullptr, sizeof pipe);
        end_the_rest();
        if (linger_for > 0) {
            release_stdio();
            // Out of the caller's process group before the caller can end: a caller that led its
            // terminal's session hangs up that terminal's foreground group as it exits, and a
            // hangup ends a lingering sandbox.
            sys(SYS_setpgid, 0, 0);
            // Until now on the processor of the run that started the sandbox (cpus.hpp); the
            // processors of that run's caller back before the next run compares its own.
            if (plan.cpus.words) is::set_cpus(sys, plan.cpus);
        }
        sys(SYS_write, plan.status_fd, &status, sizeof status);
        sys(SYS_close, plan.status_fd);
        if (linger_for > 0) linger(linger_for);
    }
    karapace_init::exit_now(status);
}

}  // namespace

extern "C" int karapace_init_main(int argc, char** argv, char** envp) {
    parse(argc, argv, envp);
    // The signals were blocked by whoever executed init; blocked again should it have been
    // started otherwise.
    const std::uint64_t forwarded = is::signal_mask();
    sys(SYS_rt_sigprocmask, SIG_BLOCK, &forwarded, nullptr, sizeof forwarded);
    if (plan.go_fd >= 0) {
        char go = 0;
        long n;
        while ((n = sys(SYS_read, plan.go_fd, &go, 1)) == -EINTR) {}
        if (n != 1) return 125;  // the parent gave up
        sys(SYS_close, plan.go_fd);
        plan.go = go;
    }
    plan.own_session = !plan.interactive && !is::is_terminal(sys, 0) && !is::is_terminal(sys, 1) &&
                       !is::is_terminal(sys, 2);
    // A sandbox that does not linger takes no runs.
    if (plan.serve_fd >= 0 && !is::go_lingers(plan.go)) {
        sys(SYS_close, plan.serve_fd);
        plan.serve_fd = -1;
    }
    if (plan.serve_fd >= 0) remember_first_confinement();
    long command = start_command();
    if (command < 0) fail("cannot start the command", static_cast<int>(-command));
    sys(SYS_close, plan.err_fd);
    plan.err_fd = -1;
    for (int fd = 3; fd < 3 + plan.listen; ++fd)
        sys(SYS_close, fd);
    finish(wait_for_command(command));
}
