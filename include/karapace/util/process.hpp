// Running helper programs (mmdebstrap, newuidmap, package managers run from outside a sandbox):
// argv-based, never through a shell, with captured output and a typed result.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace karapace {

struct RunOptions {
    // Full environment for the child ("K=V"); nullopt inherits ours.
    std::optional<std::vector<std::string>> env;
    std::string cwd;             // empty: inherit
    bool capture_stdout = true;  // false: inherit our stdout
    bool capture_stderr = true;  // false: inherit our stderr
    std::string
        stdin_data;  // written to the child's stdin, then closed (stdin is /dev/null if empty)
    // Called with each chunk of stderr as it arrives (progress parsing), in addition to capture.
    std::function<void(std::string_view)> on_stderr;
};

struct ProcessResult {
    int status = 0;  // exit code, or 128 + signal number
    bool signaled = false;
    std::string out;
    std::string err;
    bool ok() const noexcept { return status == 0; }
};

// Runs argv[0] (looked up in PATH when it has no '/') and waits for it. Throws Error(not_found)
// when the program does not exist; a non-zero exit is returned, not thrown.
ProcessResult run_process(const std::vector<std::string>& argv, const RunOptions& opts = {});

// Absolute path of `name` found in PATH (or a fixed list of sbin dirs), or nullopt.
std::optional<std::string> find_program(const std::string& name);

// Field `n` of a /proc/<pid>/stat line as proc(5) numbers them (n >= 3), or nullptr when the line
// has fewer. Fields are counted after the last ')', since the command name (field 2) may hold
// spaces and parentheses. Allocates nothing: the sandbox's children use it.
const char* proc_stat_field(const char* line, int n) noexcept;
// The start time (field 22) of a /proc/<pid>/stat line, or nullopt when it has none. Allocates
// nothing and leaves errno alone.
std::optional<unsigned long long> proc_stat_start_time(const char* line) noexcept;

// Start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat), or nullopt when
// the process does not exist. pid + start time identifies a process across pid reuse.
std::optional<unsigned long long> process_start_time(int pid);
// True when `pid` exists, still has `start_time` and has not exited (a zombie has).
bool process_alive(int pid, unsigned long long start_time);
// When a process with that start time (clock ticks since boot) started, by the wall clock: the
// boot time in /proc/stat plus the ticks. nullopt when /proc/stat does not say.
std::optional<std::chrono::system_clock::time_point> process_started_at(
    unsigned long long start_time);

// A program that writes to pipes and sockets ignores SIGPIPE (a closed reader shows up as EPIPE)
// but starts the user's commands with the disposition it found: ignore_sigpipe() remembers it,
// sigpipe_ignored_by_caller() says it, restore_sigpipe() puts it back (in a child about to
// execute a command; allocates nothing).
void ignore_sigpipe() noexcept;
bool sigpipe_ignored_by_caller() noexcept;
void restore_sigpipe() noexcept;

// Last `max_lines` non-empty lines of `text`, for error messages that quote a tool's output.
std::string tail_lines(const std::string& text, std::size_t max_lines);

}  // namespace karapace
