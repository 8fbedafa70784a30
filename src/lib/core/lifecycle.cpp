#include "karapace/core/lifecycle.hpp"

#include <array>
#include <string>

#include "karapace/util/error.hpp"

namespace karapace::core {
namespace {

constexpr std::size_t state_count = 4;
constexpr std::size_t operation_count = 12;

constexpr std::array<std::string_view, state_count> state_names{"built", "running", "frozen",
                                                                "archived"};
constexpr std::array<std::string_view, operation_count> operation_names{
    "enter",  "exec",    "stop",    "destroy", "freeze", "archive",
    "commit", "restore", "rebuild", "rename",  "diff",   "push"};

constexpr Rule ok{Verdict::allowed, {}, {}};
constexpr Rule ok_read_only{Verdict::allowed_read_only, {}, {}};

constexpr std::string_view stop_first = "stop it first: karapace stop {env}";
constexpr std::string_view rebuild_hint = "use `karapace rebuild` to make it usable again";
constexpr std::string_view unfreeze_hint = "use `karapace rebuild` to make it writable again";

constexpr Rule not_running{Verdict::refused, "environment '{env}' is not running",
                           "nothing to stop; `karapace list` shows which environments run"};

// Rows follow State, columns follow Operation.
constexpr std::array<std::array<Rule, operation_count>, state_count> table{{
    // built
    {{ok, ok, not_running, ok, ok, ok, ok, ok, ok, ok, ok, ok}},
    // running
    {{
        ok,  // enter: sessions can share an environment
        ok,  // exec
        ok,  // stop
        {Verdict::needs_force,
         "environment '{env}' is running; destroying it would kill its sessions",
         "stop it first: karapace stop {env} (or pass --force to stop and destroy it)"},
        {Verdict::refused,
         "environment '{env}' is running; it can be frozen only when no session writes to it",
         stop_first},
        {Verdict::refused,
         "environment '{env}' is running; it can be archived only when no session uses it",
         stop_first},
        {Verdict::refused,
         "environment '{env}' is running; a snapshot taken while sessions write to it could be "
         "inconsistent",
         stop_first},
        {Verdict::refused,
         "environment '{env}' is running; restoring would replace files under its sessions",
         stop_first},
        {Verdict::needs_force,
         "environment '{env}' is running; rebuilding replaces it and would kill its sessions",
         "stop it first: karapace stop {env} (or pass --force to stop it and rebuild)"},
        ok,  // rename
        ok,  // diff
        ok,  // push
    }},
    // frozen
    {{
        ok_read_only,  // enter
        ok_read_only,  // exec
        not_running,
        ok,  // destroy
        {Verdict::refused, "environment '{env}' is already frozen",
         "nothing to do; use `karapace rebuild` to make it writable again"},
        ok,  // archive
        {Verdict::refused,
         "environment '{env}' is frozen; snapshots are committed only while it is writable",
         unfreeze_hint},
        {Verdict::refused,
         "environment '{env}' is frozen; a snapshot can be restored only while it is writable",
         unfreeze_hint},
        ok,  // rebuild
        ok,  // rename
        ok,  // diff
        ok,  // push
    }},
    // archived
    {{
        {Verdict::refused, "environment '{env}' is archived; nothing can enter it", rebuild_hint},
        {Verdict::refused, "environment '{env}' is archived; nothing can run in it", rebuild_hint},
        not_running,
        ok,  // destroy
        {Verdict::refused, "environment '{env}' is archived; it cannot be frozen", rebuild_hint},
        {Verdict::refused, "environment '{env}' is already archived",
         "nothing to do; `karapace destroy {env}` removes it for good"},
        {Verdict::refused, "environment '{env}' is archived; no snapshot can be committed from it",
         rebuild_hint},
        {Verdict::refused, "environment '{env}' is archived; no snapshot can be restored into it",
         rebuild_hint},
        ok,  // rebuild
        ok,  // rename
        ok,  // diff
        ok,  // push
    }},
}};

std::string fill(std::string_view text, std::string_view env) {
    std::string out(text);
    constexpr std::string_view placeholder = "{env}";
    for (auto pos = out.find(placeholder); pos != std::string::npos;
         pos = out.find(placeholder, pos + env.size()))
        out.replace(pos, placeholder.size(), env);
    return out;
}

}  // namespace

std::string_view to_string(State state) noexcept {
    return state_names[static_cast<std::size_t>(state)];
}

std::string_view to_string(Operation op) noexcept {
    return operation_names[static_cast<std::size_t>(op)];
}

std::optional<State> parse_state(std::string_view name) noexcept {
    for (std::size_t i = 0; i < state_count; ++i)
        if (state_names[i] == name) return static_cast<State>(i);
    return std::nullopt;
}

std::optional<Operation> parse_operation(std::string_view name) noexcept {
    for (std::size_t i = 0; i < operation_count; ++i)
        if (operation_names[i] == name) return static_cast<Operation>(i);
    return std::nullopt;
}

State derive_state(State stored, bool has_live_sessions) noexcept {
    if (has_live_sessions && (stored == State::built || stored == State::frozen))
        return State::running;
    return stored;
}

bool read_only(State stored) noexcept { return stored == State::frozen; }

const Rule& rule(State state, Operation op) noexcept {
    return table[static_cast<std::size_t>(state)][static_cast<std::size_t>(op)];
}

Verdict check_operation(std::string_view env, State state, Operation op, bool force) {
    const Rule& r = rule(state, op);
    if (r.verdict == Verdict::refused || (r.verdict == Verdict::needs_force && !force))
        throw Error(Errc::conflict, fill(r.why, env), fill(r.hint, env));
    return r.verdict;
}

}  // namespace karapace::core
