// Step: network isolation. A new network namespace holds only a loopback device, which starts
// down; bringing it up makes 127.0.0.1 work while nothing outside is reachable.
//
// Making the namespace is the kernel's costliest part of a sandbox's start (every network
// subsystem sets itself up in it: about half a millisecond here, as long as the child's steps
// before its mounts). So it is not made by the child's clone: where this build can make system
// calls without libc (x86-64, aarch64), a process sharing the child's memory and descriptors
// makes it and brings the loopback device up on another CPU while the child opens and mounts the
// root; the child enters it before the first mount that shows it (a new sysfs lists the devices
// of the mounter's network namespace). Elsewhere, and on a busy machine (where a process beside
// would first wait for a processor, and the child again for it: cpus.hpp), the child makes it
// itself at that point.
#include <linux/sockios.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <utility>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "sandbox/cpus.hpp"
#include "sandbox/raw_syscall.hpp"
#include "sandbox/steps.hpp"

namespace karapace::sandbox {

namespace {

constexpr std::size_t kMakerStack = 64 * 1024;

[[noreturn]] void throw_network_error(const char* what, int err) {
    std::string hint;
    if (err == EPERM || err == ENOSPC)
        hint =
            "network namespaces may be limited: check sysctl user.max_net_namespaces, or set "
            "network_isolation = false in karapace.toml";
    throw Error(err == EPERM ? Errc::permission : Errc::runtime,
                std::string(what) + ": " + std::strerror(err), hint);
}

}  // namespace

NetworkNamespace::NetworkNamespace(bool beside) {
#if KARAPACE_RAW_SYSCALLS
    if (!beside) return;
    void* stack = ::mmap(nullptr, kMakerStack, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED)
        throw_errno(Errc::runtime, "cannot map a stack to make the sandbox's network namespace");
    stack_ = stack;
    // No exit signal: reaped with __WALL by enter() or the destructor. On another processor than
    // the child's, also when the start keeps the child on its caller's (cpus.hpp).
    int err = 0;
    {
        const BesideCpus beside;
        pid_ =
            ::clone(make, static_cast<char*>(stack_) + kMakerStack, CLONE_VM | CLONE_FILES, this);
        err = errno;
    }
    if (pid_ < 0) {
        ::munmap(stack_, kMakerStack);
        stack_ = nullptr;
        throw_errno(Errc::runtime, "cannot start making the sandbox's network namespace", err);
    }
#else
    (void)beside;
#endif
}

NetworkNamespace::~NetworkNamespace() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        reap();
    }
    if (ns_fd_ >= 0) ::close(ns_fd_);
    if (stack_ != nullptr) ::munmap(stack_, kMakerStack);
}

int NetworkNamespace::reap() noexcept {
    int status = 0;
    while (::waitpid(pid_, &status, __WALL) < 0 && errno == EINTR) {}
    pid_ = -1;
    return status;
}

// The maker: raw system calls only, and nothing but its own fields written, since the memory is
// the child's, which goes on with its steps meanwhile (where it runs beside the child).
int NetworkNamespace::make(void* self) {
    auto& n = *static_cast<NetworkNamespace*>(self);
    auto fail = [&n](const char* what, long err, long sock) {
        n.error_ = static_cast<int>(-err);
        n.failed_ = what;
        if (sock >= 0) raw_syscall(SYS_close, sock);
        return 1;
    };
    long r = raw_syscall(SYS_unshare, CLONE_NEWNET);
    if (r < 0) return fail("cannot make the sandbox's network namespace", r, -1);
    long sock = raw_syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return fail("cannot open a socket to configure the loopback device", sock, -1);
    struct ifreq req {};
    std::memcpy(req.ifr_name, "lo", sizeof "lo");
    auto request = reinterpret_cast<long>(&req);
    if ((r = raw_syscall(SYS_ioctl, sock, SIOCGIFFLAGS, request)) < 0)
        return fail("cannot read the flags of the loopback device", r, sock);
    req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP | IFF_RUNNING);
    if ((r = raw_syscall(SYS_ioctl, sock, SIOCSIFFLAGS, request)) < 0)
        return fail("cannot bring the loopback device up", r, sock);
    // The socket's namespace as a descriptor (close-on-exec) in the table the child shares.
    long ns = raw_syscall(SYS_ioctl, sock, SIOCGSKNS, 0);
    if (ns < 0) return fail("cannot open the sandbox's network namespace", ns, sock);
    raw_syscall(SYS_close, sock);
    n.ns_fd_ = static_cast<int>(ns);
    return 0;
}

void NetworkNamespace::enter() {
    bool made;
    if (stack_ != nullptr) {
        int status = reap();
        ::munmap(stack_, kMakerStack);  // the maker is gone: nothing runs on it
        stack_ = nullptr;
        made = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    } else {
        made = make(this) == 0;  // here and now: this process is then in the namespace already
    }
    UniqueFd ns(std::exchange(ns_fd_, -1));
    if (failed_ != nullptr) throw_network_error(failed_, error_);
    if (!made || !ns)
        throw Error(Errc::runtime, "the sandbox's network namespace could not be made");
    if (::setns(ns.get(), CLONE_NEWNET) != 0)
        throw_errno(Errc::runtime, "cannot enter the sandbox's network namespace");
}

}  // namespace karapace::sandbox
