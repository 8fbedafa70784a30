// What a command says when it succeeds: the lines the CLI prints and the TUI's status line
// shows, written in one place so the two front ends report the same outcome in the same words.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "karapace/core/engine.hpp"

namespace karapace::cli {

std::string stopped_text(std::size_t sessions, std::string_view env);
std::string destroyed_text(std::string_view env);
std::string frozen_text(std::string_view env);
std::string archived_text(std::string_view env);
std::string renamed_text(std::string_view env, std::string_view name);
std::string committed_text(const core::SnapshotInfo& snapshot, std::string_view env);
std::string restored_text(std::string_view env, std::string_view snapshot);
// "application org.example.App (/usr/share/...) -> ~/.local/share/applications/..."
std::string exported_item_text(const core::ExportedItem& item);
// "built environment 'web' (1a2b3c4d5e6f)", "rebuilt environment ..., replacing ...".
std::string build_text(const core::BuildResult& result);
// "gc removed 3 item(s), 1.2 MiB: 1 layer(s), ..."
std::string gc_text(const core::GcSummary& summary);

}  // namespace karapace::cli
