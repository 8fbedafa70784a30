#include "karapace/store/metadata.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "karapace/schema/normalize.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/time.hpp"
#include "store/fsutil.hpp"
#include "store/record.hpp"

namespace karapace::store {

namespace bj = boost::json;

std::string_view env_state_name(EnvState s) noexcept {
    switch (s) {
    case EnvState::defined: return "defined";
    case EnvState::built: return "built";
    case EnvState::frozen: return "frozen";
    case EnvState::archived: return "archived";
    }
    return "defined";
}

EnvState parse_env_state(std::string_view name) {
    if (name == "defined") return EnvState::defined;
    if (name == "built") return EnvState::built;
    if (name == "frozen") return EnvState::frozen;
    if (name == "archived") return EnvState::archived;
    throw Error(Errc::store, "unknown environment state '" + std::string(name) + "'");
}

bool valid_env_name(std::string_view name) noexcept {
    if (name.empty() || name.size() > 64) return false;
    for (char c : name)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    return true;
}

namespace {

void check_name_syntax(std::string_view name) {
    if (name.empty() || name.size() > 64)
        throw Error(Errc::usage, "invalid environment name '" + std::string(name) +
                                     "': it must be 1 to 64 characters long");
    if (!valid_env_name(name))
        throw Error(Errc::usage, "invalid environment name '" + std::string(name) +
                                     "': use only letters, digits, '_' and '-'");
}

}  // namespace

void validate_env_name(std::string_view name) {
    check_name_syntax(name);
    // A reference is matched against names before id prefixes, so such a name would take over
    // the id of another environment, or of one built later.
    if (EnvId::reads_as_prefix(name))
        throw Error(
            Errc::usage,
            "invalid environment name '" + std::string(name) +
                "': it could be read as an environment id (" +
                std::to_string(EnvId::min_prefix_length) +
                " or more hex digits 0-9 a-f are an id prefix in a reference)",
            "add a character that is not a hex digit, e.g. '" + std::string(name) + "-env'");
}

EnvMetadata make_metadata(const EnvId& id) {
    std::string now = now_rfc3339();
    return EnvMetadata{.env_id = id, .created = now, .updated = now};
}

namespace {

bj::value opt_digest(const std::optional<Digest>& d) {
    return d ? bj::value(d->str()) : bj::value(nullptr);
}

bj::array digests(const std::vector<Digest>& v) {
    bj::array a;
    for (const auto& d : v)
        a.emplace_back(d.str());
    return a;
}

std::optional<Digest> get_opt_digest(const bj::object& o, std::string_view key,
                                     const std::string& what) {
    const auto& v = json::field(o, key, what);
    if (v.is_null()) return std::nullopt;
    return Digest::parse(json::get_string(o, key, what));
}

std::vector<Digest> get_digests(const bj::object& o, std::string_view key,
                                const std::string& what) {
    std::vector<Digest> out;
    for (const auto& v : json::get_array(o, key, what)) {
        if (!v.is_string())
            throw Error(Errc::store, what + ": '" + std::string(key) + "' holds a non-string");
        out.push_back(Digest::parse(v.as_string()));
    }
    return out;
}

bj::value run_to_json(const std::optional<RunSettings>& run) {
    if (!run) return nullptr;
    bj::object o;
    o["network_isolation"] = run->network_isolation;
    o["gpu"] = run->gpu;
    o["audio"] = run->audio;
    bj::array mounts;
    for (const auto& m : run->mounts)
        mounts.push_back(bj::object{{"label", m.label}, {"spec", m.spec()}});
    o["mounts"] = std::move(mounts);
    o["cpu_shares"] = run->cpu_shares ? bj::value(*run->cpu_shares) : bj::value(nullptr);
    o["memory_limit_mb"] =
        run->memory_limit_mb ? bj::value(*run->memory_limit_mb) : bj::value(nullptr);
    o["backend"] = run->backend;
    return o;
}

std::optional<std::uint64_t> get_opt_count(const bj::object& o, std::string_view key,
                                           const std::string& what) {
    if (json::field(o, key, what).is_null()) return std::nullopt;
    auto v = json::get_int(o, key, what);
    if (v < 0) throw Error(Errc::store, what + ": '" + std::string(key) + "' is negative");
    return static_cast<std::uint64_t>(v);
}

// Absent (records written before run settings existed) or null: the engine reads the lock.
std::optional<RunSettings> run_from_json(const bj::object& record, const std::string& path) {
    auto it = record.find("run");
    if (it == record.end() || it->value().is_null()) return std::nullopt;
    const auto& o = json::get_object(record, "run", path);
    RunSettings r;
    r.network_isolation = json::get_bool(o, "network_isolation", path);
    r.gpu = json::get_bool(o, "gpu", path);
    r.audio = json::get_bool(o, "audio", path);
    for (const auto& v : json::get_array(o, "mounts", path)) {
        if (!v.is_object()) throw Error(Errc::store, path + ": a run mount is not an object");
        const auto& m = v.as_object();
        try {
            r.mounts.push_back(schema::parse_mount_spec(json::get_string(m, "label", path),
                                                        json::get_string(m, "spec", path)));
        } catch (const Error& e) {
            throw Error(Errc::store, path + ": " + e.what());
        }
    }
    r.cpu_shares = get_opt_count(o, "cpu_shares", path);
    r.memory_limit_mb = get_opt_count(o, "memory_limit_mb", path);
    // Records written before the OCI backend existed ran with the namespace backend.
    if (o.contains("backend")) r.backend = json::get_string(o, "backend", path);
    return r;
}

bj::value session_to_json(const SessionSettings& session) {
    bj::object env;
    for (const auto& var : session.env)
        env[var.name] = var.value;
    bj::array on_enter;
    for (const auto& hook : session.on_enter)
        on_enter.emplace_back(hook);
    bj::object o{{"env", std::move(env)}, {"on_enter", std::move(on_enter)}};
    if (session.no_new_privileges) o["no_new_privileges"] = true;
    if (!session.services.empty()) {
        bj::object services;
        for (const auto& sv : session.services)
            services[sv.name] = schema::to_json(sv.spec);
        o["services"] = std::move(services);
    }
    return o;
}

// Absent (no [env] or on_enter hooks, or a record written before they existed): nothing.
SessionSettings session_from_json(const bj::object& record, const std::string& path) {
    SessionSettings s;
    if (!record.contains("session")) return s;
    const auto& o = json::get_object(record, "session", path);
    for (const auto& [name, value] : json::get_object(o, "env", path)) {
        if (!value.is_string())
            throw Error(Errc::store,
                        path + ": session variable " + std::string(name) + " is not a string");
        schema::EnvVar var{std::string(name), std::string(value.as_string())};
        std::string problem = schema::env_var_problem(var);
        if (!problem.empty())
            throw Error(Errc::store,
                        log::cat(path, ": session variable ", var.name, ": ", problem));
        s.env.push_back(std::move(var));
    }
    std::sort(s.env.begin(), s.env.end());
    for (const auto& v : json::get_array(o, "on_enter", path)) {
        if (!v.is_string() || !schema::hook_command_problem(v.as_string()).empty())
            throw Error(Errc::store, path + ": an on_enter hook is not a usable command");
        s.on_enter.emplace_back(v.as_string());
    }
    if (o.contains("no_new_privileges"))
        s.no_new_privileges = json::get_bool(o, "no_new_privileges", path);
    if (o.contains("services"))
        for (const auto& [name, value] : json::get_object(o, "services", path)) {
            if (!value.is_object())
                throw Error(Errc::store,
                            path + ": service " + std::string(name) + " is not an object");
            const auto& so = value.as_object();
            schema::ServiceDecl d{std::string(name), {}};
            auto strings = [&](const char* key) {
                std::vector<std::string> out;
                for (const auto& a : json::get_array(so, key, path)) {
                    if (!a.is_string())
                        throw Error(Errc::store, path + ": service " + d.name + ": " + key +
                                                     " holds a non-string");
                    out.emplace_back(a.as_string());
                }
                return out;
            };
            d.spec.command = strings("command");
            d.spec.notify = json::get_bool(so, "notify", path);
            d.spec.restart = json::get_string(so, "restart", path);
            d.spec.sockets = strings("sockets");
            if (auto problem = schema::service_problem(d.name, d.spec))
                throw Error(Errc::store, path + ": " + problem->message);
            s.services.push_back(std::move(d));
        }
    return s;
}

EnvMetadata from_json(const bj::object& o, const std::string& path) {
    try {
        EnvMetadata m{.env_id = EnvId::parse(json::get_string(o, "env_id", path))};
        if (json::get_string(o, "short_id", path) != m.short_id())
            throw Error(Errc::store, path + ": short_id does not match env_id");
        const auto& name = json::field(o, "name", path);
        if (!name.is_null()) {
            m.name = json::get_string(o, "name", path);
            // The syntax only: a record named before names that read as ids were refused stays
            // readable (and can be renamed).
            check_name_syntax(*m.name);
        }
        m.state = parse_env_state(json::get_string(o, "state", path));
        m.manifest_object = get_opt_digest(o, "manifest_object", path);
        m.lock_digest = get_opt_digest(o, "lock_digest", path);
        m.layers = get_digests(o, "layers", path);
        m.snapshots = get_digests(o, "snapshots", path);
        const auto& image = json::get_object(o, "base_image", path);
        m.base_image_ref = json::get_string(image, "ref", path);
        m.base_image_digest = get_opt_digest(image, "digest", path);
        m.manifest_dir = json::get_string(o, "manifest_dir", path);
        m.created = json::get_string(o, "created", path);
        m.updated = json::get_string(o, "updated", path);
        m.run = run_from_json(o, path);
        if (const auto* of = o.if_contains("instance_of"); of && !of->is_null())
            m.instance_of = EnvId::parse(json::get_string(o, "instance_of", path));
        m.session = session_from_json(o, path);
        return m;
    } catch (const Error& e) {
        throw Error(Errc::store, std::string("corrupt metadata record ") + path + ": " + e.what(),
                    "run `karapace verify-store`; restore the file or rebuild the environment");
    }
}

}  // namespace

bj::object to_json(const EnvMetadata& m) {
    bj::object o;
    o["env_id"] = m.env_id.str();
    o["short_id"] = m.short_id();
    o["name"] = m.name ? bj::value(*m.name) : bj::value(nullptr);
    o["state"] = env_state_name(m.state);
    o["manifest_object"] = opt_digest(m.manifest_object);
    o["lock_digest"] = opt_digest(m.lock_digest);
    o["layers"] = digests(m.layers);
    o["snapshots"] = digests(m.snapshots);
    bj::object image;
    image["ref"] = m.base_image_ref;
    image["digest"] = opt_digest(m.base_image_digest);
    o["base_image"] = std::move(image);
    o["manifest_dir"] = m.manifest_dir;
    o["created"] = m.created;
    o["updated"] = m.updated;
    o["run"] = run_to_json(m.run);
    if (m.instance_of) o["instance_of"] = m.instance_of->str();
    if (!m.session.empty()) o["session"] = session_to_json(m.session);
    return o;
}

EnvId instance_id(const EnvId& lock_id, std::string_view name) {
    return EnvId::parse(
        sha256("karapace instance\n" + lock_id.str() + "\n" + std::string(name) + "\n").hex());
}

namespace {

EnvMetadata read_record(const std::string& path, const EnvId* expect) {
    std::string text;
    try {
        text = read_file_limited(path, 4 << 20);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) throw;
        throw Error(Errc::store, e.what(), "check the permissions of the store");
    }
    EnvMetadata m = from_json(open_record(text, path), path);
    if (expect != nullptr && m.env_id != *expect)
        throw Error(Errc::store,
                    "corrupt metadata record " + path + ": it describes " + m.env_id.str(),
                    "run `karapace verify-store`");
    return m;
}

}  // namespace

