// Small text helpers shared across layers.
#pragma once

#include <string>
#include <string_view>

namespace karapace {

// `s` with ASCII letters in lower case (host names, hex digests, registry keys, search text);
// other bytes unchanged, whatever the locale.
std::string ascii_lower(std::string_view s);

}  // namespace karapace
