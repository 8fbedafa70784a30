// Strict reading of small TOML documents (manifest, lock file, user config) on top of toml11:
// every error names the file, the dotted key, the line and the column, and unknown keys are
// refused with the list of known ones. Internal to the schema layer.
#pragma once

#include <toml.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/util/error.hpp"

namespace karapace::schema::detail {

struct Position {
    unsigned line = 1;
    unsigned column = 1;  // bytes as toml11 counts; characters in the checks made before it
};

// A line of the text toml11 parsed that parse_toml started by breaking a long line of the source
// after an array comma, and where that is in the source.
struct BrokenLine {
    unsigned parsed_line;
    Position source;
};

// What is being read and which error category its problems get.
struct TomlSource {
    std::string name;  // shown in messages: usually the path as the user gave it
    Errc code = Errc::manifest;
    std::string doc = "docs/manifest.md";  // where hints send the reader for the format
    // Set by parse_toml, in order; empty when toml11 read the source as it is.
    std::vector<BrokenLine> broken_lines;
};

// Parses `text`; TOML syntax errors and duplicate keys become Error(src.code) with a position.
// Before toml11 sees the text: refuses text that is not UTF-8 or nests deeper than
// toml_nesting_limit; breaks lines longer than long_line_bytes after their array commas
// (recorded in `src`); then refuses a line still longer than max_line_bytes. toml11 copies a
// value's whole line for every value, so this keeps parsing linear in the size of the text.
toml::value parse_toml(std::string_view text, TomlSource& src);

inline constexpr std::size_t long_line_bytes = 1024;
inline constexpr std::size_t max_line_bytes = 4096;

// Where a position in the text toml11 parsed is in the source (they differ after a line break
// that parse_toml added). fail_at applies it; other users of toml11 positions must too.
Position source_position(const TomlSource& src, Position parsed);

// `pos` is a position in the parsed text (see source_position).
[[noreturn]] void fail_at(const TomlSource& src, Position pos, const std::string& message,
                          const std::string& hint = {});

// Position of a value as toml11 recorded it.
Position value_position(const toml::value& v);
// Position of the key that holds `v` (`gpux` in `gpux = true`); falls back to the value's own
// position when the key cannot be found on the value's line (table headers, array elements).
Position key_position(const toml::value& v);

// "a string", "an integer", ... for messages.
std::string type_phrase(const toml::value& v);
// `key` as it would be written in TOML: bare when possible, quoted otherwise.
std::string key_text(std::string_view key);

// One TOML table read strictly. The constructor refuses keys not in `known` (reporting the first
// one in source order); `known` empty with `any_key` accepts every key (`[mounts]` labels).
class TableReader {
public:
    TableReader(const TomlSource& src, const toml::value& table, std::string dotted,
                std::vector<std::string> known, bool any_key = false);

    const std::string& dotted() const noexcept { return dotted_; }
    std::string path_of(std::string_view key) const;
    const toml::value& value() const noexcept { return *table_; }
    Position position() const { return value_position(*table_); }
    const TomlSource& source() const noexcept { return *src_; }

    const toml::value* find(std::string_view key) const;
    // Keys of this table in source order.
    std::vector<std::string> keys_in_order() const;

    // Required values: a missing key is an error at the table's position.
    std::string required_string(std::string_view key) const;
    std::int64_t required_integer(std::string_view key) const;

    std::optional<std::string> string(std::string_view key) const;
    std::optional<bool> boolean(std::string_view key) const;
    std::optional<std::int64_t> integer(std::string_view key) const;
    // Non-negative integer that fits `max`; negative or larger values are errors.
    std::optional<std::uint64_t> unsigned_integer(std::string_view key, std::uint64_t min,
                                                  std::uint64_t max) const;
    std::optional<std::vector<std::string>> string_array(std::string_view key) const;
    // A sub-table; nullopt when absent, an error when the key holds something else.
    std::optional<TableReader> table(std::string_view key, std::vector<std::string> known,
                                     bool any_key = false) const;

    [[noreturn]] void fail_key(std::string_view key, const std::string& message,
                               const std::string& hint = {}) const;
    [[noreturn]] void fail_missing(std::string_view key, const std::string& hint = {}) const;
    [[noreturn]] void fail_type(std::string_view key, const toml::value& v,
                                const char* expected) const;

private:
    const TomlSource* src_;
    const toml::value* table_;
    std::string dotted_;
};

// An integer value checked against its source text: toml11 saturates literals that do not fit in
// 64 bits, so the text is re-read to tell 9223372036854775807 from an overflow.
bool integer_literal_fits(const toml::value& v);

}  // namespace karapace::schema::detail
