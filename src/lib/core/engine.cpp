#include <sys/stat.h>
#include <unistd.h>

#include <sstream>

#include "core/engine_impl.hpp"
#include "core/gpu_report.hpp"
#include "karapace/image/extract.hpp"
#include "karapace/sandbox/keeper.hpp"
#include "karapace/sandbox/limits.hpp"
#include "karapace/sandbox/session.hpp"
#include "karapace/sandbox/userns.hpp"
#include "karapace/store/gc.hpp"
#include "karapace/store/image_mark.hpp"
#include "karapace/store/prune.hpp"
#include "karapace/store/remove.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/store/verify.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/time.hpp"

namespace karapace::core {

Engine::Impl::Impl(EngineOptions opts) : options(std::move(opts)) {
    root =
        options.store_root.empty() ? default_store_root() : lexically_absolute(options.store_root);
}

bool Engine::Impl::store_exists() const {
    struct stat st {};
    return ::stat(layout().version_file().c_str(), &st) == 0;
}

store::Store& Engine::Impl::store(bool create) {
    if (!store_) {
        store_.emplace(store::Store::open(
            root, create ? store::OpenMode::create : store::OpenMode::existing, remover()));
        recover();
    }
    return *store_;
}

store::StoreLock Engine::Impl::lock_exclusive() {
    store::LockOptions lo;
    if (options.lock_timeout) lo.timeout = *options.lock_timeout;
    lo.on_wait = [this](const std::string& message) {
        if (options.on_lock_wait)
            options.on_lock_wait(message);
        else
            log::info(message);
    };
    return store::StoreLock::acquire(layout(), store::LockMode::exclusive, lo);
}

void Engine::Impl::recover() {
    // Nothing to roll back is the rule: look before taking the lock, which writes its holder into
    // store/lock. An entry created after this look belongs to a process that is still running.
    if (store_->wal().empty()) return;
    auto lock = store::StoreLock::try_acquire(layout(), store::LockMode::exclusive);
    if (!lock) return;  // someone else is working; they or the next command will recover
    auto report = store_->wal().recover(*lock);
    if (report.rolled_back > 0)
        log::warn("rolled back ", report.rolled_back,
                  " interrupted operation(s) left by a process that died");
    for (const auto& c : report.corrupt)
        log::warn("unreadable write-ahead log entry: ", c);
    for (const auto& f : report.failures)
        log::warn("rollback step failed: ", f);
}

std::vector<store::EnvMetadata> Engine::Impl::all_metadata() {
    if (!store_exists()) return {};
    std::vector<store::EnvMetadata> out;
    for (auto& entry : store(false).metadata().list()) {
        if (entry.ok())
            out.push_back(std::move(*entry.record));
        else
            log::warn("skipping unreadable environment record ", entry.path, ": ", entry.error,
                      " (karapace verify-store reports it)");
    }
    return out;
}

std::string Engine::Impl::label(const store::EnvMetadata& m) {
    return m.name ? *m.name : m.short_id();
}

State Engine::Impl::stored_state(store::EnvState s) {
    switch (s) {
    case store::EnvState::frozen: return State::frozen;
    case store::EnvState::archived: return State::archived;
    default: return State::built;
    }
}

bool Engine::Impl::has_live_sessions(const store::EnvMetadata& m) {
    return !sandbox::list_sessions(layout().sessions_dir(m.env_id)).empty();
}

State Engine::Impl::state_of(const store::EnvMetadata& m) {
    return derive_state(stored_state(m.state), has_live_sessions(m));
}

State Engine::Impl::state_for_change(const store::EnvMetadata& m) {
    sandbox::retire_idle_sessions(layout().sessions_dir(m.env_id));
    return state_of(m);
}

std::optional<store::EnvMetadata> Engine::Impl::find_exact(std::string_view ref) {
    if (!store_exists()) return std::nullopt;
    const auto& md = store(false).metadata();
    if (auto id = store::EnvId::from_hex(ref); id && md.exists(*id)) {
        try {
            return md.get(*id);  // a damaged record is reported, not skipped
        } catch (const Error& e) {
            if (e.code() != Errc::not_found) throw;  // else destroyed meanwhile
        }
    }
    if (auto id = md.lookup_name(ref)) {
        try {
            auto m = md.get(*id);
            if (m.name && *m.name == ref) return m;
        } catch (const Error&) {
            // A stale entry pointing at a record that is gone or damaged: the full read decides.
        }
    }
    return std::nullopt;
}

store::EnvMetadata Engine::Impl::find(std::string_view ref) {
    // A full id or a name (the common cases) is one record read; resolve_env_ref's order holds
    // because an exact id is tried first and names are unique.
    if (auto m = find_exact(ref)) return std::move(*m);
    auto all = all_metadata();
    std::vector<EnvCandidate> candidates;
    candidates.reserve(all.size());
    for (const auto& m : all)
        candidates.push_back({m.env_id.str(), m.short_id(), m.name.value_or(""), ""});
    const EnvCandidate* hit = nullptr;
    try {
        hit = &resolve_env_ref(ref, candidates);
    } catch (const Error&) {
        // States only appear in the error messages: list every environment's sessions for those
        // alone, then resolve again to throw the same error naming them.
        for (std::size_t i = 0; i < all.size(); ++i)
            candidates[i].state = std::string(to_string(state_of(all[i])));
        resolve_env_ref(ref, candidates);
        throw;
    }
    for (auto& m : all)
        if (m.env_id.str() == hit->env_id) return std::move(m);
    throw Error(Errc::not_found, "environment '" + std::string(ref) + "' vanished while looking");
}

EnvSummary Engine::Impl::summarize(const store::EnvMetadata& m) {
    EnvSummary s;
    s.env_id = m.env_id.str();
    s.short_id = m.short_id();
    s.name = m.name.value_or("");
    auto sessions = sandbox::list_sessions(layout().sessions_dir(m.env_id));
    s.sessions = sessions.size();
    s.state = std::string(to_string(derive_state(stored_state(m.state), !sessions.empty())));
    s.base_image = m.base_image_ref;
    s.created = m.created;
    s.updated = m.updated;
    return s;
}

store::RunSettings Engine::Impl::run_settings(const schema::LockFile& lock) {
    store::RunSettings r;
    r.network_isolation = lock.network_isolation;
    r.gpu = lock.gpu;
    r.audio = lock.audio;
    r.mounts = lock.mounts;
    r.cpu_shares = lock.cpu_shares;
    r.memory_limit_mb = lock.memory_limit_mb;
    r.backend = lock.backend;
    r.image = lock.image_config;
    return r;
}

store::RunSettings Engine::Impl::run_settings_of(const store::EnvMetadata& m) {
    if (m.run) return *m.run;
    return run_settings(lock_of(m));
}

schema::LockFile Engine::Impl::lock_of(const store::EnvMetadata& m) {
    if (!m.lock_digest)
        throw Error(Errc::store, "environment " + label(m) + " has no lock file recorded",
                    "rebuild it: karapace rebuild " + m.manifest_dir + "/karapace.toml");
    return schema::parse_lock(store().objects().get(*m.lock_digest),
                              "lock of environment " + label(m));
}

void Engine::Impl::as_container_root(const std::function<void()>& fn) {
    sandbox::run_as_container_root(fn, "a helper in the user namespace");
}

store::Remover Engine::Impl::remover() {
    return [this](const std::string& path) { remove_tree(path); };
}

void Engine::Impl::remove_tree(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    try {
        store::remove_tree(path);
    } catch (const Error& e) {
        if (::geteuid() == 0 || e.code() != Errc::permission) throw;
        // Files owned by sub-uids: only the user namespace can remove them.
        as_container_root([&] { store::remove_tree(path); });
    }
}

Engine::Impl::StagingDir::~StagingDir() {
    try {
        impl_.remove_tree(path_);
    } catch (const std::exception& e) {
        log::warn("cannot remove ", path_, ": ", e.what(), " (karapace gc will)");
    }
}

std::string Engine::Impl::make_staging(const std::string& prefix) {
    make_dirs(layout().staging_dir());
    std::string tmpl = layout().staging_dir() + "/" + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr)
        throw_errno(Errc::store, "cannot create a staging directory in " + layout().staging_dir());
    return buf.data();
}

