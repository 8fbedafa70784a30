// JSON output helpers over Boost.JSON. Objects keep insertion order, so a record serialised by
// the same code always gives the same bytes (checksums and canonical JSON rely on that).
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace karapace::json {

namespace bj = boost::json;

// Compact: no whitespace at all.
std::string compact(const bj::value& v);
// Two-space indent, one element per line, trailing newline.
std::string pretty(const bj::value& v);
// Parses `text`; throws Error(category) naming `what` and the parser's message on bad input.
bj::value parse(std::string_view text, const std::string& what);

// Typed field access with an error naming the record and the key.
const bj::value& field(const bj::object& o, std::string_view key, const std::string& what);
std::string get_string(const bj::object& o, std::string_view key, const std::string& what);
std::int64_t get_int(const bj::object& o, std::string_view key, const std::string& what);
bool get_bool(const bj::object& o, std::string_view key, const std::string& what);
const bj::object& get_object(const bj::object& o, std::string_view key, const std::string& what);
const bj::array& get_array(const bj::object& o, std::string_view key, const std::string& what);

}  // namespace karapace::json
