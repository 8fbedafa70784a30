#include "karapace/image/extract.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

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
    return {stats.entries, stats.bytes};
}

}  // namespace

ExtractStats extract_rootfs(const std::string& tarball, const std::string& dest_dir,
                            ProgressSink& progress) {
    progress.step("extracting root filesystem", 0, ProgressUnit::items);
    ExtractStats stats;
    try {
        if (::geteuid() == 0) {
            stats = unpack(tarball, dest_dir, progress);
        } else {
            // The child's counters come back through a pipe (it is a separate process).
            int fds[2];
            if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(Errc::failed, "cannot create a pipe");
            UniqueFd r(fds[0]), w(fds[1]);
            sandbox::run_in_userns(
                [&] {
                    r.reset();
                    ExtractStats s = unpack(tarball, dest_dir, progress);
                    write_all(w.get(),
                              std::string_view(reinterpret_cast<const char*>(&s), sizeof s),
                              "extraction statistics");
                    return 0;
                },
                sandbox::IdMapping::container_root);
            w.reset();
            ssize_t n;
            do {
                n = ::read(r.get(), &stats, sizeof stats);
            } while (n < 0 && errno == EINTR);
            if (n != static_cast<ssize_t>(sizeof stats))
                throw Error(Errc::image, "extraction of " + tarball + " ended without a result");
        }
    } catch (...) {
        progress.finish(false);
        throw;
    }
    progress.finish(true);
    return stats;
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