store::Layer Engine::Impl::pack_as_container_root(const std::string& dir,
                                                  const std::string& scratch,
                                                  std::int64_t mtime_clamp) {
    auto& s = store();
    // The packing may run in a forked child: its result comes back through a file.
    auto result_file = scratch + "/packed";
    as_container_root([&] {
        store::PackOptions po;
        po.mtime_clamp = mtime_clamp;
        auto packed = store::pack_layer(dir, s.objects(), po);
        write_file_atomic(result_file, packed.digest.hex() + " " + std::to_string(packed.size) +
                                           " " + std::to_string(packed.files));
    });
    std::istringstream in(read_file(result_file));
    std::string hex;
    store::Layer layer;
    in >> hex >> layer.size >> layer.file_count;
    layer.digest = Digest::from_hex(hex);
    layer.created = now_rfc3339();
    return layer;
}

void Engine::Impl::prune_layer(const std::string& upper,
                               const std::vector<std::string_view>& patterns) {
    as_container_root([&] {
        for (const auto& path : store::prune_tree(upper, patterns))
            log::debug("left out of the packages layer: /", path);
    });
}

std::string Engine::Impl::unpacked_layer(const Digest& layer) {
    auto dir = layout().unpacked_layer_dir(layer);
    struct stat st {};
    if (::stat(dir.c_str(), &st) == 0) return dir;
    auto& s = store();
    if (!s.objects().exists(layer) && s.layers().exists(layer) &&
        s.layers().get(layer).stored == store::LayerStorage::unpacked)
        throw Error(Errc::store,
                    "layer " + layer.str() + " is stored once, unpacked, and " + dir +
                        " is missing: the store holds no copy of it",
                    "build the environment again from its karapace.lock (`karapace build` in its "
                    "manifest's directory makes the same layer), or pull it again");
    // Opened (and checked against its digest) before anything is made: where the program cannot
    // load the libraries this needs, the command goes to one that can from here
    // (karapace/util/libraries.hpp), and leaves no work directory behind.
    auto fd = s.objects().open(layer);
    auto staging = make_staging("unpack");
    try {
        // Made here, as the host user: a directory the namespace's root made could not be moved
        // out of staging by the user (moving a directory needs write access to it).
        make_dirs(staging + "/tree", 0755);
        as_container_root([&] {
            store::UnpackOptions uo;
            store::unpack_tar_fd(fd.get(), staging + "/tree", uo);
        });
        make_dirs(layout().unpacked_layers_dir());
        if (::rename((staging + "/tree").c_str(), dir.c_str()) != 0 && errno != EEXIST &&
            errno != ENOTEMPTY)
            throw_errno(Errc::store, "cannot move the unpacked layer into " + dir);
    } catch (...) {
        remove_tree(staging);
        throw;
    }
    remove_tree(staging);
    return dir;
}

