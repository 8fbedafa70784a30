// Store maintenance: `karapace gc`, `verify-store`, `migrate`, `doctor`, `images`.
#include "cli/commands.hpp"
#include "cli/engine_session.hpp"
#include "cli/progress.hpp"
#include "cli/results.hpp"
#include "cli/signals.hpp"
#include "karapace/core/report_json.hpp"
#include "karapace/image/inventory.hpp"
#include "karapace/sandbox/idmap.hpp"
#include "karapace/sandbox/userns.hpp"
#include "karapace/store/migrate.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/time.hpp"

namespace karapace::cli {

namespace {

std::optional<std::chrono::seconds> grace_option(const Invocation& inv) {
    if (inv.options.find("grace") == inv.options.end()) return std::nullopt;
    auto text = inv.value("grace");
    auto grace = parse_duration(text);
    if (!grace)
        throw Error(Errc::usage, "--grace '" + text + "' is not a duration",
                    "give seconds or a number with a unit: --grace 0, --grace 90s, --grace 10m, "
                    "--grace 2h, --grace 1d");
    return grace;
}

// What gc left because it was young, and how to remove it now (or why it cannot be now).
void report_kept(const core::GcSummary& r, bool dry, Output& out) {
    if (r.kept.empty()) return;
    const auto limit = format_duration(std::chrono::seconds(r.grace_seconds));
    out.line(std::string(dry ? "gc would keep " : "gc kept ") + std::to_string(r.kept.size()) +
             " item(s), " + format_bytes(r.kept_bytes) + ", younger than the grace period of " +
             limit);
    if (dry)
        for (const auto& k : r.kept)
            out.line("  " + k.path + " (" + format_bytes(k.bytes) + ", " +
                     format_duration(std::chrono::seconds(k.age_seconds)) + " old)");
    if (!r.in_flight.empty()) {
        std::string what;
        for (const auto& w : r.in_flight)
            what += (what.empty() ? "" : "; ") + w;
        out.hint("another operation is at work in the store (" + what + "), so gc kept the " +
                 limit +
                 " grace period that protects what it writes; run gc again when it has "
                 "finished");
        return;
    }
    out.hint(
        "remove it now with: karapace gc --grace 0 (it still keeps what a build, pull or "
        "commit at work in the store is writing)");
}

}  // namespace

int run_gc(const Invocation& inv, Output& out) {
    bool dry = inv.flag("dry-run");
    auto grace = grace_option(inv);
    install_interrupt_handler();
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.gc(dry, *progress, grace);
    out.json_result(core::to_json(r));
    out.line(gc_text(r));
    if (!r.stored_once.empty())
        out.line((dry ? "would check whether " + std::to_string(r.stored_once.size()) +
                            " layer(s) kept twice can be stored once (unpacked only)"
                      : "stored " + std::to_string(r.stored_once.size()) +
                            " layer(s) once, unpacked: their tar objects are removed (" +
                            format_bytes(r.stored_once_bytes) + ")"));
    if (!r.tars_kept.empty()) {
        out.line(std::to_string(r.tars_kept.size()) +
                 " layer(s) keep a tar object beside their unpacked tree (" +
                 format_bytes(r.tars_kept_bytes) + " more on disk):");
        for (const auto& t : r.tars_kept)
            out.line("  " + t);
    }
    if (dry)
        for (const auto* list : {&r.envs, &r.layers, &r.objects, &r.images, &r.other, &r.blobs})
            for (const auto& p : *list)
                out.line("  " + p);
    report_kept(r, dry, out);
    return 0;
}

int run_verify_store(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto progress = make_progress(out);
    auto r = engine.verify_store(*progress);
    out.json_result(core::to_json(r));
    out.line("checked " + std::to_string(r.objects_checked) + " object(s), " +
             std::to_string(r.layers_checked) + " layer(s) (" + std::to_string(r.layers_unpacked) +
             " stored once, unpacked; " + std::to_string(r.layers_with_tar) +
             " kept as tar objects), " + std::to_string(r.metadata_checked) +
             " environment record(s), " + std::to_string(r.names_checked) + " name(s), " +
             std::to_string(r.images_checked) + " image(s)");
    for (const auto& f : r.failures)
        out.line("  FAIL " + f.what + " " + f.id + ": " + f.reason);
    if (r.ok()) {
        out.line("store OK");
        return 0;
    }
    out.line(std::to_string(r.failures.size()) + " problem(s) found");
    return exit_code(Errc::store);
}

namespace {

// Format 3 -> 4 for an unprivileged caller with sub-ids: the owner change runs in a user
// namespace with the id map sessions use, as its root.
std::optional<store::OwnerMigration> owner_migration() {
    if (::getuid() == 0) return std::nullopt;
    auto plan = sandbox::plan_id_maps_for_caller(sandbox::IdMapping::container_root);
    if (!plan.use_helpers) return std::nullopt;
    store::OwnerMigration o;
    o.as_container_root = [](const std::function<void()>& fn) {
        sandbox::run_as_container_root(fn, "the owner change");
    };
    o.self_uid = ::getuid();
    o.self_gid = ::getgid();
    o.spare_uid = sandbox::top_sub_id_inside(plan.uid, o.self_uid);
    o.spare_gid = sandbox::top_sub_id_inside(plan.gid, o.self_gid);
    return o;
}

}  // namespace

int run_migrate(const Invocation& inv, Output& out) {
    store::MigrateOptions mo;
    mo.apply = inv.flag("apply");
    mo.owners = owner_migration();
    mo.on_step = [&out](const std::string& text) { out.line(text); };
    auto r = store::migrate_store(inv.store_root(), mo);
    out.json_result(store::to_json(r));
    out.line(store::human_summary(r));
    if (r.status == "newer" || r.status == "unknown") return 1;
    return 0;
}

int run_doctor(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    auto checks = engine.doctor();
    bool healthy = true;
    for (const auto& c : checks)
        if (c.required && c.status == "fail") healthy = false;
    out.json_result(boost::json::object{{"checks", core::to_json(checks)}, {"healthy", healthy}});
    for (const auto& c : checks) {
        const char* mark = c.status == "pass"   ? "ok  "
                           : c.status == "warn" ? "warn"
                           : c.status == "fail" ? "FAIL"
                                                : "info";
        out.line(std::string(mark) + "  " + c.message);
        if (!c.fix.empty()) out.line("      fix: " + c.fix);
    }
    out.line(healthy ? "karapace can run on this host" : "required checks failed (see FAIL above)");
    return healthy ? 0 : 1;
}

int run_images(const Invocation& inv, Output& out) {
    auto engine = make_engine(inv, out);
    std::vector<image::ImageUse> uses;
    for (const auto& [env, digest] : engine.image_uses())
        uses.push_back({env, Digest::parse(digest)});
    auto action = inv.positional("action");
    if (action == "rm") {
        auto ref = inv.positional("ref");
        if (ref.empty())
            throw Error(Errc::usage, "images rm needs the image to remove",
                        "see the digests with `karapace images`");
        auto rec = image::remove_image(engine.store_root(), ref, uses);
        out.json_result(
            boost::json::object{{"removed", rec.digest.str()}, {"reference", rec.reference}});
        out.line("removed image " + rec.digest.str() + " (" + rec.reference + ")");
        return 0;
    }
    if (!action.empty())
        throw Error(Errc::usage, "unknown images action '" + action + "'",
                    "use `karapace images` or `karapace images rm <ref>`");
    auto list = image::list_images(engine.store_root(), uses);
    boost::json::array arr;
    for (const auto& l : list)
        arr.emplace_back(image::listing_json(l));
    out.json_result(arr);
    if (list.empty()) out.line("no cached images");
    for (const auto& l : list)
        out.line(l.image.record.digest.hex().substr(0, 12) + "  " + l.image.record.reference +
                 "  " + format_bytes(l.image.record.unpacked_bytes) + "  used by " +
                 std::to_string(l.users.size()) + " environment(s)");
    return 0;
}

}  // namespace karapace::cli
