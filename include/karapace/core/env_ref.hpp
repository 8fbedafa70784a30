// Turning what a user typed (`web`, `3f2a9c`, a full id) into one environment, with errors that
// list the candidates when the reference is ambiguous and suggest names when nothing matches.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/schema/identity.hpp"

namespace karapace::core {

struct EnvCandidate {
    std::string env_id;    // 64 hex characters
    std::string short_id;  // the first 12
    std::string name;      // empty when unnamed
    std::string state;     // as shown to users (built, running, ...), for messages
};

// Minimum length of an id prefix: shorter ones would match too much to be meant.
inline constexpr std::size_t min_id_prefix = schema::EnvId::min_prefix_length;

// Resolves `input` against `all`, in this order:
//   1. a full env_id, exactly;
//   2. a name, exactly (case-sensitive). New names never read as an id prefix
//      (store::validate_env_name), but a record written before that rule may carry one: such a
//      name still wins over an id prefix;
//   3. a prefix of an env_id (hex, case-insensitive) of at least min_id_prefix characters.
// Errors: empty input or a shorter hex prefix -> Errc::usage; a prefix that matches several
// environments -> Errc::usage listing all of them (name, short id, state); nothing -> Errc::
// not_found, whose hint suggests names containing the input or within a small edit distance.
const EnvCandidate& resolve_env_ref(std::string_view input, const std::vector<EnvCandidate>& all);

// "web (3f2a9c1b0d4e, built)" or "3f2a9c1b0d4e (built)" for an unnamed one.
std::string describe(const EnvCandidate& candidate);

// Levenshtein distance, used for the suggestions (exposed for tests).
std::size_t edit_distance(std::string_view a, std::string_view b);

}  // namespace karapace::core
