// Runs a lingering sandbox's init starts itself (init_start.hpp, "runs a lingering init
// starts"): the socket a new sandbox's init takes them on, and the caller's side of one.
#pragma once

#include <sys/types.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

// The listening socket of a new sandbox that may linger, made before the sandbox in its sessions
// directory under a name of the caller's ("<dir>/.serve-new-<pid>"). publish() names it after
// init ("<dir>/.serve-<init pid>") once the sandbox lingers; otherwise it is removed. Empty (fd()
// is -1) when it cannot be made: the sandbox then takes no runs.
class ServeSocket {
public:
    ServeSocket() = default;
    explicit ServeSocket(const std::string& session_dir);
    ~ServeSocket();
    ServeSocket(const ServeSocket&) = delete;
    ServeSocket& operator=(const ServeSocket&) = delete;
    int fd() const noexcept { return socket_.get(); }
    void publish(pid_t init) noexcept;

private:
    UniqueFd dir_, socket_;
    std::string name_;
};

// The socket file of the lingering sandbox whose init is `pid` (its number as text).
std::string serve_socket_name(std::string_view pid);
std::string serve_socket_name(pid_t pid);

// Whether a command started by the lingering init `pid` would start as one this process starts:
// in the same cgroup, with the same resource limits, priority, scheduling policy and time slice,
// OOM score, CPU and memory affinity, umask, ignored signals (this process's own ignoring of
// SIGPIPE aside), no_new_privs and seccomp mode. (The capability sets a command gets are init's
// options, not inherited.)
bool same_process_context(pid_t pid);

// What a run asks a lingering init for: init's per-command options, the command line and its
// environment, and its standard streams.
struct ServedCommand {
    const std::vector<std::string>& options;
    const std::vector<std::string>& argv;
    const std::vector<std::string>& env;
    std::array<int, 3> stdio;
};

// A connection to the lingering init `pid` that has taken `command`; empty when it has not
// (no socket, init gone, a request it refused): nothing ran then.
UniqueFd ask_lingering_init(const std::string& session_dir, pid_t pid,
                            const ServedCommand& command);

// Waits on `connection` for the command's end: its status and the error that kept it from
// starting, if any; a status of 125 with an error when init ended without reporting.
struct ServedEnd {
    int status = 125;
    std::optional<Error> error;
};
ServedEnd await_served_command(int connection);

}  // namespace karapace::sandbox
