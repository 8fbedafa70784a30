// `karapace export` and `karapace unexport`: host launchers and command wrappers.

#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/results.hpp"
#include "karapace/core/report_json.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::cli {

namespace {

int list_exports(const Invocation& inv, Output& out, core::Engine& engine) {
    auto env = inv.positional("env");
    auto items = engine.exports(env);
    out.json_result(core::to_json(items));
    if (items.empty()) out.line("nothing is exported from " + env);
    for (const auto& i : items)
        out.line(exported_item_text(i));
    return 0;
}

}  // namespace

int run_export(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    if (inv.flag("list")) {
        if (inv.positionals.size() > 1 || inv.flag("bin"))
            throw Error(Errc::usage, "--list takes only the environment",
                        "usage: karapace export --list ENV");
        return list_exports(inv, out, engine);
    }
    core::ExportOptions o;
    o.env = inv.positional("env");
    o.apps = inv.positional_list("app");
    o.bins = inv.values("bin");
    if (auto name = inv.value("service"); !name.empty()) {
        if (inv.trailing.empty())
            throw Error(Errc::usage, "--service needs the command to run",
                        "usage: karapace export ENV --service " + name + " -- CMD [ARG...]");
        core::ServiceExport sv;
        sv.name = name;
        sv.spec.command = inv.trailing;
        sv.spec.notify = inv.flag("notify");
        if (auto r = inv.value("restart"); !r.empty()) sv.spec.restart = r;
        sv.spec.sockets = inv.values("socket");
        o.services.push_back(std::move(sv));
    } else if (!inv.trailing.empty() || inv.flag("notify") || !inv.values("socket").empty()) {
        throw Error(Errc::usage, "a command after --, --notify and --socket belong to --service",
                    "usage: karapace export ENV --service NAME [--notify] -- CMD [ARG...]");
    }
    o.refresh = o.apps.empty() && o.bins.empty() && o.services.empty();
    if (auto dir = inv.value("bin-dir"); !dir.empty()) {
        if (dir == "~" || dir.starts_with("~/")) dir = home_dir() + dir.substr(1);
        o.bin_dir = lexically_absolute(dir);
    }
    auto report = engine.export_items(o);
    for (const auto& w : report.warnings)
        log::warn(w);
    out.json_result(core::to_json(report));
    for (const auto& i : report.exported)
        out.line("exported " + exported_item_text(i));
    if (report.exported.empty()) out.line("nothing exported from " + report.env);
    return 0;
}

int run_unexport(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    core::UnexportOptions o;
    o.env = inv.positional("env");
    o.apps = inv.positional_list("app");
    o.bins = inv.values("bin");
    o.services = inv.values("service");
    o.all = inv.flag("all");
    if (o.all && (!o.apps.empty() || !o.bins.empty() || !o.services.empty()))
        throw Error(Errc::usage, "--all removes everything; name no applications or commands",
                    "usage: karapace unexport --all ENV");
    auto removed = engine.unexport_items(o);
    out.json_result(boost::json::object{{"env", o.env}, {"removed", core::to_json(removed)}});
    for (const auto& i : removed)
        out.line("removed " + exported_item_text(i));
    if (removed.empty()) out.line("nothing was exported from " + o.env);
    return 0;
}

}  // namespace karapace::cli
