#include "karapace/image/resolve.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "karapace/image/bootstrap.hpp"
#include "karapace/image/download.hpp"
#include "karapace/image/oci.hpp"
#include "karapace/image/simplestreams.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::image {

namespace {

std::string source_name(RefKind kind) {
    switch (kind) {
    case RefKind::alias: return "lxc";
    case RefKind::url: return "url";
    case RefKind::bootstrap: return "bootstrap";
    case RefKind::oci: return "oci";
    }
    return "unknown";
}

// The image found in the cache for `ref`. The same bytes may have entered the cache under
// another name, so the pinned reference returned is the one for this request when it is known.
CachedImage hit(const ImageCache& cache, CachedImage image, const ImageRef& ref,
                const std::string& pinned, ProgressSink& progress) {
    const std::string reference = ref.str();
    cache.remember(reference, image.record.digest);
    if (ref.is_pinned())
        image.record.pinned_reference = reference;
    else if (!pinned.empty())
        image.record.pinned_reference = pinned;
    else if (ref.kind == RefKind::url)
        image.record.pinned_reference = ref.url + "#sha256=" + image.record.digest.hex();
    progress.note("using cached image " + image.record.digest.str().substr(0, 19) + " for " +
                  reference);
    return image;
}

// A cached image fit for a build. One cached before karapace recorded tree digests cannot be
// verified: it is fetched again (which replaces it), except offline, where it is all there is.
std::optional<CachedImage> usable(std::optional<CachedImage> image, bool offline) {
    if (image && !image->record.tree && !offline) {
        log::info("fetching ", image->record.digest.str(),
                  " again: it was cached before karapace recorded tree digests, so its files "
                  "cannot be verified");
        return std::nullopt;
    }
    return image;
}

void unlink_quietly(const std::string& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        log::warn("cannot remove ", path, ": ", std::strerror(errno));
}

}  // namespace

ResolvedImage resolve(const ImageRef& ref, const Config& config, ProgressSink& progress) {
    ResolvedImage r;
    r.ref = ref;
    switch (ref.kind) {
    case RefKind::alias: {
        progress.step("resolving " + ref.str() + " on " + config.server, 0, ProgressUnit::items);
        SelectedImage sel;
        try {
            sel = find_image(ref, config);
        } catch (...) {
            progress.finish(false);
            throw;
        }
        progress.finish(true);
        r.digest = Digest::from_hex(sel.rootfs.sha256);
        r.url = sel.url;
        r.size = sel.rootfs.size;
        r.product = sel.product;
        r.build = sel.version;
        r.pinned_reference = sel.url + "#sha256=" + sel.rootfs.sha256;
        return r;
    }
    case RefKind::url:
        r.url = ref.url;
        r.digest = ref.sha256;
        r.pinned_reference = ref.str();
        return r;
    case RefKind::bootstrap: {
        ImageRef pinned = ref;
        if (pinned.snapshot.empty()) pinned.snapshot = snapshot_now();
        r.pinned_reference = pinned.str();
        return r;
    }
    case RefKind::oci: {
        auto o = resolve_oci(ref, config, progress);
        r.digest = o.manifest;
        r.pinned_reference = o.pinned_reference;
        if (o.index) r.build = "index " + o.index->str();
        return r;
    }
    }
    return r;
}

namespace {

// OCI images are cached under their manifest digest. A reference with a digest, or a tag seen
// before, is a cache hit without the network (a tag is looked up again by `upgrade`).
CachedImage ensure_oci(const ImageRef& raw, const std::string& store_root, const Config& config,
                       ProgressSink& progress, bool offline, bool refresh) {
    const ImageRef ref = qualify(raw, config);
    const ImageCache cache(store_root);
    const std::string text = ref.str();
    if (ref.oci_digest)
        if (auto img = usable(cache.find(*ref.oci_digest), offline))
            return hit(cache, std::move(*img), ref, "", progress);
    if (!refresh)
        if (auto img = usable(cache.find_reference(text), offline))
            return hit(cache, std::move(*img), ref, img->record.pinned_reference, progress);
    if (offline)
        throw Error(
            Errc::image,
            "base image '" + text + "' is not cached, and offline mode forbids fetching it",
            "run once without --offline to fetch it; `karapace images` lists cached images");
    // One process fetches a reference; the others wait here and then find it in the cache.
    ImageLock lock = cache.lock(reference_key(text), progress);
    if (!refresh)
        if (auto img = usable(cache.find_reference(text), offline))
            return hit(cache, std::move(*img), ref, img->record.pinned_reference, progress);
    auto image = fetch_oci(ref, cache, config, progress);
    cache.remember(text, image.record.digest);
    cache.remember(image.record.pinned_reference, image.record.digest);
    return image;
}

}  // namespace

