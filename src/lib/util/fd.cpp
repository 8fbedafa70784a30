#include "karapace/util/fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "karapace/util/error.hpp"

namespace karapace {

void UniqueFd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

Pipe::Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw_errno(Errc::failed, "cannot create a pipe");
    read.reset(fds[0]);
    write.reset(fds[1]);
}

void write_all(int fd, std::string_view data, const std::string& what) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(Errc::failed, "cannot write " + what);
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::string read_file_limited(const std::string& path, std::size_t limit) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno(Errc::failed, "cannot open " + path);
    std::string out;
    char buf[65536];
    // No more than the limit allows asked for at once: a /proc/sys file's read makes a kernel
    // buffer of the size asked for (64 KiB is a vmalloc, about 20 µs here).
    const std::size_t chunk = limit < sizeof buf ? limit + 1 : sizeof buf;
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, chunk);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw_errno(Errc::failed, "cannot read " + path);
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit)
            throw Error(Errc::failed, path + " is larger than " + std::to_string(limit) + " bytes");
    }
    return out;
}

std::string read_file(const std::string& path) {
    return read_file_limited(path, static_cast<std::size_t>(1) << 30);
}

}  // namespace karapace