EnvMetadata MetadataStore::get(const EnvId& id) const {
    try {
        return read_record(layout_.metadata_path(id), &id);
    } catch (const Error& e) {
        if (e.code() == Errc::not_found)
            throw Error(Errc::not_found, "environment " + id.short_id() + " does not exist",
                        "`karapace list` shows the environments in this store");
        throw;
    }
}

bool MetadataStore::exists(const EnvId& id) const {
    return ::access(layout_.metadata_path(id).c_str(), F_OK) == 0;
}

std::vector<MetadataEntry> MetadataStore::list() const {
    std::vector<MetadataEntry> out;
    for (const auto& name : list_dir(layout_.metadata_dir())) {
        if (is_temp_name(name)) continue;
        MetadataEntry entry;
        entry.path = layout_.metadata_dir() + "/" + name;
        std::string stem = name.ends_with(".json") ? name.substr(0, name.size() - 5) : name;
        try {
            if (!EnvId::valid(stem) || !name.ends_with(".json"))
                throw Error(Errc::store,
                            "unexpected file " + entry.path + " in the metadata directory",
                            "remove it if you put it there");
            EnvId id = EnvId::parse(stem);
            entry.record = read_record(entry.path, &id);
        } catch (const Error& e) {
            entry.error = e.what();
            entry.code = e.code() == Errc::not_found ? Errc::not_found : Errc::store;
            if (entry.code == Errc::not_found) continue;  // removed while we listed
        }
        out.push_back(std::move(entry));
    }
    return out;
}

