// `karapace tui`: a full-screen terminal manager for the environments of one store, a front end
// on core::Engine beside the CLI and the D-Bus service.
#pragma once

#include "karapace/core/engine.hpp"

namespace karapace::tui {

struct Options {
    core::EngineOptions engine;
    bool mouse = true;
};

// Runs until the user quits (or SIGINT/SIGTERM/SIGHUP); the terminal is given back as it was.
// Needs a terminal on stdin and stdout. Returns the exit status: 0, or 128 + the signal that
// ended it.
int run(const Options& options);

}  // namespace karapace::tui
