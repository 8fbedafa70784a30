#include "schema/text.hpp"
#include "karapace/util/text.hpp"

#include <cstdio>

namespace karapace::schema::detail {

namespace {
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
}  // namespace

std::string trim(std::string_view s) {
    while (!s.empty() && is_space(s.front()))
        s.remove_prefix(1);
    while (!s.empty() && is_space(s.back()))
        s.remove_suffix(1);
    return std::string(s);
}

bool has_control_char(std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return true;
    }
    return false;
}

std::string toml_basic_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\t': out += "\\t"; break;
        case '\n': out += "\\n"; break;
        case '\f': out += "\\f"; break;
        case '\r': out += "\\r"; break;
        default: {
            auto u = static_cast<unsigned char>(c);
            if (u < 0x20 || u == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(u));
                out += buf;
            } else {
                out += c;
            }
        }
        }
    }
    return out + "\"";
}

std::string toml_literal_or_basic(std::string_view s) {
    if (s.find('\'') != std::string_view::npos || has_control_char(s)) return toml_basic_string(s);
    return "'" + std::string(s) + "'";
}

std::string toml_string_array(const std::vector<std::string>& items) {
    std::string out = "[";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i != 0) out += ", ";
        out += toml_basic_string(items[i]);
    }
    return out + "]";
}

}  // namespace karapace::schema::detail