std::vector<EnvMetadata> MetadataStore::list_all_or_throw() const {
    std::vector<EnvMetadata> out;
    std::string bad;
    std::size_t n_bad = 0;
    for (auto& e : list()) {
        if (e.ok()) {
            out.push_back(std::move(*e.record));
        } else {
            ++n_bad;
            bad += "\n  " + e.error;
        }
    }
    if (n_bad > 0)
        throw Error(Errc::store,
                    std::to_string(n_bad) + " environment record(s) cannot be read:" + bad,
                    "run `karapace verify-store`; restore or remove the damaged records");
    return out;
}

std::optional<EnvId> MetadataStore::lookup_name(std::string_view name) const {
    if (!valid_env_name(name)) return std::nullopt;
    char target[128];
    ssize_t n = ::readlink(layout_.name_path(name).c_str(), target, sizeof target);
    if (n <= 0 || static_cast<std::size_t>(n) >= sizeof target) return std::nullopt;
    return EnvId::from_hex(std::string_view(target, static_cast<std::size_t>(n)));
}

std::vector<NameIndexProblem> MetadataStore::name_index_problems(std::uint64_t* entries) const {
    namespace fs = std::filesystem;
    std::vector<NameIndexProblem> out;
    if (entries != nullptr) *entries = 0;
    const std::string dir = layout_.names_dir();
    for (const auto& name : list_dir(dir)) {
        if (is_temp_name(name)) continue;
        if (entries != nullptr) ++*entries;
        const std::string path = dir + "/" + name;
        auto problem = [&](std::string reason) { out.push_back({path, std::move(reason)}); };
        auto st = lstat_path(path);
        if (!st) continue;  // removed meanwhile
        if (!S_ISLNK(st->st_mode)) {
            problem("not a symlink (the index holds symlinks to environment ids)");
            continue;
        }
        if (!valid_env_name(name)) {
            problem("'" + name + "' is not a valid environment name");
            continue;
        }
        std::string target(static_cast<std::size_t>(st->st_size) + 1, '\0');
        ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
        if (n < 0 || static_cast<std::size_t>(n) >= target.size()) {
            problem("cannot read the symlink");
            continue;
        }
        target.resize(static_cast<std::size_t>(n));
        if (!EnvId::valid(target)) {
            fs::path resolved = (fs::path(dir) / target).lexically_normal();
            auto rel = resolved.lexically_relative(layout_.root());
            bool outside = rel.empty() || *rel.begin() == "..";
            problem(std::string(outside ? "points outside the store"
                                        : "its target is not an environment id") +
                    ": " + target);
            continue;
        }
        if (!exists(*EnvId::from_hex(target))) {
            problem("its target environment " + target.substr(0, 12) + " does not exist (no " +
                    layout_.metadata_path(*EnvId::from_hex(target)) + ")");
            out.back().dangling = true;
        }
    }
    return out;
}

