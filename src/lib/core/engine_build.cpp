// build and rebuild: manifest -> image -> packages installed in a staging sandbox -> exact
// versions -> post_build hooks -> lock -> identity -> packages layer -> store records ->
// karapace.lock.
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>

#include "core/build_steps.hpp"
#include "core/engine_impl.hpp"
#include "karapace/export/service_unit.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/image/resolve.hpp"
#include "karapace/schema/config.hpp"
#include "karapace/schema/drift.hpp"
#include "karapace/schema/identity.hpp"
#include "karapace/schema/manifest.hpp"
#include "karapace/schema/mount.hpp"
#include "karapace/schema/normalize.hpp"
#include "karapace/store/image_mark.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/time.hpp"
#include "runtime/backend.hpp"

namespace karapace::core {

namespace fs = std::filesystem;

namespace {

std::string real_path(const std::string& path) {
    char buf[PATH_MAX];
    if (::realpath(path.c_str(), buf) == nullptr) return {};
    return buf;
}

bool exists(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0;
}

// Checks the manifest's mounts the way enter will use them, so a typo fails the build and not
// the first enter: the source must exist and be allowed by the policy.
void check_mount_sources(const schema::NormalizedManifest& m, const std::string& manifest_dir) {
    if (m.mounts.empty()) return;
    auto home = home_dir();
    auto allow = schema::mount_allowlist(schema::load_user_config(), home);
    for (const auto& mount : m.mounts) {
        auto host = schema::resolve_host_path(mount, manifest_dir, home);
        auto canonical = real_path(host);
        if (canonical.empty())
            throw Error(Errc::not_found,
                        "mount '" + mount.label + "': the host path " + host + " (from '" +
                            mount.host + "') does not exist",
                        "create it, or change [mounts] " + mount.label + " in the manifest");
        schema::check_mount_policy(canonical, allow);
    }
}

// Reads karapace.lock next to the manifest. A lock that cannot be used is fatal for --locked and
// a warning otherwise (the build writes a fresh one).
std::optional<schema::LockFile> read_existing_lock(const std::string& path, bool locked) {
    if (!exists(path)) {
        if (locked)
            throw Error(Errc::manifest, "--locked needs " + path + ", which does not exist",
                        "run `karapace build` once without --locked to create it");
        return std::nullopt;
    }
    try {
        auto lock = schema::read_lock(path);
        schema::verify_integrity(lock, path);
        return lock;
    } catch (const Error& e) {
        if (locked) throw;
        log::warn("ignoring ", path, ": ", e.what(), "; it will be rewritten");
        return std::nullopt;
    }
}

// The record a build of the lock `lock_id` goes to. Without a name, the lock's own. With a name:
// the environment of this lock that has it; the lock's own when that has no name or is absent;
// else a new instance of the lock under that name, with its own writable layer (the first
// environment is never renamed behind the user's back). A name held by an environment of another
// lock goes to the lock's own record, whose write then refuses the taken name. An unnamed first
// environment takes the name when it was built from the same directory.
struct BuildTarget {
    store::EnvId id;
    std::optional<store::EnvId> instance_of;
};

BuildTarget build_target(const store::MetadataStore& md, const store::EnvId& lock_id,
                         const std::optional<std::string>& name, const std::string& manifest_dir) {
    if (!name) return {lock_id, std::nullopt};
    auto holder = md.find_by_name(*name);
    if (holder && store::lock_env_id(*holder) == lock_id)
        return {holder->env_id, holder->instance_of};
    if (!holder && md.exists(lock_id)) {
        auto own = md.get(lock_id);
        bool takes_name =
            !own.name && (own.manifest_dir.empty() || own.manifest_dir == manifest_dir);
        if (!takes_name && own.name != name) return {store::instance_id(lock_id, *name), lock_id};
    }
    return {lock_id, std::nullopt};
}

// The environment of the lock `lock_id` that a rebuild from `manifest_dir` replaces: the one
// built from that directory (the lock's own or another instance of it), else the lock's own.
std::optional<store::EnvMetadata> environment_of(const store::MetadataStore& md,
                                                 const store::EnvId& lock_id,
                                                 const std::string& manifest_dir) {
    std::optional<store::EnvMetadata> own;
    if (md.exists(lock_id)) {
        own = md.get(lock_id);
        if (own->manifest_dir == manifest_dir) return own;
    }
    for (auto& m : md.list_all_or_throw())
        if (m.instance_of == lock_id && m.manifest_dir == manifest_dir) return m;
    return own;
}

// Building an environment that exists and is archived is not building it: the user is told.
void refuse_archived(const store::EnvMetadata& m, const std::string& manifest_path) {
    if (m.state != store::EnvState::archived) return;
    std::string label = m.name ? "'" + *m.name + "' (" + m.short_id() + ")" : m.short_id();
    throw Error(Errc::conflict, "environment " + label + ", built from this lock, is archived",
                "make it usable again with `karapace rebuild " + manifest_path +
                    "`, build another one beside it with `karapace build --name NEW`, or "
                    "remove it with `karapace destroy " +
                    (m.name ? *m.name : m.short_id()) + "`");
}

void warn_other_project(const store::EnvMetadata& m, const std::string& manifest_dir) {
    if (m.manifest_dir.empty() || m.manifest_dir == manifest_dir) return;
    log::warn("environment ", m.name ? "'" + *m.name + "'" : m.short_id(),
              " from this lock belongs to ", m.manifest_dir,
              "; its mounts stay there. `karapace build --name NEW` makes an environment of "
              "its own for ",
              manifest_dir);
}

store::SessionSettings session_settings(const schema::NormalizedManifest& m) {
    return store::SessionSettings{m.env, m.on_enter, m.no_new_privileges, m.services};
}

}  // namespace

BuildResult Engine::build(const BuildOptions& options, ProgressSink& progress) {
    auto result = impl_->build(options, progress, false);
    impl_->export_after_build(result, {});
    return result;
}

bool Engine::Impl::record_session(const store::EnvId& id,
                                  const schema::NormalizedManifest& manifest) {
    auto session = session_settings(manifest);
    auto& s = store();
    if (s.metadata().get(id).session == session) return false;
    auto guard = lock_exclusive();
    auto m = s.metadata().get(id);
    m.session = session;
    // The manifest record too: push sends it, and pull takes them from it.
    m.manifest_object = s.objects().put(schema::canonical_json(manifest));
    s.metadata().put(m);
    return true;
}

namespace {

// The parts of a build this manifest has, weighted by how long they usually take: fetching or
// bootstrapping the image, installing packages, running hooks, packing the layer, recording.
std::vector<PhasedProgress::Phase> build_phases(const schema::NormalizedManifest& manifest) {
    const bool packages = !manifest.packages.empty(), hooks = !manifest.post_build.empty();
    std::vector<PhasedProgress::Phase> phases{{"image", packages ? 35.0 : 80.0}};
    if (packages) phases.push_back({"packages", 45});
    if (hooks) phases.push_back({"hooks", 10});
    if (packages || hooks) phases.push_back({"pack", 12});
    phases.push_back({"store", 5});
    return phases;
}

}  // namespace

BuildResult Engine::Impl::build(const BuildOptions& o, ProgressSink& sink, bool fresh) {
    // 1. The manifest, and where it lives (relative mounts resolve against that directory).
    auto manifest_path = real_path(o.manifest_path);
    if (manifest_path.empty())
        throw Error(Errc::manifest, "no manifest at " + o.manifest_path,
                    "write one with `karapace new <name>` or pass the path of your karapace.toml");
    auto manifest = schema::normalize(schema::parse_manifest_file(manifest_path));
    auto manifest_dir = parent_dir(manifest_path);
    PhasedProgress progress(sink, build_phases(manifest));
    // Checked here so an unknown backend fails before anything is built; an "oci" environment
    // is still built (packages installed) with the namespace sandbox.
    runtime::runner_for(manifest.backend);
    if (o.name) store::validate_env_name(*o.name);
    check_mount_sources(manifest, manifest_dir);

    // 2. The lock: it drives the build unless the manifest has moved on from it.
    auto lock_path = manifest_dir + "/karapace.lock";
    std::optional<schema::LockFile> old_lock;
    if (!fresh || o.locked) old_lock = read_existing_lock(lock_path, o.locked);
    bool use_lock = false;
    if (old_lock) {
        auto drift = schema::manifest_lock_drift(manifest, *old_lock);
        if (drift.empty()) {
            use_lock = true;
        } else if (o.locked) {
            std::string list;
            for (const auto& d : drift)
                list += "\n  " + d.message;
            throw Error(Errc::manifest, "the manifest no longer matches " + lock_path + ":" + list,
                        "build without --locked to re-lock, or restore the manifest");
        } else {
            log::info("the manifest changed since ", lock_path, " was written; re-locking");
        }
    }

    auto ref = image::ImageRef::parse(manifest.base_image);
    if (o.require_pinned_image && !ref.is_pinned())
        throw Error(Errc::manifest, "base.image '" + manifest.base_image + "' is not pinned",
                    "pin it with `karapace pin " + manifest_path + "`");

    // The base image (the pinned one when the lock drives the build).
    auto image_ref = use_lock ? image::ImageRef::parse(old_lock->pinned_image) : ref;
    auto fetch_image = [&] {
        auto cached = image::ensure(image_ref, root, progress, o.offline, o.refresh_image);
        if (use_lock && cached.record.digest != old_lock->image_digest)
            throw Error(Errc::image,
                        "the image " + old_lock->pinned_image + " now has digest " +
                            cached.record.digest.str() + ", but karapace.lock says " +
                            old_lock->image_digest.str(),
                        "the image source changed its content; re-lock with `karapace rebuild`");
        return cached;
    };

    // 3. Already built from exactly this lock: nothing to do, unless verify-store found its base
    // image damaged: then the image is fetched again (the same digest, which the lock pins); or
    // a layer stored once lost its tree: then the build runs again and makes the same layer.
    if (use_lock && !fresh) {
        auto lock_id = store::EnvId::parse(old_lock->env_id.str());
        auto& s = store();
        auto target = build_target(s.metadata(), lock_id, o.name, manifest_dir);
        bool built = s.metadata().exists(target.id);
        bool present = built || (target.instance_of && s.metadata().exists(lock_id));
        if (present) {
            if (auto lost = lost_layer(s.metadata().get(built ? target.id : lock_id))) {
                log::warn("layer ", lost->str(),
                          " is stored once and its unpacked tree is missing; building it again "
                          "from ",
                          lock_path);
                present = false;
            }
        }
        if (present) {
            auto m = s.metadata().get(built ? target.id : lock_id);
            if (m.base_image_digest && store::image_damage(layout(), *m.base_image_digest))
                fetch_image();
            // A frozen environment stays so until `rebuild`; an archived one is refused.
            refuse_archived(m, manifest_path);
            BuildResult r;
            r.env_id = target.id.str();
            r.short_id = target.id.short_id();
            r.reused = m.env_id == target.id;
            r.lock_path = lock_path;
            if (target.instance_of) r.instance_of = target.instance_of->str();
            if (!r.reused) {
                // A new instance: the lock's layers, a writable layer and a record of its own.
                add_instance(m, target.id, *o.name, manifest_dir);
                record_session(target.id, manifest);
                r.name = *o.name;
                progress.complete();
                return r;
            }
            if (!o.name) warn_other_project(m, manifest_dir);
            if ((o.name && m.name != o.name) || !m.run) {
                // An unnamed environment takes the name given; records from before run settings
                // existed get them here, once: the lock that drives this build is the
                // environment's (same id, same settings).
                auto lock = lock_exclusive();
                auto fresh_m = s.metadata().get(target.id);
                if (o.name) fresh_m.name = *o.name;
                if (!fresh_m.run) fresh_m.run = run_settings(*old_lock);
                s.metadata().put(fresh_m);
            }
            r.session_updated = record_session(target.id, manifest);
            r.name = o.name ? *o.name : m.name.value_or("");
            progress.complete();
            return r;
        }
    }
    if (o.offline && !manifest.packages.empty() && !use_lock)
        throw Error(Errc::failed,
                    "--offline: the packages in [system] packages need the network to be resolved",
                    "build once online, then rebuild offline from karapace.lock");

    // 4. The base image.
    auto& s = store();
    progress.begin("image");
    auto cached = fetch_image();
    auto pinned = use_lock
                      ? old_lock->pinned_image
                      : (image_ref.is_pinned() ? image_ref.str() : cached.record.pinned_reference);

    // SOURCE_DATE_EPOCH: the lock's; a new lock takes the build's start, so everything the build
    // writes is at least as new and is clamped to it. A lock from before it existed clamps to 0.
    std::optional<std::int64_t> source_date_epoch;
    if (use_lock)
        source_date_epoch = old_lock->source_date_epoch;
    else
        source_date_epoch = static_cast<std::int64_t>(::time(nullptr));
    const std::int64_t epoch = source_date_epoch.value_or(0);

    // 5. Packages, installed in a staging sandbox outside the store lock.
    StagingDir staging(*this, "build");
    Staging st;
    st.dir = staging.path();
    st.upper = st.dir + "/upper";
    st.work = st.dir + "/work";
    make_dirs(st.upper, 0755);
    make_dirs(st.work, 0700);

    std::vector<schema::LockedPackage> packages;
    progress.begin("packages");
    if (!manifest.packages.empty())
        packages = install_packages(cached.rootfs, st, manifest, use_lock ? &*old_lock : nullptr,
                                    epoch, progress);
    progress.begin("hooks");
    run_post_build_hooks(cached.rootfs, st, manifest.post_build, epoch, progress);
    progress.begin("pack");
    if (!packages.empty() || !manifest.post_build.empty())
        prune_layer(st.upper, clean_layer(cached.rootfs, st, epoch, progress));

    // 6. The lock and the identity.
    auto lock = schema::lock_from_manifest(manifest);
    lock.pinned_image = pinned;
    lock.image_digest = cached.record.digest;
    lock.image_config = cached.record.config;
    lock.packages = packages;
    lock.source_date_epoch = source_date_epoch;
    schema::assign_identity(lock);
    if (use_lock && lock.env_id != old_lock->env_id)
        throw Error(Errc::conflict,
                    "the rebuilt environment has id " + lock.env_id.str() + ", but " + lock_path +
                        " says " + old_lock->env_id.str(),
                    "re-lock with `karapace build` without --locked");
    auto lock_id = store::EnvId::parse(lock.env_id.str());
    auto target = build_target(s.metadata(), lock_id, o.name, manifest_dir);
    auto id = target.id;
    if (!fresh && s.metadata().exists(id)) refuse_archived(s.metadata().get(id), manifest_path);
    auto lock_text = schema::render_lock(lock);

    // 7. The packages layer, outside the store lock. It is stored once: the tree becomes the
    // unpacked copy the overlay uses as a lower layer, and its tar is only hashed here (the
    // digest names the layer); push and verify-store pack the tree again with the same clamp.
    std::optional<store::Layer> layer;
    if (!packages.empty() || !manifest.post_build.empty()) {
        progress.step("packing the packages layer", 0, ProgressUnit::items);
        auto packed = pack_tree_as_container_root(st.upper, epoch, -1);
        store::Layer l;
        l.digest = packed.digest;
        l.size = packed.size;
        l.file_count = packed.files;
        l.created = now_rfc3339();
        l.kind = store::LayerKind::packages;
        l.stored = store::LayerStorage::unpacked;
        l.mtime_clamp = epoch;
        layer = l;
        auto unpacked = layout().unpacked_layer_dir(l.digest);
        if (!exists(unpacked)) {
            make_dirs(layout().unpacked_layers_dir());
            if (::rename(st.upper.c_str(), unpacked.c_str()) != 0 && errno != EEXIST &&
                errno != ENOTEMPTY)
                throw_errno(Errc::store, "cannot move the packages layer to " + unpacked);
        }
        progress.finish(true);
    }

    // 8. Records, under the store lock.
    progress.begin("store");
    progress.step("recording the environment", 0, ProgressUnit::items);
    {
        auto guard = lock_exclusive();
        auto op = s.wal().begin("build", id.str());
        auto manifest_obj = s.objects().put(schema::canonical_json(manifest));
        auto lock_obj = s.objects().put(lock_text);
        if (layer) s.layers().put(*layer);

        bool existed = s.metadata().exists(id);
        make_env_dir(op, id);
        auto m = existed ? s.metadata().get(id) : store::make_metadata(id);
        if (!existed) op.add_step(store::RemoveFile{layout().relative(layout().metadata_path(id))});
        m.state = store::EnvState::built;
        m.manifest_object = manifest_obj;
        m.lock_digest = lock_obj;
        m.layers.clear();
        if (layer) m.layers.push_back(layer->digest);
        m.base_image_ref = pinned;
        m.base_image_digest = cached.record.digest;
        m.manifest_dir = manifest_dir;
        m.run = run_settings(lock);
        m.session = session_settings(manifest);
        if (o.name) m.name = *o.name;
        m.instance_of = target.instance_of;
        s.metadata().put(m);
        op.commit();
    }

    // 9. karapace.lock beside the manifest (never rewritten by --locked).
    if (!o.locked) {
        std::string current;
        if (exists(lock_path)) {
            try {
                current = read_file(lock_path);
            } catch (const Error&) {}
        }
        if (current != lock_text) write_file_atomic(lock_path, lock_text);
    }
    progress.finish(true);

    BuildResult r;
    r.env_id = id.str();
    r.short_id = id.short_id();
    r.lock_path = lock_path;
    if (target.instance_of) r.instance_of = target.instance_of->str();
    r.name = o.name.value_or("");
    if (!o.name) {
        auto m = s.metadata().get(id);
        r.name = m.name.value_or("");
    }
    progress.complete();
    return r;
}

void Engine::Impl::make_env_dir(store::WalOp& op, const store::EnvId& id) {
    auto env_dir = layout().env_dir(id);
    if (exists(env_dir)) return;
    op.add_step(store::RemoveTree{layout().relative(env_dir)});
    make_dirs(env_dir + "/upper", 0755);
    make_dirs(env_dir + "/work", 0700);
}

void Engine::Impl::add_instance(const store::EnvMetadata& of, const store::EnvId& id,
                                const std::string& name, const std::string& manifest_dir) {
    auto& s = store();
    auto guard = lock_exclusive();
    auto op = s.wal().begin("build", id.str());
    make_env_dir(op, id);
    op.add_step(store::RemoveFile{layout().relative(layout().metadata_path(id))});
    auto m = store::make_metadata(id);
    m.state = of.state == store::EnvState::frozen ? store::EnvState::built : of.state;
    m.manifest_object = of.manifest_object;
    m.lock_digest = of.lock_digest;
    m.layers = of.layers;
    m.base_image_ref = of.base_image_ref;
    m.base_image_digest = of.base_image_digest;
    m.manifest_dir = manifest_dir;
    m.run = of.run;
    m.name = name;
    m.instance_of = store::lock_env_id(of);
    s.metadata().put(m);
    op.commit();
}

BuildResult Engine::rebuild(const BuildOptions& options, ProgressSink& progress) {
    // The environment the manifest's lock names, if it is in this store.
    std::optional<store::EnvMetadata> old;
    auto manifest_path = real_path(options.manifest_path);
    if (!manifest_path.empty()) {
        auto lock_path = parent_dir(manifest_path) + "/karapace.lock";
        try {
            if (exists(lock_path)) {
                auto lock = schema::read_lock(lock_path);
                auto id = store::EnvId::parse(lock.env_id.str());
                if (impl_->store_exists() && !options.replace)
                    old = environment_of(impl_->store().metadata(), id, parent_dir(manifest_path));
            }
        } catch (const Error& e) {
            log::warn("cannot tell which environment ", lock_path, " names: ", e.what());
        }
    }
    if (options.replace) old = impl_->find(*options.replace);
    auto name = options.name ? options.name : (old ? old->name : std::nullopt);
    // A name given must follow the rule, checked before anything is built; a name carried over
    // is the old environment's, even one given before names that read as ids were refused.
    if (options.name) store::validate_env_name(*options.name);
    auto opts = options;
    // The new environment takes the name only after the old one has gone.
    bool same_name_holder = old && name && old->name == name;
    // Another instance of a lock gives its name up for the build instead, and gets it back if
    // the build fails: the build then finds its own record again (same lock and name) or makes
    // one, and never takes over the lock's first environment.
    bool instance = same_name_holder && old->instance_of.has_value();
    auto set_old_name = [&](const std::optional<std::string>& n) {
        auto guard = impl_->lock_exclusive();
        impl_->store().metadata().rename(old->env_id, n);
    };
    if (same_name_holder && !instance) opts.name.reset();
    if (instance) {
        set_old_name(std::nullopt);
        opts.name = name;
    }
    BuildResult result;
    try {
        result = impl_->build(opts, progress, !options.locked);
    } catch (...) {
        if (instance) set_old_name(name);
        throw;
    }
    if (options.before_replace) options.before_replace(result);
    std::vector<ExportedItem> carried;
    // Services the user enabled stay enabled: their units are written again under the same
    // names for the new environment.
    std::vector<std::pair<std::string, std::string>> unit_links;
    if (old && old->env_id.str() != result.env_id) {
        try {
            carried = impl_->exported_items(*old);
        } catch (const Error& e) {
            result.export_warnings.push_back(e.what());
        }
        for (const auto& item : carried)
            if (item.kind == "service")
                for (const auto& f : item.files)
                    for (const auto& l : exports::unit_links(f))
                        unit_links.emplace_back(l, f);
        destroy(old->env_id.str(), false);
        result.replaced_env_id = old->env_id.str();
    }
    if (name && result.name != *name) {
        impl_->rename(result.env_id, *name);
        result.name = *name;
    }
    if (!result.replaced_env_id && old) result.reused = false;
    impl_->export_after_build(result, carried);
    if (!unit_links.empty()) {
        for (const auto& [link, unit] : unit_links)
            if (::access(unit.c_str(), F_OK) == 0) ::symlink(unit.c_str(), link.c_str());
        if (auto w = exports::reload_user_units(); !w.empty()) result.export_warnings.push_back(w);
    }
    return result;
}

}  // namespace karapace::core

