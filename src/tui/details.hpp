// What the detail view shows of one environment, gathered through the engine (inspect,
// snapshots, diff, exports) on the operation thread, and laid out as lines for the screen.
#pragma once

#include <string>
#include <vector>

#include "karapace/core/engine.hpp"

namespace karapace::tui {

struct DetailLine {
    enum class Kind { text, heading, field } kind = Kind::text;
    std::string label;  // field: "state"
    std::string text;
};

struct Details {
    std::string env_id;
    std::string label;  // name, else short id
    std::string state;
    std::vector<core::SnapshotInfo> snapshots;  // newest last, as the engine lists them
    std::vector<DetailLine> lines;
};

// Reads everything the view shows; a part that fails (diff of a damaged layer) becomes a line
// saying so, the rest is still shown.
Details load_details(core::Engine& engine, const std::string& env_id);

// The command a session runs: the first process its init started, else init itself, from /proc
// (empty when the process is gone).
std::string session_command(int pid);

}  // namespace karapace::tui
