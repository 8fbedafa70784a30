// Questions asked on a terminal (`karapace new` without a template, overwrite confirmations, the
// password of `karapace login`).
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
// Prints "question: " and reads one line with echo off (stdin must be a terminal); the answer is
// kept exactly, not trimmed. The terminal is restored also when a signal ends the process. End of
// input is Error(Errc::cancelled).
std::string ask_secret(std::string_view question);

}  // namespace karapace::cli