namespace karapace::core {

UpgradeResult Engine::upgrade(std::string_view env, ProgressSink& progress) {
    auto m = impl_->find(env);
    check_operation(Impl::label(m), impl_->state_for_change(m), Operation::rebuild);
    auto before = impl_->lock_of(m);
    UpgradeResult r;
    BuildOptions o;
    o.manifest_path = m.manifest_dir + "/karapace.toml";
    o.refresh_image = true;
    o.replace = m.env_id.str();
    o.before_replace = [&](const BuildResult& built) {
        auto after =
            impl_->lock_of(impl_->store().metadata().get(store::EnvId::parse(built.env_id)));
        r.old_image = before.pinned_image;
        r.new_image = after.pinned_image;
        r.old_image_digest = before.image_digest.str();
        r.new_image_digest = after.image_digest.str();
        std::map<std::string, std::string> was, now;
        for (const auto& p : before.packages)
            was[p.name] = p.version;
        for (const auto& p : after.packages)
            now[p.name] = p.version;
        for (const auto& [name, version] : now) {
            auto it = was.find(name);
            if (it == was.end())
                r.packages.push_back({name, "", version});
            else if (it->second != version)
                r.packages.push_back({name, it->second, version});
        }
        for (const auto& [name, version] : was)
            if (!now.contains(name)) r.packages.push_back({name, version, ""});
        if (built.env_id == m.env_id.str()) return;
        if (r.old_image_digest != r.new_image_digest)
            progress.note("base image: " + r.old_image_digest.substr(7, 12) + " -> " +
                          r.new_image_digest.substr(7, 12) + " (" + r.new_image + ")");
        for (const auto& c : r.packages)
            progress.note(c.name + ": " + (c.from.empty() ? "(new)" : c.from) + " -> " +
                          (c.to.empty() ? "(removed)" : c.to));
        progress.note("replacing " + Impl::label(m) + " with the upgraded environment " +
                      built.short_id);
    };
    r.build = rebuild(o, progress);
    return r;
}

}  // namespace karapace::core
