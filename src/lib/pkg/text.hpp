// Line handling shared by the package-manager output parsers.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::pkg::text {

// The lines of `text` without their terminators ("\n" or "\r\n"); a trailing newline does not make
// an extra empty line.
std::vector<std::string_view> lines(std::string_view text);

// `s` without leading and trailing blanks (space, tab, CR).
std::string_view trim(std::string_view s);

// `line` cut at every `sep`; empty fields are kept.
std::vector<std::string_view> split(std::string_view line, char sep);

// Lines that start with one of `heads` (at column 0), each followed by the indented lines right
// after it when `with_details` is set (dnf's "Problem:" and apk's "ERROR:" put the useful part
// there). Trailing blanks are removed; at most `max` lines.
std::vector<std::string> error_lines(std::string_view output,
                                     std::span<const std::string_view> heads, bool with_details,
                                     std::size_t max = 20);

}  // namespace karapace::pkg::text
