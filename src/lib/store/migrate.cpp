#include "karapace/store/migrate.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <sstream>

#include "karapace/store/lock.hpp"
#include "karapace/store/sessions.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "store/fsutil.hpp"
#include "store/reown.hpp"

namespace karapace::store {

namespace bj = boost::json;

namespace {

// Format 2 (and 1) kept everything under `store/`: objects/<blake3>, layers/<blake3>,
// metadata/<env_id> (pretty JSON, no extension), plus env/ and images/ beside it.
void inspect_legacy(const Layout& l, MigrateReport& r) {
    std::string base = l.store_dir();
    for (const auto& n : list_dir(base + "/objects")) {
        if (n.starts_with(".")) continue;
        auto st = lstat_path(base + "/objects/" + n);
        if (!st || !S_ISREG(st->st_mode)) continue;
        ++r.objects;
        r.object_bytes += static_cast<std::uint64_t>(st->st_size);
    }
    for (const auto& n : list_dir(base + "/layers"))
        if (!n.starts_with(".")) ++r.layers;
    for (const auto& n : list_dir(base + "/metadata")) {
        if (n.starts_with(".")) continue;
        LegacyEnv env;
        env.path = base + "/metadata/" + n;
        env.env_id = n;
        try {
            auto v = json::parse(read_file_limited(env.path, 4 << 20), env.path);
            if (!v.is_object()) throw Error(Errc::store, "not a JSON object");
            const auto& o = v.as_object();
            if (const auto* id = o.if_contains("env_id"); id && id->is_string())
                env.env_id = std::string(id->as_string());
            if (const auto* name = o.if_contains("name"); name && name->is_string())
                env.name = std::string(name->as_string());
            if (const auto* state = o.if_contains("state"); state && state->is_string())
                env.state = std::string(state->as_string());
        } catch (const std::exception& e) {
            env.error = e.what();
        }
        r.environments.push_back(std::move(env));
    }
    for (const auto& n : list_dir(l.root() + "/images"))
        if (!n.starts_with(".")) r.images.push_back(n);
}

std::string timestamp() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
    return buf;
}

void move_aside(const Layout& l, MigrateReport& r) {
    std::string backup = l.root() + "/format2-" + timestamp();
    make_dirs(backup, 0700);
    for (const char* part : {"store", "env", "images"}) {
        std::string from = l.root() + "/" + part;
        if (!lstat_path(from)) continue;
        std::string to = backup + "/" + part;
        if (::rename(from.c_str(), to.c_str()) != 0)
            throw_errno(Errc::store, "cannot move " + from + " to " + to);
    }
    fsync_dir(l.root());
    r.backup_path = backup;
}

struct OwnedTree {
    std::string path;
    bool include_top;  // the directory itself too (an image's rootfs is the image's own)
};

// What sandboxes wrote, below directories the store made as the user: cached images, unpacked
// layers, environments' writable layers and overlay work directories.
std::vector<OwnedTree> owned_trees(const Layout& l) {
    std::vector<OwnedTree> out;
    auto add_dir = [&](const std::string& path, bool top) {
        auto st = lstat_path(path);
        if (st && S_ISDIR(st->st_mode)) out.push_back({path, top});
    };
    for (const auto& n : list_dir(l.images_dir()))
        if (!n.starts_with(".")) add_dir(l.images_dir() + "/" + n + "/rootfs", true);
    for (const auto& n : list_dir(l.unpacked_layers_dir()))
        if (!n.starts_with(".")) add_dir(l.unpacked_layers_dir() + "/" + n, false);
    for (const auto& n : list_dir(l.envs_dir())) {
        if (n.starts_with(".")) continue;
        add_dir(l.envs_dir() + "/" + n + "/upper", false);
        add_dir(l.envs_dir() + "/" + n + "/work", false);
    }
    return out;
}

std::string owners_journal(const Layout& l) { return l.store_dir() + "/migrate-owners.json"; }

int journal_phase(const Layout& l) {
    auto path = owners_journal(l);
    if (!lstat_path(path)) return 0;
    auto v = json::parse(read_file_limited(path, 4096), path);
    if (!v.is_object()) throw Error(Errc::store, path + " is not a JSON object");
    auto phase = json::get_int(v.as_object(), "phase", path);
    if (phase < 1 || phase > 3) throw Error(Errc::store, path + ": no such step");
    return static_cast<int>(phase);
}

// Container root's files were the caller's (S) and become root's (0); the caller's own files,
// which were a sub-id that is now root, become S. Through a spare id P, in three steps each of
// which can be run again after a crash: S -> P, 0 -> S, P -> 0. The step about to run is
// recorded first in store/migrate-owners.json.
void migrate_owners(const Layout& l, const std::vector<OwnedTree>& trees, const OwnerMigration& o,
                    const MigrateOptions& opts) {
    auto steps_for = [](std::uint32_t self, std::uint32_t spare) {
        std::vector<std::pair<std::uint32_t, std::uint32_t>> steps;
        if (spare == 0) return decltype(steps){{self, 0}, {0, 0}, {0, 0}};
        return decltype(steps){{self, spare}, {0, self}, {spare, 0}};
    };
    auto uid_steps = steps_for(o.self_uid, o.spare_uid);
    auto gid_steps = steps_for(o.self_gid, o.spare_gid);
    int first = journal_phase(l);
    if (first == 0) {
        // The spare ids must be unused, or the last step would give their files to root.
        o.as_container_root([&] {
            for (const auto& t : trees) {
                auto found = find_owned_by(t.path, t.include_top, o.spare_uid, o.spare_gid);
                if (!found.empty())
                    throw Error(Errc::store,
                                found + " is owned by id " + std::to_string(o.spare_uid) + "/" +
                                    std::to_string(o.spare_gid) +
                                    " inside, which the migration needs unused",
                                "change its owner inside the environment (`karapace exec --root`) "
                                "with the previous Karapace, or rebuild that environment");
            }
        });
        first = 1;
    }
    const char* what[] = {"your files move to a spare id", "root's files become yours",
                          "the spare id's files become root's"};
    for (int phase = first; phase <= 3; ++phase) {
        write_file_atomic(owners_journal(l), json::pretty(bj::object{{"phase", phase}}), 0600);
        if (opts.on_step)
            opts.on_step("step " + std::to_string(phase) + " of 3: " + what[phase - 1] + " (" +
                         std::to_string(trees.size()) + " trees)");
        ReownStep step{uid_steps[phase - 1].first, uid_steps[phase - 1].second,
                       gid_steps[phase - 1].first, gid_steps[phase - 1].second};
        if (step.from_uid == step.to_uid && step.from_gid == step.to_gid) continue;
        o.as_container_root([&] {
            for (const auto& t : trees) {
                reown_tree(t.path, t.include_top, step);
                // Not in fault_points(): the store-migrate test stops a step half done here.
                fault_point("migrate-owners.step-" + std::to_string(phase) + ".after-a-tree");
            }
        });
    }
}

void write_version(const Layout& l) {
    bj::object v;
    v["format_version"] = format_version;
    write_file_atomic(l.version_file(), json::pretty(v), 0644);
}

void to_format_4(const Layout& l, const MigrateOptions& opts, MigrateReport& r) {
    auto trees = owned_trees(l);
    for (const auto& t : trees)
        r.trees.push_back(l.relative(t.path));
    auto version = lstat_path(l.version_file());
    bool by_root = version && version->st_uid == 0;
    bool swap = !by_root && opts.owners.has_value();
    if (swap)
        r.advice = {
            "format 4 maps container root to one of your sub-ids and you to yourself, in builds "
            "and sessions alike, so sudo works inside and your files stay yours",
            "`karapace migrate --apply` changes the owners of " + std::to_string(trees.size()) +
                " tree(s) of images, layers and environments in place; stop the environments' "
                "sessions first; an interrupted run continues where it stopped when run again",
        };
    else
        r.advice = {"only the version file changes (" +
                    std::string(by_root ? "the store is root's" : "you have no sub-ids") +
                    "): run `karapace migrate --apply`"};
    if (!opts.apply) return;
    auto lock = StoreLock::acquire(l, LockMode::exclusive);
    for (const auto& n : list_dir(l.envs_dir())) {
        if (n.starts_with(".")) continue;
        auto id = EnvId::parse(n, Errc::store);
        auto live = live_sessions(l, id);
        if (!live.empty())
            throw Error(Errc::busy,
                        "environment " + id.short_id() + " has a running session (pid " +
                            std::to_string(live.front().pid) + ")",
                        "end its sessions (`karapace stop`), then migrate");
    }
    if (swap) migrate_owners(l, trees, *opts.owners, opts);
    write_version(l);
    ::unlink(owners_journal(l).c_str());
    r.status = "migrated";
    r.advice = {"the store has format " + std::to_string(format_version) + " now"};
}

}  // namespace

