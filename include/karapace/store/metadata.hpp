// Environment metadata records under `metadata/<env_id>.json`, with embedded checksums verified on
// every read. A record that cannot be read is an error naming its path: never skipped.
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "karapace/schema/env_vars.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/schema/service.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/error.hpp"

namespace karapace::store {

// Persisted lifecycle states; "running" is derived from live sessions, not stored.
enum class EnvState { defined, built, frozen, archived };
std::string_view env_state_name(EnvState s) noexcept;
EnvState parse_env_state(std::string_view name);  // Error(store) when unknown

// What enter/exec take from the environment's lock, copied into the record when the environment is
// built, so a run reads this one small verified record and never parses the lock (TOML). These are
// identity fields of the lock: they cannot change while the env_id stays the same. A record
// without them (written by an older build) makes the engine read the lock instead.
struct RunSettings {
    bool network_isolation = false;
    bool gpu = false;
    bool audio = false;
    std::vector<schema::MountSpec> mounts;  // as written, sorted by label
    std::optional<std::uint64_t> cpu_shares;
    std::optional<std::uint64_t> memory_limit_mb;
    std::string backend = "namespace";  // [runtime] backend

    friend bool operator==(const RunSettings&, const RunSettings&) = default;
};

// What a session takes from the manifest besides the lock: `[env]` and `[hooks] on_enter`. Not
// identity fields: a build from a manifest that changed only these updates them in the record
// of the same environment, and the next session uses them.
struct SessionSettings {
    std::vector<schema::EnvVar> env;            // sorted by name, values as written
    std::vector<std::string> on_enter;          // in order
    bool no_new_privileges = false;             // [runtime] no_new_privileges: no sudo, no setuid
    std::vector<schema::ServiceDecl> services;  // [services]: exported as systemd user units

    bool empty() const noexcept {
        return env.empty() && on_enter.empty() && !no_new_privileges && services.empty();
    }
    friend bool operator==(const SessionSettings&, const SessionSettings&) = default;
};

struct EnvMetadata {
    EnvId env_id;
    std::optional<std::string> name;
    EnvState state = EnvState::defined;
    std::optional<Digest> manifest_object;    // normalised manifest, an object
    std::optional<Digest> lock_digest;        // digest of karapace.lock (kept if stored as object)
    std::vector<Digest> layers;               // bottom to top
    std::vector<Digest> snapshots;            // snapshot layers committed from this env
    std::string base_image_ref;               // as written in the lock (pinned)
    std::optional<Digest> base_image_digest;  // the cached image it uses (`images/<hex>`)
    std::string manifest_dir;                 // absolute; relative mounts resolve against it
    std::string created;                      // RFC 3339
    std::string updated;
    std::optional<RunSettings> run;  // see RunSettings
    // Set on a second (third, ...) environment built from the same lock under another name: the
    // lock's env_id. Such an instance shares the read-only layers and has its own writable
    // layer, sessions and manifest directory; its own id is instance_id(lock id, name).
    std::optional<EnvId> instance_of;
    SessionSettings session;  // see SessionSettings

    std::string short_id() const { return env_id.short_id(); }
};

// The id of the instance of `lock_id` first built under `name`: derived, so that building the
// same lock under the same name again finds it.
EnvId instance_id(const EnvId& lock_id, std::string_view name);
// The lock's env_id an environment was built from: its own id, or the one it is an instance of.
inline const EnvId& lock_env_id(const EnvMetadata& m) {
    return m.instance_of ? *m.instance_of : m.env_id;
}

// A new record in state `defined` with both timestamps set to now.
EnvMetadata make_metadata(const EnvId& id);
boost::json::object to_json(const EnvMetadata& m);

// Names: 1-64 characters of [A-Za-z0-9_-] (records on disk are read with this rule).
bool valid_env_name(std::string_view name) noexcept;
// The rule for a name given to an environment (build --name, rename, pull): valid, and not one
// that an environment reference would read as an id prefix (EnvId::reads_as_prefix: "cafe",
// "0042"). Throws Error(usage) saying what is wrong.
void validate_env_name(std::string_view name);

// One record as found on disk: either parsed or the error that made it unreadable.
struct MetadataEntry {
    std::string path;
    std::optional<EnvMetadata> record;
    std::string error;  // empty when record is set
    Errc code = Errc::store;
    bool ok() const noexcept { return record.has_value(); }
};

// An entry of the name index that breaks its format: not a symlink, not named by a valid name,
// a target that is not the bare id of an environment record in this store, or no such record.
struct NameIndexProblem {
    std::string path;
    std::string reason;
    bool dangling = false;  // well-formed, but its environment's record is gone
};

class MetadataStore {
public:
    explicit MetadataStore(Layout layout) : layout_(std::move(layout)) {}

    // Writes the record atomically with a fresh checksum and `updated` timestamp. Checks that the
    // name is valid and unique (which needs every other record readable). Call under the
    // exclusive store lock.
    void put(EnvMetadata m) const;
    // Verified read: Error(not_found) when missing, Error(store) naming the path when corrupt.
    EnvMetadata get(const EnvId& id) const;
    bool exists(const EnvId& id) const;
    void remove(const EnvId& id) const;
    // Every record, sorted by env id, corrupt ones included as entries with an error.
    std::vector<MetadataEntry> list() const;
    // Error(store) listing unreadable records, if any; otherwise the parsed records.
    std::vector<EnvMetadata> list_all_or_throw() const;
    // The environment with this name: through the name index (`names/<name>`, checked against
    // the record it points at), else by reading every record.
    std::optional<EnvMetadata> find_by_name(std::string_view name) const;
    // The id the name index gives for `name`, unchecked: a hint that the caller confirms by
    // reading that record. nullopt when the index has no entry (which does not prove that no
    // environment has the name: stores written before the index existed lack entries).
    std::optional<EnvId> lookup_name(std::string_view name) const;
    // The broken entries of the name index (temp files aside), sorted by name, and how many
    // entries it has. A stale entry, whose record exists but no longer carries the name, is what
    // a crash between the two writes leaves: readers recognise it, so it is not a problem.
    std::vector<NameIndexProblem> name_index_problems(std::uint64_t* entries = nullptr) const;
    // Removes the dangling entries: what a crash between an entry and its record leaves (a new
    // environment's record never written, a destroyed one's entry not yet removed). Call under
    // the exclusive store lock, so that no such pair is being written; returns how many went.
    int prune_dangling_names() const;

    // Sets or clears the name (uniqueness checked). Call under the exclusive store lock.
    EnvMetadata rename(const EnvId& id, const std::optional<std::string>& name) const;
    EnvMetadata set_state(const EnvId& id, EnvState state) const;

private:
    void check_name_free(const EnvId& id, const std::string& name) const;
    void link_name(const std::string& name, const EnvId& id) const;
    void unlink_name(const std::string& name, const EnvId& id) const;
    Layout layout_;
};

}  // namespace karapace::store
