// Crash-injection points of the store's mutations (see util/fault.hpp). Tests walk this list:
// each point, set in KARAPACE_FAULT, kills the process there; the store must recover.
#pragma once

#include <string_view>
#include <vector>

namespace karapace::store {

const std::vector<std::string_view>& fault_points();

}  // namespace karapace::store