std::vector<std::string> Engine::Impl::lower_dirs(const store::EnvMetadata& m) {
    std::vector<std::string> lowers;
    for (auto it = m.layers.rbegin(); it != m.layers.rend(); ++it)
        lowers.push_back(unpacked_layer(*it));
    if (!m.base_image_digest)
        throw Error(Errc::store, "environment " + label(m) + " records no base image",
                    "rebuild it: karapace rebuild");
    auto rootfs = layout().image_dir(*m.base_image_digest) + "/rootfs";
    struct stat st {};
    if (::stat(rootfs.c_str(), &st) != 0)
        throw Error(Errc::not_found,
                    "the base image of environment " + label(m) + " (" + m.base_image_ref +
                        ") is no longer in the image cache",
                    "rebuild it to fetch the image again: karapace rebuild " + m.manifest_dir +
                        "/karapace.toml");
    if (auto why = store::image_damage(layout(), *m.base_image_digest))
        throw Error(Errc::store,
                    "the base image of environment " + label(m) + " (" + m.base_image_ref +
                        ") is damaged: " + *why,
                    "fetch it again by building the environment: karapace build " + m.manifest_dir +
                        "/karapace.toml (or karapace rebuild)");
    lowers.push_back(rootfs);
    return lowers;
}

// ---- Engine: queries and simple state changes ------------------------------------------------

