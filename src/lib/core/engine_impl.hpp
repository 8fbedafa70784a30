// Private state and helpers shared by the Engine's source files (one per group of operations).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "karapace/core/engine.hpp"
#include "karapace/core/env_ref.hpp"
#include "karapace/core/lifecycle.hpp"
#include "karapace/sandbox/spec.hpp"
#include "karapace/schema/lock.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/store/lock.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/store/store.hpp"
#include "karapace/store/verify.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::core {

// A digest as messages show it: its first 12 hex characters.
inline std::string short_digest(const Digest& d) { return d.hex().substr(0, 12); }

// One thing to export and where to (see exports.cpp).
struct ExportRequest {
    std::string kind;        // app | bin | service
    std::string name;        // as given, or as recorded
    std::string target_dir;  // data home (apps), bin dir (bins) or unit dir (services)
    bool required = true;    // false: a failure is a warning ([gui] apps, refreshed items)
    exports::ServiceSpec service = {};
};

struct Engine::Impl {
    EngineOptions options;
    std::string root;
    std::optional<store::Store> store_;  // opened on first use

    explicit Impl(EngineOptions opts);

    // The store, created when `create` is set; Error(not_found) from open when it does not
    // exist and `create` is false.
    store::Store& store(bool create = true);
    bool store_exists() const;
    store::Layout layout() const { return store::Layout(root); }

    store::StoreLock lock_exclusive();
    // Rolls back the WAL entries of dead processes when the lock is free (never waits).
    void recover();

    // Every readable record; unreadable ones are reported as Error(store).
    std::vector<store::EnvMetadata> all_metadata();
    // Resolves a reference (id, prefix, name) to its record.
    store::EnvMetadata find(std::string_view ref);
    // The record a full id or a name designates, read alone; nullopt when `ref` is neither (an
    // id prefix, a typo), which find() then resolves by reading every record.
    std::optional<store::EnvMetadata> find_exact(std::string_view ref);
    // What users call the environment: its name, or its short id.
    static std::string label(const store::EnvMetadata& m);
    bool has_live_sessions(const store::EnvMetadata& m);
    // The state for an operation that changes the environment's layers or records: a sandbox
    // lingering after an exec (sandbox/session.hpp) holds the writable layer mounted, so it is
    // ended first; it is no session, and does not make the environment running.
    State state_for_change(const store::EnvMetadata& m);
    State state_of(const store::EnvMetadata& m);
    static State stored_state(store::EnvState s);
    EnvSummary summarize(const store::EnvMetadata& m);

    // The lock file the environment was built from, kept as an object in the store.
    schema::LockFile lock_of(const store::EnvMetadata& m);
    // What a run needs from the lock; run_settings_of takes the copy in the record when there is
    // one (see store::RunSettings) and parses the lock otherwise.
    static store::RunSettings run_settings(const schema::LockFile& lock);
    store::RunSettings run_settings_of(const store::EnvMetadata& m);

    // Runs `fn` where it can read and write files owned by container ids: directly as root,
    // otherwise in a user namespace with the container-root mapping.
    void as_container_root(const std::function<void()>& fn);
    // Store remover that works on trees holding sub-uid owned files.
    store::Remover remover();
    void remove_tree(const std::string& path);

    // A new, empty directory under staging/ ("<prefix>-XXXXXX").
    std::string make_staging(const std::string& prefix);
    // make_staging's directory, removed (remove_tree) when the object goes; a failure to remove
    // is a warning, since gc removes what is left under staging/.
    class StagingDir {
    public:
        StagingDir(Impl& impl, const std::string& prefix)
            : impl_(impl), path_(impl.make_staging(prefix)) {}
        ~StagingDir();
        StagingDir(const StagingDir&) = delete;
        StagingDir& operator=(const StagingDir&) = delete;
        const std::string& path() const noexcept { return path_; }

    private:
        Impl& impl_;
        std::string path_;
    };
    // Packs `dir` into a layer object (in the user namespace when unprivileged, since the tree
    // holds files of container ids); `scratch` is a staging directory for the hand-over. Returns
    // the layer with digest, size and file count set.
    // env/<id>/ with an empty writable layer and work dir, unless it exists; `op` removes it
    // again if the operation does not commit.
    void make_env_dir(store::WalOp& op, const store::EnvId& id);
    // A record for another environment of the lock `of` was built from, named `name`, sharing
    // its read-only layers, with an empty writable layer of its own.
    void add_instance(const store::EnvMetadata& of, const store::EnvId& id, const std::string& name,
                      const std::string& manifest_dir);
    // Packs `dir` as a layer inside the user namespace. Every mtime is clamped to `mtime_clamp`
    // (a build's SOURCE_DATE_EPOCH); snapshots pass no_mtime_clamp and keep real mtimes.
    static constexpr std::int64_t no_mtime_clamp = INT64_MAX;
    store::Layer pack_as_container_root(const std::string& dir, const std::string& scratch,
                                        std::int64_t mtime_clamp);
    // Removes the package manager's caches, indexes and install logs (its LayerExclusion
    // table) from a build's writable layer `upper`, inside the user namespace.
    void prune_layer(const std::string& upper, const std::vector<std::string_view>& patterns);

