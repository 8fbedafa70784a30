#include "karapace/store/migrate.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <ctime>
#include <sstream>

#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/paths.hpp"
#include "store/fsutil.hpp"

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
    r.status = "legacy";
    inspect_legacy(l, r);
    r.advice = {
        "format " + std::to_string(r.found_version) +
            " named objects by BLAKE3 and packed layers differently; its environments cannot be "
            "converted in place (their ids change with SHA-256)",
        "rebuild each environment from its karapace.toml with `karapace build`; lock files with "
        "lock_version 2 are re-created on the first build",
        "then `karapace migrate --apply` moves the old store to " + l.root() +
            "/format2-<time>/ and starts an empty format 3 store; delete that directory when you "
            "no longer need it",
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
    o["advice"] = std::move(advice);
    return o;
}

std::string human_summary(const MigrateReport& r) {
    std::ostringstream out;
    if (r.status == "legacy" || r.status == "migrated") {
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
    if (r.status == "migrated") out << "moved the old store to " << r.backup_path << "\n";
    for (const auto& a : r.advice)
        out << "- " << a << "\n";
    return out.str();
}

}  // namespace karapace::store
