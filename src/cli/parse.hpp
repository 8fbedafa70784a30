// Command-line parsing: argv -> Invocation, driven entirely by the command table. Global options
// are accepted before and after the command; everything after `--` is kept verbatim for the
// command to run. Every mistake is an Error(Errc::usage) with a hint naming the help to read and,
// for typos, the closest valid spelling.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/command_table.hpp"

namespace karapace::cli {

struct Globals {
    std::string store;  // --store, else default_store_root() (resolved lazily by store_root())
    bool json = false;
    int verbosity = 0;  // number of -v
    bool trace = false;
    std::optional<double> lock_timeout;  // seconds
    bool version = false;
    bool help = false;
};

struct Invocation {
    const CommandSpec* command = nullptr;  // nullptr: no command given
    // Command flags by long name; booleans hold one "true" per occurrence.
    std::map<std::string, std::vector<std::string>, std::less<>> options;
    std::vector<std::string> positionals;
    std::vector<std::string> trailing;  // argv after `--`
    bool has_separator = false;         // `--` was present
    Globals globals;

    bool flag(std::string_view name) const;
    // The flag's value, else its default from the table, else `fallback`.
    std::string value(std::string_view name, std::string_view fallback = {}) const;
    std::vector<std::string> values(std::string_view name) const;
    // The positional argument declared as `name`, else its default from the table.
    std::string positional(std::string_view name) const;
    bool has_positional(std::string_view name) const;
    // A variadic positional: every argument from its place on (empty when none was given).
    std::vector<std::string> positional_list(std::string_view name) const;
    // --store, else KARAPACE_STORE, else $XDG_DATA_HOME/karapace.
    std::string store_root() const;
};

// Parses argv[1..]. Throws Error(Errc::usage) on any mistake.
Invocation parse_command_line(const std::vector<std::string>& args);

// True when `--json` appears before any `--` (used to format errors thrown by the parser itself).
bool wants_json(const std::vector<std::string>& args);

}  // namespace karapace::cli
