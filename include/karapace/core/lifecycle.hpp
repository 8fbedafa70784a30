// The lifecycle of an environment: which operations each state allows, and why the others are
// refused. One table answers every state x operation question, so the CLI, the D-Bus service and
// the engine refuse the same things with the same words.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace karapace::core {

// `running` is never stored: an environment is running while it has live sessions
// (derive_state). `frozen` keeps the upper layer read-only; `archived` keeps the environment in
// the store (protected from gc) but nothing can run in it. Freeze and archive are undone only by
// rebuilding.
enum class State { built, running, frozen, archived };

enum class Operation {
    enter,
    exec,
    stop,
    destroy,
    freeze,
    archive,
    commit,
    restore,
    rebuild,
    rename,
    diff,
    push,
};

enum class Verdict {
    allowed,
    allowed_read_only,  // enter/exec on a frozen environment: no writable upper layer
    needs_force,        // refused unless the caller passes --force (destroy/rebuild while running)
    refused,
};

struct Rule {
    Verdict verdict;
    // Why it is refused and what to do, with "{env}" standing for the environment's label; empty
    // when allowed.
    std::string_view why;
    std::string_view hint;
};

std::string_view to_string(State state) noexcept;
std::string_view to_string(Operation op) noexcept;
// "built", "running", "frozen", "archived"; nullopt otherwise.
std::optional<State> parse_state(std::string_view name) noexcept;
std::optional<Operation> parse_operation(std::string_view name) noexcept;

// The state users see: a built or frozen environment with live sessions is running. (Whether a
// running environment is frozen underneath is the stored state's business: enter/exec mount it
// read-only when the stored state is frozen, see read_only().)
State derive_state(State stored, bool has_live_sessions) noexcept;
// True when sessions must not get a writable upper layer.
bool read_only(State stored) noexcept;

// The table entry for `state` x `op`.
const Rule& rule(State state, Operation op) noexcept;

// Throws Error(conflict) when `op` is not allowed in `state`, e.g. "environment 'web' is
// archived; nothing can enter it" with the hint "use `karapace rebuild` to make it usable again".
// `env` is what the user calls the environment (its name, or its short id). Returns the verdict
// that let it through (allowed, allowed_read_only, or needs_force when `force` was given).
Verdict check_operation(std::string_view env, State state, Operation op, bool force = false);

}  // namespace karapace::core
