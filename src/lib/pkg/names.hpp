// Checks on package names before they become argv elements.
#pragma once

#include <string_view>
#include <vector>

#include "karapace/pkg/package_manager.hpp"

namespace karapace::pkg {

// Throws Error(manifest) for a name that is empty, starts with '-' (a tool would read it as an
// option) or contains whitespace or control characters.
void check_package_name(std::string_view name);
void check_package_names(const std::vector<std::string>& names);
void check_package_names(const std::vector<LockedPackage>& packages);

}  // namespace karapace::pkg
