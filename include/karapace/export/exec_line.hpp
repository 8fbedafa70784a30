// The Exec key of a desktop entry: splitting it into arguments by the specification's quoting
// rules, and writing an argument vector back so that launchers read the same arguments. Field
// codes (%f %F %u %U %i %c %k) are kept as they are, for the host's launcher to expand.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karapace::exports {

// One argument of an Exec line. `text` keeps `%%` and field codes as written; the other
// characters are literal (quotes and escapes removed).
struct ExecArg {
    std::string text;
    bool field_code = false;  // the whole argument is a single field code such as %U
};

// Splits an Exec value that has already been through unescape_value(). Error(failed) naming
// `origin` for an unterminated quote or an empty command line.
std::vector<ExecArg> split_exec(std::string_view exec, const std::string& origin);

// Drops the deprecated field codes (%d %D %n %N %v %m) and unknown ones, which launchers must
// not expand; `%%` and the codes of the current specification stay.
std::vector<ExecArg> drop_obsolete_codes(std::vector<ExecArg> args);

// A literal argument (a path, an id) as an ExecArg: '%' doubled.
ExecArg literal_arg(std::string_view text);

// Joins arguments into an Exec value (before escape_value()): arguments with reserved
// characters are double-quoted with `"`, '`', '$' and '\' escaped.
std::string join_exec(const std::vector<ExecArg>& args);

// Expands field codes the way a launcher does for a launch with `files` (for tests and for
// `%f`/`%u` the first file only); `icon`, `name` and `location` feed %i, %c and %k.
std::vector<std::string> expand_exec(const std::vector<ExecArg>& args,
                                     const std::vector<std::string>& files,
                                     const std::string& icon = {}, const std::string& name = {},
                                     const std::string& location = {});

}  // namespace karapace::exports
