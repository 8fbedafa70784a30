// Step: network isolation. A new network namespace holds only a loopback device, which starts
// down; bringing it up makes 127.0.0.1 work while nothing outside is reachable.
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "sandbox/steps.hpp"

namespace karapace::sandbox {

void bring_up_loopback() {
    UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock) throw_errno(Errc::runtime, "cannot open a socket to configure the loopback device");
    struct ifreq req {};
    std::strncpy(req.ifr_name, "lo", IFNAMSIZ - 1);
    if (::ioctl(sock.get(), SIOCGIFFLAGS, &req) != 0)
        throw_errno(Errc::runtime, "cannot read the flags of the loopback device");
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
    if (::ioctl(sock.get(), SIOCSIFFLAGS, &req) != 0)
        throw_errno(Errc::runtime, "cannot bring the loopback device up");
}

}  // namespace karapace::sandbox
