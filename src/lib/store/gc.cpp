#include "karapace/store/gc.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <sstream>

#include "karapace/store/layers.hpp"
#include "karapace/store/lock.hpp"
#include "karapace/store/metadata.hpp"
#include "karapace/store/wal.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/time.hpp"
#include "store/fsutil.hpp"

namespace karapace::store {

namespace bj = boost::json;

namespace {

// What every metadata record (and every operation in flight) keeps alive.
struct LiveSet {
    std::set<Digest> layers, objects, images;
    std::set<std::string> envs;
    std::vector<std::string> protected_paths;  // relative to the root
};

LiveSet find_live(const Layout& layout) {
    LiveSet live;
    MetadataStore md(layout);
    LayerStore layers(layout);
    std::vector<Digest> todo;
    std::set<Digest> snapshots;
    for (const auto& m : md.list_all_or_throw()) {
        live.envs.insert(m.env_id.str());
        if (m.manifest_object) live.objects.insert(*m.manifest_object);
        if (m.lock_digest) live.objects.insert(*m.lock_digest);
        if (m.base_image_digest) live.images.insert(*m.base_image_digest);
        todo.insert(todo.end(), m.layers.begin(), m.layers.end());
        todo.insert(todo.end(), m.snapshots.begin(), m.snapshots.end());
        snapshots.insert(m.snapshots.begin(), m.snapshots.end());
    }
    // Layers keep their tar object and, transitively, their parent layer. A layer stored once
    // keeps its unpacked tree instead: a tar object left beside it (a crash between its record
    // and the object's removal) goes, unless the tree is missing or a snapshot (which is only
    // ever an object) has the same digest.
    while (!todo.empty()) {
        Digest d = todo.back();
        todo.pop_back();
        if (!live.layers.insert(d).second) continue;
        if (!layers.exists(d)) {
            live.objects.insert(d);
            continue;
        }
        Layer l = layers.get(d);  // an unreadable referenced layer stops gc: its parent is unknown
        if (l.stored != LayerStorage::unpacked || snapshots.contains(d) ||
            !lstat_path(layout.unpacked_layer_dir(d)))
            live.objects.insert(d);
        if (l.parent) todo.push_back(*l.parent);
    }
    for (const auto& l : Wal(layout).list()) {
        if (!l.entry)
            throw Error(Errc::store, "cannot read WAL entry " + l.path + ": " + l.error,
                        "gc cannot know what that operation was producing; run `karapace "
                        "verify-store` and remove the entry once nothing depends on it");
        live.protected_paths.insert(live.protected_paths.end(), l.entry->protects.begin(),
                                    l.entry->protects.end());
    }
    return live;
}

std::int64_t age_of(const struct stat& st, time_t now) {
    return std::max<std::int64_t>(0, static_cast<std::int64_t>(now - st.st_mtime));
}

// Signs that another operation works in the store right now, outside the lock gc holds: its
// results may not be recorded yet, so only the default grace period keeps them safe. Every build,
// pull, push, commit, restore and layer unpack works in a staging directory while it runs; an
// image fetch holds its image lock and unpacks into images/.tmp-*; an operation between its WAL
// entry and its commit has a live owner. Leftovers of crashed operations older than `recent` are
// not signs (gc removes them).
std::vector<std::string> operations_in_flight(const Layout& layout, time_t now,
                                              std::chrono::seconds recent) {
    std::vector<std::string> out;
    auto young = [&](const std::string& dir, const std::string& name, const std::string& what) {
        auto st = lstat_path(dir + "/" + name);
        if (!st || age_of(*st, now) >= recent.count()) return;
        out.push_back(what + " " + layout.relative(dir + "/" + name) + ", " +
                      format_duration(std::chrono::seconds(age_of(*st, now))) + " old");
    };
    for (const auto& n : list_dir(layout.staging_dir()))
        young(layout.staging_dir(), n, "work directory");
    for (const auto& n : list_dir(layout.images_dir()))
        if (is_temp_name(n)) young(layout.images_dir(), n, "image being unpacked in");
    // The image cache's fetch locks (image/cache.cpp): flock held while an image is fetched.
    const std::string locks = layout.images_dir() + "/locks";
    for (const auto& n : list_dir(locks)) {
        std::string path = locks;
        path.append("/").append(n);
        UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
        if (!fd) continue;
        if (::flock(fd.get(), LOCK_SH | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK) out.push_back("image fetch holding " + layout.relative(path));
            continue;
        }
        ::flock(fd.get(), LOCK_UN);
    }
    for (const auto& l : Wal(layout).list())
        if (l.entry && process_alive(l.entry->owner_pid, l.entry->owner_start))
            out.push_back(l.entry->kind + " of pid " + std::to_string(l.entry->owner_pid) +
                          " (WAL entry " + layout.relative(l.path) + ")");
    return out;
}

class Collector {
public:
    Collector(const Layout& l, LiveSet live, std::chrono::seconds grace, time_t now)
        : layout_(l), live_(std::move(live)), grace_(grace), now_(now) {}

