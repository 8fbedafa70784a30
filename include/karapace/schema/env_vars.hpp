// The values of a manifest's `[env]` and `[hooks]` tables: which variable names a manifest may
// set, the `$NAME` / `${NAME}` references a value may hold and their expansion against the
// environment a session starts with, and what makes a hook command unusable. Shared by the
// manifest parser (which adds file positions), the store's records and the sandbox.
#pragma once

#include <compare>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::schema {

// One `[env]` entry.
struct EnvVar {
    std::string name;
    std::string value;  // as written: references are expanded when a session starts

    friend bool operator==(const EnvVar&, const EnvVar&) = default;
    friend auto operator<=>(const EnvVar&, const EnvVar&) = default;
};

// Letters, digits and '_', not starting with a digit.
bool valid_variable_name(std::string_view name) noexcept;

// Empty when `[env]` may set `name`; otherwise why not: not a variable name, or one the sandbox
// sets itself (container, KARAPACE_ENV, HOME, USER, LOGNAME) or points at a host socket it
// shares (DISPLAY, WAYLAND_DISPLAY, XAUTHORITY, XDG_RUNTIME_DIR, DBUS_SESSION_BUS_ADDRESS,
// PULSE_SERVER, SSH_AUTH_SOCK).
std::string env_name_problem(std::string_view name);

// The names `[env]` may not set because the sandbox owns them, sorted.
const std::vector<std::string>& reserved_env_names();

// Empty when `value` is a valid `[env]` value; otherwise what is wrong with it. A value is one
// line of text (no control character but tab) in which every '$' starts `$NAME`, `${NAME}` or
// `$$` (a literal '$'). The names referred to are appended to `references` when given.
std::string env_value_problem(std::string_view value,
                              std::vector<std::string>* references = nullptr);

// env_name_problem, else env_value_problem: what makes `var` unusable, for readers of recorded
// entries (the store's records, a pulled image's manifest record).
std::string env_var_problem(const EnvVar& var);

// `value` with every `$NAME` and `${NAME}` replaced by what `lookup` gives for NAME (nothing when
// it returns nullptr: an unset variable expands to the empty string, as in the shell) and every
// `$$` by '$'. A '$' that starts none of these, which env_value_problem refuses, is kept.
std::string expand_env_value(std::string_view value,
                             const std::function<const std::string*(std::string_view)>& lookup);

// Empty when `command` can be a hook command for `/bin/sh -c`; otherwise what is wrong: blank,
// or a control character other than tab and newline (a NUL cannot reach a command line).
std::string hook_command_problem(std::string_view command);

}  // namespace karapace::schema
