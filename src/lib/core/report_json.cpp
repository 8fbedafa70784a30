#include "karapace/core/report_json.hpp"

namespace karapace::core {

namespace bj = boost::json;

namespace {
bj::array strings(const std::vector<std::string>& v) {
    bj::array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return a;
}

template <typename T>
bj::array objects(const std::vector<T>& v) {
    bj::array a;
    for (const auto& x : v)
        a.emplace_back(to_json(x));
    return a;
}
}  // namespace

bj::object to_json(const EnvSummary& s) {
    bj::object o;
    o["env_id"] = s.env_id;
    o["short_id"] = s.short_id;
    o["name"] = s.name.empty() ? bj::value(nullptr) : bj::value(s.name);
    o["state"] = s.state;
    o["base_image"] = s.base_image;
    o["created"] = s.created;
    o["updated"] = s.updated;
    o["sessions"] = s.sessions;
    return o;
}

bj::object to_json(const GpuDetails& g) {
    auto strings = [](const std::vector<std::string>& v) {
        bj::array a;
        for (const auto& s : v)
            a.emplace_back(s);
        return a;
    };
    bj::object o{{"requested", g.requested}, {"dri", g.dri}};
    if (!g.requested) return o;
    o["nvidia"] = bj::object{{"source", g.nvidia},
                             {"driver_version", g.driver_version},
                             {"cdi_spec", g.cdi_spec},
                             {"linker", g.linker},
                             {"devices", strings(g.devices)},
                             {"libraries", strings(g.libraries)},
                             {"programs", strings(g.programs)},
                             {"files", strings(g.files)},
                             {"warnings", strings(g.warnings)},
                             {"missing", strings(g.missing)}};
    return o;
}

bj::object to_json(const EnvDetails& d) {
    bj::object o = to_json(d.summary);
    o["manifest_path"] = d.manifest_path;
    o["instance_of"] = d.instance_of.empty() ? bj::value(nullptr) : bj::value(d.instance_of);
    o["pinned_image"] = d.pinned_image;
    o["image_digest"] = d.image_digest;
    bj::array pkgs;
    for (const auto& p : d.packages)
        pkgs.emplace_back(bj::object{{"name", p.name}, {"version", p.version}, {"arch", p.arch}});
    o["packages"] = std::move(pkgs);
    bj::array layers;
    for (const auto& l : d.layers)
        layers.emplace_back(bj::object{{"digest", l.digest},
                                       {"kind", l.kind},
                                       {"size", l.size},
                                       {"stored", l.stored},
                                       {"tar_kept", l.tar_kept}});
    o["layers"] = std::move(layers);
    o["upper_size"] = d.upper_size;
    bj::array sessions;
    for (const auto& s : d.sessions)
        sessions.emplace_back(bj::object{{"pid", s.pid}, {"started", s.started}});
    o["session_list"] = std::move(sessions);
    bj::array lingering;
    for (const auto& s : d.lingering)
        lingering.emplace_back(bj::object{{"pid", s.pid}, {"started", s.started}});
    o["lingering"] = std::move(lingering);
    o["limit_mechanism"] = d.limit_mechanism;
    o["namespace_keeper"] = d.namespace_keeper;
    o["gpu"] = to_json(d.gpu);
    bj::object env;
    for (const auto& [name, value] : d.env)
        env[name] = value;
    o["env"] = std::move(env);
    o["hooks"] =
        bj::object{{"post_build", strings(d.post_build)}, {"on_enter", strings(d.on_enter)}};
    return o;
}

bj::object to_json(const BuildResult& r) {
    bj::object o;
    o["env_id"] = r.env_id;
    o["short_id"] = r.short_id;
    o["name"] = r.name.empty() ? bj::value(nullptr) : bj::value(r.name);
    o["status"] = r.replaced_env_id ? "rebuilt" : (r.reused ? "unchanged" : "built");
    o["session_updated"] = r.session_updated;
    o["lock_file"] = r.lock_path;
    if (r.replaced_env_id) o["replaced"] = *r.replaced_env_id;
    o["instance_of"] = r.instance_of ? bj::value(*r.instance_of) : bj::value(nullptr);
    o["exported"] = objects(r.exported);
    o["export_warnings"] = strings(r.export_warnings);
    return o;
}

bj::object to_json(const ExportedItem& i) {
    bj::object o{
        {"kind", i.kind}, {"name", i.name}, {"source", i.source}, {"files", strings(i.files)}};
    if (i.kind == "service") {
        o["command"] = strings(i.service.command);
        o["type"] = i.service.notify ? "notify" : "simple";
        o["restart"] = i.service.restart;
        o["sockets"] = strings(i.service.sockets);
    }
    return o;
}

bj::object to_json(const ExportReport& r) {
    bj::object o;
    o["env_id"] = r.env_id;
    o["env"] = r.env;
    o["exported"] = objects(r.exported);
    o["warnings"] = strings(r.warnings);
    return o;
}

bj::array to_json(const std::vector<ExportedItem>& list) { return objects(list); }

bj::object to_json(const DiffReport& r) {
    bj::object o;
    o["env_id"] = r.env_id;
    o["added"] = strings(r.added);
    o["modified"] = strings(r.modified);
    o["removed"] = strings(r.removed);
    o["has_drift"] = r.has_drift();
    return o;
}

bj::object to_json(const SnapshotInfo& s) {
    return bj::object{{"id", s.id}, {"created", s.created}, {"size", s.size}, {"files", s.files}};
}

bj::object to_json(const GcSummary& s) {
    bj::object o;
    o["dry_run"] = s.dry_run;
    o["envs"] = strings(s.envs);
    o["layers"] = strings(s.layers);
    o["objects"] = strings(s.objects);
    o["images"] = strings(s.images);
    o["other"] = strings(s.other);
    o["blobs"] = strings(s.blobs);
    o["blob_bytes"] = s.blob_bytes;
    o["bytes"] = s.bytes;
    bj::array kept;
    for (const auto& k : s.kept)
        kept.emplace_back(bj::object{{"kind", k.kind},
                                     {"path", k.path},
                                     {"bytes", k.bytes},
                                     {"age_seconds", k.age_seconds}});
    o["kept"] = std::move(kept);
    o["kept_bytes"] = s.kept_bytes;
    o["grace_seconds"] = s.grace_seconds;
    o["in_flight"] = strings(s.in_flight);
    o["stored_once"] = strings(s.stored_once);
    o["stored_once_bytes"] = s.stored_once_bytes;
    o["tars_kept"] = strings(s.tars_kept);
    o["tars_kept_bytes"] = s.tars_kept_bytes;
    return o;
}

bj::object to_json(const VerifySummary& s) {
    bj::object o;
    o["objects_checked"] = s.objects_checked;
    o["layers_checked"] = s.layers_checked;
    o["layers_unpacked"] = s.layers_unpacked;
    o["layers_with_tar"] = s.layers_with_tar;
    o["metadata_checked"] = s.metadata_checked;
    o["names_checked"] = s.names_checked;
    o["images_checked"] = s.images_checked;
    bj::array failures;
    for (const auto& f : s.failures)
        failures.emplace_back(bj::object{{"what", f.what}, {"id", f.id}, {"reason", f.reason}});
    o["failures"] = std::move(failures);
    o["ok"] = s.ok();
    return o;
}

bj::object to_json(const DoctorCheck& c) {
    return bj::object{{"name", c.name},
                      {"status", c.status},
                      {"message", c.message},
                      {"fix", c.fix},
                      {"required", c.required}};
}

bj::array to_json(const std::vector<EnvSummary>& list) { return objects(list); }
bj::array to_json(const std::vector<SnapshotInfo>& list) { return objects(list); }
bj::array to_json(const std::vector<DoctorCheck>& list) { return objects(list); }

}  // namespace karapace::core
