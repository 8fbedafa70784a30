// karapace-init: PID 1 of a sandbox. The library builds the sandbox's namespaces and root and then
// executes this small static program in it (src/lib/sandbox/init_start.hpp: how, and what its
// options mean). It starts the command, which confines itself and executes, and stays as the
// command's init: the kernel delivers to a namespace's init only the signals it handles and kills
// the whole namespace when it exits, so init forwards signals to the command, reaps what gets
// reparented to it, and reports the command's status once nothing else runs in the namespace.
//
// No exceptions and almost no allocation: everything is a system call on data the command line
// brought.
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "karapace/util/error.hpp"
#include "sandbox/init_start.hpp"

namespace {

using karapace::Errc;
namespace is = karapace::sandbox::init_start;

constexpr char kName[] = "karapace-init";

struct Plan {
    int go_fd = -1;
    char go = 0;
    int err_fd = -1;
    int status_fd = -1;
    int linger = 0;
    int listen = 0;
    bool switch_ids = false;
    unsigned uid = 0, gid = 0;
    bool confine_caps = false;
    std::uint64_t caps = 0;
    int last_cap = -1;
    sock_filter* filter = nullptr;
    unsigned short filter_length = 0;
    rlim_t rlimit_as = 0, rlimit_nproc = 0;
    bool nnp = false;
    bool interactive = false;
    const char* cwd = "/";
    char** argv = nullptr;  // the command's, a copy (the originals are wiped)
    char** envp = nullptr;
    bool own_session = false;
};

Plan plan;

// ---- errors ------------------------------------------------------------------------------

void send_error(Errc code, const char* message, const char* hint = "") {
    if (plan.err_fd < 0) {
        std::fprintf(stderr, "%s: %s\n", kName, message);
        return;
    }
    char out[is::kMaxEncodedError];
    std::size_t n = is::encode_error(out, static_cast<unsigned char>(code), message, hint);
    while (::write(plan.err_fd, out, n) < 0 && errno == EINTR) {}
}

// What failed and the kernel's reason, in the category the library's throw_errno would give.
[[noreturn]] void fail(const char* what, int err, int status = 125) {
    char message[PATH_MAX + 256];
    std::snprintf(message, sizeof message, "%s: %s", what, std::strerror(err));
    send_error(err == EACCES || err == EPERM ? Errc::permission : Errc::runtime, message,
               err == ENOSPC || err == EDQUOT ? "free some disk space and try again" : "");
    ::_exit(status);
}

// ---- the command line ----------------------------------------------------------------------

bool number(const char* text, unsigned long long& out, int base = 10) {
    if (*text == '\0') return false;
    char* end = nullptr;
    errno = 0;
    out = std::strtoull(text, &end, base);
    return errno == 0 && *end == '\0';
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

bool parse_filter(const char* hex) {
    std::size_t n = std::strlen(hex);
    if (n == 0 || n % (2 * sizeof(sock_filter)) != 0 || n / 2 / sizeof(sock_filter) > BPF_MAXINSNS)
        return false;
    auto* bytes = static_cast<unsigned char*>(std::malloc(n / 2));
    if (!bytes) return false;
    for (std::size_t i = 0; i < n / 2; ++i) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return false;
        bytes[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    plan.filter = reinterpret_cast<sock_filter*>(bytes);
    plan.filter_length = static_cast<unsigned short>(n / 2 / sizeof(sock_filter));
    return true;
}

bool parse_option(const char* option) {
    auto value = [option](const char* key) -> const char* {
        std::size_t n = std::strlen(key);
        return std::strncmp(option, key, n) == 0 && option[n] == '=' ? option + n + 1 : nullptr;
    };
    auto fd = [](const char* text, int& out) {
        unsigned long long n = 0;
        if (!number(text, n) || n > INT_MAX) return false;
        out = static_cast<int>(n);
        return true;
    };
    unsigned long long n = 0;
    if (const char* v = value("go-fd")) return fd(v, plan.go_fd);
    if (const char* v = value("go")) return (plan.go = v[0]) != '\0' && v[1] == '\0';
    if (const char* v = value("err")) return fd(v, plan.err_fd);
    if (const char* v = value("status")) return fd(v, plan.status_fd);
    if (const char* v = value("linger")) return fd(v, plan.linger);
    if (const char* v = value("listen")) return fd(v, plan.listen);
    if (const char* v = value("ids")) {
        const char* colon = std::strchr(v, ':');
        if (!colon) return false;
        char uid[32];
        std::size_t len = static_cast<std::size_t>(colon - v);
        if (len == 0 || len >= sizeof uid) return false;
        std::memcpy(uid, v, len);
        uid[len] = '\0';
        unsigned long long g = 0;
        if (!number(uid, n) || !number(colon + 1, g) || n > UINT_MAX || g > UINT_MAX) return false;
        plan.switch_ids = true;
        plan.uid = static_cast<unsigned>(n);
        plan.gid = static_cast<unsigned>(g);
        return true;
    }
    if (const char* v = value("caps")) {
        char* end = nullptr;
        errno = 0;
        plan.caps = std::strtoull(v, &end, 16);
        if (errno != 0 || end == v || *end != ':') return false;
        long last = std::strtol(end + 1, &end, 10);
        if (*end != '\0' || last < -1 || last > 63) return false;
        plan.last_cap = static_cast<int>(last);
        plan.confine_caps = true;
        return true;
    }
    if (const char* v = value("seccomp")) return parse_filter(v);
    if (const char* v = value("rlimit-as")) return number(v, n) && (plan.rlimit_as = n) != 0;
    if (const char* v = value("rlimit-nproc")) return number(v, n) && (plan.rlimit_nproc = n) != 0;
    if (const char* v = value("cwd")) return v[0] == '/' && (plan.cwd = ::strdup(v)) != nullptr;
    if (std::strcmp(option, "nnp") == 0) return plan.nnp = true;
    if (std::strcmp(option, "interactive") == 0) return plan.interactive = true;
    return false;
}

// A copy of a NULL-terminated string vector, in one allocation.
char** copy_strings(char** strings) {
    std::size_t count = 0, bytes = 0;
    for (; strings[count]; ++count)
        bytes += std::strlen(strings[count]) + 1;
    auto* block = static_cast<char*>(std::malloc((count + 1) * sizeof(char*) + bytes));
    if (!block) return nullptr;
    auto** out = reinterpret_cast<char**>(block);
    char* text = block + (count + 1) * sizeof(char*);
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t n = std::strlen(strings[i]) + 1;
        std::memcpy(text, strings[i], n);
        out[i] = text;
        text += n;
    }
    out[count] = nullptr;
    return out;
}

// What /proc/1/cmdline and /proc/1/environ show: the memory of init's own arguments and
// environment. Both held the command's (--env values among them), which is not init's to show
// to every process of the sandbox: wiped, the name left.
void wipe_arguments(char** argv, char** envp) {
    std::size_t room = std::strlen(argv[0]);
    for (char** list : {argv, envp})
        for (char** s = list; *s; ++s)
            std::memset(*s, 0, std::strlen(*s));
    std::memcpy(argv[0], kName, room < sizeof kName - 1 ? room : sizeof kName - 1);
}

void parse(int argc, char** argv, char** envp) {
    int i = 1;
    for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
        if (!parse_option(argv[i])) {
            char message[512];
            std::snprintf(message, sizeof message, "bad option '%.200s'", argv[i]);
            send_error(Errc::runtime, message,
                       "karapace-init is started by karapace as a sandbox's init; it is not run "
                       "by hand, and must come from the same build as karapace");
            ::_exit(125);
        }
    }
    if (i + 1 >= argc) {
        send_error(Errc::runtime, "no command after '--'",
                   "karapace-init is started by karapace as a sandbox's init");
        ::_exit(125);
    }
    plan.argv = copy_strings(argv + i + 1);
    plan.envp = copy_strings(envp);
    if (!plan.argv || !plan.envp) fail("cannot copy the command line", ENOMEM);
    wipe_arguments(argv, envp);
}

// ---- the command ---------------------------------------------------------------------------

// Exit statuses as a shell gives them: 127 when there is no such program, 126 when it cannot run.
[[noreturn]] void exec_failed(const char* what, int err, const char* hint) {
    char message[PATH_MAX + 256];
    std::snprintf(message, sizeof message, "%s: %s", what, std::strerror(err));
    bool missing = err == ENOENT || err == ENOTDIR;
    send_error(Errc::runtime, message, missing ? hint : "");
    ::_exit(missing ? 127 : 126);
}

// execvpe() would search the PATH of init's environment at the time it was started; the
// command's PATH is the one in its own environment, searched here.
[[noreturn]] void exec_command() {
    const char* name = plan.argv[0];
    char what[PATH_MAX + 64];
    if (std::strchr(name, '/')) {
        ::execve(name, plan.argv, plan.envp);
        std::snprintf(what, sizeof what, "cannot execute %s", name);
        exec_failed(what, errno, "is it installed in the environment?");
    }
    const char* path = "";
    for (char** e = plan.envp; *e; ++e)
        if (std::strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
    int last = ENOENT;
    while (*path) {
        const char* colon = std::strchr(path, ':');
        std::size_t len = colon ? static_cast<std::size_t>(colon - path) : std::strlen(path);
        if (len > 0 && len + 1 + std::strlen(name) < sizeof what) {
            std::memcpy(what, path, len);
            what[len] = '/';
            std::strcpy(what + len + 1, name);
            ::execve(what, plan.argv, plan.envp);
            if (errno != ENOENT && errno != ENOTDIR) last = errno;  // remember EACCES, ENOEXEC
        }
        path += len + (colon ? 1 : 0);
    }
    std::snprintf(what, sizeof what, "%s: command not found%s", name,
                  last == ENOENT ? "" : " or not executable");
    exec_failed(what, last, "is it installed in the environment?");
}

int command_process(void*) {
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (plan.interactive) is::take_terminal_foreground();
    // Nothing of it is on a terminal: it gets none, so it cannot open /dev/tty and push input
    // into the caller's.
    if (plan.own_session) ::setsid();
    if (is::go_sets_rlimits(plan.go)) {
        rlimit as{plan.rlimit_as, plan.rlimit_as}, nproc{plan.rlimit_nproc, plan.rlimit_nproc};
        if (plan.rlimit_as && ::setrlimit(RLIMIT_AS, &as) != 0) fail("cannot set RLIMIT_AS", errno);
        if (plan.rlimit_nproc && ::setrlimit(RLIMIT_NPROC, &nproc) != 0)
            fail("cannot set RLIMIT_NPROC", errno);
    }
    // Only the command becomes the inner ids: init stays the caller's own uid, so the caller
    // can still signal it and open its namespaces to join the sandbox.
    if (plan.switch_ids) {
        char what[96];
        if (::syscall(SYS_setresgid, plan.gid, plan.gid, plan.gid) != 0) {
            std::snprintf(what, sizeof what, "cannot become group %u in the user namespace",
                          plan.gid);
            fail(what, errno);
        }
        if (::syscall(SYS_setresuid, plan.uid, plan.uid, plan.uid) != 0) {
            std::snprintf(what, sizeof what, "cannot become user %u in the user namespace",
                          plan.uid);
            fail(what, errno);
        }
    }
    // The filter first, while CAP_SYS_ADMIN in the namespace allows it without no_new_privs.
    if (plan.filter) {
        if (int err = is::install_filter(plan.filter, plan.filter_length))
            fail("cannot install the sandbox's seccomp filter", err);
    }
    if (plan.confine_caps) {
        if (int err = is::keep_capabilities(plan.caps, plan.last_cap))
            fail("cannot restrict the command's capabilities", err);
    }
    if (plan.nnp && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        fail("cannot set no_new_privs", errno);
    if (::chdir(plan.cwd) != 0) {
        char what[PATH_MAX + 64];
        std::snprintf(what, sizeof what, "cannot enter the working directory %s", plan.cwd);
        fail(what, errno);
    }
    // Whatever else is open must not reach the command; the sockets of socket activation do, at
    // their numbers, and LISTEN_PID names this process.
    for (int fd = 3; fd < 3 + plan.listen; ++fd)
        ::fcntl(fd, F_SETFD, 0);
    ::close_range(3 + static_cast<unsigned>(plan.listen), ~0U, CLOSE_RANGE_CLOEXEC);
    for (char** e = plan.envp; *e; ++e)
        if (std::strncmp(*e, "LISTEN_PID=", 11) == 0)
            std::snprintf(*e, std::strlen(*e) + 1, "LISTEN_PID=%d", static_cast<int>(::getpid()));
    exec_command();
}

// ---- init ----------------------------------------------------------------------------------

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
// while init lingers for the next run.
[[noreturn]] void finish(int status, const sigset_t& forwarded) {
    if (plan.status_fd >= 0) {
        int linger_for = is::go_lingers(plan.go) ? plan.linger : 0;
        ::signal(SIGPIPE, SIG_IGN);  // a parent that stopped listening must not change the status
        ::kill(-1, SIGKILL);         // every process of this pid namespace but init
        while (::waitpid(-1, nullptr, 0) > 0 || errno == EINTR) {}
        if (linger_for > 0) release_stdio();
        ssize_t ignored = ::write(plan.status_fd, &status, sizeof status);
        (void)ignored;
        ::close(plan.status_fd);
        if (linger_for > 0) linger(forwarded, linger_for);
    }
    ::_exit(status);
}

[[noreturn]] void run_init(pid_t command, const sigset_t& forwarded) {
    for (;;) {
        siginfo_t info{};
        int sig = ::sigwaitinfo(&forwarded, &info);
        if (sig < 0) continue;  // EINTR
        if (sig != SIGCHLD) {
            // A signal the terminal sent to our whole process group (Ctrl-C, resize) has
            // reached the command too, unless it runs in a session of its own; forwarding it
            // would deliver it twice.
            if (plan.own_session || info.si_code != SI_KERNEL) ::kill(command, sig);
            continue;
        }
        for (;;) {
            int status = 0;
            pid_t pid = ::waitpid(-1, &status, WNOHANG);
            if (pid <= 0) break;
            if (pid == command) finish(is::decode_status(status), forwarded);
        }
    }
}

}  // namespace

int main(int argc, char** argv, char** envp) {
    parse(argc, argv, envp);
    // The signals were blocked by whoever executed init (init_start::signal_set); block them
    // again should it have been started otherwise.
    const sigset_t forwarded = is::signal_set();
    ::sigprocmask(SIG_BLOCK, &forwarded, nullptr);
    if (plan.go_fd >= 0) {
        char go = 0;
        ssize_t n;
        while ((n = ::read(plan.go_fd, &go, 1)) < 0 && errno == EINTR) {}
        if (n != 1) ::_exit(125);  // the parent gave up
        ::close(plan.go_fd);
        plan.go = go;
    }
    plan.own_session = !plan.interactive && ::isatty(STDIN_FILENO) != 1 &&
                       ::isatty(STDOUT_FILENO) != 1 && ::isatty(STDERR_FILENO) != 1;
    // The command's process shares init's memory until it executes (CLONE_VM | CLONE_VFORK, as
    // posix_spawn does; init waits meanwhile). It runs on its own stack, makes system calls on
    // the plan, and writes only LISTEN_PID's digits into it.
    alignas(64) static char stack[64 * 1024];
    pid_t command =
        ::clone(command_process, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, nullptr);
    if (command < 0) fail("cannot start the command", errno);
    // Becoming the inner ids made the memory the command shared with init undumpable (the
    // kernel does that to a process whose uid changes); init stays the caller's own, so the
    // caller can open its namespaces to join the sandbox.
    ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    ::close(plan.err_fd);
    for (int fd = 3; fd < 3 + plan.listen; ++fd)
        ::close(fd);
    run_init(command, forwarded);
}
