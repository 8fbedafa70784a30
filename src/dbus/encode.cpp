#include "encode.hpp"

#include "karapace/store/metadata.hpp"
#include "karapace/util/error.hpp"

namespace karapace::dbus {

EnvRecord encode_summary(const core::EnvSummary& env) {
    return EnvRecord(env.env_id, env.short_id, env.name, env.state, env.base_image, env.created,
                     env.updated, static_cast<std::uint32_t>(env.sessions));
}

ResultMap encode_details(const core::EnvDetails& env) {
    const auto& s = env.summary;
    ResultMap map;
    map["env_id"] = s.env_id;
    map["short_id"] = s.short_id;
    map["name"] = s.name;
    map["state"] = s.state;
    map["base_image"] = s.base_image;
    map["created"] = s.created;
    map["updated"] = s.updated;
    map["manifest_path"] = env.manifest_path;
    map["pinned_image"] = env.pinned_image;
    map["image_digest"] = env.image_digest;
    std::vector<sdbus::Struct<std::string, std::string, std::string>> packages;
    for (const auto& p : env.packages)
        packages.emplace_back(p.name, p.version, p.arch);
    map["packages"] = packages;
    std::vector<sdbus::Struct<std::string, std::string, std::uint64_t>> layers;
    for (const auto& l : env.layers)
        layers.emplace_back(l.digest, l.kind, l.size);
    map["layers"] = layers;
    map["upper_size"] = env.upper_size;
    std::vector<sdbus::Struct<std::int32_t, std::string>> sessions;
    for (const auto& session : env.sessions)
        sessions.emplace_back(session.pid, session.started);
    map["sessions"] = sessions;
    map["limit_mechanism"] = env.limit_mechanism;
    std::map<std::string, std::string> vars(env.env.begin(), env.env.end());
    map["env"] = vars;
    map["post_build"] = env.post_build;
    map["on_enter"] = env.on_enter;
    return map;
}

ResultMap encode_build(const core::BuildResult& result) {
    ResultMap map;
    map["env_id"] = result.env_id;
    map["short_id"] = result.short_id;
    map["name"] = result.name;
    map["reused"] = result.reused;
    map["session_updated"] = result.session_updated;
    map["lock_path"] = result.lock_path;
    if (result.replaced_env_id) map["replaced_env_id"] = *result.replaced_env_id;
    return map;
}

ResultMap encode_commit(const std::string& env_id, const core::SnapshotInfo& snapshot) {
    ResultMap map;
    map["env_id"] = env_id;
    map["snapshot"] = snapshot.id;
    map["created"] = snapshot.created;
    map["size"] = snapshot.size;
    map["files"] = snapshot.files;
    return map;
}

ResultMap encode_push(const core::PushResult& r) {
    ResultMap map;
    map["env_id"] = r.env_id;
    map["reference"] = r.reference;
    map["digest"] = r.digest;
    map["layers_pushed"] = static_cast<std::uint64_t>(r.layers_pushed);
    map["layers_skipped"] = static_cast<std::uint64_t>(r.layers_skipped);
    map["bytes_pushed"] = r.bytes_pushed;
    map["uncommitted_changes"] = r.uncommitted_changes;
    return map;
}

ResultMap encode_pull(const core::PullResult& r) {
    ResultMap map;
    map["env_id"] = r.env_id;
    map["name"] = r.name;
    map["reference"] = r.reference;
    map["digest"] = r.digest;
    map["layers_pulled"] = static_cast<std::uint64_t>(r.layers_pulled);
    map["layers_skipped"] = static_cast<std::uint64_t>(r.layers_skipped);
    map["bytes_pulled"] = r.bytes_pulled;
    map["already_present"] = r.already_present;
    map["snapshot_added"] = r.snapshot_added;
    map["renamed"] = r.renamed;
    map["previous_name"] = r.previous_name;
    return map;
}

SnapshotRecord encode_snapshot(const core::SnapshotInfo& snapshot) {
    return SnapshotRecord(snapshot.id, snapshot.created, snapshot.size, snapshot.files);
}

ResultMap encode_gc(const core::GcSummary& summary) {
    ResultMap map;
    map["dry_run"] = summary.dry_run;
    map["envs"] = summary.envs;
    map["layers"] = summary.layers;
    map["objects"] = summary.objects;
    map["images"] = summary.images;
    map["other"] = summary.other;
    map["bytes"] = summary.bytes;
    // Garbage kept because it is younger than the grace period: kind, path, bytes, age in seconds.
    std::vector<sdbus::Struct<std::string, std::string, std::uint64_t, std::int64_t>> kept;
    for (const auto& k : summary.kept)
        kept.emplace_back(k.kind, k.path, k.bytes, k.age_seconds);
    map["kept"] = kept;
    map["kept_bytes"] = summary.kept_bytes;
    map["grace_seconds"] = summary.grace_seconds;
    map["in_flight"] = summary.in_flight;
    return map;
}

ResultMap encode_verify(const core::VerifySummary& summary) {
    ResultMap map;
    map["ok"] = summary.ok();
    map["objects_checked"] = summary.objects_checked;
    map["layers_checked"] = summary.layers_checked;
    map["metadata_checked"] = summary.metadata_checked;
    map["images_checked"] = summary.images_checked;
    std::vector<sdbus::Struct<std::string, std::string, std::string>> failures;
    for (const auto& f : summary.failures)
        failures.emplace_back(f.what, f.id, f.reason);
    map["failures"] = failures;
    return map;
}

namespace {

template <typename T>
T option_value(const std::string& key, const sdbus::Variant& value, const char* type_name) {
    if (!value.containsValueOfType<T>()) {
        throw Error(Errc::usage,
                    "build option '" + key + "' must be of type " + type_name + ", not " +
                        value.peekValueType(),
                    "see docs/dbus.md for the options Build takes");
    }
    return value.get<T>();
}

}  // namespace

bool take_notify_option(ResultMap& options) {
    auto it = options.find("notify");
    if (it == options.end()) return true;
    bool notify = option_value<bool>(it->first, it->second, "b");
    options.erase(it);
    return notify;
}

core::BuildOptions decode_build_options(const std::string& manifest_path,
                                        const ResultMap& options) {
    core::BuildOptions build;
    build.manifest_path = manifest_path;
    for (const auto& [key, value] : options) {
        if (key == "name") {
            auto name = option_value<std::string>(key, value, "s");
            if (!name.empty()) store::validate_env_name(name);  // refused by the call, not the job
            if (!name.empty()) build.name = name;
        } else if (key == "locked") {
            build.locked = option_value<bool>(key, value, "b");
        } else if (key == "offline") {
            build.offline = option_value<bool>(key, value, "b");
        } else if (key == "require_pinned_image") {
            build.require_pinned_image = option_value<bool>(key, value, "b");
        } else {
            throw Error(Errc::usage, "unknown build option '" + key + "'",
                        "Build takes: name (s), locked (b), offline (b), require_pinned_image (b), "
                        "notify (b)");
        }
    }
    return build;
}

core::PushOptions decode_push_options(const std::string& env, const ResultMap& options) {
    core::PushOptions push;
    push.env = env;
    for (const auto& [key, value] : options) {
        if (key == "tag")
            push.tag = option_value<std::string>(key, value, "s");
        else if (key == "remote")
            push.remote = option_value<std::string>(key, value, "s");
        else
            throw Error(Errc::usage, "unknown push option '" + key + "'",
                        "Push takes: tag (s), remote (s), notify (b)");
    }
    return push;
}

core::PullOptions decode_pull_options(const std::string& reference, const ResultMap& options) {
    core::PullOptions pull;
    pull.reference = reference;
    for (const auto& [key, value] : options) {
        if (key == "remote") {
            pull.remote = option_value<std::string>(key, value, "s");
        } else if (key == "name") {
            auto name = option_value<std::string>(key, value, "s");
            if (!name.empty()) store::validate_env_name(name);
            if (!name.empty()) pull.name = name;
        } else {
            throw Error(Errc::usage, "unknown pull option '" + key + "'",
                        "Pull takes: remote (s), name (s), notify (b)");
        }
    }
    return pull;
}

void decode_export_options(const ResultMap& options, core::ExportOptions& out) {
    for (const auto& [key, value] : options) {
        if (key == "bin_dir") {
            out.bin_dir = option_value<std::string>(key, value, "s");
            if (!out.bin_dir.empty() && out.bin_dir.front() != '/')
                throw Error(Errc::usage,
                            "bin_dir must be an absolute path, not '" + out.bin_dir + "'");
        } else {
            throw Error(Errc::usage, "unknown export option '" + key + "'",
                        "Export takes: bin_dir (s)");
        }
    }
}

std::vector<ExportRecord> encode_exports(const std::vector<core::ExportedItem>& items) {
    std::vector<ExportRecord> out;
    for (const auto& i : items)
        out.emplace_back(i.kind, i.name, i.source, i.files);
    return out;
}

}  // namespace karapace::dbus
