// Manual pages in roff (man(7) macros) generated from the command table: karapace(1) and one
// karapace-<command>(1) per command.
#pragma once

#include <string>
#include <vector>

#include "cli/command_table.hpp"

namespace karapace::cli {

std::string main_man_page();
std::string command_man_page(const CommandSpec& cmd);
// Writes every page into `dir` (created if needed) atomically; returns the file names written.
std::vector<std::string> write_man_pages(const std::string& dir);

}  // namespace karapace::cli
