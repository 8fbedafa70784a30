#include "karapace/sandbox/notify_relay.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <thread>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"

namespace karapace::sandbox {

namespace {

constexpr std::size_t kMaxMessage = 4096;  // systemd reads at most a page, too
constexpr std::size_t kMaxFds = 64;

sockaddr_un address_of(const std::string& name, socklen_t& len) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (name.size() >= sizeof a.sun_path)
        throw Error(Errc::usage, "NOTIFY_SOCKET is too long: " + name);
    std::memcpy(a.sun_path, name.data(), name.size());
    if (name.front() == '@') a.sun_path[0] = '\0';  // abstract
    len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() +
                                 (name.front() == '@' ? 0 : 1));
    return a;
}

// Copies the lines of `in` but MAINPID= ones to `out` (as large as `in`); returns their length.
std::size_t drop_mainpid(const char* in, std::size_t n, char* out) {
    std::size_t len = 0;
    for (std::size_t start = 0; start < n;) {
        const char* line = in + start;
        const void* nl = std::memchr(line, '\n', n - start);
        std::size_t end = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - in) + 1 : n;
        if (end - start < 8 || std::memcmp(line, "MAINPID=", 8) != 0) {
            std::memcpy(out + len, line, end - start);
            len += end - start;
        }
        start = end;
    }
    return len;
}

}  // namespace

struct NotifyRelay::State {
    std::string dir, path;
    sockaddr_un target{};
    socklen_t target_len = 0;
    UniqueFd listen, out, stop;
    std::thread thread;

    // No allocation in here: the sandbox is cloned from this process while the thread runs.
    void run() {
        std::array<pollfd, 2> fds{pollfd{listen.get(), POLLIN, 0}, pollfd{stop.get(), POLLIN, 0}};
        for (;;) {
            if (::poll(fds.data(), fds.size(), -1) < 0) {
                if (errno == EINTR) continue;
                return;
            }
            // Stopping still passes on what the command sent before it ended.
            while (relay_one()) {}
            if (fds[1].revents != 0) return;
        }
    }

    // One queued message sent on; false when none is queued.
    bool relay_one() {
        static thread_local std::array<char, kMaxMessage> buf, sent;
        alignas(cmsghdr) static thread_local char control[CMSG_SPACE(sizeof(int) * kMaxFds)];
        iovec iov{buf.data(), buf.size()};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(listen.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) return errno == EINTR;
        std::size_t len = drop_mainpid(buf.data(), static_cast<std::size_t>(n), sent.data());
        int passed[kMaxFds];
        std::size_t npassed = 0;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            std::size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (std::size_t i = 0; i < count && npassed < kMaxFds; ++i)
                std::memcpy(&passed[npassed++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        }
        if (len > 0 || npassed > 0) {
            iovec out_iov{sent.data(), len};
            msghdr out_msg{};
            out_msg.msg_name = &target;
            out_msg.msg_namelen = target_len;
            out_msg.msg_iov = &out_iov;
            out_msg.msg_iovlen = 1;
            alignas(cmsghdr) char out_control[CMSG_SPACE(sizeof(int) * kMaxFds)];
            if (npassed > 0) {
                out_msg.msg_control = out_control;
                out_msg.msg_controllen = CMSG_SPACE(sizeof(int) * npassed);
                cmsghdr* c = CMSG_FIRSTHDR(&out_msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * npassed);
                std::memcpy(CMSG_DATA(c), passed, sizeof(int) * npassed);
            }
            ::sendmsg(out.get(), &out_msg, MSG_NOSIGNAL);
        }
        for (std::size_t i = 0; i < npassed; ++i)
            ::close(passed[i]);
        return true;
    }
};

std::unique_ptr<NotifyRelay> NotifyRelay::start(const std::string& target, const std::string& dir) {
    if (target.empty() || (target.front() != '/' && target.front() != '@'))
        throw Error(Errc::usage, "NOTIFY_SOCKET is neither a path nor an abstract name: " + target,
                    "start karapace from a systemd unit, or unset NOTIFY_SOCKET");
    auto s = std::make_unique<State>();
    s->target = address_of(target, s->target_len);
    std::string tmpl = dir + "/karapace-notify.XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
        throw_errno(Errc::runtime, "cannot make a directory for the notification relay in " + dir);
    s->dir = tmpl;
    s->path = s->dir + "/notify";
    auto cleanup = [&] {
        ::unlink(s->path.c_str());
        ::rmdir(s->dir.c_str());
    };
    try {
        s->listen.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        s->out.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        s->stop.reset(::eventfd(0, EFD_CLOEXEC));
        if (!s->listen || !s->out || !s->stop)
            throw_errno(Errc::runtime, "cannot make the notification relay's sockets");
        socklen_t len = 0;
        auto own = address_of(s->path, len);
        if (::bind(s->listen.get(), reinterpret_cast<sockaddr*>(&own), len) != 0)
            throw_errno(Errc::runtime, "cannot bind the notification relay at " + s->path);
        // The user inside and container root (a sub-id with CAP_DAC_OVERRIDE over the user's
        // files) may send; the directory keeps everyone else out.
        ::chmod(s->path.c_str(), 0600);
        auto* raw = s.get();
        s->thread = std::thread([raw] { raw->run(); });
    } catch (...) {
        cleanup();
        throw;
    }
    return std::unique_ptr<NotifyRelay>(new NotifyRelay(std::move(s)));
}

NotifyRelay::NotifyRelay(std::unique_ptr<State> state) : state_(std::move(state)) {}

NotifyRelay::~NotifyRelay() {
    // What the command sent before it ended is still queued: pass it on, then stop.
    std::uint64_t one = 1;
    if (::write(state_->stop.get(), &one, sizeof one) < 0) {}
    if (state_->thread.joinable()) state_->thread.join();
    ::unlink(state_->path.c_str());
    ::rmdir(state_->dir.c_str());
}

const std::string& NotifyRelay::path() const noexcept { return state_->path; }

}  // namespace karapace::sandbox
