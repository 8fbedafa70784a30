// Drift and snapshots of an environment's writable layer: diff against the layers below,
// commit the upper layer as a snapshot layer, list them, and restore one with an atomic swap.
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "core/engine_impl.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/time.hpp"

namespace karapace::core {

namespace fs = std::filesystem;

namespace {

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

// fuse-overlayfs, where it cannot set the overlay xattrs, marks an opaque directory with an OCI
// style `.wh..wh..opq` file (and hides that name in the lowers with a `.wh..opq` whiteout).
constexpr std::string_view fuse_opaque_marker = ".wh..wh..opq";
constexpr std::string_view fuse_marker_whiteout = ".wh..opq";

bool is_opaque(const std::string& dir) {
    char value[4] = {};
    for (const char* name : {"user.overlay.opaque", "trusted.overlay.opaque"}) {
        ssize_t n = ::lgetxattr(dir.c_str(), name, value, sizeof value);
        if (n == 1 && value[0] == 'y') return true;
    }
    struct stat st {};
    return ::lstat((dir + "/" + std::string(fuse_opaque_marker)).c_str(), &st) == 0 &&
           S_ISREG(st.st_mode);
}

bool in_lowers(const std::vector<std::string>& lowers, const std::string& rel) {
    struct stat st {};
    for (const auto& l : lowers) {
        if (::lstat((l + "/" + rel).c_str(), &st) == 0) return !is_whiteout(st);
    }
    return false;
}

void walk(const std::string& upper, const std::string& rel, const std::vector<std::string>& lowers,
          DiffReport& out) {
    std::error_code ec;
    fs::directory_iterator it(rel.empty() ? upper : upper + "/" + rel, ec);
    if (ec) throw Error(Errc::permission, "cannot read " + upper + "/" + rel + ": " + ec.message());
    for (const auto& entry : it) {
        auto name = entry.path().filename().string();
        auto path = rel.empty() ? name : rel + "/" + name;
        struct stat st {};
        if (::lstat(entry.path().c_str(), &st) != 0) continue;
        if (name == fuse_opaque_marker || name == fuse_marker_whiteout) continue;
        if (is_whiteout(st)) {
            out.removed.push_back(path);
        } else if (S_ISDIR(st.st_mode)) {
            bool below = in_lowers(lowers, path);
            if (!below)
                out.added.push_back(path + "/");
            else if (is_opaque(entry.path()))
                out.modified.push_back(path + "/");
            walk(upper, path, lowers, out);
        } else if (in_lowers(lowers, path)) {
            out.modified.push_back(path);
        } else {
            out.added.push_back(path);
        }
    }
}

// The walk again, inside the user namespace, for a writable layer that holds directories only
// sub-ids may read (apt's partial/ is _apt's, mode 0700): the lists come back through a memfd as
// NUL-terminated entries, each led by its list's letter.
// `as_root` runs a function as container root (Engine::Impl::as_container_root).
template <class AsRoot>
void walk_as_container_root(AsRoot&& as_root, const std::string& upper,
                            const std::vector<std::string>& lowers, DiffReport& out) {
    UniqueFd result(::memfd_create("karapace-diff", MFD_CLOEXEC));
    if (!result) throw_errno(Errc::runtime, "cannot make a buffer for the diff");
    as_root([&] {
        DiffReport found;
        walk(upper, "", lowers, found);
        std::string text;
        for (auto [letter, list] :
             {std::pair{'+', &found.added}, {'~', &found.modified}, {'-', &found.removed}}) {
            for (const auto& path : *list) {
                text += letter;
                text += path;
                text += '\0';
            }
        }
        write_all(result.get(), text, "the diff");
    });
    auto text = read_file("/proc/self/fd/" + std::to_string(result.get()));
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\0', pos);
        if (end == std::string::npos || end == pos) break;
        std::string path = text.substr(pos + 1, end - pos - 1);
        switch (text[pos]) {
        case '+': out.added.push_back(std::move(path)); break;
        case '~': out.modified.push_back(std::move(path)); break;
        default: out.removed.push_back(std::move(path)); break;
        }
        pos = end + 1;
    }
}

}  // namespace

DiffReport Engine::diff(std::string_view env) {
    auto m = impl_->find(env);
    check_operation(Impl::label(m), impl_->state_of(m), Operation::diff);
    DiffReport out;
    out.env_id = m.env_id.str();
    auto upper = impl_->layout().env_dir(m.env_id) + "/upper";
    struct stat st {};
    if (::stat(upper.c_str(), &st) != 0) return out;
    auto lowers = impl_->lower_dirs(m);
    try {
        walk(upper, "", lowers, out);
    } catch (const Error& e) {
        if (e.code() != Errc::permission || ::geteuid() == 0) throw;
        out = DiffReport{};
        out.env_id = m.env_id.str();
        walk_as_container_root(
            [&](const std::function<void()>& fn) { impl_->as_container_root(fn); }, upper, lowers,
            out);
    }
    for (auto* v : {&out.added, &out.modified, &out.removed})
        std::sort(v->begin(), v->end());
    return out;
}

