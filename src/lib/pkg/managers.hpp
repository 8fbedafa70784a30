// Constructors of the concrete package managers (one source file each).
#pragma once

#include <memory>
#include <string>

#include "karapace/pkg/package_manager.hpp"

namespace karapace::pkg {

std::unique_ptr<PackageManager> make_apt(Options options);
// `program` is "dnf", or "dnf5" on images that have only dnf5.
std::unique_ptr<PackageManager> make_dnf(Options options, std::string program);
std::unique_ptr<PackageManager> make_zypper(Options options);
std::unique_ptr<PackageManager> make_pacman(Options options);
std::unique_ptr<PackageManager> make_apk(Options options);

}  // namespace karapace::pkg
