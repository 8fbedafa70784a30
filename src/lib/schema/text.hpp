// Small string helpers shared by the schema layer's parsers and writers: trimming, control
// character checks, and TOML string quoting. Internal to the schema layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace karapace::schema::detail {

// Removes spaces, tabs, CR and LF at both ends.
std::string trim(std::string_view s);
// True for bytes < 0x20 and DEL (tabs included: no value of ours needs one).
bool has_control_char(std::string_view s);
// A TOML basic string ("..."), escaping quotes, backslashes and control characters.
std::string toml_basic_string(std::string_view s);
// A TOML literal string ('...') when `s` can be written as one, else a basic string.
std::string toml_literal_or_basic(std::string_view s);
// ["a", "b"] on one line.
std::string toml_string_array(const std::vector<std::string>& items);

}  // namespace karapace::schema::detail
