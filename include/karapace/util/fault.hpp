// Crash injection for reliability tests: when KARAPACE_FAULT names a point (or a comma-separated
// list of points), the process calls _exit(137) as it reaches it, like a SIGKILL at that line.
#pragma once

#include <string_view>

namespace karapace {

void fault_point(std::string_view name);

}  // namespace karapace
