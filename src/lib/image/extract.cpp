#include "karapace/image/extract.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <type_traits>

#include "karapace/sandbox/userns.hpp"
#include "karapace/store/remove.hpp"
#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::image {

namespace {

// Largest total of file contents accepted from one image (a decompression bomb guard).
constexpr std::uint64_t kMaxRootfsBytes = std::uint64_t{64} << 30;

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
    auto stats = store::unpack_tar_file(tarball, dest, opts);
    // The sandbox mounts its own /dev and needs the directory; tarballs built without device
    // nodes (mmdebstrap --skip=output/dev) may lack it. mkdir never follows a planted symlink.
    if (::mkdir((dest + "/dev").c_str(), 0755) != 0 && errno != EEXIST)
        throw_errno(Errc::image, "cannot create " + dest + "/dev");
    // Digested right away, in the same process: the tree exactly as it entered the cache.
    return {stats.entries, stats.bytes, store::digest_tree(dest)};
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
