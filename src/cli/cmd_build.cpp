// `karapace build` and `karapace rebuild`.
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "karapace/core/report_json.hpp"
#include "karapace/util/log.hpp"

namespace karapace::cli {

namespace {

core::BuildOptions build_options(const Invocation& inv) {
    core::BuildOptions o;
    o.manifest_path = inv.positional("manifest");
    if (auto name = inv.value("name"); !name.empty()) o.name = name;
    o.locked = inv.flag("locked");
    o.offline = inv.flag("offline");
    o.require_pinned_image = inv.flag("require-pinned-image");
    return o;
}

void report(const core::BuildResult& r, Output& out) {
    out.json_result(core::to_json(r));
    std::string who = r.name.empty() ? r.short_id : "'" + r.name + "' (" + r.short_id + ")";
    if (r.replaced_env_id)
        out.line("rebuilt environment " + who + ", replacing " + r.replaced_env_id->substr(0, 12));
    else if (r.reused)
        out.line("environment " + who + " is already built from " + r.lock_path +
                 (r.session_updated ? "; its [env] and on_enter hooks are updated" : ""));
    else
        out.line("built environment " + who);
    out.line("env_id: " + r.env_id);
    for (const auto& i : r.exported)
        out.line("exported " + std::string(i.kind == "app" ? "application " : "command ") + i.name +
                 (i.files.empty() ? "" : " -> " + i.files.front()));
    for (const auto& w : r.export_warnings)
        log::warn(w);
}

}  // namespace

int run_build(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    report(engine.build(build_options(inv), *progress), out);
    return 0;
}

int run_rebuild(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    report(engine.rebuild(build_options(inv), *progress), out);
    return 0;
}

}  // namespace karapace::cli
