#include "karapace/image/cache.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <random>

#include "karapace/image/extract.hpp"
#include "karapace/store/image_mark.hpp"
#include "karapace/store/layout.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/time.hpp"
#include "store/record.hpp"

namespace karapace::image {

namespace bj = boost::json;

namespace {

constexpr std::size_t kMaxRecordBytes = 1 << 20;

bool is_dir(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string record_json(const ImageRecord& r) {
    bj::object o;
    o["reference"] = r.reference;
    o["pinned_reference"] = r.pinned_reference;
    o["digest"] = r.digest.str();
    o["size"] = r.size;
    o["unpacked_bytes"] = r.unpacked_bytes;
    o["entries"] = r.entries;
    o["source"] = r.source;
    o["arch"] = r.arch;
    o["build"] = r.build;
    o["created"] = r.created;
    if (r.tree) o["tree"] = store::to_json(*r.tree);
    if (!r.config.empty()) {
        bj::array env;
        for (const auto& e : r.config.env)
            env.emplace_back(e);
        o["config"] = bj::object{
            {"env", env}, {"user", r.config.user}, {"working_dir", r.config.working_dir}};
    }
    if (!r.blobs.empty()) {
        bj::array blobs;
        for (const auto& d : r.blobs)
            blobs.emplace_back(d.str());
        o["blobs"] = std::move(blobs);
    }
    return store::seal_record(std::move(o));
}

std::uint64_t get_u64(const bj::object& o, std::string_view key, const std::string& what) {
    auto v = json::get_int(o, key, what);
    if (v < 0) throw Error(Errc::store, log::cat(what, ": ", key, " is negative"));
    return static_cast<std::uint64_t>(v);
}

// Records written before tree digests carry neither a checksum nor a tree: they are read as they
// are, without a tree. Any other record must have both, and its checksum must match.
ImageRecord parse_record(const std::string& text, const std::string& what) {
    auto v = json::parse(text, what);
    if (!v.is_object()) throw Error(Errc::store, what + ": not a JSON object");
    bj::object o = std::move(v.as_object());
    bool legacy = !o.contains("checksum") && !o.contains("tree");
    if (!legacy) o = store::open_record(text, what);
    ImageRecord r;
    r.reference = json::get_string(o, "reference", what);
    r.pinned_reference = json::get_string(o, "pinned_reference", what);
    r.digest = Digest::parse(json::get_string(o, "digest", what));
    r.size = get_u64(o, "size", what);
    r.unpacked_bytes = get_u64(o, "unpacked_bytes", what);
    r.entries = get_u64(o, "entries", what);
    r.source = json::get_string(o, "source", what);
    r.arch = json::get_string(o, "arch", what);
    r.build = json::get_string(o, "build", what);
    r.created = json::get_string(o, "created", what);
    if (!legacy) r.tree = store::tree_digest_from_json(json::field(o, "tree", what), what);
    if (o.contains("config")) {
        const auto& c = json::get_object(o, "config", what);
        for (const auto& e : json::get_array(c, "env", what)) {
            if (!e.is_string()) throw Error(Errc::store, what + ": config.env holds a non-string");
            r.config.env.emplace_back(e.as_string());
        }
        r.config.user = json::get_string(c, "user", what);
        r.config.working_dir = json::get_string(c, "working_dir", what);
        auto problem = schema::image_config_problem(r.config);
        if (!problem.empty()) throw Error(Errc::store, what + ": config: " + problem);
    }
    if (o.contains("blobs"))
        for (const auto& d : json::get_array(o, "blobs", what)) {
            if (!d.is_string()) throw Error(Errc::store, what + ": blobs holds a non-string");
            r.blobs.push_back(Digest::parse(std::string(d.as_string())));
        }
    return r;
}

std::string random_suffix() {
    std::random_device rd;
    return log::cat(::getpid(), "-", std::hex, rd());
}

std::vector<std::string> entries_of(const std::string& dir) {
    std::vector<std::string> names;
    DIR* d = ::opendir(dir.c_str());
    if (!d) return names;
    while (auto* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace

std::string reference_key(std::string_view reference) { return "ref-" + sha256(reference).hex(); }

ImageCache::ImageCache(const std::string& store_root)
    : layout_(store_root), dir_(layout_.images_dir()) {}

std::optional<CachedImage> ImageCache::find(const Digest& digest) const {
    const std::string dir = image_dir(digest);
    const std::string record_path = dir + "/image.json";
    if (::access(record_path.c_str(), F_OK) != 0) return std::nullopt;
    // Quietly: whoever needs the image fetches it again and says so (see ensure).
    if (auto why = damage(digest)) {
        log::debug("not using the cached image ", dir, ": marked damaged (", *why, ")");
        return std::nullopt;
    }
    try {
        ImageRecord r = parse_record(read_file_limited(record_path, kMaxRecordBytes), record_path);
        if (r.digest != digest)
            throw Error(Errc::store, record_path + " names digest " + r.digest.str());
        if (!is_dir(dir + "/rootfs")) throw Error(Errc::store, dir + "/rootfs is missing");
        return CachedImage{dir, dir + "/rootfs", std::move(r)};
    } catch (const Error& e) {
        log::warn("ignoring damaged cached image ", dir, ": ", e.what(),
                  " (it is fetched again when needed; karapace verify-store reports it)");
        return std::nullopt;
    }
}

std::optional<std::string> ImageCache::damage(const Digest& digest) const {
    return store::image_damage(layout_, digest);
}

void ImageCache::mark_damaged(const Digest& digest, const std::string& reason) const {
    store::mark_image_damaged(layout_, digest, reason);
}

std::optional<CachedImage> ImageCache::find_reference(std::string_view reference) const {
    const std::string path = dir_ + "/refs/" + sha256(reference).hex() + ".json";
    std::string text;
    try {
        text = read_file_limited(path, kMaxRecordBytes);
    } catch (const Error&) {
        return std::nullopt;
    }
    try {
        auto v = json::parse(text, path);
        const auto& o = v.as_object();
        if (json::get_string(o, "reference", path) != reference) return std::nullopt;
        return find(Digest::parse(json::get_string(o, "digest", path)));
    } catch (const std::exception& e) {
        log::warn("ignoring damaged image reference index ", path, ": ", e.what());
        return std::nullopt;
    }
}

void ImageCache::remember(std::string_view reference, const Digest& digest) const {
    bj::object o;
    o["reference"] = std::string(reference);
    o["digest"] = digest.str();
    const std::string path = dir_ + "/refs/" + sha256(reference).hex() + ".json";
    const std::string text = json::pretty(o);
    // Cache hits remember their reference too: skip the fsyncs when nothing changes.
    try {
        if (read_file_limited(path, kMaxRecordBytes) == text) return;
    } catch (const Error&) {}
    make_dirs(dir_ + "/refs");
    write_file_atomic(path, text);
}

void ImageCache::forget_references_to(const Digest& digest) const {
    const std::string refs = dir_ + "/refs";
    for (const auto& name : entries_of(refs)) {
        if (!name.ends_with(".json")) continue;
        const std::string path = refs + "/" + name;
        try {
            auto v = json::parse(read_file_limited(path, kMaxRecordBytes), path);
            if (json::get_string(v.as_object(), "digest", path) != digest.str()) continue;
        } catch (const std::exception&) {
            // A damaged index entry points nowhere useful: drop it too.
        }
        ::unlink(path.c_str());
    }
}

ImageLock ImageCache::lock(std::string_view key, ProgressSink& progress) const {
    make_dirs(dir_ + "/locks");
    const std::string path = dir_ + "/locks/" + std::string(key) + ".lock";
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (!fd) throw_errno(Errc::store, "cannot open image lock " + path);
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) throw_errno(Errc::store, "cannot lock " + path);
        progress.note("waiting for another karapace process fetching the same image");
        while (::flock(fd.get(), LOCK_EX) != 0)
            if (errno != EINTR) throw_errno(Errc::store, "cannot lock " + path);
    }
    return ImageLock(std::move(fd));
}

std::string ImageCache::download_path(std::string_view key) const {
    make_dirs(dir_ + "/downloads");
    return dir_ + "/downloads/" + std::string(key) + ".tar";
}

CachedImage ImageCache::install(const std::string& tarball, ImageRecord record,
                                ProgressSink& progress) const {
    return install_tree(std::move(record), [&](const std::string& rootfs) {
        return extract_rootfs(tarball, rootfs, progress);
    });
}

CachedImage ImageCache::install_tree(
    ImageRecord record, const std::function<ExtractStats(const std::string&)>& fill) const {
    make_dirs(dir_);
    const std::string hex = record.digest.hex();
    // Staging directories of this image left by a crashed process (we hold its lock).
    for (const auto& name : entries_of(dir_))
        if (name.starts_with(".tmp-" + hex + "-")) remove_rootfs_tree(dir_ + "/" + name);
    const std::string staging = dir_ + "/.tmp-" + hex + "-" + random_suffix();
    if (::mkdir(staging.c_str(), 0755) != 0) throw_errno(Errc::store, "cannot create " + staging);
    try {
        auto stats = fill(staging + "/rootfs");
        record.entries = stats.entries;
        record.unpacked_bytes = stats.bytes;
        record.tree = stats.tree;
        if (record.created.empty()) record.created = now_rfc3339();
        write_file_atomic(staging + "/image.json", record_json(record));
        fsync_dir(staging);
        const std::string final_dir = image_dir(record.digest);
        // An image dir without a readable image.json is debris of an older layout or damage; one
        // without a tree digest cannot be verified. Both give way to the fresh copy.
        auto present = find(record.digest);
        if (is_dir(final_dir) && (!present || !present->record.tree)) {
            const std::string debris = dir_ + "/.rm-" + hex + "-" + random_suffix();
            if (::rename(final_dir.c_str(), debris.c_str()) == 0) remove_rootfs_tree(debris);
        }
        if (::rename(staging.c_str(), final_dir.c_str()) != 0) {
            if (errno != EEXIST && errno != ENOTEMPTY)
                throw_errno(Errc::store, "cannot move " + staging + " to " + final_dir);
            remove_rootfs_tree(staging);  // another process installed it first
        }
        fsync_dir(dir_);
    } catch (...) {
        try {
            remove_rootfs_tree(staging);
        } catch (const std::exception& e) {
            log::warn("cannot remove ", staging, ": ", e.what());
        }
        throw;
    }
    auto installed = find(record.digest);
    if (!installed)
        throw Error(Errc::store, "image " + record.digest.str() + " vanished after installation");
    return *installed;
}

std::vector<CachedImage> ImageCache::list() const {
    std::vector<CachedImage> out;
    for (const auto& name : entries_of(dir_)) {
        if (!Digest::is_hex(name)) continue;
        if (auto img = find(Digest::from_hex(name))) out.push_back(std::move(*img));
    }
    std::sort(out.begin(), out.end(), [](const CachedImage& a, const CachedImage& b) {
        return a.record.created < b.record.created;
    });
    return out;
}

std::set<Digest> ImageCache::blobs_in_use(const std::optional<Digest>& except) const {
    std::set<Digest> out;
    for (const auto& name : entries_of(dir_)) {
        if (!Digest::is_hex(name) || (except && except->hex() == name)) continue;
        try {
            if (auto img = find(Digest::from_hex(name)))
                out.insert(img->record.blobs.begin(), img->record.blobs.end());
        } catch (const Error&) {
            // An unreadable record names no blob; verify-store reports it.
        }
    }
    return out;
}

void ImageCache::remove(const Digest& digest) const {
    const std::string dir = image_dir(digest);
    forget_references_to(digest);
    if (!is_dir(dir)) return;
    const std::string doomed = dir_ + "/.rm-" + digest.hex() + "-" + random_suffix();
    if (::rename(dir.c_str(), doomed.c_str()) != 0)
        throw_errno(Errc::store, "cannot remove " + dir);
    fsync_dir(dir_);
    remove_rootfs_tree(doomed);
}

}  // namespace karapace::image