    // Fills `removable` and `kept` (garbage within the grace period).
    void candidates(std::vector<GcItem>& removable, std::vector<GcItem>& kept) {
        envs();
        records("layer", layout_.layers_dir(), [&](const std::string& n) {
            return n.size() == 69 && n.ends_with(".json") && Digest::is_hex(n.substr(0, 64)) &&
                   !live_.layers.contains(Digest::from_hex(n.substr(0, 64)));
        });
        trees("unpacked-layer", layout_.unpacked_layers_dir(), [&](const std::string& n) {
            return !Digest::is_hex(n) || !live_.layers.contains(Digest::from_hex(n));
        });
        trees("image", layout_.images_dir(), [&](const std::string& n) {
            return Digest::is_hex(n) && !live_.images.contains(Digest::from_hex(n));
        });
        // Layer blobs of docker:// images: kept while an image that stays names them.
        auto blobs = blobs_in_use();
        records("blob", layout_.images_dir() + "/blobs", [&](const std::string& n) {
            return Digest::is_hex(n) && !blobs.contains(Digest::from_hex(n));
        });
        trees("staging", layout_.staging_dir(), [](const std::string&) { return true; });
        records("object", layout_.objects_dir(), [&](const std::string& n) {
            return Digest::is_hex(n) && !live_.objects.contains(Digest::from_hex(n));
        });
        temps(layout_.metadata_dir());
        temps(layout_.names_dir());
        // The name index is a hint that can be rebuilt: broken entries only mislead. Entries are
        // written under the exclusive lock gc holds, so none is in flight: no grace period.
        for (const auto& p : MetadataStore(layout_).name_index_problems())
            add("name", p.path, true, false);
        temps(layout_.wal_dir());
        temps(layout_.store_dir());
        removable = std::move(items_);
        kept = std::move(kept_);
    }

private:
    // The blobs named in the records (`blobs`) of the cached images gc keeps: those an
    // environment uses and those within the grace period. A record that cannot be read names
    // none: blobs are a download cache, fetched again when missing.
    std::set<Digest> blobs_in_use() const {
        std::set<Digest> out;
        for (const auto& name : list_dir(layout_.images_dir())) {
            if (!Digest::is_hex(name)) continue;
            const std::string dir = layout_.images_dir() + "/" + name;
            auto st = lstat_path(dir);
            if (!st || (!live_.images.contains(Digest::from_hex(name)) &&
                        age_of(*st, now_) >= grace_.count()))
                continue;
            try {
                auto text = read_file_limited(dir + "/image.json", 1 << 20);
                auto v = json::parse(text, "image.json");
                if (!v.is_object()) continue;
                auto* list = v.as_object().if_contains("blobs");
                if (list == nullptr || !list->is_array()) continue;
                for (const auto& d : list->as_array())
                    if (d.is_string() && d.as_string().starts_with("sha256:") &&
                        Digest::is_hex(std::string_view(d.as_string()).substr(7)))
                        out.insert(Digest::from_hex(std::string_view(d.as_string()).substr(7)));
            } catch (const Error&) {}
        }
        return out;
    }

    bool is_protected(const std::string& rel) const {
        for (const auto& p : live_.protected_paths)
            if (rel == p || rel.starts_with(p + "/") || p.starts_with(rel + "/")) return true;
        return false;
    }

    void add(const std::string& kind, const std::string& abs, bool tree, bool grace = true) {
        auto st = lstat_path(abs);
        if (!st) return;
        std::string rel = layout_.relative(abs);
        if (grace && is_protected(rel)) return;
        std::uint64_t bytes = tree ? tree_size(abs) : static_cast<std::uint64_t>(st->st_size);
        GcItem item{kind, std::move(rel), bytes, age_of(*st, now_)};
        (grace && item.age < grace_.count() ? kept_ : items_).push_back(std::move(item));
    }

    template <class Pred>
    void records(const std::string& kind, const std::string& dir, Pred garbage) {
        for (const auto& n : list_dir(dir)) {
            if (is_temp_name(n))
                add("temp", dir + "/" + n, false);
            else if (garbage(n))
                add(kind, dir + "/" + n, false);
        }
    }

    template <class Pred>
    void trees(const std::string& kind, const std::string& dir, Pred garbage) {
        for (const auto& n : list_dir(dir)) {
            if (is_temp_name(n))
                add("temp", dir + "/" + n, true);
            else if (garbage(n))
                add(kind, dir + "/" + n, true);
        }
    }

    void envs() {
        for (const auto& n : list_dir(layout_.envs_dir()))
            if (!live_.envs.contains(n))
                add(is_temp_name(n) ? "temp" : "env", layout_.envs_dir() + "/" + n, true);
    }

