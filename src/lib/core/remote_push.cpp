// push: an environment becomes an OCI image in a registry. The base image is packed as a layer
// (deterministically, so the same image always gives the same blob), a packages layer stored once
// is packed again from its unpacked tree and checked against its digest, a layer kept as a tar
// object and the latest snapshot are sent as they are, and blobs the registry already holds are
// not sent again (nor packed).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dirent.h>

#include <sstream>

#include "core/engine_impl.hpp"
#include "karapace/image/cache.hpp"
#include "karapace/image/config.hpp"
#include "karapace/remote/oci_image.hpp"
#include "karapace/remote/registry.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"

namespace karapace::core {

namespace {

// A blob to send: `open` gives a descriptor its bytes are read from, when the registry lacks it.
struct Blob {
    remote::ImageLayer layer;
    std::function<UniqueFd()> open;
    std::string what;
};

bool has_entries(const std::string& dir) {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return false;
    bool any = false;
    while (auto* e = ::readdir(d)) {
        std::string_view n = e->d_name;
        if (n != "." && n != "..") {
            any = true;
            break;
        }
    }
    ::closedir(d);
    return any;
}

}  // namespace

PushResult Engine::push(const PushOptions& o, ProgressSink& progress) {
    auto& impl = *impl_;
    auto m = impl.find(o.env);
    const auto label = Impl::label(m);
    check_operation(label, impl.state_of(m), Operation::push);
    auto& s = impl.store();
    if (!m.lock_digest || !m.manifest_object || !m.base_image_digest)
        throw Error(Errc::store, "environment " + label + " lacks its lock, manifest or base image",
                    "rebuild it: karapace rebuild");

    // Where it goes.
    auto remote_cfg = remote::choose_remote(o.remote);
    const bool needs_default = o.tag.empty() || o.tag.find_first_of("/:@") == std::string::npos;
    std::string default_repo;
    if (needs_default) default_repo = remote::repository_for_name(m.name.value_or(m.short_id()));
    auto target = remote::push_target(o.tag, default_repo, remote_cfg);

    remote::EnvImage image;
    image.env_id = m.env_id.str();
    image.name = m.name.value_or("");
    image.lock_text = s.objects().get(*m.lock_digest);
    image.manifest_json = s.objects().get(*m.manifest_object);
    image::ImageCache cache(impl.root);
    auto cached = cache.find(*m.base_image_digest);
    if (!cached)
        throw Error(Errc::not_found,
                    "the base image of environment " + label + " (" + m.base_image_ref +
                        ") is no longer in the image cache",
                    "rebuild it to fetch the image again: karapace rebuild " + m.manifest_dir +
                        "/karapace.toml");
    image.architecture = remote::oci_architecture(
        cached->record.arch.empty() ? image::host_arch() : cached->record.arch);

    PushResult r;
    r.env_id = m.env_id.str();
    r.short_id = m.short_id();
    r.reference = target.str();
    Impl::StagingDir staging_dir(impl, "push");
    const std::string& staging = staging_dir.path();

    // Changes in the writable layer that the latest snapshot does not hold are not pushed; say
    // so. The upper layer is packed the way commit would pack it and compared by digest.
    const std::string upper = impl.layout().env_dir(m.env_id) + "/upper";
    if (has_entries(upper)) {
        // No clamp, as commit packs snapshots.
        auto packed = impl.pack_tree_as_container_root(upper, Impl::no_mtime_clamp, -1);
        r.uncommitted_changes = m.snapshots.empty() || m.snapshots.back() != packed.digest;
    }
    if (r.uncommitted_changes)
        progress.note("the writable layer of " + label +
                      " has changes that no snapshot holds; they are not pushed (run `karapace "
                      "commit " +
                      label + "` first to include them)");

    // 1. The base image as a layer tar, packed where its files' owners can be read.
    progress.step("packing the base image of " + label + " as a layer", 0, ProgressUnit::items);
    const std::string base_tar = staging + "/base.tar";
    // Opened here, as the host user, who reads it back to send it; the packing only writes.
    std::vector<Blob> blobs;
    {
        UniqueFd out(::open(base_tar.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!out) throw_errno(Errc::store, "cannot create " + base_tar);
        // The default clamp (0), as base layers have always been packed.
        auto packed = impl.pack_tree_as_container_root(cached->rootfs, 0, out.get());
        Blob b;
        b.layer.digest = packed.digest;
        b.layer.size = packed.size;
        b.layer.role = remote::LayerRole::base;
        b.open = [base_tar] {
            UniqueFd fd(::open(base_tar.c_str(), O_RDONLY | O_CLOEXEC));
            if (!fd) throw_errno(Errc::store, "cannot open " + base_tar);
            return fd;
        };
        b.what = "the base layer";
        blobs.push_back(std::move(b));
    }
    progress.finish(true);

    // 2. The store's own layers, verified before they leave the machine: a tar object is
    // hashed while it is sent; a layer stored once is packed again from its unpacked tree, and
    // that tar checked against the layer's digest before a byte is sent.
    auto add_object = [&](const Digest& d, remote::LayerRole role, const std::string& what) {
        Blob b;
        b.layer.digest = d;
        b.layer.role = role;
        b.what = what;
        auto record = s.layers().exists(d) ? std::optional(s.layers().get(d)) : std::nullopt;
        if (record && record->stored == store::LayerStorage::unpacked && !s.objects().exists(d)) {
            b.layer.size = record->size;
            b.open = [&impl, record, &staging, what] {
                return impl.regenerated_tar(*record, staging, what);
            };
        } else {
            b.layer.size = s.objects().size(d);
            b.open = [&s, d] { return s.objects().open(d); };
        }
        blobs.push_back(std::move(b));
    };
    for (const auto& d : m.layers)
        add_object(d, remote::LayerRole::packages, "the packages layer");
    if (!m.snapshots.empty())
        add_object(m.snapshots.back(), remote::LayerRole::snapshot,
                   "snapshot " + short_digest(m.snapshots.back()));
    for (const auto& b : blobs)
        image.layers.push_back(b.layer);
    auto built = remote::build_image(image);

    // 3. Blobs, then the config, then the manifest: a reader never sees a manifest whose blobs
    // are missing.
    remote::RegistryClient client(target, remote::Access::push,
                                  remote::find_credentials(target.host));
    auto send = [&](const Digest& d, std::uint64_t size, const std::function<UniqueFd()>& open,
                    const std::string& what) {
        progress.step("checking " + what + " on " + target.host, 0, ProgressUnit::items);
        auto present = client.blob_size(d);
        progress.finish(true);
        if (present && *present == size) {
            ++r.layers_skipped;
            return;
        }
        UniqueFd fd = open();
        progress.step("uploading " + what + " (" + short_digest(d) + ")", size,
                      ProgressUnit::bytes);
        try {
            client.upload_blob(d, fd.get(), size, progress, what + " " + d.str());
        } catch (...) {
            progress.finish(false);
            throw;
        }
        progress.finish(true);
        ++r.layers_pushed;
        r.bytes_pushed += size;
    };
    for (auto& b : blobs)
        send(b.layer.digest, b.layer.size, b.open, b.what);
    {
        auto config_path = staging + "/config.json";
        write_file_atomic(config_path, built.config, 0600);
        std::size_t pushed = r.layers_pushed, skipped = r.layers_skipped;
        send(
            built.config_digest, built.config.size(),
            [&] {
                UniqueFd fd(::open(config_path.c_str(), O_RDONLY | O_CLOEXEC));
                if (!fd) throw_errno(Errc::store, "cannot open " + config_path);
                return fd;
            },
            "the image config");
        // The config is not a layer: it is counted in neither total.
        r.layers_pushed = pushed;
        r.layers_skipped = skipped;
    }
    progress.step("publishing " + target.str(), 0, ProgressUnit::items);
    auto digest = client.put_manifest(built.manifest, remote::oci_manifest_media_type);
    progress.finish(true);
    if (digest != built.manifest_digest)
        log::warn("the registry reports manifest digest ", digest.str(), ", karapace computed ",
                  built.manifest_digest.str());
    r.digest = digest.str();
    return r;
}

}  // namespace karapace::core
