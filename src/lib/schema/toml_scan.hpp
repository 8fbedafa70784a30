// A flat scan of TOML text before the TOML library sees it, for two of toml11's costs: it parses
// nested arrays and inline tables by recursion (a few kilobytes of brackets would exhaust the
// stack), and for every value it does work in proportion to the length of the value's line (a
// long one-line array takes quadratic time). Internal to the schema layer.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

namespace karapace::schema::detail {

// Deepest nesting any file karapace reads may have. Manifests, lock files and the user
// configuration nest three levels at most; the margin is for hand-written files, and the limit
// keeps toml11's recursion far from the end of a worker thread's stack.
inline constexpr unsigned toml_nesting_limit = 64;

struct TomlScan {
    // Byte offset where the text first nests deeper than the limit. A level is a table or an
    // array: each part of a table header or dotted key (`[a.b]`, `a.b.c = 1`), an array of
    // tables' element, an array (`[ ... ]`) and an inline table (`{ ... }`).
    std::optional<std::size_t> too_deep_at;
    // Offsets of the commas between array elements where no inline table is open: a line
    // break may follow each of them without changing what the text means. Complete only when
    // too_deep_at is not set (the scan stops there).
    std::vector<std::size_t> array_commas;
    // Offsets of the '#' that start comments (each runs to the end of its line).
    std::vector<std::size_t> comments;
};

// Strings and comments are skipped; the scan never fails, since toml11 reports any syntax error
// afterwards.
TomlScan scan_toml(std::string_view text, unsigned nesting_limit = toml_nesting_limit);

}  // namespace karapace::schema::detail
