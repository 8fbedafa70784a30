#include "karapace/image/extract.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <type_traits>

#include "karapace/sandbox/userns.hpp"
#include "karapace/store/remove.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::image {

namespace {

// Largest total of file contents accepted from one image (a decompression bomb guard).
constexpr std::uint64_t kMaxRootfsBytes = std::uint64_t{64} << 30;

// The sandbox mounts its own /dev and needs the directory; tarballs built without device nodes
// (mmdebstrap --skip=output/dev) may lack it. mkdir never follows a planted symlink.
void ensure_dev_dir(const std::string& dest) {
    if (::mkdir((dest + "/dev").c_str(), 0755) != 0 && errno != EEXIST)
        throw_errno(Errc::image, "cannot create " + dest + "/dev");
}

ExtractStats apply_all(const std::vector<LayerFile>& layers, const std::string& dest,
                       ProgressSink& progress) {
    store::UnpackOptions opts;
    opts.allow_whiteouts = true;
    opts.whiteouts = store::WhiteoutFormat::apply;
    opts.keep_ownership = true;
    opts.keep_xattrs = true;
    opts.skip_devices = true;  // as for tarballs: the sandbox brings its own /dev
    opts.progress = &progress;
    store::WrittenContents written;  // the tree digest below takes the hashes from here
    opts.written = &written;
    make_dirs(dest);
    ExtractStats total;
    std::size_t i = 0;
    for (const auto& layer : layers) {
        ++i;
        opts.max_bytes = kMaxRootfsBytes - std::min(total.bytes, kMaxRootfsBytes - 1);
        UniqueFd fd(::open(layer.path.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd) throw_errno(Errc::image, "cannot open layer blob " + layer.path);
        try {
            auto stats = store::apply_image_layer(fd.get(), layer.digests, dest, opts);
            total.entries += stats.entries;
            total.bytes += stats.bytes;
        } catch (const Error& e) {
            throw Error(e.code() == Errc::cancelled ? Errc::cancelled : Errc::image,
                        "layer " + std::to_string(i) + " of " + std::to_string(layers.size()) +
                            " (" + layer.digests.blob.str() + "): " + e.what(),
                        e.hint());
        }
    }
    ensure_dev_dir(dest);
    total.tree = store::digest_unpacked_tree(dest, written);
    return total;
}

ExtractStats unpack(const std::string& tarball, const std::string& dest, ProgressSink& progress) {
    store::UnpackOptions opts;
    opts.allow_whiteouts = false;  // base image tarballs are not layers
    opts.keep_ownership = true;
    opts.keep_xattrs = true;
    opts.progress = &progress;
    opts.max_bytes = kMaxRootfsBytes;
    // Rootfs tarballs often carry /dev/console, /dev/null...: the sandbox mounts its own /dev, and
    // a device node must never be created from an archive, so they are left out.
    opts.skip_devices = true;
    store::WrittenContents written;
    opts.written = &written;
    auto stats = store::unpack_tar_file(tarball, dest, opts);
    ensure_dev_dir(dest);
    // Digested right away, in the same process: the tree exactly as it entered the cache. File
    // contents were hashed as they were written (the staging directory is this process's alone),
    // so only the metadata is read again.
    return {stats.entries, stats.bytes, store::digest_unpacked_tree(dest, written)};
}

// Runs `fn` as container root: directly as root, otherwise inside the user namespace. Its result
// comes back through a pipe, since there it runs in another process.
template <class T>
T as_container_root(const std::function<T()>& fn, const std::string& what) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (::geteuid() == 0) return fn();
    Pipe result;
    sandbox::run_in_userns(
        [&] {
            result.read.reset();
            T value = fn();
            write_all(result.write.get(),
                      std::string_view(reinterpret_cast<const char*>(&value), sizeof value), what);
            return 0;
        },
        sandbox::IdMapping::container_root);
    result.write.reset();
    T value{};
    ssize_t n;
    do {
        n = ::read(result.read.get(), &value, sizeof value);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(sizeof value))
        throw Error(Errc::image, what + " ended without a result");
    return value;
}

}  // namespace

ExtractStats extract_rootfs(const std::string& tarball, const std::string& dest_dir,
                            ProgressSink& progress) {
    progress.step("extracting root filesystem", 0, ProgressUnit::items);
    ExtractStats stats;
    try {
        stats = as_container_root<ExtractStats>([&] { return unpack(tarball, dest_dir, progress); },
                                                "extraction of " + tarball);
    } catch (...) {
        progress.finish(false);
        throw;
    }
    progress.finish(true);
    return stats;
}

ExtractStats apply_layers(const std::vector<LayerFile>& layers, const std::string& dest_dir,
                          ProgressSink& progress) {
    progress.step(
        "applying " + std::to_string(layers.size()) + (layers.size() == 1 ? " layer" : " layers"),
        0, ProgressUnit::items);
    ExtractStats stats;
    try {
        stats =
            as_container_root<ExtractStats>([&] { return apply_all(layers, dest_dir, progress); },
                                            "applying the layers into " + dest_dir);
    } catch (...) {
        progress.finish(false);
        throw;
    }
    progress.finish(true);
    return stats;
}

store::TreeDigest digest_rootfs(const std::string& rootfs) {
    return as_container_root<store::TreeDigest>([&] { return store::digest_tree(rootfs); },
                                                "the digest of " + rootfs);
}

void remove_rootfs_tree(const std::string& path) {
    if (::geteuid() == 0) {
        store::remove_tree(path);
        return;
    }
    sandbox::run_in_userns(
        [&] {
            store::remove_tree(path);
            return 0;
        },
        sandbox::IdMapping::container_root);
}

}  // namespace karapace::image
