#include "sandbox/serve.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "karapace/util/process.hpp"
#include "sandbox/init_start.hpp"
#include "sandbox/wire.hpp"

namespace karapace::sandbox {

namespace is = init_start;

namespace {

// `name` in the directory open as `dir`, by a path short enough for a socket address whatever
// the directory's own path is.
sockaddr_un socket_address(int dir, const std::string& name) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/%s", dir,
                  name.c_str());
    return address;
}

// The contents of a small /proc file, or "" when it cannot be read (the process is gone).
std::string proc_text(const std::string& path) {
    try {
        return read_file_limited(path, std::size_t{1} << 16);
    } catch (const Error&) {
        return {};
    }
}

// The lines of a /proc/<pid>/status that decide how a child of that process starts, one after
// another; with `ours`, SIGPIPE in SigIgn as our caller left it (ignore_sigpipe).
std::string start_context(const std::string& status, bool ours) {
    static constexpr std::string_view kFields[] = {
        "Umask:",           "SigIgn:",       "NoNewPrivs:",  "Seccomp:",
        "Seccomp_filters:", "Cpus_allowed:", "Mems_allowed:"};
    std::string out;
    std::string_view text = status;
    while (!text.empty()) {
        auto end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
        for (auto field : kFields) {
            if (line.rfind(field, 0) != 0) continue;
            std::string value(line.substr(field.size()));
            if (ours && field == "SigIgn:") {
                std::uint64_t ignored = std::strtoull(value.c_str(), nullptr, 16);
                std::uint64_t pipe = is::signal_bit(SIGPIPE);
                ignored = (ignored & ~pipe) | (sigpipe_ignored_by_caller() ? pipe : 0);
                char hex[24];
                std::snprintf(hex, sizeof hex, "\t%016llx",
                              static_cast<unsigned long long>(ignored));
                value = hex;
            }
            out.append(field).append(value).push_back('\n');
        }
    }
    return out;
}

}  // namespace

std::string serve_socket_name(std::string_view pid) { return ".serve-" + std::string(pid); }
std::string serve_socket_name(pid_t pid) { return serve_socket_name(std::to_string(pid)); }

ServeSocket::ServeSocket(const std::string& session_dir) {
    dir_ = UniqueFd(::open(session_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir_) return;
    name_ = ".serve-new-" + std::to_string(::getpid());
    UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    auto address = socket_address(dir_.get(), name_);
    ::unlinkat(dir_.get(), name_.c_str(), 0);  // left by a run of a process that had our pid
    if (!s || ::bind(s.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        name_.clear();
        return;
    }
    if (::listen(s.get(), 4) != 0) return;
    socket_ = std::move(s);
}

ServeSocket::~ServeSocket() {
    if (!name_.empty()) ::unlinkat(dir_.get(), name_.c_str(), 0);
}

void ServeSocket::publish(pid_t init) noexcept {
    if (!socket_ || name_.empty()) return;
    try {
        if (::renameat(dir_.get(), name_.c_str(), dir_.get(), serve_socket_name(init).c_str()) == 0)
            name_.clear();
    } catch (...) {}
}

bool same_process_context(pid_t pid) {
    std::string proc = "/proc/" + std::to_string(pid);
    if (proc_text("/proc/self/cgroup") != proc_text(proc + "/cgroup") ||
        proc_text("/proc/self/oom_score_adj") != proc_text(proc + "/oom_score_adj"))
        return false;
    std::string theirs = start_context(proc_text(proc + "/status"), false);
    if (theirs.empty() || start_context(proc_text("/proc/self/status"), true) != theirs)
        return false;
    for (int resource = 0; resource < RLIM_NLIMITS; ++resource) {
        rlimit mine{}, its{};
        if (::prlimit(0, static_cast<__rlimit_resource>(resource), nullptr, &mine) != 0 ||
            ::prlimit(pid, static_cast<__rlimit_resource>(resource), nullptr, &its) != 0 ||
            mine.rlim_cur != its.rlim_cur || mine.rlim_max != its.rlim_max)
            return false;
    }
    errno = 0;
    int my_nice = ::getpriority(PRIO_PROCESS, 0);
    int its_nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(pid));
    if (errno != 0 || my_nice != its_nice) return false;
    // The scheduling policy and slice (the nice value above): a run's own short slice is the
    // init's when a run with one started it, and the command gets the caller's back from the
    // request (slice.hpp).
    is::SchedAttr mine, its;
    bool mine_known = is::get_sched(is::LibcSys{}, mine);
    bool its_known = is::get_sched(is::LibcSys{}, its, pid);
    if (mine_known != its_known ||
        (mine_known && (mine.policy != its.policy || mine.runtime != its.runtime ||
                        mine.priority != its.priority || mine.flags != its.flags)))
        return false;
    constexpr int kIoprioWhoProcess = 1;
    return ::syscall(SYS_ioprio_get, kIoprioWhoProcess, 0) ==
           ::syscall(SYS_ioprio_get, kIoprioWhoProcess, pid);
}

UniqueFd ask_lingering_init(const std::string& session_dir, pid_t pid,
                            const ServedCommand& command) {
    UniqueFd dir(::open(session_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    UniqueFd s(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
    if (!dir || !s) return {};
    auto address = socket_address(dir.get(), serve_socket_name(pid));
    if (::connect(s.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return {};

    std::string text;
    for (const auto* list : {&command.options, &command.argv, &command.env})
        for (const auto& s : *list)
            text.append(s).push_back('\0');
    if (text.size() > is::kMaxRunRequestBytes) return {};
    is::RunRequestMessage out;
    out.header = {is::kRunRequestMagic, static_cast<std::uint32_t>(text.size()),
                  static_cast<std::uint32_t>(command.options.size()),
                  static_cast<std::uint32_t>(command.argv.size()),
                  static_cast<std::uint32_t>(command.env.size())};
    static_assert(sizeof command.stdio == 3 * sizeof(int));
    cmsghdr* c = CMSG_FIRSTHDR(&out.message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof command.stdio);
    std::memcpy(CMSG_DATA(c), command.stdio.data(), sizeof command.stdio);
    if (::sendmsg(s.get(), &out.message, MSG_NOSIGNAL) != static_cast<ssize_t>(sizeof out.header) ||
        ::send(s.get(), text.data(), text.size(), MSG_NOSIGNAL) !=
            static_cast<ssize_t>(text.size()))
        return {};
    char reply = 0;
    ssize_t n;
    while ((n = ::recv(s.get(), &reply, 1, 0)) < 0 && errno == EINTR) {}
    if (n != 1 || reply != is::kReplyAccepted) return {};
    return s;
}

ServedEnd await_served_command(int connection) {
    ServedEnd end;
    bool reported = false;
    char buf[1 + is::kMaxEncodedError];
    for (;;) {
        ssize_t n = ::recv(connection, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        if (buf[0] == is::kReplyError) {
            end.error = wire::decode_error(std::string(buf + 1, static_cast<std::size_t>(n - 1)));
        } else if (buf[0] == is::kReplyStatus && n == 1 + sizeof end.status) {
            std::memcpy(&end.status, buf + 1, sizeof end.status);
            reported = true;
            break;
        }
    }
    if (!reported) {
        end.status = 125;
        if (!end.error)
            end.error = Error(Errc::runtime,
                              "the lingering sandbox ended before it reported the command's status",
                              "was it stopped (karapace stop)?");
    }
    if (end.error && end.status != 126 && end.status != 127) end.status = 125;
    return end;
}

}  // namespace karapace::sandbox
