// The rpm database query shared by dnf and zypper, and rpm's `name.arch` request form.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/pkg/package_manager.hpp"

namespace karapace::pkg::rpm {

// `rpm -q --qf '<name>\t<epoch>:<version>-<release>\t<arch>\n' --`, to which the package names
// are appended.
Argv query_command();
// query_command listing every installed package.
Argv list_all_command();
// Records of the query's output. An unset epoch prints as "(none)" and is dropped, so a version
// reads "1.2-3.fc40", or "2:1.2-3.fc40" with an epoch. "package x is not installed" lines, which
// rpm prints on stdout, are skipped.
std::vector<PackageVersion> parse_query(const std::string& output);
// `glibc.i686` -> {glibc, i686}; a suffix that is not an rpm architecture stays in the name
// (`python3.11`).
PackageVersion split_request(std::string_view request);
// True for the architecture names rpm uses (x86_64, noarch, aarch64, i686, ...).
bool is_arch(std::string_view word);

}  // namespace karapace::pkg::rpm
