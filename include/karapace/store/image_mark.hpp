// The mark of a damaged cached image, `images/<hex>/damaged`: verify-store's finding that the
// image no longer matches its record, written by the engine and read before every use of the
// image. It lives inside the image's directory, so fetching the image again (which replaces the
// directory) clears it, and it is readable even when image.json itself is what broke.
#pragma once

#include <optional>
#include <string>

#include "karapace/store/layout.hpp"
#include "karapace/util/digest.hpp"

namespace karapace::store {

// The reason recorded in the mark, or nullopt when the image is not marked (one lstat). An
// unreadable mark still marks the image.
std::optional<std::string> image_damage(const Layout& layout, const Digest& image);
// Writes the mark atomically: {"reason": …, "detected": <RFC 3339>}.
void mark_image_damaged(const Layout& layout, const Digest& image, const std::string& reason);

}  // namespace karapace::store
