#include "cli/engine_session.hpp"

#include <chrono>
#include <cstdio>

namespace karapace::cli {

core::EngineOptions engine_options(const Invocation& inv) {
    core::EngineOptions opts;
    opts.store_root = inv.store_root();
    if (inv.globals.lock_timeout)
        opts.lock_timeout = std::chrono::round<std::chrono::milliseconds>(
            std::chrono::duration<double>(*inv.globals.lock_timeout));
    opts.on_lock_wait = [](const std::string& message) {
        std::fprintf(stderr, "karapace: %s\n", message.c_str());
    };
    return opts;
}

core::Engine make_engine(const Invocation& inv, Output& out) {
    (void)out;
    return core::Engine(engine_options(inv));
}

std::unique_ptr<TerminalProgress> make_progress(const Output& out) {
    using Mode = TerminalProgress::Mode;
    return std::make_unique<TerminalProgress>(
        out.json() ? Mode::events : (out.terminal().stderr_tty ? Mode::draw : Mode::quiet),
        out.terminal().color);
}

}  // namespace karapace::cli
