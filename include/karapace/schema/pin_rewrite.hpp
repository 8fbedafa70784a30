// In-place edit of a manifest's `[base] image` value, for `karapace pin`: only the value's bytes
// change, so comments, key order, spacing and the quoting style survive.
#pragma once

#include <string>
#include <string_view>

namespace karapace::schema {

// Returns `manifest_text` with the value of `[base] image` replaced by `new_image`. The text must
// be a valid manifest (Error(manifest) otherwise); a literal string stays literal when the new
// value allows it, anything else is written as an escaped basic string. The result re-parses to
// the same manifest apart from the image.
std::string rewrite_base_image(std::string_view manifest_text, const std::string& source_name,
                               const std::string& new_image);

}  // namespace karapace::schema
