// `karapace --help`, `karapace help <cmd>` and `karapace <cmd> --help`, rendered from the command
// table.
#pragma once

#include <string>
#include <string_view>

#include "cli/command_table.hpp"

namespace karapace::cli {

std::string main_help();
std::string command_help(const CommandSpec& cmd);
// Word-wraps `text` to `width` columns, indenting continuation lines by `indent` spaces.
std::string wrap(std::string_view text, std::size_t indent, std::size_t width);

}  // namespace karapace::cli