MigrateReport migrate_store(const std::string& root, const MigrateOptions& opts) {
    Layout l(root);
    MigrateReport r;
    if (!lstat_path(l.store_dir())) {
        r.status = "none";
        r.advice.push_back("there is no store at " + l.root() + "; nothing to migrate");
        return r;
    }
    try {
        r.found_version = read_format_version(l);
    } catch (const Error& e) {
        r.status = "unknown";
        r.advice.push_back(std::string("the version file cannot be read: ") + e.what());
        r.advice.push_back("move " + l.root() + " aside and build again with a fresh store");
        return r;
    }
    if (r.found_version == format_version) {
        r.status = "current";
        r.advice.push_back("the store already has format " + std::to_string(format_version));
        return r;
    }
    if (r.found_version > format_version) {
        r.status = "newer";
        r.advice.push_back("the store was written by a newer Karapace (format " +
                           std::to_string(r.found_version) + "); use that version");
        return r;
    }
    if (r.found_version == 0) {
        r.status = "unknown";
        r.advice.push_back(l.version_file() + " is missing; this is not a store Karapace wrote");
        return r;
    }
    if (r.found_version == 3) {
        r.status = "owners";
        to_format_4(l, opts, r);
        return r;
    }
    r.status = "legacy";
    inspect_legacy(l, r);
    r.advice = {
        "format " + std::to_string(r.found_version) +
            " named objects by BLAKE3 and packed layers differently; its environments cannot be "
            "converted in place (their ids change with SHA-256)",
        "rebuild each environment from its karapace.toml with `karapace build`; lock files with "
        "lock_version 2 are re-created on the first build",
        "then `karapace migrate --apply` moves the old store to " + l.root() +
            "/format2-<time>/ and starts an empty format " + std::to_string(format_version) +
            " store; delete that directory when you no longer need it",
    };
    if (!opts.apply) return r;
    move_aside(l, r);
    open_layout(l, OpenMode::create);
    r.status = "migrated";
    return r;
}