    void temps(const std::string& dir) {
        for (const auto& n : list_dir(dir))
            if (is_temp_name(n)) add("temp", dir + "/" + n, true);
    }

    const Layout& layout_;
    LiveSet live_;
    std::chrono::seconds grace_;
    time_t now_;
    std::vector<GcItem> items_, kept_;
};

}  // namespace

std::size_t GcReport::count(std::string_view kind) const {
    return static_cast<std::size_t>(
        std::count_if(items.begin(), items.end(), [&](const GcItem& i) { return i.kind == kind; }));
}

GcReport collect_garbage(const Layout& layout, const StoreLock& lock, const GcOptions& opts) {
    lock.require_exclusive("gc");
    GcReport report;
    report.dry_run = opts.dry_run;
    fault_point("gc.begin");
    const time_t now = ::time(nullptr);
    report.grace = opts.grace;
    if (opts.grace < opts.busy_grace) {
        report.in_flight = operations_in_flight(layout, now, opts.busy_grace);
        if (!report.in_flight.empty()) report.grace = opts.busy_grace;
    }
    Collector c(layout, find_live(layout), report.grace, now);
    c.candidates(report.items, report.kept);
    for (const auto& i : report.items)
        report.bytes += i.bytes;
    for (const auto& i : report.kept)
        report.kept_bytes += i.bytes;
    if (opts.dry_run) return report;

    Wal wal(layout, opts.remover);
    WalOp op = wal.begin("gc");
    if (opts.progress != nullptr)
        opts.progress->step("removing garbage", report.items.size(), ProgressUnit::items);
    for (const auto& item : report.items) {
        if ((opts.cancel != nullptr && opts.cancel->load()) ||
            (opts.progress != nullptr && opts.progress->cancelled())) {
            report.cancelled = true;
            break;
        }
        std::string abs = layout.resolve(item.path);
        auto st = lstat_path(abs);
        if (st && S_ISDIR(st->st_mode)) {
            opts.remover(abs);
        } else if (::unlink(abs.c_str()) != 0 && errno != ENOENT) {
            throw_errno(Errc::store, "gc cannot remove " + abs);
        }
        ++report.removed;
        if (report.removed == 1) fault_point("gc.after-first-removal");
        if (opts.progress != nullptr) opts.progress->advance(report.removed);
    }
    if (opts.progress != nullptr) opts.progress->finish(!report.cancelled);
    fault_point("gc.before-commit");
    op.commit();
    if (report.cancelled) {
        // Only what was removed counts; the rest stays for the next run.
        report.items.resize(report.removed);
        report.bytes = 0;
        for (const auto& i : report.items)
            report.bytes += i.bytes;
    }
    return report;
}

bj::object to_json(const GcReport& r) {
    bj::object o;
    o["dry_run"] = r.dry_run;
    o["cancelled"] = r.cancelled;
    o["bytes"] = r.bytes;
    o["removed"] = r.removed;
    bj::object counts;
    for (const char* k :
         {"env", "layer", "unpacked-layer", "image", "blob", "staging", "object", "temp"})
        counts[k] = r.count(k);
    o["counts"] = std::move(counts);
    auto list = [](const std::vector<GcItem>& from) {
        bj::array items;
        for (const auto& i : from)
            items.push_back(bj::object{
                {"kind", i.kind}, {"path", i.path}, {"bytes", i.bytes}, {"age_seconds", i.age}});
        return items;
    };
    o["items"] = list(r.items);
    o["kept"] = list(r.kept);
    o["kept_bytes"] = r.kept_bytes;
    o["grace_seconds"] = r.grace.count();
    bj::array in_flight;
    for (const auto& w : r.in_flight)
        in_flight.emplace_back(w);
    o["in_flight"] = std::move(in_flight);
    return o;
}

std::string human_summary(const GcReport& r) {
    std::ostringstream out;
    out << (r.dry_run ? "gc: would remove "
                      : (r.cancelled ? "gc (cancelled): removed " : "gc: removed "))
        << r.items.size() << " item(s), " << r.bytes << " bytes";
    bool first = true;
    for (const char* k :
         {"env", "layer", "unpacked-layer", "image", "blob", "staging", "object", "temp"}) {
        auto n = r.count(k);
        if (n == 0) continue;
        out << (first ? " (" : ", ") << n << " " << k << (n == 1 ? "" : "s");
        first = false;
    }
    if (!first) out << ")";
    out << "\n";
    if (r.dry_run)
        for (const auto& i : r.items)
            out << "  " << i.kind << " " << i.path << " (" << i.bytes << " bytes)\n";
    if (!r.kept.empty())
        out << "gc: kept " << r.kept.size() << " item(s), " << r.kept_bytes
            << " bytes younger than the grace period of " << format_duration(r.grace) << "\n";
    return out.str();
}

}  // namespace karapace::store
