#include "karapace/sandbox/terminal.hpp"

#include <signal.h>
#include <unistd.h>

namespace karapace::sandbox {

std::string osc_push(const std::string& name) {
    return "\033]777;container;push;" + name + ";karapace\033\\";
}

std::string osc_pop() { return "\033]777;container;pop;;\033\\"; }

namespace {
void write_stdout(const std::string& s) {
    [[maybe_unused]] auto r = ::write(STDOUT_FILENO, s.data(), s.size());
}

// tcsetpgrp from a background process group raises SIGTTOU; block it around the call.
void set_foreground(pid_t pgrp) noexcept {
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTTOU);
    ::sigprocmask(SIG_BLOCK, &block, &old);
    ::tcsetpgrp(STDIN_FILENO, pgrp);
    ::sigprocmask(SIG_SETMASK, &old, nullptr);
}
}  // namespace

ContainerMarker::ContainerMarker(const std::string& name) : active_(::isatty(STDOUT_FILENO)) {
    if (active_) write_stdout(osc_push(name));
}

ContainerMarker::~ContainerMarker() {
    if (active_) write_stdout(osc_pop());
}

ForegroundGuard::ForegroundGuard() {
    if (::isatty(STDIN_FILENO)) pgrp_ = ::tcgetpgrp(STDIN_FILENO);
}

ForegroundGuard::~ForegroundGuard() {
    if (pgrp_ > 0) set_foreground(pgrp_);
}

void take_terminal_foreground() noexcept {
    if (!::isatty(STDIN_FILENO)) return;
    ::setpgid(0, 0);
    set_foreground(::getpgrp());
}

}  // namespace karapace::sandbox
