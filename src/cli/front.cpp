#include "cli/front.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

extern char** environ;

namespace karapace::cli {

namespace {

constexpr const char* kFull = "karapace-full";

}  // namespace

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