bj::object to_json(const MigrateReport& r) {
    bj::object o;
    o["status"] = r.status;
    o["found_version"] = r.found_version;
    o["current_version"] = r.current_version;
    o["objects"] = r.objects;
    o["object_bytes"] = r.object_bytes;
    o["layers"] = r.layers;
    bj::array envs;
    for (const auto& e : r.environments) {
        bj::object x;
        x["env_id"] = e.env_id;
        x["name"] = e.name.empty() ? bj::value(nullptr) : bj::value(e.name);
        x["state"] = e.state;
        x["path"] = e.path;
        if (!e.error.empty()) x["error"] = e.error;
        envs.push_back(std::move(x));
    }
    o["environments"] = std::move(envs);
    bj::array images, advice;
    for (const auto& i : r.images)
        images.emplace_back(i);
    for (const auto& a : r.advice)
        advice.emplace_back(a);
    o["images"] = std::move(images);
    o["backup_path"] = r.backup_path.empty() ? bj::value(nullptr) : bj::value(r.backup_path);
    bj::array trees;
    for (const auto& t : r.trees)
        trees.emplace_back(t);
    o["trees"] = std::move(trees);
    o["advice"] = std::move(advice);
    return o;
}

std::string human_summary(const MigrateReport& r) {
    std::ostringstream out;
    if (r.status == "legacy" || (r.status == "migrated" && r.found_version < 3)) {
        out << "format " << r.found_version << " store: " << r.environments.size()
            << " environment(s), " << r.layers << " layer(s), " << r.objects << " object(s) ("
            << r.object_bytes << " bytes), " << r.images.size() << " cached image(s)\n";
        for (const auto& e : r.environments) {
            out << "  " << e.env_id.substr(0, 12) << "  " << (e.name.empty() ? "-" : e.name) << "  "
                << (e.state.empty() ? "?" : e.state);
            if (!e.error.empty()) out << "  (unreadable: " << e.error << ")";
            out << "\n";
        }
    }
    if (r.found_version == 3)
        out << "format 3 store: " << r.trees.size()
            << " tree(s) of images, layers and environments\n";
    if (r.status == "migrated" && !r.backup_path.empty())
        out << "moved the old store to " << r.backup_path << "\n";
    for (const auto& a : r.advice)
        out << "- " << a << "\n";
    return out.str();
}

}  // namespace karapace::store
