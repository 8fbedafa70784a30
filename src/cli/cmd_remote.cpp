// Registries: `karapace push` and `karapace pull`.
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/progress.hpp"

namespace karapace::cli {

namespace {

std::string counts(std::size_t moved, std::uint64_t bytes, std::size_t skipped) {
    return std::to_string(moved) + (moved == 1 ? " layer, " : " layers, ") + format_bytes(bytes) +
           "; " + std::to_string(skipped) + " already there";
}

}  // namespace

int run_push(const Invocation& inv, Output& out) {
    core::PushOptions o;
    o.env = inv.positional("env");
    o.tag = inv.value("tag");
    o.remote = inv.value("remote");
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.push(o, *progress);
    out.json_result(boost::json::object{
        {"env_id", r.env_id},
        {"short_id", r.short_id},
        {"reference", r.reference},
        {"digest", r.digest},
        {"layers_pushed", r.layers_pushed},
        {"layers_skipped", r.layers_skipped},
        {"bytes_pushed", r.bytes_pushed},
        {"uncommitted_changes", r.uncommitted_changes},
    });
    out.line("pushed " + r.short_id + " (" +
             counts(r.layers_pushed, r.bytes_pushed, r.layers_skipped) + ")");
    out.line("tagged as " + r.reference);
    out.line("digest " + r.digest);
    if (r.uncommitted_changes)
        out.hint("changes in the writable layer were not pushed; `karapace commit " + o.env +
                 "` and push again to include them");
    return 0;
}

int run_pull(const Invocation& inv, Output& out) {
    core::PullOptions o;
    o.reference = inv.positional("reference");
    o.remote = inv.value("remote");
    if (auto name = inv.value("name"); !name.empty()) o.name = name;
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.pull(o, *progress);
    boost::json::value name =
        r.name.empty() ? boost::json::value(nullptr) : boost::json::value(r.name);
    boost::json::value snapshot = r.snapshot_added.empty() ? boost::json::value(nullptr)
                                                           : boost::json::value(r.snapshot_added);
    out.json_result(boost::json::object{
        {"env_id", r.env_id},
        {"short_id", r.short_id},
        {"name", name},
        {"reference", r.reference},
        {"digest", r.digest},
        {"layers_pulled", r.layers_pulled},
        {"layers_skipped", r.layers_skipped},
        {"bytes_pulled", r.bytes_pulled},
        {"already_present", r.already_present},
        {"snapshot_added", snapshot},
        {"renamed", r.renamed},
        {"previous_name", r.renamed && !r.previous_name.empty()
                              ? boost::json::value(r.previous_name)
                              : boost::json::value(nullptr)},
    });
    const std::string label = r.name.empty() ? r.short_id : r.name;
    if (r.renamed)
        out.line("environment " + r.short_id + " was already here " +
                 (r.previous_name.empty() ? std::string("without a name")
                                          : "as '" + r.previous_name + "'") +
                 "; renamed it to '" + r.name + "'");
    if (r.already_present) {
        if (!r.renamed)
            out.line("environment " + label + " (" + r.short_id +
                     ") is already here; nothing to do");
        return 0;
    }
    if (!r.snapshot_added.empty()) {
        out.line("environment " + label + " was already here; added snapshot " +
                 r.snapshot_added.substr(0, 12) + " from " + r.reference);
        out.hint("apply it with: karapace restore " + label + " " + r.snapshot_added.substr(0, 12));
        return 0;
    }
    out.line("pulled " + r.short_id + (r.name.empty() ? "" : " as '" + r.name + "'") + " (" +
             counts(r.layers_pulled, r.bytes_pulled, r.layers_skipped) + ")");
    out.line("ready: karapace exec " + label + " -- <command>");
    return 0;
}

}  // namespace karapace::cli
