#include "cli/prompt.hpp"

#include <unistd.h>

#include <cctype>
#include <iostream>

#include "karapace/util/error.hpp"

namespace karapace::cli {

namespace {

void say(std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n <= 0) return;
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string trim(const std::string& s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) return {};
    const auto last = s.find_last_not_of(" \t\r\n");
    return s.substr(first, last - first + 1);
}

}  // namespace

std::string ask(std::string_view question, std::string_view default_value) {
    std::string q(question);
    if (!default_value.empty()) q += " [" + std::string(default_value) + "]";
    q += ": ";
    say(q);
    std::string answer;
    if (!std::getline(std::cin, answer)) {
        say("\n");
        throw Error(Errc::cancelled, "no answer to '" + std::string(question) + "' (end of input)",
                    "nothing was written");
    }
    answer = trim(answer);
    return answer.empty() ? std::string(default_value) : answer;
}

bool confirm(std::string_view question, bool default_yes) {
    for (;;) {
        const std::string a = ask(std::string(question) + (default_yes ? " (Y/n)" : " (y/N)"));
        if (a.empty()) return default_yes;
        std::string lower;
        for (char c : a)
            lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (lower == "y" || lower == "yes") return true;
        if (lower == "n" || lower == "no") return false;
        say("please answer yes or no\n");
    }
}

}  // namespace karapace::cli
