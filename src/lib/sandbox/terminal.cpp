#include "karapace/sandbox/terminal.hpp"

#include <signal.h>
#include <unistd.h>

#include "sandbox/init_start.hpp"

namespace karapace::sandbox {

std::string osc_push(const std::string& name) {
    return "\033]777;container;push;" + name + ";karapace\033\\";
}

std::string osc_pop() { return "\033]777;container;pop;;\033\\"; }

namespace {
void write_stdout(const std::string& s) {
    [[maybe_unused]] auto r = ::write(STDOUT_FILENO, s.data(), s.size());
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
    if (pgrp_ > 0) init_start::set_foreground(init_start::LibcSys{}, pgrp_);
}

}  // namespace karapace::sandbox
