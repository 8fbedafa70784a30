// Checks a manifest path received over D-Bus before the engine sees it: the service resolves
// nothing against its own working directory and reads only what the calling user could read.
#pragma once

#include <cstddef>
#include <string>

namespace karapace::dbus {

// Manifests are small TOML files; anything larger is refused before it is parsed.
inline constexpr std::size_t max_manifest_size = 1024 * 1024;

// Returns `path` when it is absolute, has no "." or ".." components, and names a regular file
// (symlinks followed) that this process can open for reading and that is at most `max_size`
// bytes. Otherwise throws Error(manifest) naming the path and what is wrong with it.
std::string validate_manifest_path(const std::string& path,
                                   std::size_t max_size = max_manifest_size);

}  // namespace karapace::dbus