Engine::Engine(EngineOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
Engine::~Engine() = default;

const std::string& Engine::store_root() const { return impl_->root; }

std::vector<EnvSummary> Engine::list() {
    std::vector<EnvSummary> out;
    for (const auto& m : impl_->all_metadata())
        out.push_back(impl_->summarize(m));
    return out;
}

std::optional<EnvSummary> Engine::summary(std::string_view env_id) {
    auto id = store::EnvId::from_hex(env_id);
    // Once open, the store was there: one look per Engine, not one per environment.
    if (!id || (!impl_->store_ && !impl_->store_exists())) return std::nullopt;
    try {
        return impl_->summarize(impl_->store(false).metadata().get(*id));
    } catch (const Error& e) {
        if (e.code() == Errc::not_found) return std::nullopt;
        throw;
    }
}

EnvDetails Engine::inspect(std::string_view env) {
    auto m = impl_->find(env);
    EnvDetails d;
    d.summary = impl_->summarize(m);
    d.manifest_path = m.manifest_dir + "/karapace.toml";
    if (m.instance_of) d.instance_of = m.instance_of->str();
    auto& s = impl_->store();
    try {
        auto lock = impl_->lock_of(m);
        d.pinned_image = lock.pinned_image;
        d.image_digest = lock.image_digest.str();
        for (const auto& p : lock.packages)
            d.packages.push_back({p.name, p.version, p.arch});
        d.post_build = lock.post_build;
        // What would enforce the limits for this caller now (a run reports what did).
        if (lock.cpu_shares || lock.memory_limit_mb)
            d.limit_mechanism = sandbox::limit_mechanism_name(sandbox::probe_limit_mechanism());
        else
            d.limit_mechanism = "none";
        d.namespace_keeper = sandbox::describe_keeper(sandbox::IdMapping::keep_id);
        // As a run would see the layers (a frozen environment's writable layer is a lower one).
        auto upper = impl_->layout().env_dir(m.env_id) + "/upper";
        auto lowers = impl_->lower_dirs(m);
        bool frozen = m.state == store::EnvState::frozen;
        if (frozen) lowers.insert(lowers.begin(), upper);
        d.gpu = gpu_details(lock.gpu, frozen ? std::string() : upper, lowers);
    } catch (const Error& e) {
        log::warn(e.what());
    }
    for (const auto& l : m.layers) {
        auto layer = s.layers().get(l);
        d.layers.push_back({l.str(), std::string(store::layer_kind_name(layer.kind)), layer.size,
                            layer.stored == store::LayerStorage::unpacked ? "unpacked" : "object",
                            layer.tar_kept});
    }
    for (const auto& var : m.session.env)
        d.env.emplace_back(var.name, var.value);
    d.on_enter = m.session.on_enter;
    d.upper_size = store::tree_size(impl_->layout().env_dir(m.env_id) + "/upper");
    auto session_of = [](const sandbox::Session& session) {
        Session out;
        out.pid = session.pid;
        if (auto at = process_started_at(session.start_time)) out.started = format_rfc3339(*at);
        return out;
    };
    auto records = sandbox::read_session_records(impl_->layout().sessions_dir(m.env_id));
    for (const auto& session : records.running)
        d.sessions.push_back(session_of(session));
    for (const auto& session : records.idle)
        d.lingering.push_back(session_of(session));
    return d;
}

void Engine::freeze(std::string_view env) {
    auto lock = impl_->lock_exclusive();
    auto m = impl_->find(env);
    check_operation(Impl::label(m), impl_->state_for_change(m), Operation::freeze);
    impl_->store().metadata().set_state(m.env_id, store::EnvState::frozen);
}

void Engine::archive(std::string_view env) {
    auto lock = impl_->lock_exclusive();
    auto m = impl_->find(env);
    check_operation(Impl::label(m), impl_->state_for_change(m), Operation::archive);
    impl_->store().metadata().set_state(m.env_id, store::EnvState::archived);
}

void Engine::rename(std::string_view env, const std::string& new_name) {
    store::validate_env_name(new_name);
    impl_->rename(env, new_name);
}

void Engine::Impl::rename(std::string_view env, const std::string& new_name) {
    auto m = find(env);
    {
        auto lock = lock_exclusive();
        m = find(env);
        check_operation(label(m), state_of(m), Operation::rename);
        m = store().metadata().rename(m.env_id, new_name);
    }
    refresh_exports(m);  // launchers carry the name
}

std::size_t Engine::stop(std::string_view env, std::chrono::milliseconds timeout) {
    auto m = impl_->find(env);
    auto state = impl_->state_for_change(m);
    if (state != State::running)
        throw Error(Errc::conflict, "environment " + Impl::label(m) + " is not running (" +
                                        std::string(to_string(state)) + ")");
    auto stopped = sandbox::stop_sessions(impl_->layout().sessions_dir(m.env_id), timeout);
    // The caller's kept user namespace goes too: sessions in it (of other environments) hold
    // it for themselves, and the next run starts a new keeper.
    sandbox::stop_keepers();
    return stopped;
}

void Engine::destroy(std::string_view env, bool force) {
    auto m = impl_->find(env);
    auto exported = impl_->exports_to_remove(m);
    // A service of the environment that systemd runs (or is about to restart) would be started
    // again from a unit that names an environment that is gone.
    auto running = impl_->running_services(exported);
    if (!running.empty() && !force) {
        std::string units;
        for (const auto& u : running)
            units += (units.empty() ? "" : " ") + u;
        throw Error(Errc::conflict,
                    "environment " + Impl::label(m) + " runs as systemd service " + units,
                    "stop it first (systemctl --user stop " + units +
                        "), or destroy with --force, which stops it");
    }
    check_operation(Impl::label(m), impl_->state_for_change(m), Operation::destroy, force);
    if (!running.empty()) impl_->stop_services(exported);
    if (impl_->has_live_sessions(m))
        sandbox::stop_sessions(impl_->layout().sessions_dir(m.env_id), std::chrono::seconds(5));
    auto lock = impl_->lock_exclusive();
    auto& s = impl_->store();
    // The record goes first: after a crash, the env dir without metadata is garbage that gc
    // collects, never an environment that points at half-removed files.
    auto op = s.wal().begin("destroy", m.env_id.str());
    s.metadata().remove(m.env_id);
    impl_->remove_tree(impl_->layout().env_dir(m.env_id));
    op.commit();
    impl_->remove_exports(m.env_id.str(), exported);  // host files, once the environment is gone
}

std::vector<std::pair<std::string, std::string>> Engine::image_uses() {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& m : impl_->all_metadata())
        if (m.base_image_digest) out.emplace_back(m.env_id.str(), m.base_image_digest->str());
    return out;
}

