#include "store/decompress.hpp"

#include <lzma.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "karapace/util/error.hpp"
#include "store/archive_lib.hpp"
#include "util/dynamic_library.hpp"

namespace karapace::store {

namespace {

constexpr std::size_t kInput = std::size_t{1} << 20;

// liblzma, loaded when an xz tarball is first extracted (libarchive depends on it anyway).
struct LzmaLib {
    decltype(&::lzma_stream_decoder_mt) stream_decoder_mt;
    decltype(&::lzma_code) code;
    decltype(&::lzma_end) end;
    decltype(&::lzma_physmem) physmem;
};

const LzmaLib& lzma_lib() {
    static const LzmaLib api = [] {
        constexpr const char* hint = "install liblzma 5.4 or newer (Debian: liblzma5)";
        const DynamicLibrary lib("liblzma.so.5", "liblzma", Errc::failed, hint, hint);
        LzmaLib l{};
        lib.resolve("lzma_stream_decoder_mt", l.stream_decoder_mt);
        lib.resolve("lzma_code", l.code);
        lib.resolve("lzma_end", l.end);
        lib.resolve("lzma_physmem", l.physmem);
        return l;
    }();
    return api;
}

std::uint32_t usable_cpus() {
    cpu_set_t set;
    if (::sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
    long n = ::sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<std::uint32_t>(n) : 1;
}

std::string lzma_problem(lzma_ret r) {
    switch (r) {
    case LZMA_MEM_ERROR: return "out of memory";
    case LZMA_MEMLIMIT_ERROR: return "the stream needs more memory than allowed";
    case LZMA_FORMAT_ERROR: return "not an xz stream";
    case LZMA_OPTIONS_ERROR: return "the stream uses options this liblzma does not support";
    case LZMA_DATA_ERROR: return "the compressed data is corrupt";
    case LZMA_BUF_ERROR: return "the compressed data is truncated";
    default: return "liblzma error " + std::to_string(static_cast<int>(r));
    }
}

std::size_t read_some(int fd, char* buf, std::size_t cap) {
    for (;;) {
        ssize_t n = ::read(fd, buf, cap);
        if (n >= 0) return static_cast<std::size_t>(n);
        if (errno != EINTR) throw_errno(Errc::failed, "cannot read the compressed archive");
    }
}

struct XzState {
    int fd;
    lzma_stream s = LZMA_STREAM_INIT;
    std::vector<std::uint8_t> in = std::vector<std::uint8_t>(kInput);
    bool eof = false;
    bool ended = false;

    explicit XzState(int f) : fd(f) {
        const auto& lib = lzma_lib();
        lzma_mt mt{};
        mt.flags = LZMA_CONCATENATED;
        mt.threads = std::min<std::uint32_t>(usable_cpus(), 16);
        // Above this the decoder falls back to one thread rather than fail; no hard limit, as
        // for `xz -d` (the extraction caps the bytes it writes).
        mt.memlimit_threading = std::max<std::uint64_t>(lib.physmem() / 4, std::uint64_t{64} << 20);
        mt.memlimit_stop = UINT64_MAX;
        lzma_ret r = lib.stream_decoder_mt(&s, &mt);
        if (r != LZMA_OK)
            throw Error(Errc::failed, "cannot start the xz decoder: " + lzma_problem(r));
    }
    ~XzState() { lzma_lib().end(&s); }
    XzState(const XzState&) = delete;
    XzState& operator=(const XzState&) = delete;

    std::size_t fill(char* buf, std::size_t cap) {
        s.next_out = reinterpret_cast<std::uint8_t*>(buf);
        s.avail_out = cap;
        while (s.avail_out > 0 && !ended) {
            if (s.avail_in == 0 && !eof) {
                std::size_t n = read_some(fd, reinterpret_cast<char*>(in.data()), in.size());
                eof = n == 0;
                s.next_in = in.data();
                s.avail_in = n;
            }
            lzma_ret r = lzma_lib().code(&s, eof ? LZMA_FINISH : LZMA_RUN);
            if (r == LZMA_STREAM_END) {
                ended = true;
            } else if (r != LZMA_OK) {
                throw Error(Errc::failed, "cannot decompress the archive (xz): " + lzma_problem(r),
                            "the file is damaged or truncated: download it again");
            }
        }
        return cap - s.avail_out;
    }
};

struct RawState {
    archive* a = archive_lib().read_new();
    bool empty = false;

    explicit RawState(int fd) {
        if (a == nullptr) throw Error(Errc::failed, "libarchive: out of memory");
        archive_lib().read_support_filter_all(a);
        archive_lib().read_support_format_raw(a);
        if (archive_lib().read_open_fd(a, fd, kInput) != ARCHIVE_OK) throw problem();
        archive_entry* e = nullptr;
        int r = archive_lib().read_next_header(a, &e);
        if (r == ARCHIVE_EOF)
            empty = true;
        else if (r < ARCHIVE_WARN)
            throw problem();
    }
    ~RawState() { archive_lib().read_free(a); }
    RawState(const RawState&) = delete;
    RawState& operator=(const RawState&) = delete;

    Error problem() const {
        const char* msg = archive_lib().error_string(a);
        return Error(Errc::failed,
                     std::string("cannot decompress the archive: ") +
                         (msg != nullptr ? msg : "unknown libarchive error"),
                     "the file is damaged or truncated: download it again");
    }

    std::size_t fill(char* buf, std::size_t cap) {
        if (empty) return 0;
        la_ssize_t n = archive_lib().read_data(a, buf, cap);
        if (n < 0) throw problem();
        return static_cast<std::size_t>(n);
    }
};

}  // namespace

Compression sniff_compression(int fd) {
    unsigned char m[6] = {};
    ssize_t n;
    do {
        n = ::pread(fd, m, sizeof m, 0);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return Compression::other;
    auto starts = [&](std::initializer_list<unsigned char> magic) {
        return static_cast<std::size_t>(n) >= magic.size() &&
               std::equal(magic.begin(), magic.end(), m);
    };
    if (starts({0xfd, '7', 'z', 'X', 'Z', 0x00})) return Compression::xz;
    if (starts({0x1f, 0x8b})) return Compression::gzip;
    if (starts({0x28, 0xb5, 0x2f, 0xfd})) return Compression::zstd;
    if (starts({'B', 'Z', 'h'})) return Compression::bzip2;
    return Compression::other;
}

Filler xz_decoder(int fd) {
    auto state = std::make_shared<XzState>(fd);
    return [state](char* buf, std::size_t cap) { return state->fill(buf, cap); };
}

Filler archive_decoder(int fd) {
    auto state = std::make_shared<RawState>(fd);
    return [state](char* buf, std::size_t cap) { return state->fill(buf, cap); };
}

}  // namespace karapace::store
