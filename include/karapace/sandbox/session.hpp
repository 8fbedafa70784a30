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
#include <string_view>
#include <vector>

namespace karapace::sandbox {

struct Session {
    pid_t pid = 0;
    unsigned long long start_time = 0;  // clock ticks since boot (/proc/<pid>/stat field 22)
    // The identity mapping of its user namespace; nullopt for a record that does not say (then
    // no other run joins it).
    std::optional<IdMapping> mapping;
    // What its sandbox was built from (plan_fingerprint in spawn.cpp); empty when the record does
    // not say. A run joins a lingering sandbox only when the fingerprints are equal.
    std::string fingerprint;
};

// Seconds the sandbox of an `exec` or `enter` stays ready after its command has ended, so that
// the next run of the environment joins it instead of building a new one: KARAPACE_LINGER
// (0 turns it off), else kDefaultLinger. Nothing of the command runs meanwhile; its init waits,
// holding the namespaces and the overlay mount, and exits when the time is up, when `stop` or an
// operation that changes the writable layer ends it, or when a run needs a sandbox built
// differently.
inline constexpr int kDefaultLinger = 60;
int linger_seconds();

// The sessions directory `dir`, made (mode 0700) when missing, as an O_PATH descriptor.
UniqueFd open_session_dir(const std::string& dir);
// What a session's record says after its start time: the mapping and the fingerprint.
std::string session_record_words(IdMapping mapping, const std::string& fingerprint);
// Writes the record of the session whose init is `pid` in the sessions directory `dir_fd`:
// "<start time> <words>" as the target of a symbolic link named after the pid. It allocates
// nothing, throws nothing and leaves errno alone (where the build can: sandbox/raw_syscall.hpp),
// so a run can write it while the sandbox's child, which shares its memory, takes its first steps.
// 0, -ESRCH when the process is gone, or another negative errno.
long write_session_record(int dir_fd, pid_t pid, std::string_view words) noexcept;

// Records `pid` in `dir` (created if needed) for the lifetime of the object.
class SessionRecord {
public:
    SessionRecord() = default;
    SessionRecord(const std::string& dir, pid_t pid, IdMapping mapping,
                  const std::string& fingerprint = {});
    // Takes over the record write_session_record wrote in `dir`.
    struct Written {};
    SessionRecord(Written, const std::string& dir, pid_t pid);
    ~SessionRecord();
    SessionRecord(const SessionRecord&) = delete;
    SessionRecord& operator=(const SessionRecord&) = delete;
    // The session's command and processes are gone but the kernel may still be tearing its
    // namespaces down: the record becomes "<dir>/.ending-<pid>", which await_ending_sessions
    // waits for, instead of going away.
    void mark_ending() noexcept;
    // The session's command and processes are gone and its init lingers (linger_seconds): the
    // record becomes "<dir>/.idle-<pid>", which runs may join and list_sessions does not show.
    void mark_idle() noexcept;

private:
    std::string dir_, file_;
    pid_t pid_ = 0;
};

// Waits (up to `timeout` in all) until the sessions marked ending in `dir` have exited, so that
// their overlay mount of the writable layer is gone before a new one is made, and removes their
// records. With a zero timeout it only removes the records of processes already gone.
void await_ending_sessions(const std::string& dir, std::chrono::milliseconds timeout);
// The same for `ending`, the live records of a reading of `dir` (read_session_records).
void await_ending_sessions(const std::string& dir, const std::vector<Session>& ending,
                           std::chrono::milliseconds timeout);

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

// Every record in `dir`, from one reading of it: the live sessions, the lingering sandboxes and
// the sessions still ending. Records of processes that are gone (or reused pids) are removed.
struct SessionRecords {
    std::vector<Session> running, idle, ending;
};
SessionRecords read_session_records(const std::string& dir);

// Live sessions in `dir`; records of processes that are gone (or reused pids) are removed.
// Lingering sandboxes are not sessions: nothing of a command runs in them.
std::vector<Session> list_sessions(const std::string& dir);

// The lingering sandboxes in `dir` (SessionRecord::mark_idle); stale records are removed.
std::vector<Session> list_idle_sessions(const std::string& dir);

// Tells a lingering sandbox that a run has joined it: its time starts again. False when it is
// gone (its namespaces stay usable through descriptors already open).
bool extend_idle_session(const Session& s);

// Ends the lingering sandboxes in `dir` and waits (up to `timeout`) until they and their overlay
// mount are gone, so that the writable layer is not mounted when it is changed or mounted anew.
void retire_idle_sessions(const std::string& dir,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
// The same for `idle`, the lingering sandboxes of a reading of `dir` (read_session_records).
void retire_idle_sessions(const std::string& dir, const std::vector<Session>& idle,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// A lingering sandbox whose init takes a run (src/lib/sandbox/serve.hpp) is a running session
// meanwhile: runs that start then join it as they join a running one, and `stop` ends it. Its
// record "<dir>/.idle-<pid>" becomes "<dir>/<pid>"; false when the record is gone (the sandbox
// ended, or another run took it). return_claimed_session makes it lingering again.
bool claim_idle_session(const std::string& dir, pid_t pid) noexcept;
void return_claimed_session(const std::string& dir, pid_t pid) noexcept;

// SIGTERM to every live session's init, then SIGKILL to those still alive after `timeout`.
// Returns how many sessions were running. Their records are removed.
std::size_t stop_sessions(const std::string& dir, std::chrono::milliseconds timeout);

}  // namespace karapace::sandbox