SnapshotInfo Engine::commit(std::string_view env, ProgressSink& progress) {
    auto m = impl_->find(env);
    check_operation(Impl::label(m), impl_->state_for_change(m), Operation::commit);
    auto& s = impl_->store();
    auto upper = impl_->layout().env_dir(m.env_id) + "/upper";

    progress.step("packing the writable layer of " + Impl::label(m), 0, ProgressUnit::items);
    auto staging = impl_->make_staging("commit");
    store::Layer layer;
    try {
        layer = impl_->pack_as_container_root(upper, staging, Impl::no_mtime_clamp);
    } catch (...) {
        impl_->remove_tree(staging);
        throw;
    }
    impl_->remove_tree(staging);
    progress.finish(true);

    layer.kind = store::LayerKind::snapshot;
    if (!m.layers.empty()) layer.parent = m.layers.back();
    {
        auto lock = impl_->lock_exclusive();
        auto op = s.wal().begin("commit", m.env_id.str());
        if (s.layers().exists(layer.digest))
            layer = s.layers().get(layer.digest);
        else
            s.layers().put(layer);
        auto fresh = s.metadata().get(m.env_id);
        if (std::find(fresh.snapshots.begin(), fresh.snapshots.end(), layer.digest) ==
            fresh.snapshots.end()) {
            fresh.snapshots.push_back(layer.digest);
            s.metadata().put(fresh);
        }
        op.commit();
    }
    return {layer.digest.hex(), layer.created, layer.size, layer.file_count};
}

std::vector<SnapshotInfo> Engine::snapshots(std::string_view env) {
    auto m = impl_->find(env);
    std::vector<SnapshotInfo> out;
    for (const auto& d : m.snapshots) {
        auto l = impl_->store().layers().get(d);
        out.push_back({d.hex(), l.created, l.size, l.file_count});
    }
    return out;
}

void Engine::restore(std::string_view env, std::string_view snapshot, ProgressSink& progress) {
    auto m = impl_->find(env);
    check_operation(Impl::label(m), impl_->state_for_change(m), Operation::restore);
    std::vector<Digest> matches;
    for (const auto& d : m.snapshots)
        if (snapshot.size() >= 4 && d.hex().starts_with(snapshot)) matches.push_back(d);
    if (matches.empty())
        throw Error(
            Errc::not_found,
            "environment " + Impl::label(m) + " has no snapshot '" + std::string(snapshot) + "'",
            "list them with `karapace snapshots " + Impl::label(m) + "`");
    if (matches.size() > 1)
        throw Error(Errc::usage, "snapshot prefix '" + std::string(snapshot) +
                                     "' matches several snapshots; give more characters");
    auto digest = matches.front();
    auto& s = impl_->store();
    auto env_dir = impl_->layout().env_dir(m.env_id);
    const std::string what =
        "snapshot " + digest.hex().substr(0, 12) + " of environment " + Impl::label(m);
    // A damaged snapshot is refused before anything changes: its record is read and verified
    // first, and its tar object is checked against the digest while it is unpacked into staging.
    auto refuse = [&](const std::string& file, const Error& e) {
        return Error(Errc::store,
                     "cannot restore " + what + ": " + file + " is unusable: " + e.what(),
                     "nothing was changed. Run `karapace verify-store`; put back " + file +
                         " from a backup, or restore another snapshot (`karapace snapshots " +
                         Impl::label(m) + "` lists them)");
    };
    try {
        s.layers().get(digest);
    } catch (const Error& e) {
        throw refuse("its layer record " + impl_->layout().layer_path(digest), e);
    }

    progress.step("unpacking " + what, 0, ProgressUnit::items);
    auto staging = impl_->make_staging("restore");
    try {
        try {
            // Made as the host user, who swaps it into place below.
            make_dirs(staging + "/upper", 0755);
            impl_->as_container_root([&] {
                store::UnpackOptions uo;
                store::unpack_layer(s.objects(), digest, staging + "/upper", uo);
            });
        } catch (const Error& e) {
            if (e.code() == Errc::store || e.code() == Errc::not_found)
                throw refuse("its tar object " + impl_->layout().object_path(digest), e);
            throw;
        }
        progress.finish(true);

        auto lock = impl_->lock_exclusive();
        // Checked again under the lock: a session may have started meanwhile.
        check_operation(Impl::label(m), impl_->state_for_change(m), Operation::restore);
        auto op = s.wal().begin("restore", m.env_id.str());
        op.add_step(store::RemoveTree{impl_->layout().relative(staging)});
        // One atomic swap: the upper layer is either the old one or the snapshot, never a mix.
        if (::renameat2(AT_FDCWD, (staging + "/upper").c_str(), AT_FDCWD,
                        (env_dir + "/upper").c_str(), RENAME_EXCHANGE) != 0)
            throw_errno(Errc::store, "cannot swap in the restored layer at " + env_dir + "/upper");
        op.commit();
    } catch (...) {
        impl_->remove_tree(staging);
        throw;
    }
    // The old upper now sits in staging; the overlay work dir is reset with it.
    impl_->remove_tree(staging);
    impl_->remove_tree(env_dir + "/work");
    make_dirs(env_dir + "/work", 0700);
}

}  // namespace karapace::core
