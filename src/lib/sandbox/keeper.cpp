#include "karapace/sandbox/keeper.hpp"

#include <fcntl.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>

#include "karapace/sandbox/idmap.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/text.hpp"
#include "sandbox/child.hpp"

namespace karapace::sandbox {

namespace {

const char* mapping_name(IdMapping m) {
    return m == IdMapping::keep_id ? "keep-id" : "container-root";
}

// The record: "pid start-time namespace-inode idle-seconds"; its mtime is the last use (to
// within mark_in_use's five seconds).
struct Record {
    pid_t pid = 0;
    std::uint64_t start_time = 0;
    std::uint64_t inode = 0;
    int idle = 0;
};

// The next word of `text` from `at` on (words are separated by spaces and newlines), as a number
// into `out`; false when there is none. (Not a stream: one would set up its locale in every run
// that joins the keeper.)
template <typename T>
bool next_number(std::string_view text, std::size_t& at, T& out) {
    auto separator = [](char c) { return c == ' ' || c == '\n'; };
    while (at < text.size() && separator(text[at]))
        ++at;
    std::size_t end = at;
    while (end < text.size() && !separator(text[end]))
        ++end;
    bool ok = parse_number(text.substr(at, end - at), out);
    at = end;
    return ok;
}

std::optional<Record> read_record(const std::string& path) {
    std::string text;
    try {
        text = read_file_limited(path, 256);
    } catch (const Error&) {
        return std::nullopt;
    }
    Record r;
    long long pid = 0;
    std::size_t at = 0;
    if (!next_number(text, at, pid) || !next_number(text, at, r.start_time) ||
        !next_number(text, at, r.inode) || !next_number(text, at, r.idle) || pid <= 1)
        return Record{};
    r.pid = static_cast<pid_t>(pid);
    return r;
}

// The keeper is in use: its idle time counts from now. Runs in quick succession touch the record
// once: not again within five seconds of the last touch (or a tenth of the idle time, when that
// is shorter), so the keeper may end that much before its idle time after the last run. (On a
// runtime directory on disk, not tmpfs, a touch is a metadata write of tens of microseconds.)
void mark_in_use(const std::string& path, const Record& r) {
    struct stat st {};
    timespec now{};
    if (::stat(path.c_str(), &st) == 0 && ::clock_gettime(CLOCK_REALTIME, &now) == 0) {
        long long since_ns =
            (static_cast<long long>(now.tv_sec) - st.st_mtim.tv_sec) * 1000000000LL +
            (now.tv_nsec - st.st_mtim.tv_nsec);
        long long every_ns = std::min(5000000000LL, r.idle * 100000000LL);
        if (since_ns >= 0 && since_ns < every_ns) return;
    }
    ::utimensat(AT_FDCWD, path.c_str(), nullptr, 0);
}

std::uint64_t own_userns_inode() {
    struct stat st {};
    return ::stat("/proc/self/ns/user", &st) == 0 ? st.st_ino : 0;
}

// PIDFD_GET_USER_NAMESPACE (linux/pidfd.h, Linux 6.11), for older headers.
constexpr unsigned long kPidfdGetUserNamespace = _IO(0xFF, 9);

// The user namespace of the recorded process while it is the recorded one, from a pidfd: the
// process is named before its start time is read, so one reading says whether the descriptor is
// the keeper's (the keeper held the pid from before the descriptor until that reading). Empty
// with `gone` set when it is not, or when the kernel has no such ioctl.
UniqueFd userns_of_recorded(const Record& r, bool& gone) {
    gone = false;
    UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, r.pid, 0)));
    if (!pidfd) {
        gone = errno == ESRCH;
        return {};
    }
    if (process_start_time(r.pid) != r.start_time) {
        gone = true;
        return {};
    }
    UniqueFd fd(::ioctl(pidfd.get(), kPidfdGetUserNamespace, 0));
    if (!fd) gone = errno == ESRCH;
    return fd;
}

// Opens the record's namespace only if the record still describes a live keeper of ours: the
// process has the recorded start time (a reused pid has another), its user namespace has the
// recorded inode, is not ours, and belongs to us. `why` says what did not hold.
UniqueFd open_verified(const Record& r, std::string& why) {
    if (r.pid <= 1) {
        why = "the record is unreadable";
        return {};
    }
    auto alive = [&] { return process_start_time(r.pid) == r.start_time; };
    bool gone = false;
    UniqueFd fd = userns_of_recorded(r, gone);
    const bool held = static_cast<bool>(fd);
    if (!held && !gone) {
        // Before Linux 6.11: the namespace by its /proc path, between two readings of the
        // start time.
        gone = !alive();
        if (!gone)
            fd = UniqueFd(::open(("/proc/" + std::to_string(r.pid) + "/ns/user").c_str(),
                                 O_RDONLY | O_CLOEXEC));
    }
    if (gone) {
        why = "process " + std::to_string(r.pid) + " is gone";
        return {};
    }
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0) {
        why = "the namespace of process " + std::to_string(r.pid) + " cannot be opened";
        return {};
    }
    uid_t owner = static_cast<uid_t>(-1);
    if (st.st_ino != r.inode || st.st_ino == own_userns_inode()) {
        why = "process " + std::to_string(r.pid) + " is in another user namespace";
        return {};
    }
    if (::ioctl(fd.get(), NS_GET_OWNER_UID, &owner) != 0 || owner != ::getuid()) {
        why = "the namespace of process " + std::to_string(r.pid) + " is not the caller's";
        return {};
    }
    // Checked again now that the descriptor holds the namespace: the pid was that process.
    if (!held && !alive()) {
        why = "process " + std::to_string(r.pid) + " is gone";
        return {};
    }
    return fd;
}

