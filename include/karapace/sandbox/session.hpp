// Running sessions of an environment: each sandbox's init is recorded as a file named after its
// host pid in the environment's sessions directory, holding its start time, so `stop` signals
// exactly that process even after pid reuse. Killing init ends everything in its pid namespace.
#pragma once

#include <optional>

#include "karapace/sandbox/spec.hpp"

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

private:
    std::string file_;
};

// Live sessions in `dir`; records of processes that are gone (or reused pids) are removed.
std::vector<Session> list_sessions(const std::string& dir);

// SIGTERM to every live session's init, then SIGKILL to those still alive after `timeout`.
// Returns how many sessions were running. Their records are removed.
std::size_t stop_sessions(const std::string& dir, std::chrono::milliseconds timeout);

}  // namespace karapace::sandbox
