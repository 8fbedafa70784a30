#include "karapace/sandbox/session.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/text.hpp"
#include "sandbox/raw_syscall.hpp"
#include "sandbox/serve.hpp"

namespace karapace::sandbox {

namespace {

template <typename T>
bool parse(std::string_view s, T& v) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.remove_suffix(1);
    return parse_number(s, v);
}

bool alive(const Session& s) { return process_alive(s.pid, s.start_time); }

// The record is "<start time> <mapping> <fingerprint>": the target of a symbolic link, which the
// filesystem keeps in the inode (no data block to allocate, and none to free and discard when
// the run ends). Records written by an older karapace are regular files with the first two words
// and a newline; a record with only the start time still counts as a session, one nothing joins.
const char* mapping_word(IdMapping m) { return m == IdMapping::keep_id ? "keep-id" : "root"; }

std::optional<std::string> read_record(const std::string& file) {
    char buf[64];
    ssize_t n = ::readlink(file.c_str(), buf, sizeof buf);
    if (n >= 0 && static_cast<std::size_t>(n) < sizeof buf) return std::string(buf, n);
    if (n >= 0 || errno != EINVAL) return std::nullopt;
    try {
        return read_file_limited(file, 64);
    } catch (const Error&) {
        return std::nullopt;
    }
}

// An ended session whose namespaces the kernel may still be tearing down: its record renamed to
// ".ending-<pid>" by the run that returned (SessionRecord::mark_ending).
constexpr std::string_view kEndingPrefix = ".ending-";
// A sandbox whose command has ended and whose init lingers for the next run
// (SessionRecord::mark_idle).
constexpr std::string_view kIdlePrefix = ".idle-";

// The socket a lingering sandbox takes runs on (serve.hpp).
void remove_serve_socket(const std::string& dir, std::string_view pid) {
    ::unlink((dir + "/" + serve_socket_name(pid)).c_str());
}

// Names in `dir` that `wanted` accepts.
template <typename Pred>
std::vector<std::string> names_in(const std::string& dir, Pred wanted) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return names;
    while (auto* e = ::readdir(d))
        if (wanted(std::string_view(e->d_name))) names.emplace_back(e->d_name);
    ::closedir(d);
    return names;
}

// The session a record's text describes, its pid given as text; nullopt when malformed.
std::optional<Session> parse_session(std::string_view text, std::string_view pid) {
    Session s;
    std::string_view body = text;
    while (!body.empty() && (body.back() == '\n' || body.back() == ' '))
        body.remove_suffix(1);
    if (auto space = body.find(' '); space != std::string_view::npos) {
        auto word = body.substr(space + 1);
        if (auto next = word.find(' '); next != std::string_view::npos) {
            s.fingerprint = word.substr(next + 1);
            word = word.substr(0, next);
        }
        if (word == mapping_word(IdMapping::keep_id)) s.mapping = IdMapping::keep_id;
        if (word == mapping_word(IdMapping::container_root)) s.mapping = IdMapping::container_root;
        body = body.substr(0, space);
    }
    if (!parse(pid, s.pid) || !parse(body, s.start_time)) return std::nullopt;
    return s;
}

// The live sessions recorded in `dir`, sorted by the prefix of their names (none for running
// sessions); the records of processes that are gone are removed. `wanted` picks the prefixes to
// read.
template <typename Wanted>
SessionRecords read_records(const std::string& dir, Wanted wanted) {
    SessionRecords out;
    const std::pair<std::string_view, std::vector<Session>*> kinds[] = {
        {kIdlePrefix, &out.idle}, {kEndingPrefix, &out.ending}, {{}, &out.running}};
    for (const auto& name : names_in(dir, [](std::string_view n) {
             return n[0] != '.' || n.rfind(kIdlePrefix, 0) == 0 || n.rfind(kEndingPrefix, 0) == 0;
         })) {
        for (const auto& [prefix, list] : kinds) {
            if (prefix.empty() ? name[0] == '.' : name.rfind(prefix, 0) != 0) continue;
            if (!wanted(prefix)) break;
            std::string file = dir + "/" + name;
            auto text = read_record(file);
            if (!text) break;
            auto s = parse_session(*text, std::string_view(name).substr(prefix.size()));
            if (!s || !alive(*s)) {
                ::unlink(file.c_str());
                remove_serve_socket(dir, std::string_view(name).substr(prefix.size()));
            } else
                list->push_back(*s);
            break;
        }
    }
    return out;
}

std::vector<Session> sessions_named(const std::string& dir, std::string_view prefix) {
    auto records = read_records(dir, [&](std::string_view p) { return p == prefix; });
    return prefix.empty()          ? std::move(records.running)
           : prefix == kIdlePrefix ? std::move(records.idle)
                                   : std::move(records.ending);
}