std::string record_path(const std::string& dir, IdMapping m) {
    return dir + "/userns-" + mapping_name(m);
}

// The keeper itself: waits for its maps, lets go of everything inherited, and sleeps until it has
// been idle long enough or its record names another process (a newer keeper, or none: the
// runtime directory went away with the session).
[[noreturn]] void keeper_main(int go_fd, const std::string& path) {
    if (!wait_for_byte(go_fd)) ::_exit(1);
    close_fds_except({});
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
        redirect_stdio({null, null, null});
        if (null > 2) ::close(null);
    }
    if (::chdir("/") != 0) ::_exit(1);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGINT, SIG_IGN);
    const pid_t self = ::getpid();
    for (;;) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) ::_exit(0);
        auto r = read_record(path);
        if (!r || r->pid != self) ::_exit(0);
        timespec now{};
        ::clock_gettime(CLOCK_REALTIME, &now);
        long left = st.st_mtim.tv_sec + r->idle - now.tv_sec;
        if (left <= 0) {
            ::unlink(path.c_str());
            ::_exit(0);
        }
        timespec wait{left, 0};
        ::nanosleep(&wait, nullptr);
    }
}

UniqueFd start_keeper(const IdMapPlan& plan, const std::string& path, int idle) {
    Pipe go, report;
    pid_t mid = ::fork();
    if (mid < 0) throw_errno(Errc::runtime, "cannot start the namespace keeper");
    if (mid == 0) {
        // A child of its own session, reparented at once: it outlives this command.
        report.read.reset();
        go.write.reset();
        ::setsid();
        // Named before the clone, so that it never shows as another karapace command.
        ::prctl(PR_SET_NAME, "karapace-keeper", 0, 0, 0);
        pid_t keeper = -1;
        try {
            keeper = clone_process(CLONE_NEWUSER);
        } catch (...) {
            ::_exit(1);
        }
        if (keeper == 0) {
            report.write.reset();
            keeper_main(go.read.get(), path);
        }
        ::_exit(::write(report.write.get(), &keeper, sizeof keeper) == sizeof keeper ? 0 : 1);
    }
    go.read.reset();
    report.write.reset();
    wait_exit_status(mid);
    pid_t keeper = -1;
    if (::read(report.read.get(), &keeper, sizeof keeper) != sizeof keeper || keeper <= 0)
        throw Error(Errc::runtime, "the namespace keeper did not start");
    try {
        write_id_maps(keeper, plan);
        auto start = process_start_time(keeper);
        UniqueFd ns(
            ::open(("/proc/" + std::to_string(keeper) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC));
        struct stat st {};
        if (!start || !ns || ::fstat(ns.get(), &st) != 0)
            throw Error(Errc::runtime, "the namespace keeper ended while it started");
        // The record first: the keeper exits when it does not find itself in it.
        std::string tmp = path + ".tmp." + std::to_string(::getpid());
        {
            UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
            if (!out) throw_errno(Errc::runtime, "cannot write " + tmp);
            write_all(out.get(),
                      std::to_string(keeper) + " " + std::to_string(*start) + " " +
                          std::to_string(st.st_ino) + " " + std::to_string(idle) + "\n",
                      tmp);
        }
        if (::rename(tmp.c_str(), path.c_str()) != 0) {
            ::unlink(tmp.c_str());
            throw_errno(Errc::runtime, "cannot write " + path);
        }
        send_byte(go.write.get());
        log::debug("started the namespace keeper ", keeper, " (", path, ")");
        return ns;
    } catch (...) {
        ::kill(keeper, SIGKILL);
        throw;
    }
}

std::string runtime_dir_or_empty() {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    if (xdg == nullptr || xdg[0] != '/') return {};
    struct stat st {};
    if (::stat(xdg, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != ::getuid()) return {};
    return std::string(xdg) + "/karapace";
}

std::string private_dir(bool create) {
    std::string dir = runtime_dir_or_empty();
    if (dir.empty()) dir = "/tmp/karapace-" + std::to_string(::getuid());
    if (create && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw_errno(Errc::runtime, "cannot create " + dir);
    struct stat st {};
    if (::lstat(dir.c_str(), &st) != 0) {
        if (!create && errno == ENOENT) return dir;
        throw_errno(Errc::runtime, "cannot inspect " + dir);
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077) != 0)
        throw Error(Errc::runtime, dir + " is not a private directory of the caller's",
                    "remove it; karapace makes it again, mode 0700");
    return dir;
}

}  // namespace

int keeper_idle_seconds() {
    const char* v = std::getenv("KARAPACE_KEEPER_IDLE");
    if (v == nullptr || *v == '\0') return kDefaultKeeperIdle;
    char* end = nullptr;
    long n = std::strtol(v, &end, 10);
    if (*end != '\0' || n < 0 || n > 86400) return kDefaultKeeperIdle;
    return static_cast<int>(n);
}

std::string keeper_dir() { return private_dir(true); }

UniqueFd kept_user_namespace(IdMapping mapping, const IdMapPlan& plan) {
    if (!plan.use_helpers) return {};  // maps written directly cost nothing worth keeping
    int idle = keeper_idle_seconds();
    if (idle == 0) return {};
    try {
        std::string path = record_path(keeper_dir(), mapping);
        std::string why;
        auto try_record = [&]() -> UniqueFd {
            auto r = read_record(path);
            if (!r) return {};
            UniqueFd fd = open_verified(*r, why);
            if (fd) mark_in_use(path, *r);
            return fd;
        };
        if (auto fd = try_record()) return fd;
        // One keeper per user and mapping, also when several runs start at once.
        std::string lock_path = path + ".lock";
        UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!lock) throw_errno(Errc::runtime, "cannot open " + lock_path);
        while (::flock(lock.get(), LOCK_EX) != 0)
            if (errno != EINTR) throw_errno(Errc::runtime, "cannot lock " + lock_path);
        if (auto fd = try_record()) return fd;
        if (!why.empty()) log::debug("replacing the namespace keeper: ", why);
        ::unlink(path.c_str());
        return start_keeper(plan, path, idle);
    } catch (const Error& e) {
        log::debug("no namespace keeper (", e.what(), "); this run makes its own namespace");
        return {};
    }
}

