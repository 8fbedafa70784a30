#include "karapace/util/utf8.hpp"

namespace karapace {

std::size_t utf8_sequence(std::string_view s, char32_t& cp) noexcept {
    if (s.empty()) return 0;
    auto c = static_cast<unsigned char>(s[0]);
    std::size_t len = c < 0x80           ? 1
                      : (c >> 5) == 0x6  ? 2
                      : (c >> 4) == 0xe  ? 3
                      : (c >> 3) == 0x1e ? 4
                                         : 0;
    if (len == 0 || len > s.size()) return 0;
    char32_t value = len == 1 ? c : c & (0xffu >> (len + 1));
    for (std::size_t k = 1; k < len; ++k) {
        auto cc = static_cast<unsigned char>(s[k]);
        if ((cc & 0xc0) != 0x80) return 0;
        value = (value << 6) | (cc & 0x3f);
    }
    static constexpr char32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (value < min_for_len[len] || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
        return 0;
    cp = value;
    return len;
}

}  // namespace karapace
