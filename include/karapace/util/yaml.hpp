// A reader for the plain subset of YAML that generated configuration files use (CDI specs from
// nvidia-ctk, for one): block mappings and sequences, one-line flow collections, quoted and plain
// scalars, comments. What it does not read (anchors, aliases, tags, block scalars, multi-line
// flow collections, several documents) is refused with the line it is on, never guessed at.
#pragma once

#include <boost/json.hpp>
#include <string>
#include <string_view>

namespace karapace::yaml {

// The document as a JSON value: mappings become objects, sequences arrays; plain scalars become
// booleans (true/false), null (null, ~, empty), integers (decimal, 0o octal, 0x hex) or strings;
// quoted scalars stay strings. Throws Error(Errc::runtime) "<what>: line N: ..." on what it
// cannot read.
boost::json::value parse(std::string_view text, const std::string& what);

}  // namespace karapace::yaml
