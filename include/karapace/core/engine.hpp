// The Engine: the one facade over schema, store, images, sandbox and package managers that the CLI
// and the D-Bus service use. It never prints; long operations report through a ProgressSink and
// every result is a plain struct (rendered by core/report_json.hpp for --json and D-Bus).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "karapace/export/service_spec.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::core {

struct EngineOptions {
    std::string store_root;  // empty: util default_store_root()
    // How long to wait for the store lock; nullopt waits forever.
    std::optional<std::chrono::milliseconds> lock_timeout;
    // Called once when a command has to wait for the store lock, with a message naming the
    // holder ("waiting for store lock (held by pid N)").
    std::function<void(const std::string& message)> on_lock_wait;
    // The karapace executable that exported launchers and wrappers run; empty: the one next to
    // this process, else the one in PATH.
    std::string program;
};

struct Session {
    int pid = 0;          // host pid of the sandbox's init
    std::string started;  // RFC 3339
};

struct LayerInfo {
    std::string digest;      // sha256:<hex>
    std::string kind;        // base | packages | snapshot
    std::uint64_t size = 0;  // bytes of the layer tar
    // "unpacked": stored once, the tar packed again when needed; "object": a tar object (also
    // unpacked when an environment uses it), `tar_kept` saying why when it was checked.
    std::string stored;
    std::string tar_kept;
};

struct EnvSummary {
    std::string env_id;
    std::string short_id;
    std::string name;        // empty when unnamed
    std::string state;       // built | running | frozen | archived
    std::string base_image;  // as written in the manifest
    std::string created;     // RFC 3339
    std::string updated;
    std::size_t sessions = 0;
};

struct LockedPackageInfo {
    std::string name, version, arch;
};

// What `[hardware] gpu = true` gives an environment on this host, for inspect.
struct GpuDetails {
    bool requested = false;  // gpu = true in the lock
    bool dri = false;        // /dev/dri is there (every vendor's render nodes)
    std::string nvidia;      // none | cdi | discovery: where the NVIDIA userspace comes from
    std::string driver_version;
    std::string cdi_spec;  // the spec used
    // How the environment's ld.so finds the driver's libraries: ld.so.cache (the environment's
    // own with them added), LD_LIBRARY_PATH (its writable layer has a cache of its own), or
    // none (no libraries; a musl environment).
    std::string linker;
    std::vector<std::string> devices, libraries, programs, files;  // paths inside
    std::vector<std::string> warnings, missing;
};

struct EnvDetails {
    EnvSummary summary;
    std::string manifest_path;  // absolute path of the manifest it was built from
    std::string instance_of;    // the lock's env_id when this is another environment of it
    std::string pinned_image;   // pinned reference from the lock
    std::string image_digest;   // sha256:<hex>
    std::vector<LockedPackageInfo> packages;
    std::vector<LayerInfo> layers;  // bottom first
    std::uint64_t upper_size = 0;   // bytes in the writable layer
    std::vector<Session> sessions;
    // A sandbox lingering after an exec, ready for the next run (sandbox/session.hpp); no session.
    std::vector<Session> lingering;
    std::string limit_mechanism;  // systemd-scope | cgroup | rlimit | none
    // The caller's user-namespace keeper that exec/enter join (sandbox/keeper.hpp), in words.
    std::string namespace_keeper;
    GpuDetails gpu;
    // The manifest's [env] (sorted by name, values as written) and [hooks]: post_build from the
    // lock (part of the identity), on_enter and env from the latest build of the manifest.
    std::vector<std::pair<std::string, std::string>> env;
    std::vector<std::string> post_build;
    std::vector<std::string> on_enter;
};

struct BuildResult;

