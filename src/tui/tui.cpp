#include "tui/tui.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "tui/app.hpp"
#include "tui/screen.hpp"

namespace karapace::tui {

int run(const Options& options) {
    std::optional<Screen> screen;
    screen.emplace(options.mouse);
    auto app = std::make_unique<App>(options, *screen);
    app->run();
    if (app->job_running()) {
        // Asked to quit twice while an operation was at work: the terminal comes back now and the
        // operation is left to the store's recovery (as when a CLI command is killed).
        auto title = app->job_title();
        screen.reset();
        std::fprintf(stderr, "karapace: quit while %s was at work; it did not finish\n",
                     title.c_str());
        std::_Exit(130);
    }
    app.reset();
    screen.reset();
    // Ended by a signal: the status a shell reports for a process killed by it.
    int sig = Screen::quit_signal_number();
    return sig != 0 ? 128 + sig : 0;
}

}  // namespace karapace::tui
