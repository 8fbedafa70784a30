// Shell completion scripts (bash, zsh, fish) generated from the command table.
#pragma once

#include <string>
#include <string_view>

#include "cli/command_table.hpp"

namespace karapace::cli {

// Throws Error(Errc::usage) for a shell without a generator.
std::string completion_script(std::string_view shell);

}  // namespace karapace::cli
