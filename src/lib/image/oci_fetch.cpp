#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "karapace/image/extract.hpp"
#include "karapace/image/oci.hpp"
#include "karapace/remote/auth.hpp"
#include "karapace/remote/registry.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::image {

namespace {

// An image config is a few KiB; one with a long history may reach a few hundred.
constexpr std::uint64_t kMaxConfigBytes = 4 * 1024 * 1024;

std::optional<remote::Credentials> credentials_for(const std::string& host) {
    if (auto c = remote::find_credentials(host)) return c;
    // `docker login` files Docker Hub under its old index address.
    if (host == "registry-1.docker.io" || host == "docker.io")
        for (const char* alias : {"docker.io", "index.docker.io", "registry-1.docker.io"})
            if (auto c = remote::find_credentials(alias)) return c;
    return std::nullopt;
}

void unlink_quietly(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        log::warn("cannot remove ", path, ": ", std::strerror(errno));
}

std::uint64_t file_size(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

struct Fetched {
    Digest manifest_digest;
    std::optional<Digest> index_digest;
    OciManifest manifest;
};

// The image manifest for this platform, through the index when the reference names one.
Fetched fetch_manifest(remote::RegistryClient& client, const ImageRef& ref, const Config& config,
                       ProgressSink& progress) {
    const std::string what = ref.str();
    progress.step("resolving " + what, 0, ProgressUnit::items);
    Fetched f;
    try {
        auto m = client.get_manifest();
        if (is_index(m.media_type, m.body)) {
            f.index_digest = m.digest;
            auto chosen = choose_platform(m.body, host_platform(config), what);
            m = client.get_manifest(chosen);
            if (is_index(m.media_type, m.body))
                throw Error(Errc::image,
                            what + ": the index entry for this platform is another index",
                            "nested indexes are not supported; name the image manifest by digest");
        }
        f.manifest_digest = m.digest;
        f.manifest = parse_oci_manifest(m.body, m.media_type, what);
    } catch (const Error& e) {
        progress.finish(false);
        if (e.code() == Errc::remote &&
            std::string(e.what()).find(" has no tag ") != std::string::npos)
            throw Error(Errc::image, e.what(),
                        "check the tag: `skopeo list-tags docker://" + ref.registry + "/" +
                            ref.repository + "` lists the ones the registry has");
        throw;
    }
    progress.finish(true);
    return f;
}

remote::RegistryClient client_for(const ImageRef& ref) {
    auto target = registry_reference(ref);
    auto creds = credentials_for(target.host);
    return remote::RegistryClient(target, remote::Access::pull, creds);
}

// Brings one layer blob into the cache (resuming an interrupted download); returns the bytes
// that crossed the network.
std::uint64_t fetch_blob(remote::RegistryClient& client, const ImageCache& cache,
                         const OciLayer& layer, const std::string& label, ProgressSink& progress) {
    const std::string final_path = cache.blob_path(layer.digest);
    if (file_size(final_path) == layer.size && ::access(final_path.c_str(), F_OK) == 0) {
        progress.note(label + " is cached");
        return 0;
    }
    auto lock = cache.lock("blob-" + layer.digest.hex(), progress);
    if (file_size(final_path) == layer.size && ::access(final_path.c_str(), F_OK) == 0) return 0;
    make_dirs(cache.dir() + "/blobs");
    const std::string part = cache.download_path("blob-" + layer.digest.hex()) + ".part";
    UniqueFd fd(::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw_errno(Errc::store, "cannot create " + part);
    const std::uint64_t before = file_size(part) < layer.size ? file_size(part) : 0;
    progress.step("downloading " + label, layer.size, ProgressUnit::bytes);
    try {
        client.download_blob(layer.digest, layer.size, fd.get(), progress, label, true);
    } catch (const Error& e) {
        progress.finish(false);
        // Bytes that do not hash right are worth nothing; a transfer that stopped resumes.
        if (std::string(e.what()).find("integrity") != std::string::npos) unlink_quietly(part);
        throw;
    }
    progress.finish(true);
    if (::fsync(fd.get()) != 0) throw_errno(Errc::store, "cannot write " + part);
    if (::rename(part.c_str(), final_path.c_str()) != 0)
        throw_errno(Errc::store, "cannot move " + part + " to " + final_path);
    return layer.size - before;
}

}  // namespace

remote::ImageReference registry_reference(const ImageRef& ref) {
    remote::ImageReference r;
    r.host = ref.registry == "docker.io" ? "registry-1.docker.io" : ref.registry;
    r.scheme = remote::is_loopback_host(r.host) ? "http" : "https";
    r.repository = ref.repository;
    r.tag = ref.tag;
    r.digest = ref.oci_digest;
    return r;
}

ImageRef qualify(const ImageRef& ref, const Config& config) {
    if (ref.kind != RefKind::oci || !ref.short_name || config.registry == "docker.io") return ref;
    std::string name = ref.repository;
    // docker.io's library/ prefix belongs to docker.io alone.
    if (name.rfind("library/", 0) == 0) name = name.substr(8);
    if (!ref.tag.empty()) name += ":" + ref.tag;
    if (ref.oci_digest) name += "@" + ref.oci_digest->str();
    auto parsed = remote::parse_image_name(name, config.registry);
    ImageRef out = ref;
    out.registry = parsed.host;
    out.repository = parsed.repository;
    out.short_name = false;
    return out;
}

static std::string pinned_text(const ImageRef& ref, const Digest& manifest) {
    ImageRef pinned = ref;
    pinned.short_name = false;
    pinned.oci_digest = manifest;
    return pinned.str();
}

OciResolution resolve_oci(const ImageRef& raw, const Config& config, ProgressSink& progress) {
    auto ref = qualify(raw, config);
    auto client = client_for(ref);
    auto f = fetch_manifest(client, ref, config, progress);
    return {f.manifest_digest, f.index_digest, pinned_text(ref, f.manifest_digest)};
}

CachedImage fetch_oci(const ImageRef& raw, const ImageCache& cache, const Config& config,
                      ProgressSink& progress) {
    auto ref = qualify(raw, config);
    const std::string what = ref.str();
    auto client = client_for(ref);
    auto f = fetch_manifest(client, ref, config, progress);
    if (auto img = cache.find(f.manifest_digest)) {
        img->record.pinned_reference = pinned_text(ref, f.manifest_digest);
        return *img;
    }
    auto image_lock = cache.lock(f.manifest_digest.hex(), progress);
    if (auto img = cache.find(f.manifest_digest)) {
        img->record.pinned_reference = pinned_text(ref, f.manifest_digest);
        return *img;
    }

    auto config_text = client.fetch_blob(f.manifest.config_digest, kMaxConfigBytes);
    auto image_config = parse_oci_config(config_text, what);
    const auto want = host_platform(config);
    if (!image_config.platform.architecture.empty() &&
        image_config.platform.architecture != want.architecture)
        throw Error(Errc::image,
                    what + " is built for " + image_config.platform.str() + ", this machine runs " +
                        want.str(),
                    "choose an image (or an index entry) for " + want.str());
    if (image_config.diff_ids.size() != f.manifest.layers.size())
        throw Error(Errc::image,
                    what + ": the manifest has " + std::to_string(f.manifest.layers.size()) +
                        " layers but the config's rootfs.diff_ids lists " +
                        std::to_string(image_config.diff_ids.size()),
                    "the image is broken; nothing of it was kept");

    std::vector<LayerFile> files;
    std::uint64_t total = 0, transferred = 0;
    try {
        for (std::size_t i = 0; i < f.manifest.layers.size(); ++i) {
            const auto& layer = f.manifest.layers[i];
            const std::string label = "layer " + std::to_string(i + 1) + "/" +
                                      std::to_string(f.manifest.layers.size()) + " " +
                                      layer.digest.str().substr(0, 19);
            auto sent = fetch_blob(client, cache, layer, label, progress);
            transferred += sent;
            total += layer.size;
            files.push_back(
                {cache.blob_path(layer.digest), {layer.digest, image_config.diff_ids[i]}});
        }
        ImageRecord record;
        record.reference = what;
        record.pinned_reference = pinned_text(ref, f.manifest_digest);
        record.digest = f.manifest_digest;
        record.size = total;
        record.source = "oci";
        record.arch = effective_arch(config);
        record.build = f.index_digest ? "index " + f.index_digest->str() : std::string();
        record.config = {image_config.env, image_config.user, image_config.working_dir};
        for (const auto& l : f.manifest.layers)
            record.blobs.push_back(l.digest);
        if (auto problem = schema::image_config_problem(record.config); !problem.empty())
            throw Error(Errc::image, what + ": the image config's " + problem,
                        "the image is broken; nothing of it was kept");
        auto image = cache.install_tree(record, [&](const std::string& rootfs) {
            return apply_layers(files, rootfs, progress);
        });
        progress.note(what + ": " + std::to_string(transferred) + " of " + std::to_string(total) +
                      " layer bytes fetched, the rest was cached");
        image.record.pinned_reference = record.pinned_reference;
        return image;
    } catch (const Error& e) {
        // The layers of an image that failed its checks are not kept for the next image that
        // names them, unless a cached image uses them (a blob was checked against its digest as
        // it arrived: that image's copy is good).
        if (e.code() == Errc::image) {
            auto in_use = cache.blobs_in_use(f.manifest_digest);
            for (const auto& l : f.manifest.layers)
                if (!in_use.contains(l.digest)) unlink_quietly(cache.blob_path(l.digest));
        }
        throw;
    }
}

}  // namespace karapace::image
