#include "karapace/util/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace {

std::optional<std::string> find_program(const std::string& name) {
    if (name.find('/') != std::string::npos) {
        if (::access(name.c_str(), X_OK) == 0) return name;
        return std::nullopt;
    }
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/local/bin:/usr/bin:/bin";
    path += ":/usr/local/sbin:/usr/sbin:/sbin";
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty()) continue;
        std::string candidate = dir + "/" + name;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
            ::access(candidate.c_str(), X_OK) == 0)
            return candidate;
    }
    return std::nullopt;
}

ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& opts) {
    if (argv.empty()) throw Error(Errc::failed, "run_process: empty command line");
    auto exe = find_program(argv[0]);
    if (!exe) throw Error(Errc::not_found, argv[0] + ": command not found");

    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    if (opts.env) {
        for (const auto& e : *opts.env)
            envp.push_back(const_cast<char*>(e.c_str()));
        envp.push_back(nullptr);
    }

    Pipe out, err, in, status;
    pid_t pid = ::fork();
    if (pid < 0) throw_errno(Errc::failed, "cannot fork to run " + argv[0]);
    if (pid == 0) {
        if (opts.stdin_data.empty()) {
            int devnull = ::open("/dev/null", O_RDONLY);
            ::dup2(devnull, 0);
        } else {
            ::dup2(in.read.get(), 0);
        }
        if (opts.capture_stdout) ::dup2(out.write.get(), 1);
        if (opts.capture_stderr || opts.on_stderr) ::dup2(err.write.get(), 2);
        ::signal(SIGPIPE, SIG_DFL);
        if (!opts.cwd.empty() && ::chdir(opts.cwd.c_str()) != 0) {
            int e = errno;
            ssize_t ignored = ::write(status.write.get(), &e, sizeof e);
            (void)ignored;
            _exit(127);
        }
        if (opts.env)
            ::execve(exe->c_str(), args.data(), envp.data());
        else
            ::execv(exe->c_str(), args.data());
        int e = errno;
        ssize_t ignored = ::write(status.write.get(), &e, sizeof e);
        (void)ignored;
        _exit(127);
    }
    out.write.reset();
    err.write.reset();
    in.read.reset();
    status.write.reset();

    ProcessResult result;
    std::string_view pending_in = opts.stdin_data;
    if (pending_in.empty())
        in.write.reset();
    else
        ::fcntl(in.write.get(), F_SETFL, O_NONBLOCK);

    char buf[65536];
    for (;;) {
        pollfd fds[3];
        int n = 0;
        int idx_out = -1, idx_err = -1, idx_in = -1;
        if (out.read && opts.capture_stdout) {
            idx_out = n;
            fds[n++] = {out.read.get(), POLLIN, 0};
        }
        if (err.read && (opts.capture_stderr || opts.on_stderr)) {
            idx_err = n;
            fds[n++] = {err.read.get(), POLLIN, 0};
        }
        if (in.write) {
            idx_in = n;
            fds[n++] = {in.write.get(), POLLOUT, 0};
        }
        if (n == 0) break;
        if (::poll(fds, static_cast<nfds_t>(n), -1) < 0) {
            if (errno == EINTR) continue;
            throw_errno(Errc::failed, "poll failed while running " + argv[0]);
        }
        auto drain = [&](int idx, UniqueFd& fd, std::string& sink, bool is_err) {
            if (idx < 0 || !(fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) return;
            ssize_t r = ::read(fd.get(), buf, sizeof buf);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) return;
                fd.reset();
                return;
            }
            std::string_view chunk(buf, static_cast<std::size_t>(r));
            if (is_err && opts.on_stderr) opts.on_stderr(chunk);
            if (!is_err || opts.capture_stderr) sink.append(chunk);
        };
        drain(idx_out, out.read, result.out, false);
        drain(idx_err, err.read, result.err, true);
        if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = ::write(in.write.get(), pending_in.data(), pending_in.size());
            if (w > 0) pending_in.remove_prefix(static_cast<std::size_t>(w));
            if ((w < 0 && errno != EAGAIN && errno != EINTR) || pending_in.empty())
                in.write.reset();
        }
    }

    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0) {
        if (errno != EINTR) throw_errno(Errc::failed, "waitpid failed for " + argv[0]);
    }
    int exec_errno = 0;
    if (::read(status.read.get(), &exec_errno, sizeof exec_errno) == sizeof exec_errno) {
        if (!opts.cwd.empty() && exec_errno == ENOENT)
            throw Error(Errc::not_found, "cannot run " + argv[0] + " in " + opts.cwd + ": " +
                                             std::strerror(exec_errno));
        throw_errno(Errc::failed, "cannot execute " + *exe, exec_errno);
    }
    if (WIFEXITED(wstatus)) {
        result.status = WEXITSTATUS(wstatus);
    } else if (WIFSIGNALED(wstatus)) {
        result.signaled = true;
        result.status = 128 + WTERMSIG(wstatus);
    }
    return result;
}