int MetadataStore::prune_dangling_names() const {
    int pruned = 0;
    for (const auto& p : name_index_problems()) {
        if (!p.dangling) continue;
        if (::unlink(p.path.c_str()) != 0 && errno != ENOENT)
            throw_errno(Errc::store, "cannot remove the dangling name index entry " + p.path);
        ++pruned;
    }
    if (pruned > 0) fsync_dir(layout_.names_dir());
    return pruned;
}

std::optional<EnvMetadata> MetadataStore::find_by_name(std::string_view name) const {
    // The index entry is only a hint (a crash may leave one behind, pointing at a record that no
    // longer has the name); names are unique, so a record that does carry it is the answer.
    if (auto id = lookup_name(name)) {
        try {
            auto m = get(*id);
            if (m.name && *m.name == name) return m;
        } catch (const Error& e) {
            if (e.code() != Errc::not_found) throw;
        }
    }
    for (auto& m : list_all_or_throw())
        if (m.name && *m.name == name) return m;
    return std::nullopt;
}

// Called for a new or changed name only: it scans every other record (which must all be readable:
// an unreadable record could hold the same name).
void MetadataStore::check_name_free(const EnvId& id, const std::string& name) const {
    std::string own = layout_.metadata_path(id);
    for (const auto& e : list()) {
        if (e.path == own) continue;
        if (!e.ok())
            throw Error(Errc::store,
                        "cannot check that the name '" + name + "' is free: " + e.error,
                        "run `karapace verify-store`; restore or remove the damaged record");
        if (e.record->name && *e.record->name == name)
            throw Error(
                Errc::conflict,
                "the name '" + name + "' is already used by environment " + e.record->short_id(),
                "pick another name, or rename that environment first");
    }
}