CachedImage ensure(const ImageRef& ref, const std::string& store_root, const Config& config,
                   ProgressSink& progress, bool offline, bool refresh) {
    // Only what is not pinned can be newer; offline nothing can be fetched.
    refresh = refresh && !offline && !ref.is_pinned();
    if (ref.kind == RefKind::oci)
        return ensure_oci(ref, store_root, config, progress, offline, refresh);
    const ImageCache cache(store_root);
    const std::string text = ref.str();

    // Fast paths: nothing to ask the network.
    if (ref.kind == RefKind::url && ref.sha256)
        if (auto img = usable(cache.find(*ref.sha256), offline))
            return hit(cache, std::move(*img), ref, "", progress);
    // Unpinned URLs and bootstrap references have no cheap freshness check: what was fetched for
    // them before is used until `karapace images rm` drops it (as `docker run` uses a pulled tag).
    if (!refresh && (ref.is_pinned() || offline || ref.kind != RefKind::alias))
        if (auto img = usable(cache.find_reference(text), offline))
            return hit(cache, std::move(*img), ref, "", progress);
    if (offline && ref.sha256)
        if (auto why = cache.damage(*ref.sha256))
            throw Error(Errc::image,
                        "the cached copy of base image '" + text + "' is damaged (" + *why +
                            "), and offline mode forbids fetching it again",
                        "run once without --offline to fetch it again");
    if (offline)
        throw Error(
            Errc::image,
            "base image '" + text + "' is not cached, and offline mode forbids fetching it",
            "run once without --offline to fetch it; `karapace images` lists cached images");

    ResolvedImage r = resolve(ref, config, progress);
    if (r.digest)
        if (auto why = cache.damage(*r.digest))
            progress.note("fetching " + text +
                          " again: verify-store found the cached copy damaged (" + *why + ")");
    if (r.digest)
        if (auto img = usable(cache.find(*r.digest), offline)) {
            cache.remember(r.pinned_reference, img->record.digest);
            return hit(cache, std::move(*img), ref, r.pinned_reference, progress);
        }

    // One process fetches; the others wait here and then find it in the cache.
    const std::string key = r.digest ? r.digest->hex() : reference_key(text);
    ImageLock lock = cache.lock(key, progress);
    if (r.digest) {
        if (auto img = usable(cache.find(*r.digest), offline))
            return hit(cache, std::move(*img), ref, r.pinned_reference, progress);
    } else if (auto img = refresh ? std::nullopt : usable(cache.find_reference(text), offline)) {
        return hit(cache, std::move(*img), ref, "", progress);
    }

    const std::string tarball = cache.download_path(key);
    ImageRecord record;
    record.reference = text;
    record.source = source_name(ref.kind);
    record.arch = effective_arch(config);
    record.build = r.build;
    if (ref.kind == RefKind::bootstrap) {
        BootstrapRequest req;
        req.distro = ref.distro;
        req.suite = ref.suite;
        req.snapshot = ref.snapshot;
        req.mirror = config.bootstrap_mirror;
        req.arch = config.arch;
        req.output = tarball;
        auto built = bootstrap(req, progress);
        record.digest = built.digest;
        record.size = built.size;
        record.build = built.mirror;
        // Unpinned: the snapshot time of this build is the closest reproducible reference.
        record.pinned_reference = r.pinned_reference;
    } else {
        DownloadRequest req;
        req.url = r.url;
        req.dest = tarball;
        req.expected_sha256 = r.digest;
        if (r.size) req.expected_size = r.size;
        req.what = text;
        req.server = ref.kind == RefKind::alias ? config.server : "";
        auto got = download(req, config.download, progress);
        record.digest = got.digest;
        record.size = got.size;
        record.pinned_reference = r.url + "#sha256=" + got.digest.hex();
    }

    CachedImage image;
    try {
        if (auto existing = usable(cache.find(record.digest), offline)) {
            image = std::move(*existing);  // same bytes under another name
            image.record.pinned_reference = record.pinned_reference;
        } else {
            image = cache.install(tarball, record, progress);
        }
    } catch (...) {
        // A tarball that failed to extract (hostile or corrupt) is not worth resuming.
        unlink_quietly(tarball);
        throw;
    }
    unlink_quietly(tarball);
    cache.remember(text, image.record.digest);
    cache.remember(record.pinned_reference, image.record.digest);
    return image;
}

CachedImage ensure(const ImageRef& ref, const std::string& store_root, ProgressSink& progress,
                   bool offline, bool refresh) {
    return ensure(ref, store_root, load_config(), progress, offline, refresh);
}

std::string pinned_reference(const ImageRef& ref, const std::string& store_root,
                             const Config& config, ProgressSink& progress) {
    if (ref.is_pinned()) return ref.str();
    switch (ref.kind) {
    case RefKind::alias: return resolve(ref, config, progress).pinned_reference;
    case RefKind::url: {
        // The image may have entered the cache under another name: pin this URL to its digest.
        auto img = ensure(ref, store_root, config, progress, false);
        return ref.url + "#sha256=" + img.record.digest.hex();
    }
    case RefKind::bootstrap:
        if (auto img = ImageCache(store_root).find_reference(ref.str()))
            return img->record.pinned_reference;
        return resolve(ref, config, progress).pinned_reference;
    case RefKind::oci: return resolve_oci(ref, config, progress).pinned_reference;
    }
    return ref.str();
}

}  // namespace karapace::image