struct BuildOptions {
    std::string manifest_path;          // karapace.toml
    std::optional<std::string> name;    // --name
    bool locked = false;                // --locked: drive the build from karapace.lock
    bool offline = false;               // --offline: cache only, no network
    bool require_pinned_image = false;  // --require-pinned-image
    // Fetch an unpinned base image again (a URL or a bootstrap suite, which are otherwise used
    // from the cache as long as they are there): what `upgrade` does.
    bool refresh_image = false;
    // rebuild: the environment (id) the new one replaces, instead of the one the lock beside
    // the manifest names.
    std::optional<std::string> replace;
    // rebuild: called once the new environment is built, before the old one is destroyed.
    std::function<void(const BuildResult&)> before_replace;
};

// One application or command exported from an environment to the host.
struct ExportedItem {
    std::string kind;                // app | bin | service
    std::string name;                // desktop-file id, the command as given, or service name
    std::string source;              // its path inside the environment
    std::vector<std::string> files;  // host files: launcher, wrapper or unit first
    exports::ServiceSpec service;    // services only
};

// A systemd user unit running a command of the environment (`export --service`).
struct ServiceExport {
    std::string name;
    exports::ServiceSpec spec;
};

struct ExportOptions {
    std::string env;                // reference: id, unique prefix or name
    std::vector<std::string> apps;  // desktop-file ids or executable names
    std::vector<std::string> bins;  // command names (in the env's PATH) or absolute paths
    std::vector<ServiceExport> services;
    // Also the manifest's [gui] apps, and every item exported before (refreshed in place).
    bool refresh = false;
    std::string data_home;  // launchers and icons; empty: $XDG_DATA_HOME (~/.local/share)
    std::string bin_dir;    // wrappers; empty: ~/.local/bin
    std::string unit_dir;   // services; empty: $XDG_CONFIG_HOME/systemd/user
};

struct ExportReport {
    std::string env_id;
    std::string env;  // name, or short id
    std::vector<ExportedItem> exported;
    std::vector<std::string> warnings;  // missing icons, [gui] apps not found, ...
};

struct UnexportOptions {
    std::string env;
    std::vector<std::string> apps;  // as exported (desktop-file id) or as given to export
    std::vector<std::string> bins;
    std::vector<std::string> services;
    bool all = false;
};

struct BuildResult {
    std::string env_id;
    std::string short_id;
    std::string name;
    bool reused = false;                         // an identical environment was already built
    std::string lock_path;                       // karapace.lock written (or read with --locked)
    std::optional<std::string> replaced_env_id;  // rebuild: the environment it replaced
    // Set when the build made or reused another environment of a lock that had one under
    // another name (`build --name`): the lock's env_id, which `env_id` is an instance of.
    std::optional<std::string> instance_of;
    std::vector<ExportedItem> exported;  // [gui] apps and earlier exports, refreshed
    std::vector<std::string> export_warnings;
    bool session_updated = false;  // reused, with the manifest's new [env] or on_enter recorded
};

// What `upgrade` changed: the base image and every package whose version differs.
struct PackageChange {
    std::string name;
    std::string from;  // empty: newly installed
    std::string to;    // empty: no longer installed
};
struct UpgradeResult {
    BuildResult build;
    std::string old_image, new_image;  // pinned references from the locks
    std::string old_image_digest, new_image_digest;
    std::vector<PackageChange> packages;
    bool changed() const { return build.replaced_env_id.has_value(); }
};

struct ExecOptions {
    std::string env;                    // reference: id, unique prefix or name
    std::vector<std::string> argv;      // empty: the user's login shell (enter)
    std::vector<std::string> env_vars;  // --env K=V
    bool root = false;                  // --root: container root instead of the user
    bool interactive = false;           // enter: TTY, job control, OSC 777 markers
    std::string cwd;                    // empty: the caller's cwd
    // Under systemd (see sandbox::SandboxSpec): socket-activation descriptors 3… passed on, and
    // the notification relay's socket.
    int listen_fds = 0;
    std::string listen_fdnames;
    std::string notify_socket;
    // The caller exits once the run returns (see sandbox::SandboxSpec::caller_exits).
    bool caller_exits = false;
};

