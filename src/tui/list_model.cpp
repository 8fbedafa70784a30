#include "tui/list_model.hpp"
#include "karapace/util/text.hpp"

#include <algorithm>
#include <cctype>

namespace karapace::tui {

namespace {

bool matches(const core::EnvSummary& e, const std::string& needle) {
    for (const auto* field : {&e.name, &e.short_id, &e.env_id, &e.state, &e.base_image})
        if (ascii_lower(*field).find(needle) != std::string::npos) return true;
    return false;
}

const std::string& sort_field(const core::EnvSummary& e, SortKey key) {
    switch (key) {
    case SortKey::state: return e.state;
    case SortKey::short_id: return e.short_id;
    case SortKey::created: return e.created;
    case SortKey::name: break;
    }
    return e.name;
}

}  // namespace

std::string_view to_string(SortKey key) noexcept {
    switch (key) {
    case SortKey::name: return "name";
    case SortKey::state: return "state";
    case SortKey::short_id: return "short id";
    case SortKey::created: return "created";
    }
    return "name";
}

std::string label(const core::EnvSummary& env) {
    return env.name.empty() ? env.short_id : env.name;
}

void ListModel::set_environments(std::vector<core::EnvSummary> envs) {
    all_ = std::move(envs);
    rebuild();
}

void ListModel::set_filter(std::string text) {
    filter_ = std::move(text);
    rebuild();
}

void ListModel::cycle_sort() {
    switch (key_) {
    case SortKey::name: key_ = SortKey::state; break;
    case SortKey::state: key_ = SortKey::short_id; break;
    case SortKey::short_id: key_ = SortKey::created; break;
    case SortKey::created: key_ = SortKey::name; break;
    }
    rebuild();
}

void ListModel::reverse_sort() {
    descending_ = !descending_;
    rebuild();
}

void ListModel::rebuild() {
    visible_.clear();
    const auto needle = ascii_lower(filter_);
    for (std::size_t i = 0; i < all_.size(); ++i)
        if (needle.empty() || matches(all_[i], needle)) visible_.push_back(i);
    // Unnamed environments sort after named ones by name; ties fall back to the short id so the
    // order never depends on the order of the records on disk.
    std::stable_sort(visible_.begin(), visible_.end(), [this](std::size_t a, std::size_t b) {
        const auto& x = all_[a];
        const auto& y = all_[b];
        const auto& fx = sort_field(x, key_);
        const auto& fy = sort_field(y, key_);
        if (fx != fy) {
            if (fx.empty() || fy.empty()) return fy.empty();
            return descending_ ? fy < fx : fx < fy;
        }
        return x.short_id < y.short_id;
    });
    place_selection();
}

void ListModel::place_selection() {
    if (visible_.empty()) return;
    for (std::size_t r = 0; r < visible_.size(); ++r)
        if (all_[visible_[r]].env_id == selected_id_) {
            row_ = r;
            return;
        }
    // The environment went (destroyed, filtered out): stay at the same height in the list.
    select_row(row_);
}

std::optional<std::size_t> ListModel::selected_row() const {
    if (visible_.empty()) return std::nullopt;
    return row_;
}

const core::EnvSummary* ListModel::selected() const {
    auto row = selected_row();
    return row ? &all_[visible_[*row]] : nullptr;
}

void ListModel::select_row(std::size_t row) {
    if (visible_.empty()) return;
    row_ = std::min(row, visible_.size() - 1);
    selected_id_ = all_[visible_[row_]].env_id;
}

void ListModel::move(long delta) {
    auto row = selected_row();
    if (!row) return;
    long target = static_cast<long>(*row) + delta;
    target = std::clamp(target, 0L, static_cast<long>(visible_.size()) - 1);
    select_row(static_cast<std::size_t>(target));
}

}  // namespace karapace::tui
