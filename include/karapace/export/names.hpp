// Names that become host file names when an application or command is exported. Everything that
// reaches ~/.local/share/applications, the icon theme or ~/.local/bin passes through here, so a
// name from the command line or from an environment's files can never leave those directories.
#pragma once

#include <string>
#include <string_view>

namespace karapace::exports {

// An application as the user names it: a desktop-file id ("org.gnome.TextEditor", optionally
// with ".desktop") or an executable name. Error(usage) saying what is wrong for an empty name,
// '/', "..", a leading '.' or '-', whitespace or control characters, or more than 200 bytes.
void validate_app_name(std::string_view name);
bool valid_app_name(std::string_view name) noexcept;

// A command to wrap: a name looked up in the environment's PATH, or an absolute path inside it
// without "." or ".." components. Same character rules as app names.
void validate_command(std::string_view command);

// "karapace-<label>-": the prefix of every file exported for the environment called `label`
// (its name or short id, both already restricted to [A-Za-z0-9_-]).
std::string file_prefix(std::string_view label);

}  // namespace karapace::exports
