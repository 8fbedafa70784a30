// Small text helpers shared across layers.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace karapace {

// `s` with ASCII letters in lower case (host names, hex digests, registry keys, search text);
// other bytes unchanged, whatever the locale.
std::string ascii_lower(std::string_view s);

// `s`, all of it, as a decimal number of type T (no sign for an unsigned T, no spaces); false,
// with `value` unchanged or partly set, when it is not one or does not fit.
template <typename T>
bool parse_number(std::string_view s, T& value) {
    if (s.empty()) return false;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace karapace
