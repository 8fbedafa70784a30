#include "karapace/sandbox/session.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <thread>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"

namespace karapace::sandbox {

namespace {

template <typename T>
bool parse(std::string_view s, T& v) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
        s.remove_suffix(1);
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

bool alive(const Session& s) { return process_alive(s.pid, s.start_time); }

// The record is "<start time> <mapping>\n"; a record with only the start time (written by an
// older karapace) still counts as a session, one nothing joins.
const char* mapping_word(IdMapping m) { return m == IdMapping::keep_id ? "keep-id" : "root"; }

}  // namespace

SessionRecord::SessionRecord(const std::string& dir, pid_t pid, IdMapping mapping) {
    auto start = process_start_time(pid);
    if (!start)
        throw Error(Errc::runtime, "the sandbox process " + std::to_string(pid) +
                                       " ended before its session was recorded");
    make_dirs(dir, 0700);
    std::string file = dir + "/" + std::to_string(pid);
    // Not fsynced: after a crash of the machine the process is gone and the record stale anyway
    // (list_sessions checks it against /proc). On a busy disk the two fsyncs cost milliseconds.
    write_file_atomic(file, std::to_string(*start) + " " + mapping_word(mapping) + "\n", 0644,
                      Sync::none);
    file_ = file;
}

SessionRecord::~SessionRecord() {
    if (!file_.empty()) ::unlink(file_.c_str());
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

std::vector<Session> list_sessions(const std::string& dir) {
    std::vector<Session> out;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return out;
    std::vector<std::string> names;
    while (auto* e = ::readdir(d))
        if (e->d_name[0] != '.') names.emplace_back(e->d_name);
    ::closedir(d);
    for (const auto& name : names) {
        Session s;
        std::string file = dir + "/" + name;
        std::string text;
        try {
            text = read_file_limited(file, 64);
        } catch (const Error&) {
            continue;
        }
        std::string_view body = text;
        if (auto space = body.find(' '); space != std::string_view::npos) {
            auto word = body.substr(space + 1);
            while (!word.empty() && (word.back() == '\n' || word.back() == ' '))
                word.remove_suffix(1);
            if (word == mapping_word(IdMapping::keep_id)) s.mapping = IdMapping::keep_id;
            if (word == mapping_word(IdMapping::container_root))
                s.mapping = IdMapping::container_root;
            body = body.substr(0, space);
        }
        if (!parse(name, s.pid) || !parse(body, s.start_time) || !alive(s)) {
            ::unlink(file.c_str());
            continue;
        }
        out.push_back(s);
    }
    return out;
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
    for (const auto& s : sessions)
        ::unlink((dir + "/" + std::to_string(s.pid)).c_str());
    return sessions.size();
}

}  // namespace karapace::sandbox
