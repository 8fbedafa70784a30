#include "pkg/text.hpp"

namespace karapace::pkg::text {

std::vector<std::string_view> lines(std::string_view text) {
    std::vector<std::string_view> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        out.push_back(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    constexpr std::string_view blanks = " \t\r";
    auto first = s.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    auto last = s.find_last_not_of(blanks);
    return s.substr(first, last - first + 1);
}

std::vector<std::string_view> split(std::string_view line, char sep) {
    std::vector<std::string_view> out;
    while (true) {
        auto pos = line.find(sep);
        out.push_back(line.substr(0, pos));
        if (pos == std::string_view::npos) break;
        line.remove_prefix(pos + 1);
    }
    return out;
}

namespace {

bool starts_with_any(std::string_view line, std::span<const std::string_view> heads) {
    for (auto head : heads)
        if (line.starts_with(head)) return true;
    return false;
}

bool indented(std::string_view line) {
    return !line.empty() && (line.front() == ' ' || line.front() == '\t');
}

}  // namespace

std::vector<std::string> error_lines(std::string_view output,
                                     std::span<const std::string_view> heads, bool with_details,
                                     std::size_t max) {
    std::vector<std::string> out;
    bool in_details = false;
    for (auto line : lines(output)) {
        if (out.size() >= max) break;
        auto trimmed_right = line.substr(0, line.find_last_not_of(" \t\r") + 1);
        if (starts_with_any(line, heads)) {
            out.emplace_back(trimmed_right);
            in_details = with_details;
        } else if (in_details && indented(line) && !trim(line).empty()) {
            out.emplace_back(trimmed_right);
        } else {
            in_details = false;
        }
    }
    return out;
}

}  // namespace karapace::pkg::text
