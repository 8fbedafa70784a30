#include "karapace/sandbox/init_program.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "karapace/util/error.hpp"
#include "karapace_config.h"

namespace karapace::sandbox {

namespace {
constexpr const char* kProgram = "karapace-init";
}

std::vector<std::string> init_program_candidates() {
    std::vector<std::string> out;
    if (const char* env = std::getenv("KARAPACE_INIT"); env && *env) out.emplace_back(env);
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        std::string dir(self, static_cast<std::size_t>(n));
        dir.erase(dir.rfind('/') + 1);
        out.push_back(dir + kProgram);
        out.push_back(dir + "../libexec/" + kProgram);
    }
    out.push_back(std::string(KARAPACE_LIBEXECDIR) + "/" + kProgram);
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
