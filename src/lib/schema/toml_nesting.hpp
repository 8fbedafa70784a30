// How deeply a TOML text nests tables and arrays, measured by a flat scan before the TOML library
// sees the text: toml11 parses nested arrays and inline tables by recursion, so a few kilobytes of
// brackets would otherwise exhaust the stack. Internal to the schema layer.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace karapace::schema::detail {

// Deepest nesting any file karapace reads may have. Manifests, lock files and the user
// configuration nest three levels at most; the margin is for hand-written files, and the limit
// keeps toml11's recursion far from the end of a worker thread's stack.
inline constexpr unsigned toml_nesting_limit = 64;

// Byte offset where `text` first nests deeper than `limit` levels, or nullopt. A level is a table
// or an array: each part of a table header or dotted key (`[a.b]`, `a.b.c = 1`), an array of
// tables' element, an array (`[ ... ]`) and an inline table (`{ ... }`). Strings and comments are
// skipped; the scan never fails, since toml11 reports any syntax error afterwards.
std::optional<std::size_t> toml_nesting_exceeded_at(std::string_view text,
                                                    unsigned limit = toml_nesting_limit);

}  // namespace karapace::schema::detail
