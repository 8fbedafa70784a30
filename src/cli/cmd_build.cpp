// `karapace build`, `karapace rebuild` and `karapace upgrade`.
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/results.hpp"
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
    out.line(build_text(r));
    out.line("env_id: " + r.env_id);
    if (r.instance_of)
        out.line("another environment of the lock " + r.instance_of->substr(0, 12) +
                 ": the same layers, its own writable layer");
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

namespace karapace::cli {

int run_upgrade(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.upgrade(inv.positional("env"), *progress);
    boost::json::object o = core::to_json(r.build);
    o["status"] = r.changed() ? "upgraded" : "unchanged";
    o["old_image"] = r.old_image;
    o["new_image"] = r.new_image;
    o["old_image_digest"] = r.old_image_digest;
    o["new_image_digest"] = r.new_image_digest;
    boost::json::array packages;
    for (const auto& c : r.packages) {
        boost::json::object p;
        p["name"] = c.name;
        p["from"] = c.from.empty() ? boost::json::value(nullptr) : boost::json::value(c.from);
        p["to"] = c.to.empty() ? boost::json::value(nullptr) : boost::json::value(c.to);
        packages.push_back(std::move(p));
    }
    o["packages"] = std::move(packages);
    out.json_result(o);
    std::string who = r.build.name.empty() ? r.build.short_id
                                           : "'" + r.build.name + "' (" + r.build.short_id + ")";
    if (!r.changed()) {
        out.line("environment " + who + " is up to date: the same image and package versions");
        return 0;
    }
    out.line("upgraded environment " + who + ", replacing " +
             r.build.replaced_env_id->substr(0, 12));
    if (r.old_image_digest != r.new_image_digest)
        out.line("  base image " + r.old_image_digest.substr(7, 12) + " -> " +
                 r.new_image_digest.substr(7, 12));
    for (const auto& c : r.packages)
        out.line("  " + c.name + " " + (c.from.empty() ? "(new)" : c.from) + " -> " +
                 (c.to.empty() ? "(removed)" : c.to));
    out.line("env_id: " + r.build.env_id);
    out.line("lock: " + r.build.lock_path);
    for (const auto& w : r.build.export_warnings)
        log::warn(w);
    return 0;
}

}  // namespace karapace::cli
