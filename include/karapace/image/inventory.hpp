// What `karapace images` shows and `karapace images rm` removes: the cached images with their
// size and the environments using them (the caller, which knows the environments, says which
// env uses which image digest).
#pragma once

#include <boost/json.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/image/cache.hpp"
#include "karapace/util/digest.hpp"

namespace karapace::image {

struct ImageUse {
    std::string env_id;
    Digest image;
};

struct ImageListing {
    CachedImage image;
    std::vector<std::string> users;  // env ids, sorted
};

std::vector<ImageListing> list_images(const std::string& store_root,
                                      const std::vector<ImageUse>& uses);
// {"digest", "reference", "pinned_reference", "size", "unpacked_bytes", "source", "arch",
//  "build", "created", "path", "users"}
boost::json::object listing_json(const ImageListing& listing);

// Finds the cached image named by `what`: `sha256:<hex>`, a hex prefix of at least 4 characters, a
// reference it was fetched under, or its pinned reference. Error(not_found) when none matches,
// Error(conflict) listing the candidates when several do.
CachedImage find_cached_image(const std::string& store_root, std::string_view what);

// Removes that image. Error(conflict) naming the environments using it unless `force`.
ImageRecord remove_image(const std::string& store_root, std::string_view what,
                         const std::vector<ImageUse>& uses, bool force = false);

}  // namespace karapace::image
