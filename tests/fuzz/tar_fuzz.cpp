// libFuzzer target for the hardened tar unpacker: arbitrary archives are extracted into a fresh
// directory and must either unpack or raise karapace::Error, never write outside it or crash.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "karapace/store/tar.hpp"
#include "karapace/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    int fd = ::memfd_create("fuzz-tar", MFD_CLOEXEC);
    if (fd < 0) return 0;
    if (::write(fd, data, size) != static_cast<ssize_t>(size)) {
        ::close(fd);
        return 0;
    }
    ::lseek(fd, 0, SEEK_SET);
    char tmpl[] = "/tmp/karapace-fuzz-tar-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) {
        ::close(fd);
        return 0;
    }
    try {
        karapace::store::UnpackOptions opts;
        opts.keep_ownership = false;
        opts.max_bytes = 64 << 20;
        karapace::store::unpack_tar_fd(fd, std::string(tmpl) + "/out", opts);
    } catch (const karapace::Error&) {}
    ::close(fd);
    std::error_code ec;
    std::filesystem::remove_all(tmpl, ec);
    return 0;
}
