// systemd's notification protocol across the sandbox. A command inside sends READY=1 (STATUS=,
// WATCHDOG=1, ...) to NOTIFY_SOCKET; systemd accepts such messages by default only from the
// service's main process, which is `karapace exec`, not the command. So the relay listens on a
// socket of its own, which the sandbox binds inside, and sends every message on to the real
// NOTIFY_SOCKET from this process. MAINPID= lines are dropped (the main process stays `karapace
// exec`, which passes systemd's signals to the command); descriptors sent with a message
// (FDSTORE=1) are passed on.
#pragma once

#include <memory>
#include <string>

namespace karapace::sandbox {

class NotifyRelay {
public:
    // `target`: NOTIFY_SOCKET's value (a path, or "@name" for an abstract socket). The relay's
    // socket is made in a new private directory below `dir` (the runtime directory).
    static std::unique_ptr<NotifyRelay> start(const std::string& target, const std::string& dir);
    ~NotifyRelay();
    NotifyRelay(const NotifyRelay&) = delete;
    NotifyRelay& operator=(const NotifyRelay&) = delete;

    // The socket to bind inside (SandboxSpec::notify_socket).
    const std::string& path() const noexcept;

    struct State;

private:
    explicit NotifyRelay(std::unique_ptr<State> state);
    std::unique_ptr<State> state_;
};

}  // namespace karapace::sandbox