struct CapturedOutput {
    int exit_status = 0;
    std::string out, err;
    bool truncated = false;
};

struct DiffReport {
    std::string env_id;
    std::vector<std::string> added, modified, removed;
    bool has_drift() const { return !added.empty() || !modified.empty() || !removed.empty(); }
};

struct SnapshotInfo {
    std::string id;  // what `restore` takes (layer digest hex)
    std::string created;
    std::uint64_t size = 0;
    std::uint64_t files = 0;
};

struct GcKeptItem {
    std::string kind;  // env, layer, object, unpacked-layer, image, staging, temp
    std::string path;  // relative to the store root
    std::uint64_t bytes = 0;
    std::int64_t age_seconds = 0;
};

struct GcSummary {
    bool dry_run = false;
    std::vector<std::string> envs, layers, objects, images, other;  // what went (or would go)
    std::vector<std::string> blobs;  // docker:// layer blobs in images/blobs/ no kept image names
    std::uint64_t bytes = 0;
    std::uint64_t blob_bytes = 0;  // of `blobs`, part of `bytes`
    // Garbage younger than the grace period, kept because an operation may still be writing it.
    std::vector<GcKeptItem> kept;
    std::uint64_t kept_bytes = 0;
    std::int64_t grace_seconds = 0;  // the grace period applied
    // Operations at work that made gc apply the default grace period instead of a shorter one.
    std::vector<std::string> in_flight;
    // Layers of environments kept both as a tar object and unpacked (stored before layers were
    // stored once): those whose tree packs again into their tar are now stored once (their tar
    // objects removed, `stored_once_bytes`); on a dry run, those that gc would check.
    std::vector<std::string> stored_once;
    std::uint64_t stored_once_bytes = 0;
    // Layers whose tar must stay beside their unpacked tree ("<digest>: <why>"), and their tars'
    // bytes: what keeping two copies costs.
    std::vector<std::string> tars_kept;
    std::uint64_t tars_kept_bytes = 0;
};

struct VerifyFailure {
    std::string what;  // object | layer | metadata | image
    std::string id;
    std::string reason;
};

struct VerifySummary {
    std::uint64_t objects_checked = 0, layers_checked = 0, metadata_checked = 0, names_checked = 0,
                  images_checked = 0;
    // Of the layers: stored once (their unpacked tree packed again and compared with the
    // digest) and kept as tar objects.
    std::uint64_t layers_unpacked = 0, layers_with_tar = 0;
    std::vector<VerifyFailure> failures;
    bool ok() const { return failures.empty(); }
};

struct DoctorCheck {
    std::string name;    // machine name: user_namespaces, overlay, subids, ...
    std::string status;  // pass | warn | fail | info
    std::string message;
    std::string fix;  // install command or what to do
    bool required = false;
};

struct PushOptions {
    std::string env;     // reference: id, unique prefix or name
    std::string tag;     // --tag: empty (latest), a tag, repository:tag, or a full reference
    std::string remote;  // --remote; empty: `[remote] url` of the user configuration
};

struct PushResult {
    std::string env_id;
    std::string short_id;
    std::string reference;  // host/repository:tag
    std::string digest;     // sha256:<hex> of the image manifest
    std::size_t layers_pushed = 0;
    std::size_t layers_skipped = 0;  // blobs (layers and config) the registry already had
    std::uint64_t bytes_pushed = 0;
    bool uncommitted_changes = false;  // the writable layer holds changes no snapshot has
};

struct PullOptions {
    std::string reference;  // host/repository:tag, @sha256:…, or relative to the remote
    std::string remote;     // --remote; empty: `[remote] url`
    // --name; default: the name it was pushed under. An environment already here is renamed.
    std::optional<std::string> name;
};

