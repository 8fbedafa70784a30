#include "cli/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>

namespace karapace::cli {

namespace {

std::atomic<int> interrupts{0};

extern "C" void on_interrupt(int sig) {
    if (interrupts.fetch_add(1) > 0) {
        // Second signal: the user means it.
        ::signal(sig, SIG_DFL);
        ::raise(sig);
        return;
    }
    static constexpr char msg[] =
        "\nkarapace: interrupted; stopping at the next safe point (press Ctrl-C again to abort)\n";
    ssize_t ignored = ::write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)ignored;
}

}  // namespace

void install_interrupt_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
}

bool interrupt_requested() noexcept { return interrupts.load() > 0; }

}  // namespace karapace::cli