    // The layers-unpacked/<hex> directory of a layer, unpacked from its object if missing.
    std::string unpacked_layer(const Digest& layer);

    // Layers stored once (layer_storage.cpp). A deterministic tar of `dir`, hashed while it is
    // packed and written to `out_fd` when that is not -1, packed as container root (in the user
    // namespace when unprivileged, since the tree holds files of container ids).
    struct PackedTree {
        Digest digest;
        std::uint64_t size = 0;
        std::uint64_t files = 0;
    };
    PackedTree pack_tree_as_container_root(const std::string& dir, std::int64_t mtime_clamp,
                                           int out_fd);
    // verify-store's way to pack an unpacked layer again.
    store::TarRegenerator tar_regenerator();
    // nullopt when packing layers-unpacked/<hex> of `layer` with `mtime_clamp` gives the layer's
    // digest, so the tree can be its only copy; otherwise why not.
    std::optional<std::string> check_stored_once(const Digest& layer, std::int64_t mtime_clamp);
    // Removes the tar objects of those `layers` whose record says they are stored unpacked and
    // whose tree is there. Called under the exclusive lock, after the records are written.
    void drop_tar_copies(const std::vector<Digest>& layers);
    // The first layer of `m` stored once whose tree is missing (no copy of it is left).
    std::optional<Digest> lost_layer(const store::EnvMetadata& m);
    // gc's part: the layers of environments still kept as tar object + unpacked tree become
    // stored once where the tree packs again into the tar (with the lock's SOURCE_DATE_EPOCH, as
    // a build packed it, or without a clamp, as a pulled layer's mtimes are); the others are
    // recorded as keeping their tar, with why. Reported in `out`.
    void store_layers_once(GcSummary& out, bool dry_run, ProgressSink& progress);
    // The tar of a layer stored unpacked, packed again into `staging` and checked against the
    // layer's digest and size (Error(store) naming the layer, `what`, when it differs); the
    // returned descriptor reads it from the start.
    UniqueFd regenerated_tar(const store::Layer& layer, const std::string& staging,
                             const std::string& what);
    // Overlay lower directories for an environment, top first, base rootfs last.
    std::vector<std::string> lower_dirs(const store::EnvMetadata& m);

    // The sandbox run for enter/exec/launch, after the lifecycle check; `backend` receives the
    // environment's [runtime] backend when given.
    sandbox::SandboxSpec exec_spec(const ExecOptions& options, std::string* backend = nullptr);

    // Exports (src/lib/core/exports.cpp). The record of what an environment exported; its
    // launchers re-pointed at `r`'s environment with the manifest's [gui] apps added (after
    // build and rebuild; `carried` are the items of the environment a rebuild replaced); the
    // host files of a destroyed environment, read before and removed after it goes.
    std::string export_record_path(const store::EnvMetadata& m);
    void export_after_build(BuildResult& r, const std::vector<ExportedItem>& carried);
    std::vector<ExportedItem> exported_items(const store::EnvMetadata& m);
    std::vector<ExportedItem> exports_to_remove(const store::EnvMetadata& m);
    void remove_exports(const std::string& env_id, const std::vector<ExportedItem>& items);
    // The exported services among `items` whose units the user's service manager runs, and
    // stopping them (nothing without a service manager).
    std::vector<std::string> running_services(const std::vector<ExportedItem>& items);
    void stop_services(const std::vector<ExportedItem>& items);
    // Exports again what the record lists (after a rename); failures are logged.
    void refresh_exports(const store::EnvMetadata& m);
    ExportReport run_exports(const store::EnvMetadata& m,
                             const std::vector<ExportRequest>& requests);

    // Engine::rename without the rule for new names: a rebuild carries the old name as it is.
    void rename(std::string_view env, const std::string& new_name);

    // The build pipeline; `fresh` re-resolves even when karapace.lock matches the manifest.
    BuildResult build(const BuildOptions& options, ProgressSink& progress, bool fresh);
    // [env] and on_enter hooks are not part of the identity: a build of a manifest that changed
    // only them records them with the environment `id` already built, and the next session uses
    // them. True when they changed.
    bool record_session(const store::EnvId& id, const schema::NormalizedManifest& manifest);
};

}  // namespace karapace::core
