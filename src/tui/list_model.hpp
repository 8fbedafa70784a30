// The environment list as the TUI shows it: the engine's summaries filtered by the search text,
// sorted by the chosen column, with the selection kept on the same environment (by id) across
// reloads, sorts and filters rather than on a row number.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/core/engine.hpp"

namespace karapace::tui {

enum class SortKey { name, state, short_id, created };

std::string_view to_string(SortKey key) noexcept;

class ListModel {
public:
    // Replaces the environments (a reload); the selection stays on the environment it was on
    // when that one is still there and visible.
    void set_environments(std::vector<core::EnvSummary> envs);
    const std::vector<core::EnvSummary>& all() const noexcept { return all_; }

    // Case-insensitive substring of the name, short id, full id, state or base image.
    void set_filter(std::string text);
    const std::string& filter() const noexcept { return filter_; }

    // name -> state -> short id -> created -> name
    void cycle_sort();
    void reverse_sort();
    SortKey sort_key() const noexcept { return key_; }
    bool descending() const noexcept { return descending_; }

    // Indices into all(), in display order.
    const std::vector<std::size_t>& visible() const noexcept { return visible_; }
    std::size_t visible_count() const noexcept { return visible_.size(); }

    // Row of the selection within visible(); nullopt when nothing is visible.
    std::optional<std::size_t> selected_row() const;
    const core::EnvSummary* selected() const;
    void select_row(std::size_t row);
    // Moves by `delta` rows, clamped to the list.
    void move(long delta);

private:
    void rebuild();
    void place_selection();

    std::vector<core::EnvSummary> all_;
    std::vector<std::size_t> visible_;
    std::string filter_;
    SortKey key_ = SortKey::name;
    bool descending_ = false;
    std::string selected_id_;  // env_id of the selection
    std::size_t row_ = 0;      // its row in visible_
};

// A label for messages: the name, else the short id (what the CLI calls an environment).
std::string label(const core::EnvSummary& env);

}  // namespace karapace::tui