const char* proc_stat_field(const char* line, int n) noexcept {
    const char* p = std::strrchr(line, ')');
    if (p == nullptr) return nullptr;
    ++p;  // field 3 (state) follows
    for (int field = 3;; ++field) {
        while (*p == ' ')
            ++p;
        if (*p == '\0' || *p == '\n') return nullptr;
        if (field == n) return p;
        while (*p != ' ' && *p != '\0')
            ++p;
    }
}

std::optional<unsigned long long> proc_stat_start_time(const char* line) noexcept {
    const char* p = proc_stat_field(line, 22);
    if (p == nullptr) return std::nullopt;
    const char* end = p + std::strcspn(p, " \n");
    unsigned long long start = 0;
    auto [parsed, ec] = std::from_chars(p, end, start);
    if (ec != std::errc() || parsed != end || parsed == p) return std::nullopt;
    return start;
}

namespace {

// The start time (field 22 of /proc/<pid>/stat) and the state letter (field 3).
std::optional<unsigned long long> read_start_time(int pid, char* state) {
    // Asked on every run about processes that may be gone: no exception for that case.
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    UniqueFd fd(::open(path, O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    char buf[1024];  // the command name is at most 64 bytes; field 22 comes well before 1 KiB
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf - 1)) < 0 && errno == EINTR) {}
    if (n <= 0) return std::nullopt;
    buf[n] = '\0';
    if (state != nullptr) {
        const char* s = proc_stat_field(buf, 3);
        *state = s != nullptr ? *s : '?';
    }
    return proc_stat_start_time(buf);
}

}  // namespace

std::optional<unsigned long long> process_start_time(int pid) {
    return read_start_time(pid, nullptr);
}

bool process_alive(int pid, unsigned long long start_time) {
    // A zombie has exited: its namespaces are gone, only its parent has not collected it yet.
    char state = '?';
    auto st = read_start_time(pid, &state);
    return st && *st == start_time && state != 'Z' && state != 'X';
}

std::optional<std::chrono::system_clock::time_point> process_started_at(
    unsigned long long start_time) {
    std::string stat;
    try {
        stat = read_file_limited("/proc/stat", 1 << 20);
    } catch (const Error&) {
        return std::nullopt;
    }
    auto at = stat.find("\nbtime ");
    const long ticks = ::sysconf(_SC_CLK_TCK);
    if (at == std::string::npos || ticks <= 0) return std::nullopt;
    const unsigned long long boot = std::strtoull(stat.c_str() + at + 7, nullptr, 10);
    const auto since_boot =
        std::chrono::milliseconds(start_time * 1000 / static_cast<unsigned long long>(ticks));
    return std::chrono::system_clock::time_point(std::chrono::seconds(boot)) + since_boot;
}

namespace {
bool g_sigpipe_ignored_by_caller = false;
}

void ignore_sigpipe() noexcept {
    static bool done = false;  // a second call must not take our own ignoring for the caller's
    if (done) return;
    done = true;
    struct sigaction ignore {
    }, old{};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    if (::sigaction(SIGPIPE, &ignore, &old) == 0)
        g_sigpipe_ignored_by_caller = old.sa_handler == SIG_IGN;
}

bool sigpipe_ignored_by_caller() noexcept { return g_sigpipe_ignored_by_caller; }

void restore_sigpipe() noexcept {
    if (!g_sigpipe_ignored_by_caller) ::signal(SIGPIPE, SIG_DFL);
}

std::string tail_lines(const std::string& text, std::size_t max_lines) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        lines.push_back(line);
    }
    std::size_t start = lines.size() > max_lines ? lines.size() - max_lines : 0;
    std::string out;
    for (std::size_t i = start; i < lines.size(); ++i) {
        out += lines[i];
        if (i + 1 < lines.size()) out += '\n';
    }
    return out;
}

}  // namespace karapace