struct PullResult {
    std::string env_id;
    std::string short_id;
    std::string name;
    std::string reference;  // as resolved: host/repository:tag
    std::string digest;     // sha256:<hex> of the image manifest
    std::size_t layers_pulled = 0;
    std::size_t layers_skipped = 0;  // already in this store
    std::uint64_t bytes_pulled = 0;
    bool already_present = false;  // nothing to do: the environment was here already
    std::string snapshot_added;    // set when only a new snapshot was added to a present env
    // --name renamed the environment that was here already; previous_name is empty when it had
    // none.
    bool renamed = false;
    std::string previous_name;
};

class Engine {
public:
    explicit Engine(EngineOptions options = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    const std::string& store_root() const;

    std::vector<EnvSummary> list();
    // One environment's entry of list(), its record read (and verified) afresh, by full id: for
    // a caller that keeps list()'s answer and reloads only what changed (the D-Bus service).
    // nullopt when there is no such record; Error(store) naming the path when it is damaged.
    std::optional<EnvSummary> summary(std::string_view env_id);
    EnvDetails inspect(std::string_view env);

    BuildResult build(const BuildOptions& options, ProgressSink& progress);
    // Builds the new environment first, then destroys the one the manifest's lock named.
    BuildResult rebuild(const BuildOptions& options, ProgressSink& progress);
    // Builds the environment's manifest again with everything resolved anew: the base image
    // fetched again unless pinned (an alias resolves to its newest build), package versions
    // resolved instead of taken from the lock. Shows what changed, then replaces the environment
    // as rebuild does (the old one stays until the new one is built) and writes the new lock.
    UpgradeResult upgrade(std::string_view env, ProgressSink& progress);

    // Runs argv (or a login shell) with inherited stdio; returns the command's exit status
    // (125 when the sandbox failed before the command ran, 126 not executable, 127 not found).
    int run(const ExecOptions& options);
    // Runs argv with captured output (at most `cap` bytes of each stream), for D-Bus Exec.
    CapturedOutput run_captured(const ExecOptions& options, std::size_t cap);
    // Starts argv detached (GUI launchers); returns the session's init pid.
    int launch(const ExecOptions& options);

    // Writes host launchers (with icons) and command wrappers for the environment; exporting
    // again refreshes them. Error(not_found) when an application or command is not there.
    ExportReport export_items(const ExportOptions& options);
    // Removes what export wrote (everything with `all`); returns the items removed.
    std::vector<ExportedItem> unexport_items(const UnexportOptions& options);
    std::vector<ExportedItem> exports(std::string_view env);

    // SIGTERM to every session, SIGKILL after `timeout`; returns how many sessions were stopped.
    std::size_t stop(std::string_view env, std::chrono::milliseconds timeout);
    void destroy(std::string_view env, bool force);
    void freeze(std::string_view env);
    void archive(std::string_view env);
    void rename(std::string_view env, const std::string& new_name);

    DiffReport diff(std::string_view env);
    SnapshotInfo commit(std::string_view env, ProgressSink& progress);
    std::vector<SnapshotInfo> snapshots(std::string_view env);
    void restore(std::string_view env, std::string_view snapshot, ProgressSink& progress);

    // Publishes the environment as an OCI image (base, packages, latest snapshot) to a registry.
    PushResult push(const PushOptions& options, ProgressSink& progress);
    // Fetches an environment image, verifies it, and makes it a built environment here.
    PullResult pull(const PullOptions& options, ProgressSink& progress);

    // (env id, sha256:<hex> of its base image) for every environment, for `karapace images`.
    std::vector<std::pair<std::string, std::string>> image_uses();

    // Removes what no environment uses. `grace`: keep garbage younger than this (default 15
    // minutes); a shorter one applies only while no other operation is at work in the store.
    GcSummary gc(bool dry_run, ProgressSink& progress,
                 std::optional<std::chrono::seconds> grace = std::nullopt);
    // Checks the whole store (see store::verify_store) and marks the cached images it finds
    // damaged, so enter and exec refuse them and build fetches them again.
    VerifySummary verify_store(ProgressSink& progress);
    std::vector<DoctorCheck> doctor();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace karapace::core
