// Drift and snapshots: `karapace diff`, `commit`, `snapshots`, `restore`.
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/results.hpp"
#include "karapace/core/report_json.hpp"

namespace karapace::cli {

int run_diff(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto engine = make_engine(inv, out);
    auto r = engine.diff(env);
    out.json_result(core::to_json(r));
    if (!r.has_drift()) {
        out.line("no changes in " + env);
        return 0;
    }
    out.line("changes in " + env + ":");
    // Paths come from inside the environment: a file name could carry escape sequences.
    for (const auto& p : r.added)
        out.line("  + " + printable(p));
    for (const auto& p : r.modified)
        out.line("  ~ " + printable(p));
    for (const auto& p : r.removed)
        out.line("  - " + printable(p));
    return 0;
}

int run_commit(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto s = engine.commit(env, *progress);
    auto j = core::to_json(s);
    j["env"] = env;
    out.json_result(j);
    out.line(committed_text(s, env));
    return 0;
}

int run_snapshots(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto engine = make_engine(inv, out);
    auto list = engine.snapshots(env);
    out.json_result(core::to_json(list));
    if (list.empty()) {
        out.line("no snapshots of " + env + " (make one with `karapace commit " + env + "`)");
        return 0;
    }
    for (const auto& s : list)
        out.line(s.id + "  " + s.created + "  " + format_bytes(s.size) + "  " +
                 std::to_string(s.files) + " entries");
    return 0;
}

int run_restore(const Invocation& inv, Output& out) {
    auto env = inv.positional("env");
    auto snapshot = inv.positional("snapshot");
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    engine.restore(env, snapshot, *progress);
    out.json_result(
        boost::json::object{{"env", env}, {"snapshot", snapshot}, {"status", "restored"}});
    out.line(restored_text(env, snapshot));
    return 0;
}

}  // namespace karapace::cli
