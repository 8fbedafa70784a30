#include "karapace/store/verify.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>

#include "karapace/store/image_mark.hpp"
#include "karapace/store/layers.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/store/objects.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/store/wal.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "store/fsutil.hpp"
#include "store/record.hpp"

namespace karapace::store {

namespace bj = boost::json;

namespace {

class Checker {
public:
    Checker(const Layout& l, const VerifyOptions& o) : layout_(l), opts_(o) {}

    VerifyReport run() {
        objects();
        layers();
        metadata();
        names();
        images();
        wal();
        return std::move(r_);
    }

private:
    void fail(std::string kind, std::string path, std::string reason) {
        std::lock_guard<std::mutex> g(mu_);
        r_.failures.push_back({std::move(kind), std::move(path), std::move(reason)});
    }

    // Objects are re-hashed on every core: each worker takes the next name from a shared index.
    void objects() {
        std::vector<std::string> names;
        for (auto& n : list_dir(layout_.objects_dir())) {
            if (is_temp_name(n)) continue;
            if (!Digest::is_hex(n)) {
                fail("object", layout_.objects_dir() + "/" + n, "not an object name");
                ++r_.objects_checked;
                continue;
            }
            names.push_back(std::move(n));
        }
        r_.threads = threads_for(names.size());
        if (opts_.progress != nullptr)
            opts_.progress->step("verifying objects", names.size(), ProgressUnit::items);
        std::atomic<std::size_t> next{0};
        std::atomic<std::uint64_t> ok{0}, bytes{0}, done{0};
        auto work = [&] {
            for (std::size_t i = next++; i < names.size(); i = next++) {
                std::string path = layout_.objects_dir() + "/" + names[i];
                try {
                    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
                    if (!fd) throw_errno(Errc::store, "cannot open");
                    struct stat st {};
                    if (::fstat(fd.get(), &st) == 0)
                        bytes += static_cast<std::uint64_t>(st.st_size);
                    Digest got = sha256_fd(fd.get());
                    if (got.hex() != names[i])
                        fail("object", path, "content hashes to " + got.str());
                    else
                        ++ok;
                } catch (const std::exception& e) {
                    fail("object", path, e.what());
                }
                auto d = ++done;
                if (opts_.progress != nullptr) {
                    std::lock_guard<std::mutex> g(mu_);
                    opts_.progress->advance(d);
                }
            }
        };
        run_on_all_cores(work, names.size());
        if (opts_.progress != nullptr) opts_.progress->finish(true);
        r_.objects_checked += names.size();
        r_.objects_ok = ok;
        r_.object_bytes = bytes;
    }

    // Records first; then the layers stored once are packed again, on all cores like objects.
    void layers() {
        LayerStore store(layout_);
        ObjectStore objs(layout_);
        std::vector<std::pair<Layer, std::string>> unpacked;  // record, its path
        for (const auto& n : list_dir(layout_.layers_dir())) {
            if (is_temp_name(n)) continue;
            ++r_.layers_checked;
            std::string path = layout_.layers_dir() + "/" + n;
            if (n.size() != 69 || !n.ends_with(".json") || !Digest::is_hex(n.substr(0, 64))) {
                fail("layer", path, "not a layer record name");
                continue;
            }
            try {
                Layer l = store.get(Digest::from_hex(n.substr(0, 64)));
                if (l.parent && !store.exists(*l.parent)) {
                    fail("layer", path, "its parent layer " + l.parent->str() + " is missing");
                    continue;
                }
                if (l.stored == LayerStorage::unpacked) {
                    ++r_.layers_unpacked;
                    unpacked.emplace_back(std::move(l), std::move(path));
                    continue;
                }
                ++r_.layers_with_tar;
                if (!objs.exists(l.digest)) {
                    fail("layer", path, "its tar object " + l.digest.str() + " is missing");
                    continue;
                }
                if (objs.size(l.digest) != l.size) {
                    fail("layer", path, "size differs from its tar object");
                    continue;
                }
                ++r_.layers_ok;
            } catch (const std::exception& e) {
                fail("layer", path, e.what());
            }
        }
        if (unpacked.empty()) return;
        if (opts_.progress != nullptr)
            opts_.progress->step("verifying layers stored unpacked", unpacked.size(),
                                 ProgressUnit::items);
        std::atomic<std::size_t> next{0};
        std::atomic<std::uint64_t> ok{0}, done{0};
        auto work = [&] {
            for (std::size_t i = next++; i < unpacked.size(); i = next++) {
                const auto& [l, path] = unpacked[i];
                if (unpacked_layer(l, path)) ++ok;
                auto d = ++done;
                if (opts_.progress != nullptr) {
                    std::lock_guard<std::mutex> g(mu_);
                    opts_.progress->advance(d);
                }
            }
        };
        run_on_all_cores(work, unpacked.size());
        if (opts_.progress != nullptr) opts_.progress->finish(true);
        r_.layers_ok += ok;
    }

