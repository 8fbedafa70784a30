// Running sessions of an environment: `env/<id>/sessions/<pid>` holds the pid and the process
// start time, so several enters/execs can run at once and a dead or reused pid is told apart.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "karapace/store/layout.hpp"

namespace karapace::store {

struct Session {
    int pid = 0;
    unsigned long long start_time = 0;
    std::string started;  // RFC 3339
    bool alive = false;   // pid exists with the same start time
};
boost::json::object to_json(const Session& s);

// Records `pid` (default: this process) as a session of `id`.
Session register_session(const Layout& layout, const EnvId& id, int pid = 0);
void unregister_session(const Layout& layout, const EnvId& id, int pid);
// All recorded sessions, liveness checked against /proc; sorted by pid.
std::vector<Session> list_sessions(const Layout& layout, const EnvId& id);
// Live sessions only.
std::vector<Session> live_sessions(const Layout& layout, const EnvId& id);
// Removes the records of dead sessions; returns how many went.
int prune_stale_sessions(const Layout& layout, const EnvId& id);

}  // namespace karapace::store
