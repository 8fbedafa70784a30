// Records with an embedded checksum: `checksum` = sha256 of the compact JSON of the record
// without that field, in the record's own key order. Used by layers, metadata and the WAL.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace karapace::store {

// Adds "checksum" (last) and returns the pretty JSON text to store.
std::string seal_record(boost::json::object record);
// Parses `text` read from `path` and checks its checksum; returns the record without it.
// Error(store) naming the path when it is not a JSON object or the checksum is missing or wrong.
boost::json::object open_record(std::string_view text, const std::string& path);

}  // namespace karapace::store