// A descriptor of the recorded process, or an empty one when it is gone: checked again once open,
// so that it never names a process that reused the pid.
UniqueFd open_session_pidfd(const Session& s) {
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, s.pid, 0)));
    if (pidfd && !alive(s)) pidfd.reset();
    return pidfd;
}

// Waits until the process of `pidfd` has exited or `deadline` has passed; true when it exited. A
// pidfd becomes readable once the process has exited, which the kernel reports only after its
// namespaces (and the overlay mount in them) are gone.
bool wait_for_exit(int pidfd, std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{pidfd, POLLIN, 0};
    int n = 0;
    while ((n = ::poll(&p, 1, static_cast<int>(std::max<long>(left.count(), 0)))) < 0 &&
           errno == EINTR) {}
    return n > 0;
}

}  // namespace

int linger_seconds() {
    const char* v = ::getenv("KARAPACE_LINGER");
    int n = kDefaultLinger;
    if (v != nullptr && *v != '\0' && !parse(std::string_view(v), n)) n = kDefaultLinger;
    return n < 0 ? 0 : n;
}

std::string session_record_words(IdMapping mapping, const std::string& fingerprint) {
    std::string words = mapping_word(mapping);
    if (!fingerprint.empty()) words += " " + fingerprint;
    return words;
}

UniqueFd open_session_dir(const std::string& dir) {
    UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd && errno == ENOENT) {
        make_dirs(dir, 0700);
        fd.reset(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    if (!fd) throw_errno(Errc::runtime, "cannot open the sessions directory " + dir);
    return fd;
}

long write_session_record(int dir_fd, pid_t pid, std::string_view words) noexcept {
    char name[24];
    char* named = std::to_chars(name, name + sizeof name - 1, pid).ptr;
    *named = '\0';
    char path[48] = "/proc/";
    std::memcpy(path + 6, name, static_cast<std::size_t>(named - name));
    std::memcpy(path + 6 + (named - name), "/stat", sizeof "/stat");
    long fd = raw_syscall(SYS_openat, AT_FDCWD, reinterpret_cast<long>(path), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -ESRCH;
    char stat[1024];  // field 22 comes well before 1 KiB (read_start_time in util/process.cpp)
    long n;
    while ((n = raw_syscall(SYS_read, fd, reinterpret_cast<long>(stat), sizeof stat - 1)) ==
           -EINTR) {}
    raw_syscall(SYS_close, fd);
    if (n <= 0) return -ESRCH;
    stat[n] = '\0';
    auto start = proc_stat_start_time(stat);
    if (!start) return -ESRCH;
    // Not fsynced: after a crash of the machine the process is gone and the record stale anyway
    // (list_sessions checks it against /proc). A link appears whole or not at all.
    char text[256];
    auto end = std::to_chars(text, text + sizeof text, *start).ptr;
    if (words.size() + 2 > static_cast<std::size_t>(text + sizeof text - end)) return -ENAMETOOLONG;
    *end++ = ' ';
    std::memcpy(end, words.data(), words.size());
    end[words.size()] = '\0';
    long r = raw_syscall(SYS_symlinkat, reinterpret_cast<long>(text), dir_fd,
                         reinterpret_cast<long>(name));
    if (r == -EEXIST) {  // a record left by a process that had this pid before
        r = raw_syscall(SYS_unlinkat, dir_fd, reinterpret_cast<long>(name), 0);
        if (r == 0)
            r = raw_syscall(SYS_symlinkat, reinterpret_cast<long>(text), dir_fd,
                            reinterpret_cast<long>(name));
    }
    return r;
}

SessionRecord::SessionRecord(const std::string& dir, pid_t pid, IdMapping mapping,
                             const std::string& fingerprint) {
    long r = write_session_record(open_session_dir(dir).get(), pid,
                                  session_record_words(mapping, fingerprint));
    if (r == -ESRCH)
        throw Error(Errc::runtime, "the sandbox process " + std::to_string(pid) +
                                       " ended before its session was recorded");
    if (r < 0)
        throw_errno(Errc::runtime,
                    "cannot record the session in " + dir + "/" + std::to_string(pid),
                    static_cast<int>(-r));
    dir_ = dir;
    file_ = dir + "/" + std::to_string(pid);
    pid_ = pid;
}

SessionRecord::SessionRecord(Written, const std::string& dir, pid_t pid)
    : dir_(dir), file_(dir + "/" + std::to_string(pid)), pid_(pid) {}

SessionRecord::~SessionRecord() {
    if (!file_.empty()) ::unlink(file_.c_str());
}

void SessionRecord::mark_ending() noexcept {
    if (file_.empty()) return;
    std::string ending = dir_ + "/" + std::string(kEndingPrefix) + std::to_string(pid_);
    if (::rename(file_.c_str(), ending.c_str()) != 0) ::unlink(file_.c_str());
    file_.clear();
}

void SessionRecord::mark_idle() noexcept {
    if (file_.empty()) return;
    std::string idle = dir_ + "/" + std::string(kIdlePrefix) + std::to_string(pid_);
    if (::rename(file_.c_str(), idle.c_str()) != 0) ::unlink(file_.c_str());
    file_.clear();
}

void await_ending_sessions(const std::string& dir, std::chrono::milliseconds timeout) {
    // Reading the records removes those of processes already gone.
    await_ending_sessions(dir, sessions_named(dir, kEndingPrefix), timeout);
}

void await_ending_sessions(const std::string& dir, const std::vector<Session>& ending,
                           std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) return;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& s : ending) {
        if (UniqueFd pidfd = open_session_pidfd(s)) wait_for_exit(pidfd.get(), deadline);
        ::unlink((dir + "/" + std::string(kEndingPrefix) + std::to_string(s.pid)).c_str());
    }
}

