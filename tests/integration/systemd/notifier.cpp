// A static helper run inside test environments (which have no systemd tools):
//   notifier MESSAGE...   sends the messages, one datagram each, to $NOTIFY_SOCKET
//   notifier --serve      socket activation: checks LISTEN_PID/LISTEN_FDS, accepts one
//                         connection on descriptor 3, writes a line naming its pid, exits
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

int fail(const std::string& what) {
    std::fprintf(stderr, "notifier: %s\n", what.c_str());
    return 1;
}

int serve() {
    const char* pid = std::getenv("LISTEN_PID");
    const char* fds = std::getenv("LISTEN_FDS");
    if (!pid || std::to_string(::getpid()) != pid)
        return fail(std::string("LISTEN_PID is ") + (pid ? pid : "unset") + ", my pid " +
                    std::to_string(::getpid()));
    if (!fds || std::string(fds) != "1") return fail("LISTEN_FDS is not 1");
    int c = ::accept(3, nullptr, nullptr);
    if (c < 0) return fail(std::string("accept on fd 3: ") + std::strerror(errno));
    const char* names = std::getenv("LISTEN_FDNAMES");
    std::string line =
        "served by pid " + std::to_string(::getpid()) + " names " + (names ? names : "-") + "\n";
    if (::write(c, line.data(), line.size()) < 0) return fail("write");
    ::close(c);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 2 && std::string(argv[1]) == "--serve") return serve();
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return fail("NOTIFY_SOCKET is not set");
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (path[0] == '@') a.sun_path[0] = '\0';
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + std::strlen(path) +
                                           (path[0] == '@' ? 0 : 1));
    int s = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    for (int i = 1; i < argc; ++i)
        if (::sendto(s, argv[i], std::strlen(argv[i]), 0, reinterpret_cast<sockaddr*>(&a), len) < 0)
            return fail(std::string("sendto ") + path + ": " + std::strerror(errno));
    return 0;
}
