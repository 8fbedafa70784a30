// UTF-8 decoding, one sequence at a time, for the checks that refuse or escape text that is not
// UTF-8 (TOML files, names shown on a terminal).
#pragma once

#include <cstddef>
#include <string_view>

namespace karapace {

// Length of the UTF-8 sequence that starts `s` (1 to 4), with its code point in `cp`; 0 when it
// is not valid UTF-8 (truncated, overlong, a surrogate, past U+10FFFF) or `s` is empty.
std::size_t utf8_sequence(std::string_view s, char32_t& cp) noexcept;

}  // namespace karapace
