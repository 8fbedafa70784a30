// pull: an environment image from a registry becomes a built environment in this store. Every
// blob is verified by digest while it streams in; the lock inside is checked against the
// environment id it claims; the base image enters the image cache, the layers enter the store as
// verified objects, the snapshot becomes the writable layer, and the records are written last,
// under the store lock and a WAL entry, so a crash leaves either nothing or a usable environment.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <map>
#include <sstream>

#include "core/engine_impl.hpp"
#include "karapace/image/cache.hpp"
#include "karapace/image/config.hpp"
#include "karapace/remote/oci_image.hpp"
#include "karapace/remote/registry.hpp"
#include "karapace/schema/env_vars.hpp"
#include "karapace/schema/lock.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/time.hpp"

namespace karapace::core {

namespace {

constexpr std::uint64_t config_limit = 16 * 1024 * 1024;

std::string current_dir() {
    char buf[PATH_MAX];
    if (::getcwd(buf, sizeof buf) == nullptr) return home_dir();
    return buf;
}

// The lock inside the image, checked: it parses, its env_id is the hash of its own identity
// fields, and it is the environment the image says it is.
schema::LockFile checked_lock(const remote::EnvImage& img, const std::string& what) {
    schema::LockFile lock;
    try {
        lock = schema::parse_lock(img.lock_text, "the lock inside " + what);
        schema::verify_integrity(lock, "the lock inside " + what);
    } catch (const Error& e) {
        throw Error(Errc::remote,
                    std::string("integrity check failed for ") + what + ": " + e.what(),
                    "the image was altered after it was pushed, or by an incompatible tool; "
                    "nothing was imported");
    }
    if (lock.env_id.str() != img.env_id)
        throw Error(Errc::remote,
                    "integrity check failed for " + what + ": its label says environment " +
                        img.env_id + ", its lock computes to " + lock.env_id.str() +
                        "; nothing was imported",
                    "the image was altered after it was pushed; push it again from a good copy");
    try {
        (void)json::parse(img.manifest_json, "the manifest inside " + what);
    } catch (const Error& e) {
        throw Error(Errc::remote, e.what(), "nothing was imported");
    }
    return lock;
}

// The [env] and on_enter hooks recorded in the manifest inside the image (written by a build
// that had them), checked as a manifest's would be.
store::SessionSettings session_of(const remote::EnvImage& img, const std::string& what) {
    store::SessionSettings session;
    const std::string where = "the manifest inside " + what;
    try {
        auto doc = json::parse(img.manifest_json, where);
        if (!doc.is_object()) throw Error(Errc::remote, where + " is not a JSON object");
        const auto& o = doc.as_object();
        if (o.contains("env")) {
            for (const auto& [name, value] : json::get_object(o, "env", where)) {
                schema::EnvVar var{std::string(name),
                                   value.is_string() ? std::string(value.as_string()) : ""};
                std::string problem = value.is_string() ? "" : "is not a string";
                if (problem.empty()) problem = schema::env_var_problem(var);
                if (!problem.empty())
                    throw Error(Errc::remote, log::cat(where, ": [env] ", var.name, ": ", problem));
                session.env.push_back(std::move(var));
            }
            std::sort(session.env.begin(), session.env.end());
        }
        if (o.contains("on_enter"))
            for (const auto& v : json::get_array(o, "on_enter", where)) {
                if (!v.is_string() || !schema::hook_command_problem(v.as_string()).empty())
                    throw Error(Errc::remote, where + ": an on_enter hook is not a usable command");
                session.on_enter.emplace_back(v.as_string());
            }
        if (o.contains("no_new_privileges"))
            session.no_new_privileges = json::get_bool(o, "no_new_privileges", where);
    } catch (const Error& e) {
        throw Error(Errc::remote, e.what(), "nothing was imported");
    }
    return session;
}

}  // namespace

PullResult Engine::pull(const PullOptions& o, ProgressSink& progress) {
    auto& impl = *impl_;
    if (o.name) store::validate_env_name(*o.name);
    auto ref = remote::parse_reference(o.reference, remote::choose_remote(o.remote));
    const std::string what = ref.str();
    remote::RegistryClient client(ref, remote::Access::pull, remote::find_credentials(ref.host));

    // 1. The manifest and the config: small, verified, and enough to decide what to fetch.
    progress.step("fetching the manifest of " + what, 0, ProgressUnit::items);
    remote::EnvImage img;
    remote::FetchedManifest fetched;
    try {
        fetched = client.get_manifest();
        auto parsed = remote::parse_manifest(fetched.body, fetched.media_type, what);
        if (parsed.config_size > config_limit)
            throw Error(Errc::remote, "the image config of " + what + " is larger than 16 MiB",
                        "this is not a karapace environment");
        img = remote::parse_config(client.fetch_blob(parsed.config_digest, config_limit), parsed,
                                   what);
    } catch (...) {
        progress.finish(false);
        throw;
    }
    progress.finish(true);
    auto lock = checked_lock(img, what);
    auto session = session_of(img, what);
    auto id = store::EnvId::parse(lock.env_id.str());
    auto host_arch = remote::oci_architecture(image::host_arch());
    if (!img.architecture.empty() && img.architecture != host_arch)
        throw Error(
            Errc::conflict,
            what + " is an environment for " + img.architecture + ", this machine is " + host_arch,
            "pull it on a " + img.architecture + " machine, or build the manifest here");

    std::optional<remote::ImageLayer> base, snapshot;
    std::vector<remote::ImageLayer> packages;
    for (const auto& l : img.layers) {
        if (l.role == remote::LayerRole::base) base = l;
        if (l.role == remote::LayerRole::packages) packages.push_back(l);
        if (l.role == remote::LayerRole::snapshot) snapshot = l;
    }

    PullResult r;
    r.env_id = id.str();
    r.short_id = id.short_id();
    r.reference = what;
    r.digest = fetched.digest.str();
    auto& s = impl.store();

    // `pull --name` of an environment that is here already renames it, with the checks of
    // `rename`, made before anything is fetched so that a refusal leaves everything as it was.
    auto check_rename = [&](const store::EnvMetadata& m) {
        if (!o.name || m.name == *o.name) return;
        const std::string here = "environment " + m.short_id() + " is already here" +
                                 (m.name ? " as '" + *m.name + "'" : std::string(" unnamed"));
        try {
            check_operation(Impl::label(m), impl.state_of(m), Operation::rename);
        } catch (const Error& e) {
            throw Error(e.code(), here + " and cannot be renamed: " + e.what(), e.hint());
        }
        if (auto holder = s.metadata().find_by_name(*o.name); holder && holder->env_id != m.env_id)
            throw Error(Errc::conflict,
                        here + "; --name would rename it to '" + *o.name +
                            "', but that name is used by environment " + holder->short_id(),
                        "pull with another name: karapace pull " + o.reference +
                            " --name <other-name>, or without --name to keep it as '" +
                            Impl::label(m) + "'; nothing was changed");
    };
    // After the pull's own work, without the store lock (rename takes it).
    auto rename_present = [&] {
        if (!o.name || r.name == *o.name) return;
        impl.rename(id.str(), *o.name);
        r.previous_name = r.name;
        r.renamed = true;
        r.name = *o.name;
    };

    // 2. Already here? Then at most a snapshot is new.
    std::optional<store::EnvMetadata> present;
    if (s.metadata().exists(id)) present = s.metadata().get(id);
    if (present) {
        r.name = present->name.value_or("");
        check_rename(*present);
        bool have_snapshot =
            !snapshot || std::find(present->snapshots.begin(), present->snapshots.end(),
                                   snapshot->digest) != present->snapshots.end();
        if (have_snapshot) {
            r.already_present = true;
            r.layers_skipped = img.layers.size();
            rename_present();
            return r;
        }
    }
    std::string name = o.name.value_or(img.name);
    if (!present && !name.empty()) {
        if (!store::valid_env_name(name))
            throw Error(
                Errc::usage,
                what + " carries the name '" + name + "', which is not a valid environment name",
                "give it one: karapace pull " + o.reference + " --name <name>");
        // Such a name would take over an id prefix here (names are matched first); pulling it
        // unnamed instead would be a surprise, so the user chooses.
        if (store::EnvId::reads_as_prefix(name))
            throw Error(Errc::usage,
                        what + " carries the name '" + name +
                            "', which could be read as an environment id (" +
                            std::to_string(store::EnvId::min_prefix_length) +
                            " or more hex digits 0-9 a-f are an id prefix in a reference)",
                        "give it another name: karapace pull " + o.reference + " --name <name>");
        if (auto holder = s.metadata().find_by_name(name))
            throw Error(Errc::conflict,
                        "the name '" + name + "' is already used by environment " +
                            holder->short_id() + " in this store",
                        "pull it under another name: karapace pull " + o.reference +
                            " --name <other-name> (or rename the local one: karapace rename " +
                            name + " <new-name>)");
    }

    Impl::StagingDir staging_dir(impl, "pull");
    const std::string& staging = staging_dir.path();

    // Streams a blob into a staging file, verified against its digest on the way; a blob a
    // mirror compressed is then decompressed, checked again against the tar's digest (the
    // config's diff_id), and only the tar is kept. `l.size` becomes the tar's size.
    auto download = [&](remote::ImageLayer& l, const std::string& label) {
        auto path = staging + "/" + l.digest.hex() + ".tar";
        auto blob_path = l.compressed ? staging + "/" + l.blob.hex() + ".blob" : path;
        UniqueFd fd(::open(blob_path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!fd) throw_errno(Errc::store, "cannot create " + blob_path);
        progress.step("downloading " + label + " (" + short_digest(l.blob) + ")", l.blob_size,
                      ProgressUnit::bytes);
        try {
            client.download_blob(l.blob, l.blob_size, fd.get(), progress, label);
        } catch (...) {
            progress.finish(false);
            throw;
        }
        progress.finish(true);
        ++r.layers_pulled;
        r.bytes_pulled += l.blob_size;
        if (!l.compressed) return path;
        progress.step("decompressing " + label, 0, ProgressUnit::items);
        try {
            if (::lseek(fd.get(), 0, SEEK_SET) != 0)
                throw_errno(Errc::store, "cannot read " + blob_path);
            UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
            if (!out) throw_errno(Errc::store, "cannot create " + path);
            l.size = store::decompress_image_layer(fd.get(), {l.blob, l.digest}, out.get());
        } catch (const Error& e) {
            progress.finish(false);
            if (e.code() != Errc::image) throw;
            throw Error(Errc::remote,
                        "integrity check failed for " + what + ", " + label + ": " + e.what(),
                        std::string(e.hint()) + "; nothing was imported");
        }
        progress.finish(true);
        ::unlink(blob_path.c_str());
        return path;
    };
    // A layer the store holds intact is not fetched again (a damaged copy is). A layer stored
    // once counts when its unpacked tree is there (verify-store checks that tree).
    auto have_object = [&](const Digest& d) {
        struct stat st {};
        if (!s.objects().exists(d) && s.layers().exists(d) &&
            s.layers().get(d).stored == store::LayerStorage::unpacked &&
            ::stat(impl.layout().unpacked_layer_dir(d).c_str(), &st) == 0)
            return true;
        if (!s.objects().exists(d)) return false;
        if (s.objects().hash(d) == d) return true;
        log::warn("the store's copy of layer ", d.str(), " is damaged; fetching it again");
        s.objects().remove(d);
        return false;
    };

    // 3. Every missing blob is downloaded and verified before anything enters the store, so a
    // damaged or tampered image leaves nothing behind.
    if (!base) throw Error(Errc::remote, what + " has no base layer");
    // The image the lock names, if this machine downloaded and verified it itself, is the base.
    // Otherwise the registry's base layer is cached under its own digest: never under the lock's
    // image digest, which a local build trusts as "the verified original" — an image that claims
    // a well-known base in its lock must not be able to stand in for that base in later builds.
    image::ImageCache cache(impl.root);
    std::optional<std::string> base_tar;
    Digest base_digest = lock.image_digest;
    if (cache.find(lock.image_digest)) {
        ++r.layers_skipped;
    } else {
        base_digest = base->digest;
        if (cache.find(base_digest))
            ++r.layers_skipped;
        else
            base_tar = download(*base, "the base layer");
    }
    std::vector<std::pair<Digest, std::string>> fetched_objects;  // digest, staging file
    auto fetch_object = [&](remote::ImageLayer& l, const std::string& label) {
        if (have_object(l.digest))
            ++r.layers_skipped;
        else
            fetched_objects.emplace_back(l.digest, download(l, label));
    };
    for (auto& l : packages)
        fetch_object(l, "the packages layer");
    if (snapshot) fetch_object(*snapshot, "snapshot " + short_digest(snapshot->digest));

    // 4. Into the store: the base layer into the image cache under its own digest,
    // layers as objects (hashed again on the way in), the packages layers unpacked now so the
    // first exec does not wait, and the snapshot unpacked as the writable layer.
    if (base_tar) {
        auto image_lock = cache.lock(base_digest.hex(), progress);
        if (!cache.find(base_digest)) {
            image::ImageRecord record;
            record.reference = what;
            record.pinned_reference = what;
            record.digest = base_digest;
            record.size = base->size;
            record.source = "registry";
            record.arch = image::host_arch();
            record.build = what;
            record.created = now_rfc3339();
            cache.install(*base_tar, record, progress);
        }
        ::unlink(base_tar->c_str());
    }
    for (const auto& [digest, path] : fetched_objects) {
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno(Errc::store, "cannot open " + path);
        auto got = s.objects().put_fd(fd.get());
        if (got != digest)
            throw Error(Errc::store, "layer " + digest.str() + " changed on its way into the store",
                        "check the disk; run karapace verify-store");
        ::unlink(path.c_str());
    }
    // A packages layer whose unpacked tree packs again into the same tar is stored once: its
    // record says so, and the tar object goes once the records are written. One that does not
    // (written by another tool) keeps its object.
    std::map<Digest, std::int64_t> stored_once;  // digest -> clamp that regenerates it
    std::map<Digest, std::string> tar_kept;      // digest -> why its tar stays
    for (const auto& l : packages) {
        progress.step("unpacking the packages layer", 0, ProgressUnit::items);
        impl.unpacked_layer(l.digest);
        progress.finish(true);
        if (!s.objects().exists(l.digest) || s.layers().exists(l.digest)) continue;
        progress.step("checking that the packages layer can be stored once", 0,
                      ProgressUnit::items);
        // karapace's layers carry mtimes already clamped: packing without a clamp gives them
        // back as they are.
        auto why_not = impl.check_stored_once(l.digest, Impl::no_mtime_clamp);
        progress.finish(true);
        if (why_not) {
            tar_kept.emplace(l.digest, *why_not);
            progress.note("the packages layer " + short_digest(l.digest) +
                          " is kept as a tar object beside its unpacked tree: " + *why_not);
        } else {
            stored_once.emplace(l.digest, Impl::no_mtime_clamp);
        }
    }
    std::vector<Digest> drop;
    for (const auto& [d, clamp] : stored_once)
        drop.push_back(d);
    std::uint64_t snapshot_entries = 0;
    const std::string upper = staging + "/upper";
    if (snapshot && !present) {
        progress.step("unpacking snapshot " + short_digest(snapshot->digest), 0,
                      ProgressUnit::items);
        auto fd = s.objects().open(snapshot->digest);
        const std::string count_file = staging + "/entries";
        make_dirs(upper, 0755);  // the host user's: it is moved into place below
        impl.as_container_root([&] {
            store::UnpackOptions uo;
            auto stats = store::unpack_tar_fd(fd.get(), upper, uo);
            write_file_atomic(count_file, std::to_string(stats.entries));
        });
        snapshot_entries = std::stoull(read_file(count_file));
        progress.finish(true);
    }
    if (!present) make_dirs(upper, 0755);

    // 5. The records, last, under the lock.
    progress.step("recording the environment", 0, ProgressUnit::items);
    auto layer_record = [&](const remote::ImageLayer& l, store::LayerKind kind,
                            std::optional<Digest> parent, std::uint64_t entries) {
        if (s.layers().exists(l.digest)) return;
        store::Layer rec;
        rec.digest = l.digest;
        rec.kind = kind;
        rec.parent = parent;
        rec.size = l.size != 0 ? l.size : s.objects().size(l.digest);
        rec.created = now_rfc3339();
        rec.file_count = entries;
        if (auto once = stored_once.find(l.digest); once != stored_once.end()) {
            rec.stored = store::LayerStorage::unpacked;
            rec.mtime_clamp = once->second;
        } else if (auto kept = tar_kept.find(l.digest); kept != tar_kept.end()) {
            rec.tar_kept = kept->second;
        }
        s.layers().put(rec);
    };
    std::optional<Digest> top;
    {
        auto guard = impl.lock_exclusive();
        auto op = s.wal().begin("pull", id.str());
        for (const auto& l : packages) {
            layer_record(l, store::LayerKind::packages, top, 0);
            top = l.digest;
        }
        if (snapshot) layer_record(*snapshot, store::LayerKind::snapshot, top, snapshot_entries);
        fault_point("pull-records");

        if (present || s.metadata().exists(id)) {
            // Present before (or pulled meanwhile by another process): add the snapshot only.
            auto m = s.metadata().get(id);
            if (snapshot && std::find(m.snapshots.begin(), m.snapshots.end(), snapshot->digest) ==
                                m.snapshots.end()) {
                m.snapshots.push_back(snapshot->digest);
                s.metadata().put(m);
                r.snapshot_added = snapshot->digest.hex();
            } else {
                r.already_present = true;
            }
            r.name = m.name.value_or("");
            op.commit();
            impl.drop_tar_copies(drop);
            guard.release();  // rename takes the lock itself
            progress.finish(true);
            rename_present();
            return r;
        }
        if (!name.empty())
            if (auto holder = s.metadata().find_by_name(name))
                throw Error(Errc::conflict,
                            "the name '" + name + "' was taken by environment " +
                                holder->short_id() + " during the pull",
                            "pull it under another name: karapace pull " + o.reference +
                                " --name <other-name>");

        auto manifest_obj = s.objects().put(img.manifest_json);
        auto lock_obj = s.objects().put(img.lock_text);
        auto env_dir = impl.layout().env_dir(id);
        op.add_step(store::RemoveTree{impl.layout().relative(env_dir)});
        impl.remove_tree(env_dir);  // debris of an environment whose record is gone
        make_dirs(env_dir, 0755);
        if (::rename(upper.c_str(), (env_dir + "/upper").c_str()) != 0)
            throw_errno(Errc::store, "cannot move the writable layer into " + env_dir);
        make_dirs(env_dir + "/work", 0700);
        fault_point("pull-env-dir");

        auto m = store::make_metadata(id);
        op.add_step(store::RemoveFile{impl.layout().relative(impl.layout().metadata_path(id))});
        m.state = store::EnvState::built;
        m.manifest_object = manifest_obj;
        m.lock_digest = lock_obj;
        for (const auto& l : packages)
            m.layers.push_back(l.digest);
        if (snapshot) m.snapshots.push_back(snapshot->digest);
        m.base_image_ref = lock.pinned_image;
        m.base_image_digest = base_digest;
        m.run = Impl::run_settings(lock);
        m.session = session;
        m.manifest_dir = current_dir();
        if (!name.empty()) m.name = name;
        s.metadata().put(m);
        fault_point("pull-metadata");
        op.commit();
        impl.drop_tar_copies(drop);
    }
    progress.finish(true);
    r.name = name;
    return r;
}

}  // namespace karapace::core
