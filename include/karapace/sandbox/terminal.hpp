// Terminal handling around interactive sessions: the VTE/Ptyxis container-tracking markers
// (OSC 777 push/pop, also used by Toolbx) and giving the terminal back to the caller afterwards.
#pragma once

#include <sys/types.h>

#include <string>

namespace karapace::sandbox {

// The escape sequences themselves (pure, for tests).
std::string osc_push(const std::string& name);
std::string osc_pop();

// Writes the push marker to stdout when it is a terminal, and the pop marker on destruction.
class ContainerMarker {
public:
    explicit ContainerMarker(const std::string& name);
    ~ContainerMarker();
    ContainerMarker(const ContainerMarker&) = delete;
    ContainerMarker& operator=(const ContainerMarker&) = delete;

private:
    bool active_ = false;
};

// Remembers the foreground process group of the terminal on stdin and restores it on
// destruction (the sandboxed command took it over for job control).
class ForegroundGuard {
public:
    ForegroundGuard();
    ~ForegroundGuard();
    ForegroundGuard(const ForegroundGuard&) = delete;
    ForegroundGuard& operator=(const ForegroundGuard&) = delete;
    bool is_terminal() const noexcept { return pgrp_ > 0; }

private:
    pid_t pgrp_ = -1;
};

}  // namespace karapace::sandbox
