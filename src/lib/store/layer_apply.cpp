// Applying one OCI image layer blob: libarchive decompresses it (gzip, zstd or none) through its
// raw format, the decompressed stream is hashed on its way to the tar reader, and the blob is
// hashed as it is read, so both digests are checked in the one pass that extracts. Reading,
// decompressing and hashing run on a read-ahead thread, creating the files on the caller's.
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"
#include "store/archive_lib.hpp"
#include "store/read_ahead.hpp"

namespace karapace::store {

namespace {

constexpr std::size_t kChunk = std::size_t{256} * 1024;

[[noreturn]] void blob_mismatch(const Digest& want, const Digest& got) {
    throw Error(Errc::image,
                "the layer blob hashes to " + got.str() + ", not to " + want.str() +
                    " as its manifest says",
                "the registry's copy is damaged, truncated or was tampered with; nothing of the "
                "image was kept");
}

[[noreturn]] void diff_id_mismatch(const Digest& want, const Digest& got) {
    throw Error(Errc::image,
                "the decompressed layer hashes to " + got.str() + ", not to " + want.str() +
                    " as the image config's rootfs.diff_ids says",
                "the image's config and its layers disagree; the image is broken or was "
                "tampered with, so nothing of it was kept");
}

struct HashedBlob {
    int fd;
    Sha256 hash;
    std::vector<char> buf = std::vector<char>(kChunk);

    static la_ssize_t read_cb(archive* a, void* self, const void** out) {
        auto* b = static_cast<HashedBlob*>(self);
        for (;;) {
            ssize_t n = ::read(b->fd, b->buf.data(), b->buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                archive_lib().set_error(a, errno, "read error");
                return -1;
            }
            b->hash.update(b->buf.data(), static_cast<std::size_t>(n));
            *out = b->buf.data();
            return n;
        }
    }

    // Whatever the decompressor did not need still belongs to the blob.
    Digest finish() {
        for (;;) {
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno(Errc::image, "cannot read the layer blob");
            if (n == 0) break;
            hash.update(buf.data(), static_cast<std::size_t>(n));
        }
        return hash.finish();
    }

    // The blob, read to its end, is what the manifest names.
    void check(const LayerDigests& digests) {
        auto got = finish();
        if (got != digests.blob) blob_mismatch(digests.blob, got);
    }
    // The same, then the decompressed stream (`diff`) is what the config's diff_ids name.
    void check(const LayerDigests& digests, Sha256& diff) {
        check(digests);
        auto got = diff.finish();
        if (got != digests.diff_id) diff_id_mismatch(digests.diff_id, got);
    }
};

struct RawReader {
    archive* a = archive_lib().read_new();
    ~RawReader() { archive_lib().read_free(a); }
};

}  // namespace

std::uint64_t decompress_image_layer(int fd, const LayerDigests& digests, int out_fd) {
    HashedBlob blob{fd, Sha256()};
    RawReader raw;
    if (raw.a == nullptr) throw Error(Errc::failed, "libarchive: out of memory");
    archive_lib().read_support_filter_all(raw.a);
    archive_lib().read_support_format_raw(raw.a);
    Sha256 diff;
    std::uint64_t written = 0;
    try {
        auto fail = [&] {
            const char* msg = archive_lib().error_string(raw.a);
            throw Error(Errc::image,
                        std::string("cannot decompress the layer: ") +
                            (msg != nullptr ? msg : "unknown libarchive error"),
                        "the layer is corrupt or truncated");
        };
        if (archive_lib().read_open(raw.a, &blob, nullptr, &HashedBlob::read_cb, nullptr) !=
            ARCHIVE_OK)
            fail();
        archive_entry* e = nullptr;
        int r = archive_lib().read_next_header(raw.a, &e);
        if (r < ARCHIVE_WARN) fail();
        std::vector<char> out(kChunk);
        while (r != ARCHIVE_EOF) {
            la_ssize_t n = archive_lib().read_data(raw.a, out.data(), out.size());
            if (n < 0) fail();
            if (n == 0) break;
            diff.update(out.data(), static_cast<std::size_t>(n));
            for (std::size_t off = 0; off < static_cast<std::size_t>(n);) {
                ssize_t w = ::write(out_fd, out.data() + off, static_cast<std::size_t>(n) - off);
                if (w < 0 && errno == EINTR) continue;
                if (w < 0) throw_errno(Errc::store, "cannot write the decompressed layer");
                off += static_cast<std::size_t>(w);
            }
            written += static_cast<std::uint64_t>(n);
        }
    } catch (const Error& e) {
        if (e.code() != Errc::store) blob.check(digests);
        throw;
    }
    blob.check(digests, diff);
    return written;
}

UnpackStats apply_image_layer(int fd, const LayerDigests& digests, const std::string& dest_dir,
                              const UnpackOptions& opts) {
    HashedBlob blob{fd, Sha256()};
    RawReader raw;
    if (raw.a == nullptr) throw Error(Errc::failed, "libarchive: out of memory");
    archive_lib().read_support_filter_all(raw.a);
    archive_lib().read_support_format_raw(raw.a);
    auto decompress_error = [&] {
        const char* msg = archive_lib().error_string(raw.a);
        return Error(Errc::image,
                     std::string("cannot decompress the layer: ") +
                         (msg != nullptr ? msg : "unknown libarchive error"),
                     "the layer is corrupt or truncated");
    };
    bool empty = false;
    try {
        if (archive_lib().read_open(raw.a, &blob, nullptr, &HashedBlob::read_cb, nullptr) !=
            ARCHIVE_OK)
            throw decompress_error();
        archive_entry* e = nullptr;
        int r = archive_lib().read_next_header(raw.a, &e);
        if (r == ARCHIVE_EOF)
            empty = true;
        else if (r < ARCHIVE_WARN)
            throw decompress_error();
    } catch (const Error&) {
        blob.check(digests);
        throw;
    }

    // Decompressing and hashing run on a read-ahead thread while this one creates the files.
    Sha256 diff;
    Filler decode = [&](char* buf, std::size_t cap) -> std::size_t {
        if (empty) return 0;
        la_ssize_t n = archive_lib().read_data(raw.a, buf, cap);
        if (n < 0) throw decompress_error();
        diff.update(buf, static_cast<std::size_t>(n));
        return static_cast<std::size_t>(n);
    };
    UnpackStats stats;
    try {
        // Scoped so that the thread has stopped before the blob and the hashes are read again.
        ReadAhead ahead(decode);
        TarSource source = [&](const void** data) { return ahead.next(data); };
        stats = unpack_tar_source(source, dest_dir, opts);
        // The tar reader stops at the end-of-archive blocks; the padding after them still counts.
        const void* rest = nullptr;
        while (source(&rest) > 0) {}
    } catch (const Error& e) {
        // A damaged blob explains a broken archive better than the parse error does.
        if (e.code() != Errc::cancelled) blob.check(digests);
        throw;
    }
    blob.check(digests, diff);
    return stats;
}

}  // namespace karapace::store
