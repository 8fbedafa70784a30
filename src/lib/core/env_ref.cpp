#include "karapace/core/env_ref.hpp"

#include <algorithm>
#include <cctype>
#include <numeric>

#include "karapace/util/error.hpp"
#include "karapace/util/text.hpp"

namespace karapace::core {
namespace {

bool is_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

// Names worth suggesting for an input that matched nothing: the ones containing it (or contained
// in it), ignoring case, then the ones a typo away. For inputs of three characters or less one
// edit already changes a third of the word, so only one is allowed there.
std::vector<const EnvCandidate*> suggestions(std::string_view input,
                                             const std::vector<EnvCandidate>& all) {
    const auto needle = ascii_lower(input);
    const std::size_t max_distance = needle.size() <= 3 ? 1 : 2;
    std::vector<std::pair<std::size_t, const EnvCandidate*>> scored;
    for (const auto& c : all) {
        const auto name = ascii_lower(c.name);
        const bool contains = (!name.empty() && (name.find(needle) != std::string::npos ||
                                                 needle.find(name) != std::string::npos)) ||
                              ascii_lower(c.short_id).find(needle) != std::string::npos;
        const std::size_t score = contains       ? 0
                                  : name.empty() ? max_distance + 1
                                                 : edit_distance(name, needle);
        if (score > max_distance) continue;
        scored.emplace_back(score, &c);
    }
    std::stable_sort(scored.begin(), scored.end(), [](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        return a.second->name < b.second->name;
    });
    std::vector<const EnvCandidate*> out;
    for (const auto& [score, c] : scored) {
        if (out.size() == 5) break;
        out.push_back(c);
    }
    return out;
}

std::string join(const std::vector<const EnvCandidate*>& list, std::string_view sep) {
    std::string out;
    for (const auto* c : list) {
        if (!out.empty()) out += sep;
        out += describe(*c);
    }
    return out;
}

}  // namespace

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    std::iota(row.begin(), row.end(), std::size_t{0});
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            row[j] =
                std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string describe(const EnvCandidate& c) {
    if (c.name.empty()) return c.short_id + " (" + c.state + ")";
    return c.name + " (" + c.short_id + ", " + c.state + ")";
}

const EnvCandidate& resolve_env_ref(std::string_view input, const std::vector<EnvCandidate>& all) {
    if (input.empty())
        throw Error(Errc::usage, "empty environment reference",
                    "name an environment by its name, its id, or at least " +
                        std::to_string(min_id_prefix) + " characters of its id");

    for (const auto& c : all)
        if (c.env_id == input) return c;
    for (const auto& c : all)
        if (!c.name.empty() && c.name == input) return c;

    const std::string in(input);
    if (is_hex(input)) {
        if (input.size() < min_id_prefix)
            throw Error(Errc::usage,
                        "environment reference '" + in + "' is too short for an id prefix",
                        "give at least " + std::to_string(min_id_prefix) +
                            " characters of the id, or the environment's name");
        const auto prefix = ascii_lower(input);
        std::vector<const EnvCandidate*> matches;
        for (const auto& c : all)
            if (c.env_id.starts_with(prefix)) matches.push_back(&c);
        if (matches.size() == 1) return *matches.front();
        if (matches.size() > 1)
            throw Error(Errc::usage,
                        "environment reference '" + in + "' matches " +
                            std::to_string(matches.size()) + " environments:\n  " +
                            join(matches, "\n  "),
                        "give more characters of the id, or the name");
    }

    const auto similar = suggestions(input, all);
    throw Error(Errc::not_found, "no environment matching '" + in + "'",
                similar.empty() ? std::string("`karapace list` shows the environments in the store")
                                : "did you mean: " + join(similar, ", ") + "?");
}

}  // namespace karapace::core
