// Questions asked on a terminal (`karapace new` without a template, overwrite confirmations).
// Questions go to stderr so stdout stays for results; answers are read from stdin.
#pragma once

#include <string>
#include <string_view>

namespace karapace::cli {

// Prints "question [default]: " and returns the trimmed answer, or `default_value` for an empty
// one. End of input is Error(Errc::cancelled).
std::string ask(std::string_view question, std::string_view default_value = {});
// y/yes or n/no (any case); an empty answer takes `default_yes`; anything else asks again.
bool confirm(std::string_view question, bool default_yes);

}  // namespace karapace::cli
