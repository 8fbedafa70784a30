#include "cli/results.hpp"

#include "cli/progress.hpp"

namespace karapace::cli {

std::string stopped_text(std::size_t sessions, std::string_view env) {
    return "stopped " + std::to_string(sessions) + " session(s) of " + std::string(env);
}

std::string destroyed_text(std::string_view env) {
    return "destroyed environment " + std::string(env);
}

std::string frozen_text(std::string_view env) {
    return "froze environment " + std::string(env) + " (read-only from now on)";
}

std::string archived_text(std::string_view env) {
    return "archived environment " + std::string(env);
}

std::string renamed_text(std::string_view env, std::string_view name) {
    return "renamed " + std::string(env) + " to '" + std::string(name) + "'";
}

std::string committed_text(const core::SnapshotInfo& snapshot, std::string_view env) {
    return "committed snapshot " + snapshot.id + " of " + std::string(env) + " (" +
           format_bytes(snapshot.size) + ")";
}

std::string restored_text(std::string_view env, std::string_view snapshot) {
    return "restored " + std::string(env) + " from snapshot " + std::string(snapshot);
}

std::string exported_item_text(const core::ExportedItem& item) {
    if (item.kind == "service") {
        std::string text = "service " + item.name + " (" + item.source + ") -> ";
        for (std::size_t i = 0; i < item.files.size(); ++i)
            text += (i ? ", " : "") + item.files[i];
        return text;
    }
    std::string what = item.kind == "app" ? "application " : "command ";
    std::string where = item.files.empty() ? std::string() : item.files.front();
    return what + item.name + " (" + item.source + ") -> " + where;
}

std::string build_text(const core::BuildResult& r) {
    std::string who = r.name.empty() ? r.short_id : "'" + r.name + "' (" + r.short_id + ")";
    if (r.replaced_env_id)
        return "rebuilt environment " + who + ", replacing " + r.replaced_env_id->substr(0, 12);
    if (r.reused)
        return "environment " + who + " is already built from " + r.lock_path +
               (r.session_updated ? "; its [env], on_enter hooks and [services] are updated" : "");
    return "built environment " + who;
}

std::string gc_text(const core::GcSummary& r) {
    auto count =
        r.envs.size() + r.layers.size() + r.objects.size() + r.images.size() + r.other.size();
    return std::string(r.dry_run ? "gc would remove " : "gc removed ") + std::to_string(count) +
           " item(s), " + format_bytes(r.bytes) + ": " + std::to_string(r.layers.size()) +
           " layer(s), " + std::to_string(r.objects.size()) + " object(s), " +
           std::to_string(r.images.size()) + " image(s), " + std::to_string(r.envs.size()) +
           " env dir(s), " + std::to_string(r.other.size()) + " other";
}

}  // namespace karapace::cli