SessionStartLock::SessionStartLock(const std::string& session_dir) {
    if (session_dir.empty()) return;
    make_dirs(session_dir, 0700);
    fd_ = UniqueFd(
        ::open((session_dir + "/.start-lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd_) throw_errno(Errc::runtime, "cannot open the session lock in " + session_dir);
    while (::flock(fd_.get(), LOCK_EX) != 0)
        if (errno != EINTR) throw_errno(Errc::runtime, "cannot lock " + session_dir);
}

PrivateWorkDir::PrivateWorkDir(const std::string& shared_work_dir)
    : path_(shared_work_dir + "." + std::to_string(::getpid())) {
    if (::mkdir(path_.c_str(), 0700) != 0 && errno != EEXIST)
        throw_errno(Errc::runtime, "cannot create the overlay work directory " + path_);
}

PrivateWorkDir::~PrivateWorkDir() {
    // The overlay leaves a mode-000 work/work behind, which only rm -rf's retries get through.
    try {
        run_process({"rm", "-rf", "--", path_});
    } catch (...) {}
}

SessionRecords read_session_records(const std::string& dir) {
    return read_records(dir, [](std::string_view) { return true; });
}

std::vector<Session> list_sessions(const std::string& dir) { return sessions_named(dir, {}); }

std::vector<Session> list_idle_sessions(const std::string& dir) {
    return sessions_named(dir, kIdlePrefix);
}

bool extend_idle_session(const Session& s) {
    UniqueFd pidfd = open_session_pidfd(s);
    return pidfd && ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGUSR1, nullptr, 0) == 0;
}

void retire_idle_sessions(const std::string& dir, std::chrono::milliseconds timeout) {
    retire_idle_sessions(dir, list_idle_sessions(dir), timeout);
}

void retire_idle_sessions(const std::string& dir, const std::vector<Session>& idle,
                          std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (const auto& s : idle) {
        if (UniqueFd pidfd = open_session_pidfd(s)) {
            ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0);
            if (!wait_for_exit(pidfd.get(), deadline)) {
                ::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0);
                wait_for_exit(pidfd.get(),
                              std::chrono::steady_clock::now() + std::chrono::seconds(1));
            }
        }
        ::unlink((dir + "/" + std::string(kIdlePrefix) + std::to_string(s.pid)).c_str());
        remove_serve_socket(dir, std::to_string(s.pid));
    }
}

bool claim_idle_session(const std::string& dir, pid_t pid) noexcept {
    try {
        std::string name = std::to_string(pid);
        return ::rename((dir + "/" + std::string(kIdlePrefix) + name).c_str(),
                        (dir + "/" + name).c_str()) == 0;
    } catch (...) {
        return false;
    }
}

void return_claimed_session(const std::string& dir, pid_t pid) noexcept {
    try {
        std::string name = std::to_string(pid);
        ::rename((dir + "/" + name).c_str(), (dir + "/" + std::string(kIdlePrefix) + name).c_str());
    } catch (...) {}
}

std::size_t stop_sessions(const std::string& dir, std::chrono::milliseconds timeout) {
    auto sessions = list_sessions(dir);
    for (const auto& s : sessions)
        ::kill(s.pid, SIGTERM);
    auto deadline = std::chrono::steady_clock::now() + timeout;
    auto remaining = [&] {
        std::size_t n = 0;
        for (const auto& s : sessions)
            n += alive(s);
        return n;
    };
    while (remaining() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    for (const auto& s : sessions)
        if (alive(s)) ::kill(s.pid, SIGKILL);  // ends the whole pid namespace
    for (int i = 0; i < 200 && remaining() > 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    for (const auto& s : sessions) {
        ::unlink((dir + "/" + std::to_string(s.pid)).c_str());
        remove_serve_socket(dir, std::to_string(s.pid));
    }
    return sessions.size();
}

}  // namespace karapace::sandbox
