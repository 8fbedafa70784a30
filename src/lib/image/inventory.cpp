#include "karapace/image/inventory.hpp"

#include <algorithm>

#include "karapace/image/reference.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

namespace {

std::vector<std::string> users_of(const Digest& d, const std::vector<ImageUse>& uses) {
    std::vector<std::string> users;
    for (const auto& u : uses)
        if (u.image == d) users.push_back(u.env_id);
    std::sort(users.begin(), users.end());
    users.erase(std::unique(users.begin(), users.end()), users.end());
    return users;
}

// The canonical text of `what` when it parses as a reference, so "Debian/Bookworm" finds the
// image fetched as "debian/bookworm".
std::string canonical(std::string_view what) {
    try {
        return ImageRef::parse(what).str();
    } catch (const Error&) {
        return std::string(what);
    }
}

}  // namespace

std::vector<ImageListing> list_images(const std::string& store_root,
                                      const std::vector<ImageUse>& uses) {
    std::vector<ImageListing> out;
    for (auto& img : ImageCache(store_root).list()) {
        auto users = users_of(img.record.digest, uses);
        out.push_back({std::move(img), std::move(users)});
    }
    return out;
}

boost::json::object listing_json(const ImageListing& l) {
    const auto& r = l.image.record;
    boost::json::object o;
    o["digest"] = r.digest.str();
    o["reference"] = r.reference;
    o["pinned_reference"] = r.pinned_reference;
    o["size"] = r.size;
    o["unpacked_bytes"] = r.unpacked_bytes;
    o["source"] = r.source;
    o["arch"] = r.arch;
    o["build"] = r.build;
    o["created"] = r.created;
    o["path"] = l.image.rootfs;
    boost::json::array users;
    for (const auto& u : l.users)
        users.emplace_back(u);
    o["users"] = std::move(users);
    return o;
}

CachedImage find_cached_image(const std::string& store_root, std::string_view what) {
    const ImageCache cache(store_root);
    std::string text(what);
    if (text.starts_with("sha256:")) {
        text = text.substr(7);
        if (Digest::is_hex(text))
            if (auto img = cache.find(Digest::from_hex(text))) return *img;
    }
    if (auto img = cache.find_reference(canonical(what))) return *img;
    std::vector<CachedImage> matches;
    const bool prefix =
        text.size() >= 4 && text.size() <= 64 && std::all_of(text.begin(), text.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        });
    const std::string canon = canonical(what);
    for (auto& img : cache.list()) {
        const auto& r = img.record;
        if ((prefix && r.digest.hex().starts_with(text)) || r.reference == canon ||
            r.pinned_reference == canon)
            matches.push_back(std::move(img));
    }
    if (matches.size() == 1) return matches.front();
    if (matches.empty())
        throw Error(Errc::not_found, log::cat("no cached image matches '", what, "'"),
                    "`karapace images` lists the cached images");
    std::string names;
    for (const auto& m : matches)
        names += "\n  " + m.record.digest.str() + "  " + m.record.reference;
    throw Error(Errc::conflict, log::cat("'", what, "' matches several cached images:", names),
                "name one by its digest");
}

ImageRecord remove_image(const std::string& store_root, std::string_view what,
                         const std::vector<ImageUse>& uses, bool force) {
    const ImageCache cache(store_root);
    CachedImage img = find_cached_image(store_root, what);
    auto lock = cache.lock(img.record.digest.hex(), null_progress());
    auto users = users_of(img.record.digest, uses);
    if (!users.empty() && !force) {
        std::string list;
        for (const auto& u : users)
            list += (list.empty() ? "" : ", ") + u.substr(0, 12);
        throw Error(Errc::conflict,
                    log::cat("image ", img.record.digest.str(), " (", img.record.reference,
                             ") is used by ", users.size(), " environment(s): ", list),
                    "destroy those environments first, or pass --force");
    }
    cache.remove(img.record.digest);
    return img.record;
}

}  // namespace karapace::image
