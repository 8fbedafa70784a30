// The command table: one static description of every `karapace` command, its arguments and flags.
// It is the single source for argument parsing, `--help`, `karapace help <cmd>`, shell
// completions and man pages, so none of them can drift from what the parser accepts.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::cli {

struct Invocation;
class Output;

// How a flag consumes the command line.
enum class FlagKind {
    boolean,  // --force; no value; may be repeated only when `repeatable`
    value,    // --name NAME / --name=NAME; given at most once
    list,     // --env K=V; repeatable, every value kept in order
};

// What a value or positional argument is, for validation and shell completion.
enum class ValueType {
    text,     // free text
    number,   // a non-negative decimal number (seconds, counts)
    file,     // a path to a file
    dir,      // a path to a directory
    env,      // an environment reference (id, prefix or name)
    command,  // a karapace command name
    choice,   // one of `choices()`
};

using ChoiceList = std::vector<std::string> (*)();

struct FlagSpec {
    std::string_view name;  // long name without the dashes
    char short_name;        // 0 when there is none
    FlagKind kind;
    ValueType type;
    std::string_view value_name;     // shown in help: NAME, SECONDS, K=V
    std::string_view default_value;  // shown in help; empty when none
    std::string_view help;
    bool repeatable;     // booleans only: -v -v counts
    ChoiceList choices;  // for ValueType::choice
};

struct PositionalSpec {
    std::string_view name;  // shown upper-case in usage: MANIFEST, ENV
    ValueType type;
    bool required;
    std::string_view default_value;
    std::string_view help;
    ChoiceList choices;
    bool variadic = false;  // the last positional only: takes every remaining argument
};

// Whether a command takes a command line after `--`.
enum class Trailing { none, optional, required };

using Runner = int (*)(const Invocation&, Output&);

struct CommandSpec {
    std::string_view name;
    std::string_view section;  // groups commands in `karapace --help`
    std::string_view summary;  // one line, no trailing period
    std::string_view description;
    std::span<const PositionalSpec> positionals;
    std::span<const FlagSpec> flags;
    Trailing trailing;
    std::string_view trailing_name;  // "CMD..." in usage
    std::string_view json_shape;     // what `--json` prints on success, for docs and man pages
    Runner run;  // nullptr in the static front for a command it hands to karapace-full
};

// Every command, in the order `--help` lists them.
std::span<const CommandSpec> commands();
// Options accepted before or after any command.
std::span<const FlagSpec> global_flags();
const CommandSpec* find_command(std::string_view name);
std::vector<std::string> command_names();

// Exit statuses shared by every command (also in man pages and docs/cli.md).
struct ExitStatus {
    int code;
    std::string_view meaning;
};
std::span<const ExitStatus> exit_statuses();

// "--name NAME" / "-v, --verbose" as shown in help and man pages.
std::string flag_label(const FlagSpec& flag);
// "MANIFEST", "NEW_NAME": how a positional argument is shown.
std::string positional_label(const PositionalSpec& arg);
// "karapace build [OPTIONS] [MANIFEST]"
std::string usage_line(const CommandSpec& cmd);

}  // namespace karapace::cli
