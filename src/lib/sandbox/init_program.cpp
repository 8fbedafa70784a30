#include "karapace/sandbox/init_program.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "karapace/util/error.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::sandbox {

namespace {
constexpr const char* kProgram = "karapace-init";
}

std::vector<std::string> init_program_candidates() {
    std::vector<std::string> out;
    if (const char* env = std::getenv("KARAPACE_INIT"); env && *env) out.emplace_back(env);
    for (auto& path : libexec_program_candidates(kProgram))
        out.push_back(std::move(path));
    return out;
}

UniqueFd open_init_program() {
    auto candidates = init_program_candidates();
    for (const auto& path : candidates) {
        UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
        struct stat st {};
        if (fd && ::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
            return fd;
    }
    std::string looked;
    for (const auto& path : candidates)
        looked += (looked.empty() ? "" : ", ") + path;
    throw Error(Errc::not_found,
                "the sandbox's init program karapace-init is missing (looked at " + looked + ")",
                "install karapace completely (meson install, or scripts/install --user puts it "
                "in ~/.local/libexec); KARAPACE_INIT names it elsewhere");
}

}  // namespace karapace::sandbox
