// Layers stored once. The unpacked tree under layers-unpacked/<hex>/ is what the overlay needs;
// the layer's tar, whose digest is its identity, is packed again from that tree (deterministic
// packing, store/tar_pack.cpp) when a push sends it or verify-store checks it. A tar object is
// kept only where packing the tree again does not give the same bytes (a layer written by
// another tool) and for snapshots, whose only copy is the object.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>

#include "core/engine_impl.hpp"
#include "karapace/sandbox/userns.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fault.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"

namespace karapace::core {

Engine::Impl::PackedTree Engine::Impl::pack_tree_as_container_root(const std::string& dir,
                                                                   std::int64_t mtime_clamp,
                                                                   int out_fd) {
    const std::string what = "the tar of " + dir;
    auto pack = [&] {
        Sha256 hasher;
        store::PackOptions po;
        po.mtime_clamp = mtime_clamp;
        auto r = store::pack_tree(
            dir,
            [&](const void* data, std::size_t n) {
                hasher.update(data, n);
                if (out_fd >= 0)
                    write_all(out_fd, std::string_view(static_cast<const char*>(data), n), what);
            },
            po);
        return PackedTree{hasher.finish(), r.size, r.files};
    };
    if (::geteuid() == 0) return pack();
    // The tree holds files of container ids: it is read as the namespace's root, in a child
    // whose result comes back through a pipe.
    Pipe result;
    sandbox::run_in_userns(
        [&] {
            result.read.reset();
            PackedTree value = pack();
            write_all(result.write.get(),
                      std::string_view(reinterpret_cast<const char*>(&value), sizeof value),
                      "the result of packing " + dir);
            return 0;
        },
        sandbox::IdMapping::container_root);
    result.write.reset();
    PackedTree value{};
    ssize_t n;
    do {
        n = ::read(result.read.get(), &value, sizeof value);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof value))
        throw Error(Errc::runtime, "packing " + dir + " in the user namespace gave no result");
    return value;
}

store::TarRegenerator Engine::Impl::tar_regenerator() {
    return [this](const std::string& dir, std::int64_t mtime_clamp) {
        // Each call of an unprivileged user forks a helper into the user namespace; forks from
        // verify-store's worker threads go one at a time (a fork copies only the calling thread).
        static std::mutex fork_mutex;
        std::unique_lock<std::mutex> one_at_a_time(fork_mutex, std::defer_lock);
        if (::geteuid() != 0) one_at_a_time.lock();
        auto packed = pack_tree_as_container_root(dir, mtime_clamp, -1);
        return store::RegeneratedTar{packed.digest, packed.size};
    };
}

std::optional<std::string> Engine::Impl::check_stored_once(const Digest& layer,
                                                           std::int64_t mtime_clamp) {
    const auto dir = layout().unpacked_layer_dir(layer);
    auto packed = pack_tree_as_container_root(dir, mtime_clamp, -1);
    if (packed.digest == layer) return std::nullopt;
    return "packing its unpacked tree again gives " + packed.digest.str() +
           " (a layer written by another tool, or a tree changed since it was unpacked)";
}

std::optional<Digest> Engine::Impl::lost_layer(const store::EnvMetadata& m) {
    auto& s = store();
    for (const auto& d : m.layers) {
        struct stat st {};
        if (::stat(layout().unpacked_layer_dir(d).c_str(), &st) == 0 || s.objects().exists(d) ||
            !s.layers().exists(d))
            continue;
        try {
            if (s.layers().get(d).stored == store::LayerStorage::unpacked) return d;
        } catch (const Error&) {}
    }
    return std::nullopt;
}

void Engine::Impl::drop_tar_copies(const std::vector<Digest>& layers) {
    auto& s = store();
    for (const auto& d : layers) {
        // Only once the record says the layer is stored unpacked and its tree is in place: a
        // crash before this leaves both copies, which gc reduces to one.
        if (!s.objects().exists(d) || !s.layers().exists(d)) continue;
        if (s.layers().get(d).stored != store::LayerStorage::unpacked) continue;
        struct stat st {};
        if (::stat(layout().unpacked_layer_dir(d).c_str(), &st) != 0) continue;
        fault_point("layer-once.before-remove-object");
        s.objects().remove(d);
        log::debug("layer ", d.str(), " is stored once, unpacked; its tar object was removed");
    }
}