    // A layer stored once: its tree is there and packs again into the tar its digest names.
    bool unpacked_layer(const Layer& l, const std::string& path) {
        const std::string dir = layout_.unpacked_layer_dir(l.digest);
        auto st = lstat_path(dir);
        if (!st || !S_ISDIR(st->st_mode)) {
            fail(
                "layer", path,
                "it is stored unpacked and " + dir +
                    " is missing; build the environments that use it again (`karapace build` makes "
                    "the layer again from their karapace.lock), or remove it with `karapace gc` "
                    "if none does");
            return false;
        }
        try {
            auto got = opts_.regenerate_layer(dir, l.mtime_clamp);
            if (got.digest == l.digest && got.size == l.size) return true;
            fail("layer", path,
                 "its unpacked tree " + dir + " changed: packed again it gives " +
                     got.digest.str() + " (" + std::to_string(got.size) + " bytes, recorded " +
                     std::to_string(l.size) +
                     "); rebuild the environments that use it (karapace rebuild)");
        } catch (const std::exception& e) {
            fail("layer", path, "cannot pack its unpacked tree " + dir + " again: " + e.what());
        }
        return false;
    }

    unsigned threads_for(std::size_t items) const {
        unsigned threads = opts_.threads != 0 ? opts_.threads : std::thread::hardware_concurrency();
        return std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(items)));
    }

    // Runs `work` on this thread and threads_for(items) - 1 others; each takes the next item.
    template <class Work>
    void run_on_all_cores(Work& work, std::size_t items) {
        std::vector<std::thread> pool;
        for (unsigned t = 1; t < threads_for(items); ++t)
            pool.emplace_back(work);
        work();
        for (auto& t : pool)
            t.join();
    }

    void metadata() {
        MetadataStore md(layout_);
        LayerStore layers(layout_);
        ObjectStore objs(layout_);
        for (auto& e : md.list()) {
            ++r_.metadata_checked;
            if (!e.ok()) {
                fail("metadata", e.path, e.error);
                continue;
            }
            const EnvMetadata& m = *e.record;
            std::string problem;
            if (m.manifest_object && !objs.exists(*m.manifest_object))
                problem = "its manifest object " + m.manifest_object->str() + " is missing";
            for (const auto& l : m.layers)
                if (problem.empty() && !layers.exists(l))
                    problem = "its layer " + l.str() + " is missing";
            for (const auto& l : m.snapshots)
                if (problem.empty() && !layers.exists(l))
                    problem = "its snapshot " + l.str() + " is missing";
            if (!problem.empty()) {
                fail("metadata", e.path, problem);
                continue;
            }
            ++r_.metadata_ok;
        }
    }

    void names() {
        MetadataStore md(layout_);
        auto problems = md.name_index_problems(&r_.names_checked);
        for (auto& p : problems)
            fail("name", std::move(p.path), std::move(p.reason) + "; `karapace gc` removes it");
        r_.names_ok = r_.names_checked - problems.size();
    }

    void images() {
        for (const auto& n : list_dir(layout_.images_dir())) {
            if (!Digest::is_hex(n)) continue;  // temp and lock files of the image cache
            ++r_.images_checked;
            if (image(Digest::from_hex(n))) ++r_.images_ok;
        }
    }

    // One cached image: its mark, its record, and the digest of its root filesystem.
    bool image(const Digest& digest) {
        const std::string dir = layout_.image_dir(digest);
        const std::string json_path = dir + "/image.json";
        const std::string refetch = "rebuild an environment that uses it to fetch it again";
        auto damaged = [&](const std::string& reason) {
            fail("image", dir, reason + "; " + refetch);
            std::lock_guard<std::mutex> g(mu_);
            r_.damaged_images.emplace_back(digest, reason);
            return false;
        };
        if (auto why = image_damage(layout_, digest)) {
            fail("image", dir, "marked damaged (" + *why + "); " + refetch);
            return false;
        }
        if (!lstat_path(json_path)) {
            fail("image", dir, "no image.json (an interrupted download?)");
            return false;
        }
        bj::object record;
        try {
            std::string text = read_file_limited(json_path, 1 << 20);
            auto v = json::parse(text, json_path);
            if (v.is_object() && !v.as_object().contains("checksum") &&
                !v.as_object().contains("tree")) {
                fail("image", dir,
                     "cannot be verified: it was cached before karapace recorded the digest of "
                     "image files; " +
                         refetch);
                return false;
            }
            record = open_record(text, json_path);
        } catch (const std::exception& e) {
            return damaged(e.what());
        }
        TreeDigest recorded;
        try {
            auto named = Digest::parse(json::get_string(record, "digest", json_path));
            if (named != digest)
                throw Error(Errc::store, json_path + " names digest " + named.str());
            recorded = tree_digest_from_json(json::field(record, "tree", json_path), json_path);
        } catch (const std::exception& e) {
            return damaged(e.what());
        }
        auto root = lstat_path(dir + "/rootfs");
        if (!root || !S_ISDIR(root->st_mode)) return damaged("the rootfs directory is missing");
        TreeDigest now;
        try {
            now = opts_.digest_rootfs(dir + "/rootfs");
        } catch (const Error& e) {
            // An entry that cannot be read is a change; failing to enter the user namespace is not.
            if (e.code() == Errc::store) return damaged(e.what());
            fail("image", dir, std::string("cannot digest its root filesystem: ") + e.what());
            return false;
        } catch (const std::exception& e) {
            fail("image", dir, std::string("cannot digest its root filesystem: ") + e.what());
            return false;
        }
        if (now.digest != recorded.digest)
            return damaged("its root filesystem changed since it was unpacked: " +
                           describe_difference(recorded, now) + " (tree digest " +
                           now.digest.str() + ", recorded " + recorded.digest.str() + ")");
        return true;
    }

