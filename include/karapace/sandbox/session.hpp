// Running sessions of an environment: each sandbox's init is recorded as a file named after its
// host pid in the environment's sessions directory, holding its start time, so `stop` signals
// exactly that process even after pid reuse. Killing init ends everything in its pid namespace.
#pragma once

#include <optional>

#include "karapace/sandbox/spec.hpp"
#include "karapace/util/fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace karapace::sandbox {

struct Session {
    pid_t pid = 0;
    unsigned long long start_time = 0;  // clock ticks since boot (/proc/<pid>/stat field 22)
    // The identity mapping of its user namespace; nullopt for a record that does not say (then
    // no other run joins it).
    std::optional<IdMapping> mapping;
};

// Records `pid` in `dir` (created if needed) for the lifetime of the object.
class SessionRecord {
public:
    SessionRecord() = default;
    SessionRecord(const std::string& dir, pid_t pid, IdMapping mapping);
    ~SessionRecord();
    SessionRecord(const SessionRecord&) = delete;
    SessionRecord& operator=(const SessionRecord&) = delete;
    // The session's command and processes are gone but the kernel may still be tearing its
    // namespaces down: the record becomes "<dir>/.ending-<pid>", which await_ending_sessions
    // waits for, instead of going away.
    void mark_ending() noexcept;

private:
    std::string dir_, file_;
    pid_t pid_ = 0;
};

// Waits (up to `timeout` in all) until the sessions marked ending in `dir` have exited, so that
// their overlay mount of the writable layer is gone before a new one is made, and removes their
// records. With a zero timeout it only removes the records of processes already gone.
void await_ending_sessions(const std::string& dir, std::chrono::milliseconds timeout);

// Serialises the start of new sandboxes of one environment (`<session_dir>/.start-lock`), from
// looking for a session to join until the new one is recorded and its root mounted, so that two
// runs started at once never mount the writable layer twice. An empty dir locks nothing.
class SessionStartLock {
public:
    explicit SessionStartLock(const std::string& session_dir);
    void release() noexcept { fd_.reset(); }

private:
    UniqueFd fd_;
};

// A work directory of a run's own (`<work_dir>.<pid>`), for an overlay mounted while another
// mount of the same writable layer is live: overlayfs empties its work directory when it
// mounts, under the feet of the mount already using it. Removed, with what the overlay left in
// it, on destruction.
class PrivateWorkDir {
public:
    explicit PrivateWorkDir(const std::string& shared_work_dir);
    ~PrivateWorkDir();
    PrivateWorkDir(const PrivateWorkDir&) = delete;
    PrivateWorkDir& operator=(const PrivateWorkDir&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

// Live sessions in `dir`; records of processes that are gone (or reused pids) are removed.
std::vector<Session> list_sessions(const std::string& dir);

// SIGTERM to every live session's init, then SIGKILL to those still alive after `timeout`.
// Returns how many sessions were running. Their records are removed.
std::size_t stop_sessions(const std::string& dir, std::chrono::milliseconds timeout);

}  // namespace karapace::sandbox
