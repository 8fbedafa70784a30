// Small directory helpers for the store's scans.
#pragma once

#include <sys/stat.h>

#include <optional>
#include <string>
#include <vector>

namespace karapace::store {

// Entry names of `dir` (without "." and ".."), sorted; empty when `dir` does not exist.
std::vector<std::string> list_dir(const std::string& dir);
// Temp files of atomic writes and object writers.
inline bool is_temp_name(const std::string& name) { return name.rfind(".tmp", 0) == 0; }
std::optional<struct stat> lstat_path(const std::string& path);

}  // namespace karapace::store