    void wal() {
        Wal w(layout_);
        for (const auto& l : w.list()) {
            ++r_.wal_entries;
            if (!l.entry) fail("wal", l.path, l.error);
        }
    }

    const Layout& layout_;
    const VerifyOptions& opts_;
    VerifyReport r_;
    std::mutex mu_;
};

std::string bytes_text(std::uint64_t b) {
    std::ostringstream out;
    out.precision(1);
    out << std::fixed;
    if (b >= (1ull << 30))
        out << static_cast<double>(b) / (1ull << 30) << " GiB";
    else if (b >= (1ull << 20))
        out << static_cast<double>(b) / (1ull << 20) << " MiB";
    else if (b >= 1024)
        out << static_cast<double>(b) / 1024 << " KiB";
    else
        return std::to_string(b) + " B";
    return out.str();
}

}  // namespace

RegeneratedTar regenerate_tar(const std::string& dir, std::int64_t mtime_clamp) {
    Sha256 hasher;
    PackOptions po;
    po.mtime_clamp = mtime_clamp;
    auto r = pack_tree(
        dir, [&](const void* data, std::size_t n) { hasher.update(data, n); }, po);
    return {hasher.finish(), r.size};
}

VerifyReport verify_store(const Layout& layout, const VerifyOptions& opts) {
    Checker c(layout, opts);
    return c.run();
}

bj::object to_json(const VerifyReport& r) {
    bj::object o;
    o["ok"] = r.ok();
    auto pair = [](std::uint64_t checked, std::uint64_t ok) {
        bj::object p;
        p["checked"] = checked;
        p["ok"] = ok;
        return p;
    };
    o["objects"] = pair(r.objects_checked, r.objects_ok);
    o["object_bytes"] = r.object_bytes;
    o["layers"] = pair(r.layers_checked, r.layers_ok);
    o["layers_unpacked"] = r.layers_unpacked;
    o["layers_with_tar"] = r.layers_with_tar;
    o["metadata"] = pair(r.metadata_checked, r.metadata_ok);
    o["names"] = pair(r.names_checked, r.names_ok);
    o["images"] = pair(r.images_checked, r.images_ok);
    o["wal_entries"] = r.wal_entries;
    o["threads"] = r.threads;
    bj::array failures;
    for (const auto& f : r.failures) {
        bj::object x;
        x["kind"] = f.kind;
        x["path"] = f.path;
        x["reason"] = f.reason;
        failures.push_back(std::move(x));
    }
    o["failures"] = std::move(failures);
    return o;
}

std::string human_summary(const VerifyReport& r) {
    std::ostringstream out;
    out << (r.ok() ? "store OK: " : "store DAMAGED: ") << r.objects_ok << "/" << r.objects_checked
        << " objects (" << bytes_text(r.object_bytes) << ", " << r.threads << " threads), "
        << r.layers_ok << "/" << r.layers_checked << " layers (" << r.layers_unpacked
        << " stored once, unpacked; " << r.layers_with_tar << " as tar objects), " << r.metadata_ok
        << "/" << r.metadata_checked << " environments, " << r.names_ok << "/" << r.names_checked
        << " names, " << r.images_ok << "/" << r.images_checked << " images\n";
    for (const auto& f : r.failures)
        out << "  FAIL " << f.kind << " " << f.path << ": " << f.reason << "\n";
    return out.str();
}

void require_clean(const VerifyReport& r) {
    if (r.ok()) return;
    throw Error(
        Errc::store,
        std::to_string(r.failures.size()) + " problem(s) found in the store:\n" + human_summary(r),
        "restore damaged files from a backup, or rebuild the environments that use them "
        "and run `karapace gc`");
}

}  // namespace karapace::store