void Engine::Impl::store_layers_once(GcSummary& out, bool dry_run, ProgressSink& progress) {
    auto& s = store();
    std::vector<store::EnvMetadata> records;
    try {
        records = all_metadata();
    } catch (const Error&) {
        return;  // gc refuses such a store itself, and says why
    }
    // Each layer with the clamps that may give its tar back: the SOURCE_DATE_EPOCH of the locks
    // it was built from, then none (a pulled layer's mtimes are already clamped).
    std::map<Digest, std::vector<std::int64_t>> clamps;
    std::set<Digest> snapshots;
    for (const auto& m : records) {
        snapshots.insert(m.snapshots.begin(), m.snapshots.end());
        std::optional<std::int64_t> epoch;
        try {
            if (m.lock_digest && !m.layers.empty())
                epoch = lock_of(m).source_date_epoch.value_or(0);
        } catch (const Error&) {}
        for (const auto& d : m.layers) {
            auto& c = clamps[d];
            if (epoch && std::find(c.begin(), c.end(), *epoch) == c.end()) c.push_back(*epoch);
        }
    }
    for (auto& [d, candidates] : clamps) {
        // Snapshots are kept as objects; a layer without its tree or its object is gc's and
        // verify-store's business.
        struct stat st {};
        if (snapshots.contains(d) || !s.layers().exists(d) || !s.objects().exists(d) ||
            ::stat(layout().unpacked_layer_dir(d).c_str(), &st) != 0)
            continue;
        store::Layer record;
        try {
            record = s.layers().get(d);
        } catch (const Error&) {
            continue;
        }
        if (record.stored == store::LayerStorage::unpacked ||
            record.kind == store::LayerKind::snapshot)
            continue;
        if (!record.tar_kept.empty()) {
            out.tars_kept.push_back(d.str() + ": " + record.tar_kept);
            out.tars_kept_bytes += record.size;
            continue;
        }
        if (dry_run) {
            out.stored_once.push_back(d.str());
            continue;
        }
        progress.step("checking whether layer " + short_digest(d) + " can be stored once", 0,
                      ProgressUnit::items);
        candidates.push_back(no_mtime_clamp);
        std::optional<std::int64_t> match;
        std::string why;
        for (auto clamp : candidates) {
            auto why_not = check_stored_once(d, clamp);
            if (!why_not) {
                match = clamp;
                break;
            }
            why = *why_not;
        }
        progress.finish(true);
        auto guard = lock_exclusive();
        auto fresh = s.layers().get(d);
        if (fresh.stored == store::LayerStorage::unpacked) continue;
        if (match) {
            fresh.stored = store::LayerStorage::unpacked;
            fresh.mtime_clamp = *match;
            fresh.tar_kept.clear();
            s.layers().replace(fresh);
            drop_tar_copies({d});
            out.stored_once.push_back(d.str());
            out.stored_once_bytes += fresh.size;
        } else {
            // Remembered, so later runs do not pack the tree again.
            fresh.tar_kept = why;
            s.layers().replace(fresh);
            out.tars_kept.push_back(d.str() + ": " + why);
            out.tars_kept_bytes += fresh.size;
        }
    }
}

UniqueFd Engine::Impl::regenerated_tar(const store::Layer& layer, const std::string& staging,
                                       const std::string& what) {
    const auto dir = layout().unpacked_layer_dir(layer.digest);
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0)
        throw Error(
            Errc::store,
            what + " (" + layer.digest.str() + ") is stored unpacked, and " + dir + " is missing",
            "build the environment again from its karapace.lock (`karapace build` in its "
            "manifest's directory makes the same layer), then push again");
    const auto path = staging + "/layer-" + short_digest(layer.digest) + ".tar";
    PackedTree packed;
    {
        // Opened here, as the host user, who reads it back to send it; the packing only writes.
        UniqueFd out(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
        if (!out) throw_errno(Errc::store, "cannot create " + path);
        packed = pack_tree_as_container_root(dir, layer.mtime_clamp, out.get());
    }
    if (packed.digest != layer.digest || packed.size != layer.size)
        throw Error(Errc::store,
                    "integrity check failed for " + what + " " + layer.digest.str() +
                        ": packing its unpacked tree " + dir + " again gives " +
                        packed.digest.str() + " (" + std::to_string(packed.size) +
                        " bytes, the layer has " + std::to_string(layer.size) +
                        "): the tree changed since the layer was stored; nothing was sent",
                    "run `karapace verify-store`, then rebuild the environment to make the layer "
                    "again (karapace rebuild)");
    UniqueFd in(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) throw_errno(Errc::store, "cannot open " + path);
    // The open descriptor keeps the bytes until they are sent; the name is not needed.
    ::unlink(path.c_str());
    return in;
}

}  // namespace karapace::core