// The index entry is added before the record that takes the name and removed after the record
// that gave it up, so a crash in between leaves at most an entry pointing at a record without the
// name, which readers recognise, and never a named record the index misses.
void MetadataStore::link_name(const std::string& name, const EnvId& id) const {
    make_dirs(layout_.names_dir(), 0700);
    if (lookup_name(name) == id) return;
    std::string temp = layout_.names_dir() + "/.tmp-" + std::to_string(::getpid()) + "-" + name;
    ::unlink(temp.c_str());
    if (::symlink(id.str().c_str(), temp.c_str()) != 0)
        throw_errno(Errc::store, "cannot create the name index entry " + temp);
    if (::rename(temp.c_str(), layout_.name_path(name).c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        throw_errno(Errc::store, "cannot record the name '" + name + "' in " + layout_.names_dir(),
                    err);
    }
    fsync_dir(layout_.names_dir());
}

void MetadataStore::unlink_name(const std::string& name, const EnvId& id) const {
    if (lookup_name(name) != id) return;  // another environment holds the name now
    if (::unlink(layout_.name_path(name).c_str()) != 0 && errno != ENOENT)
        throw_errno(Errc::store, "cannot remove the name index entry " + layout_.name_path(name));
    fsync_dir(layout_.names_dir());
}

void MetadataStore::put(EnvMetadata m) const {
    std::optional<std::string> old_name;
    try {
        if (exists(m.env_id)) old_name = get(m.env_id).name;
    } catch (const Error& e) {
        if (e.code() != Errc::store && e.code() != Errc::not_found) throw;
    }
    if (m.name) {
        check_name_syntax(*m.name);
        if (old_name != m.name) check_name_free(m.env_id, *m.name);
        link_name(*m.name, m.env_id);
    }
    if (!m.manifest_dir.empty() && m.manifest_dir.front() != '/')
        throw Error(Errc::failed, "manifest directory '" + m.manifest_dir + "' is not absolute");
    if (m.created.empty()) m.created = now_rfc3339();
    m.updated = now_rfc3339();
    std::string text = seal_record(to_json(m));
    fault_point("metadata-put.before-write");
    write_file_atomic(layout_.metadata_path(m.env_id), text, 0644);
    fault_point("metadata-put.after-write");
    if (old_name && old_name != m.name) unlink_name(*old_name, m.env_id);
}

void MetadataStore::remove(const EnvId& id) const {
    std::optional<std::string> name;
    try {
        name = get(id).name;
    } catch (const Error& e) {
        if (e.code() != Errc::store && e.code() != Errc::not_found) throw;
    }
    if (::unlink(layout_.metadata_path(id).c_str()) != 0 && errno != ENOENT)
        throw_errno(Errc::store, "cannot remove " + layout_.metadata_path(id));
    fsync_dir(layout_.metadata_dir());
    if (name) unlink_name(*name, id);
}

EnvMetadata MetadataStore::rename(const EnvId& id, const std::optional<std::string>& name) const {
    EnvMetadata m = get(id);
    m.name = name;
    fault_point("rename.before-write");
    put(m);
    fault_point("rename.after-write");
    return get(id);
}

EnvMetadata MetadataStore::set_state(const EnvId& id, EnvState state) const {
    EnvMetadata m = get(id);
    m.state = state;
    put(m);
    return get(id);
}

}  // namespace karapace::store
