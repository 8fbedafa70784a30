// A tiny static program copied into the test rootfs, for what busybox cannot do:
//   probe listen <unix path>      accept one connection on a new unix socket, then exit 0
//   probe connect <unix path>     connect to a unix socket (exit 0 on success)
//   probe tcp <ipv4> <port>       connect over TCP within 2 seconds (exit 0 on success)
//   probe alloc <MiB>             allocate and touch that much memory (exit 0 on success)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

int fail(const char* what) {
    std::fprintf(stderr, "probe: %s: %s\n", what, std::strerror(errno));
    return 1;
}

sockaddr_un unix_address(const char* path) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
    return addr;
}

int listen_unix(const char* path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = unix_address(path);
    ::unlink(path);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("bind");
    if (::listen(fd, 1) != 0) return fail("listen");
    std::printf("listening\n");
    std::fflush(stdout);
    int c = ::accept(fd, nullptr, nullptr);
    if (c < 0) return fail("accept");
    return 0;
}

int connect_unix(const char* path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    auto addr = unix_address(path);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return fail("connect");
    return 0;
}

int connect_tcp(const char* ip, const char* port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::atoi(port)));
    ::inet_pton(AF_INET, ip, &addr.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return 0;
    if (errno != EINPROGRESS) return fail("connect");
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, 2000) != 1) {
        errno = ETIMEDOUT;
        return fail("connect");
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    errno = err;
    return err == 0 ? 0 : fail("connect");
}

int allocate(const char* mib) {
    std::size_t n = std::strtoull(mib, nullptr, 10) << 20;
    // volatile: otherwise the compiler drops the stores (nothing reads them) and no page is ever
    // touched, which a cgroup memory limit (unlike RLIMIT_AS) would never notice.
    auto* p = static_cast<volatile char*>(std::malloc(n));
    if (!p) return fail("malloc");
    for (std::size_t i = 0; i < n; i += 4096)
        p[i] = 1;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc >= 3 && !std::strcmp(argv[1], "listen")) return listen_unix(argv[2]);
    if (argc >= 3 && !std::strcmp(argv[1], "connect")) return connect_unix(argv[2]);
    if (argc >= 4 && !std::strcmp(argv[1], "tcp")) return connect_tcp(argv[2], argv[3]);
    if (argc >= 3 && !std::strcmp(argv[1], "alloc")) return allocate(argv[2]);
    std::fprintf(stderr, "usage: probe listen|connect|tcp|alloc ...\n");
    return 64;
}
