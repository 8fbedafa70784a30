#include "karapace/image/simplestreams.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"

namespace karapace::image {

namespace bj = boost::json;

namespace {

constexpr std::uint64_t kMaxIndexBytes = std::uint64_t{256} << 20;

bj::value parse_json(std::string_view text, const std::string& where) {
    boost::system::error_code ec;
    bj::value v = bj::parse(bj::string_view(text.data(), text.size()), ec);
    if (ec)
        throw Error(Errc::image, log::cat(where, ": invalid JSON: ", ec.message()),
                    "the image server did not return simplestreams metadata; check its address");
    return v;
}

std::string str_or(const bj::object& o, std::string_view key, std::string fallback = {}) {
    auto it = o.find(bj::string_view(key.data(), key.size()));
    if (it == o.end() || !it->value().is_string()) return fallback;
    return std::string(it->value().as_string());
}

std::vector<std::string> split(std::string_view s, char sep) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        auto pos = s.find(sep, start);
        parts.emplace_back(s.substr(start, pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return parts;
}

std::string join(const std::set<std::string>& items) {
    std::string out;
    for (const auto& i : items) {
        if (!out.empty()) out += ", ";
        out += i;
    }
    return out;
}

// "alpine/3.20", shortened to "alpine/3.20/cloud" when the variant is not the default.
std::string display(const ImageRef& ref) {
    if (!ref.alias.empty()) return ref.alias;
    return ref.distro + "/" + ref.release + (ref.variant == "default" ? "" : "/" + ref.variant);
}

bool names_release(const Product& p, const ImageRef& ref) {
    if (p.distro == ref.distro && p.release == ref.release) return true;
    const std::string short_alias = ref.distro + "/" + ref.release;
    const std::string long_alias = short_alias + "/" + ref.variant;
    for (const auto& a : p.aliases)
        if (a == long_alias || (a == short_alias && p.variant == ref.variant)) return true;
    return false;
}

bool safe_relative_path(std::string_view path) {
    if (path.empty() || path.front() == '/') return false;
    for (const auto& part : split(path, '/'))
        if (part.empty() || part == "." || part == "..") return false;
    return path.find("://") == std::string_view::npos;
}

}  // namespace

const std::vector<std::string>& rootfs_ftypes() {
    static const std::vector<std::string> types{"root.tar.xz", "root.tar.zst", "root.tar.gz",
                                                "root.tar"};
    return types;
}

std::string catalogue_path(std::string_view index_json, const std::string& where) {
    bj::value v = parse_json(index_json, where);
    const bj::object* index = nullptr;
    if (v.is_object()) {
        auto it = v.as_object().find("index");
        if (it != v.as_object().end() && it->value().is_object()) index = &it->value().as_object();
    }
    if (!index)
        throw Error(Errc::image, where + ": not a simplestreams index (no \"index\" object)",
                    "the image server should serve streams/v1/index.json");
    auto pick = [&](const bj::object& entry) -> std::string {
        std::string path = str_or(entry, "path");
        if (!safe_relative_path(path))
            throw Error(Errc::image,
                        log::cat(where, ": catalogue path '", path, "' is not a relative path"));
        return path;
    };
    if (auto it = index->find("images"); it != index->end() && it->value().is_object())
        return pick(it->value().as_object());
    for (const auto& [key, entry] : *index)
        if (entry.is_object() && str_or(entry.as_object(), "datatype") == "image-downloads")
            return pick(entry.as_object());
    throw Error(Errc::image, where + ": the index lists no image-downloads catalogue",
                "the server is a simplestreams server without container images");
}

Catalogue parse_catalogue(std::string_view catalogue_json, const std::string& where) {
    bj::value v = parse_json(catalogue_json, where);
    if (!v.is_object() || !v.as_object().contains("products") ||
        !v.as_object().at("products").is_object())
        throw Error(Errc::image,
                    where + ": not a simplestreams product catalogue (no \"products\")");
    Catalogue cat;
    for (const auto& [id_sv, pv] : v.as_object().at("products").as_object()) {
        if (!pv.is_object()) continue;
        const auto& po = pv.as_object();
        Product p;
        p.id = std::string(id_sv);
        auto parts = split(p.id, ':');
        // The LXC server's ids are "<distro>:<release>:<arch>:<variant>"; the fields win when
        // present (other servers use other id schemes).
        p.distro = parts.size() == 4 ? parts[0] : "";
        p.release = parts.size() == 4 ? parts[1] : str_or(po, "release");
        p.arch = str_or(po, "arch", parts.size() == 4 ? parts[2] : "");
        p.variant = str_or(po, "variant", parts.size() == 4 ? parts[3] : "default");
        if (p.distro.empty()) {
            std::string os = str_or(po, "os");
            std::transform(os.begin(), os.end(), os.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            p.distro = os;
        }
        for (auto& a : split(str_or(po, "aliases"), ','))
            if (!a.empty()) p.aliases.push_back(a);
        auto versions = po.find("versions");
        if (versions != po.end() && versions->value().is_object()) {
            for (const auto& [ver, vv] : versions->value().as_object()) {
                if (!vv.is_object()) continue;
                auto items = vv.as_object().find("items");
                if (items == vv.as_object().end() || !items->value().is_object()) continue;
                auto& list = p.versions[std::string(ver)];
                for (const auto& [name, iv] : items->value().as_object()) {
                    if (!iv.is_object()) continue;
                    const auto& io = iv.as_object();
                    StreamItem item;
                    item.name = std::string(name);
                    item.ftype = str_or(io, "ftype");
                    item.path = str_or(io, "path");
                    item.sha256 = str_or(io, "sha256");
                    if (auto s = io.find("size"); s != io.end()) {
                        if (s->value().is_int64() && s->value().as_int64() >= 0)
                            item.size = static_cast<std::uint64_t>(s->value().as_int64());
                        else if (s->value().is_uint64())
                            item.size = s->value().as_uint64();
                    }
                    list.push_back(std::move(item));
                }
            }
        }
        cat.products.push_back(std::move(p));
    }
    return cat;
}

SelectedImage select_image(const Catalogue& catalogue, const ImageRef& ref, std::string_view arch,
                           const std::string& server) {
    const std::string name = display(ref);
    std::vector<const Product*> same_release;
    std::set<std::string> releases, distros, archs;
    for (const auto& p : catalogue.products) {
        distros.insert(p.distro);
        if (p.distro == ref.distro && p.arch == arch && p.variant == ref.variant)
            releases.insert(p.release);
        if (names_release(p, ref)) {
            same_release.push_back(&p);
            archs.insert(p.arch);
        }
    }
    if (same_release.empty()) {
        if (releases.empty() && !distros.contains(ref.distro))
            throw Error(
                Errc::image,
                log::cat(name, ": no such image on ", server,
                         "; available distros: ", join(distros)),
                "check the spelling, or point KARAPACE_IMAGE_SERVER at a server that has it");
        throw Error(Errc::image,
                    log::cat(name, ": no such image on ", server, "; available: ",
                             releases.empty() ? "none for " + std::string(arch) : join(releases)),
                    log::cat("use one of the available releases, e.g. ", ref.distro, "/",
                             releases.empty() ? "<release>" : *releases.rbegin()));
    }
    const Product* product = nullptr;
    for (const auto* p : same_release)
        if (p->arch == arch && p->variant == ref.variant) product = p;
    if (!product) {
        std::set<std::string> variants;
        for (const auto* p : same_release)
            if (p->arch == arch) variants.insert(p->variant);
        if (!variants.empty())
            throw Error(Errc::image, log::cat(name, ": no variant '", ref.variant, "' on ", server,
                                              "; available variants: ", join(variants)));
        throw Error(Errc::image,
                    log::cat(name, ": no ", arch, " build on ", server,
                             "; available architectures: ", join(archs)),
                    "this distro release is not published for this machine's architecture");
    }
    // Newest first: version names are build timestamps ("20261128_05:24"), so lexical order is
    // chronological.
    for (auto it = product->versions.rbegin(); it != product->versions.rend(); ++it) {
        for (const auto& ftype : rootfs_ftypes()) {
            for (const auto& item : it->second) {
                if (item.ftype != ftype) continue;
                if (!Digest::is_hex(item.sha256) || !safe_relative_path(item.path)) {
                    log::warn(product->id, " ", it->first, ": ", item.ftype,
                              " has no usable sha256 or path; skipping that build");
                    continue;
                }
                return {product->id, it->first, item, server + "/" + item.path};
            }
        }
    }
    throw Error(
        Errc::image,
        log::cat(name, ": ", product->id, " on ", server,
                 " has no build with a root filesystem tarball (", rootfs_ftypes().front(), ")"),
        "the server only publishes formats Karapace cannot extract (squashfs, VM disks)");
}

SelectedImage find_image(const ImageRef& ref, const Config& config) {
    const std::string index_url = config.server + "/streams/v1/index.json";
    const std::string name = display(ref);
    std::string index = fetch_text(index_url, config.download, kMaxIndexBytes, name, config.server);
    std::string path = catalogue_path(index, index_url);
    const std::string catalogue_url = config.server + "/" + path;
    Catalogue cat = parse_catalogue(
        fetch_text(catalogue_url, config.download, kMaxIndexBytes, name, config.server),
        catalogue_url);
    return select_image(cat, ref, effective_arch(config), config.server);
}

}  // namespace karapace::image
