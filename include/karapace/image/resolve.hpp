// The image layer's entry points: resolve a reference to its pinned form and expected digest
// (network only where unavoidable), ensure the image is cached and return its root filesystem,
// and compute the pinned reference `karapace pin` writes into a manifest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "karapace/image/cache.hpp"
#include "karapace/image/config.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

struct ResolvedImage {
    ImageRef ref;
    std::string pinned_reference;  // may equal ref.str() when the reference is already pinned
    std::optional<Digest> digest;  // tarball digest, when known without fetching
    std::string url;               // what will be downloaded (lxc, url kinds)
    std::uint64_t size = 0;        // expected bytes; 0 unknown
    std::string product;           // simplestreams product id (lxc)
    std::string build;             // simplestreams version (lxc)
};

// Aliases consult the image server (index + catalogue, no tarball); URLs and bootstrap references
// need no network (an unpinned URL has no digest until downloaded; an unpinned bootstrap reference
// is pinned to the current snapshot time). OCI references ask the registry for the manifest of
// this platform.
ResolvedImage resolve(const ImageRef& ref, const Config& config, ProgressSink& progress);

// Makes sure the image is in the cache of `store_root` and returns it. A reference seen before
// (pinned, or with `offline`) is a cache hit without network; otherwise it is resolved, fetched
// (download or mmdebstrap), verified, and extracted, once even when several processes ask at the
// same time. `offline`: cache only, Error(image) when the image is not cached. `refresh`: an
// unpinned URL or bootstrap reference is fetched again even when the cache has it (`upgrade`).
CachedImage ensure(const ImageRef& ref, const std::string& store_root, const Config& config,
                   ProgressSink& progress, bool offline, bool refresh = false);
// Same, with load_config().
CachedImage ensure(const ImageRef& ref, const std::string& store_root, ProgressSink& progress,
                   bool offline, bool refresh = false);

// The pinned form of `ref`: for an alias the exact build URL + `#sha256=`; for a URL its
// `#sha256=` (downloading it once into the cache to hash it); for bootstrap the suite + snapshot
// timestamp (the one recorded when this store built it, else now). Already pinned: unchanged.
std::string pinned_reference(const ImageRef& ref, const std::string& store_root,
                             const Config& config, ProgressSink& progress);

}  // namespace karapace::image
