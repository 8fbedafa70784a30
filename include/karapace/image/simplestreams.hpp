// The LXC image server's simplestreams metadata: `streams/v1/index.json` names the product
// catalogue (`images.json`), whose products (`<distro>:<release>:<arch>:<variant>`) carry dated
// versions and, per version, files with their path, size and sha256. Parsing and selection are pure
// so they can be tested against recorded catalogues; `find_image` does the fetching.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/image/config.hpp"
#include "karapace/image/reference.hpp"
#include "karapace/util/digest.hpp"

namespace karapace::image {

struct StreamItem {
    std::string name;   // key in the version's items ("root.tar.xz")
    std::string ftype;  // "root.tar.xz", "lxd.tar.xz", "squashfs", …
    std::string path;   // relative to the server root
    std::uint64_t size = 0;
    std::string sha256;  // 64 hex, may be empty for items that carry none
};

struct Product {
    std::string id;  // "debian:bookworm:amd64:default"
    std::string distro, release, arch, variant;
    std::vector<std::string> aliases;  // "debian/12/default", "debian/bookworm", …
    std::map<std::string, std::vector<StreamItem>> versions;  // "20261128_05:24" -> items
};

struct Catalogue {
    std::vector<Product> products;
};

// Path of the image catalogue named by an index document (the "images" entry, else the first
// entry with datatype "image-downloads"). Throws Error(image) naming `where` when there is none.
std::string catalogue_path(std::string_view index_json, const std::string& where);
Catalogue parse_catalogue(std::string_view catalogue_json, const std::string& where);

// Root filesystem tarball types, in order of preference.
const std::vector<std::string>& rootfs_ftypes();

struct SelectedImage {
    std::string product;  // product id
    std::string version;  // build name ("20261128_05:24")
    StreamItem rootfs;
    std::string url;  // server + "/" + rootfs.path
};

// Picks, for `ref` (an alias), the product for `arch` and the reference's variant, and in it the
// newest version (lexically largest name) that has a rootfs tarball. Errors name the reference and
// the server and list what is available ("fedora/99: no such image on <server>; available: 40,
// 41, 42").
SelectedImage select_image(const Catalogue& catalogue, const ImageRef& ref, std::string_view arch,
                           const std::string& server);

// Fetches index and catalogue from `config.server` and selects the image for `ref`.
SelectedImage find_image(const ImageRef& ref, const Config& config);

}  // namespace karapace::image