GcSummary Engine::gc(bool dry_run, ProgressSink& progress,
                     std::optional<std::chrono::seconds> grace) {
    GcSummary out;
    out.dry_run = dry_run;
    if (!impl_->store_exists()) return out;
    impl_->store();
    // Before gc's own lock: packing trees again takes a while, and takes the lock per layer.
    impl_->store_layers_once(out, dry_run, progress);
    auto lock = impl_->lock_exclusive();
    std::atomic<bool> cancel{false};
    store::GcOptions go;
    go.dry_run = dry_run;
    go.remover = impl_->remover();
    go.cancel = &cancel;
    if (grace) go.grace = *grace;
    progress.step(dry_run ? "finding garbage" : "collecting garbage", 0, ProgressUnit::items);
    if (progress.cancelled()) cancel = true;
    auto report = store::collect_garbage(impl_->layout(), lock, go);
    progress.finish(!report.cancelled);
    for (const auto& item : report.items) {
        if (item.kind == "env")
            out.envs.push_back(item.path);
        else if (item.kind == "layer")
            out.layers.push_back(item.path);
        else if (item.kind == "object")
            out.objects.push_back(item.path);
        else if (item.kind == "image")
            out.images.push_back(item.path);
        else if (item.kind == "blob") {
            out.blobs.push_back(item.path);
            out.blob_bytes += item.bytes;
        } else
            out.other.push_back(item.path);
    }
    out.bytes = report.bytes;
    for (const auto& item : report.kept)
        out.kept.push_back({item.kind, item.path, item.bytes, item.age});
    out.kept_bytes = report.kept_bytes;
    out.grace_seconds = report.grace.count();
    out.in_flight = report.in_flight;
    if (report.cancelled) throw Error(Errc::cancelled, "gc was interrupted; nothing half-removed");
    return out;
}

VerifySummary Engine::verify_store(ProgressSink& progress) {
    VerifySummary out;
    if (!impl_->store_exists()) return out;
    impl_->store();
    store::VerifyOptions vo;
    vo.progress = &progress;
    vo.digest_rootfs = image::digest_rootfs;
    vo.regenerate_layer = impl_->tar_regenerator();
    auto report = store::verify_store(impl_->layout(), vo);
    // A damaged image is marked, so enter, exec and build stop using it until it is fetched again.
    for (const auto& [digest, reason] : report.damaged_images) {
        try {
            store::mark_image_damaged(impl_->layout(), digest, reason);
        } catch (const Error& e) {
            log::warn("cannot mark the image ", digest.str(), " damaged: ", e.what());
        }
    }
    out.objects_checked = report.objects_checked;
    out.layers_checked = report.layers_checked;
    out.layers_unpacked = report.layers_unpacked;
    out.layers_with_tar = report.layers_with_tar;
    out.metadata_checked = report.metadata_checked;
    out.names_checked = report.names_checked;
    out.images_checked = report.images_checked;
    for (const auto& f : report.failures)
        out.failures.push_back({f.kind, f.path, f.reason});
    return out;
}

}  // namespace karapace::core
