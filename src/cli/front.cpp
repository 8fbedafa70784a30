#include "cli/front.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

extern char** environ;

namespace karapace::cli {

namespace {

constexpr const char* kFull = "karapace-full";

// Start latency matters for these: `exec` and `enter` (launchers, wrappers, scripts), `stop`, and
// the quick looks `list` and `inspect`; `help` and `completions` print what the table holds.
// None of them loads a library; a path that would is an error in the front (dynamic_library.cpp).
constexpr std::array<std::string_view, 7> kFrontCommands{"exec",    "enter", "stop",       "list",
                                                         "inspect", "help",  "completions"};

}  // namespace

bool runs_in_front(std::string_view command) {
    return std::find(kFrontCommands.begin(), kFrontCommands.end(), command) != kFrontCommands.end();
}

void hand_over(char** argv, std::string_view command) {
    const auto candidates = libexec_program_candidates(kFull);
    std::string looked, refused;
    for (const auto& path : candidates) {
        ::execve(path.c_str(), argv, environ);
        const int err = errno;
        looked += (looked.empty() ? "" : ", ") + path;
        if (err != ENOENT && err != ENOTDIR && refused.empty())
            refused = path + ": " + std::strerror(err);
    }
    const std::string runs = "karapace-full, which runs `karapace " + std::string(command) + "`";
    if (!refused.empty())
        throw Error(Errc::failed, "cannot execute " + runs + " (" + refused + ")",
                    "reinstall karapace (meson install, or scripts/install --user)");
    throw Error(Errc::not_found, runs + ", is missing (looked at " + looked + ")",
                "install karapace completely (meson install, or scripts/install --user puts it "
                "in ~/.local/libexec beside karapace-init)");
}

}  // namespace karapace::cli