std::vector<KeeperStatus> keeper_status() {
    std::vector<KeeperStatus> out;
    std::string dir;
    try {
        dir = private_dir(false);
    } catch (const Error&) {
        return out;
    }
    for (IdMapping m : {IdMapping::keep_id, IdMapping::container_root}) {
        KeeperStatus s;
        s.mapping = m;
        s.record = record_path(dir, m);
        struct stat st {};
        if (::stat(s.record.c_str(), &st) != 0) {
            out.push_back(s);
            continue;
        }
        auto r = read_record(s.record);
        std::string why;
        UniqueFd fd = r ? open_verified(*r, why) : UniqueFd();
        if (!fd) {
            s.stale = why.empty() ? "the record is unreadable" : why;
            ::unlink(s.record.c_str());
        } else {
            s.running = true;
            s.pid = r->pid;
            s.userns_inode = r->inode;
            s.idle_seconds = r->idle;
            s.seconds_left = st.st_mtim.tv_sec + r->idle - static_cast<long>(std::time(nullptr));
            if (s.seconds_left < 0) s.seconds_left = 0;
        }
        out.push_back(s);
    }
    return out;
}

std::string describe_keeper(IdMapping mapping) {
    if (::geteuid() == 0) return "not used: as root the id maps are written directly";
    if (!plan_id_maps_for_caller(mapping).use_helpers)
        return "not used: without a sub-id range the single-id map is written directly";
    if (keeper_idle_seconds() == 0) return "off (KARAPACE_KEEPER_IDLE=0)";
    for (const auto& s : keeper_status()) {
        if (s.mapping != mapping) continue;
        if (s.running)
            return "pid " + std::to_string(s.pid) + ", user namespace " +
                   std::to_string(s.userns_inode) + ", exits after " +
                   std::to_string(s.seconds_left) + " s without a run (idle limit " +
                   std::to_string(s.idle_seconds) + " s)";
        if (!s.stale.empty())
            return "none (a stale record was removed: " + s.stale + "); the next run starts one";
    }
    return "none; the next run starts one";
}

int stop_keepers() {
    int stopped = 0;
    for (const auto& s : keeper_status()) {
        if (!s.running) continue;
        // Through a pidfd checked against the record, so a reused pid is never signalled.
        UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, s.pid, 0)));
        auto r = read_record(s.record);
        if (!pidfd || !r || r->pid != s.pid) continue;
        std::string why;
        if (!open_verified(*r, why)) continue;
        if (::syscall(SYS_pidfd_send_signal, pidfd.get(), SIGTERM, nullptr, 0) == 0) ++stopped;
        ::unlink(s.record.c_str());
    }
    return stopped;
}

}  // namespace karapace::sandbox
