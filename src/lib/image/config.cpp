#include "karapace/image/config.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>

#include "karapace/schema/config.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::image {

namespace {

std::string strip_trailing_slashes(std::string url) {
    while (url.size() > 1 && url.back() == '/')
        url.pop_back();
    return url;
}

void check_server_url(const std::string& url, const std::string& origin) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0 &&
        url.rfind("file://", 0) != 0)
        throw Error(Errc::image,
                    log::cat("image server '", url, "' (from ", origin,
                             ") is not an http://, https:// or file:// URL"),
                    "for example server = \"https://images.linuxcontainers.org\"");
}

}  // namespace

std::string debian_arch(const std::string& machine) {
    if (machine == "x86_64") return "amd64";
    if (machine == "aarch64" || machine == "arm64") return "arm64";
    if (machine == "i386" || machine == "i486" || machine == "i586" || machine == "i686")
        return "i386";
    if (machine.rfind("armv7", 0) == 0 || machine.rfind("armv8l", 0) == 0) return "armhf";
    if (machine == "ppc64le") return "ppc64el";
    if (machine == "s390x") return "s390x";
    if (machine == "riscv64") return "riscv64";
    if (machine == "loongarch64") return "loongarch64";
    return machine;
}

std::string host_arch() {
    struct utsname u {};
    if (::uname(&u) != 0) throw_errno(Errc::failed, "uname");
    return debian_arch(u.machine);
}

std::string effective_arch(const Config& config) {
    return config.arch.empty() ? host_arch() : config.arch;
}

Config load_config_file(const std::string& path) {
    // One reader for config.toml: the schema layer validates the whole file (unknown keys,
    // malformed values) and hands back the [images] settings.
    const schema::UserConfig user = schema::load_user_config(path, home_dir());
    Config config;
    if (user.image_server) config.server = strip_trailing_slashes(*user.image_server);
    if (user.bootstrap_mirror) config.bootstrap_mirror = *user.bootstrap_mirror;
    if (user.image_arch) config.arch = *user.image_arch;
    if (user.default_registry) config.registry = *user.default_registry;
    return config;
}

Config load_config() {
    Config config = load_config_file(schema::user_config_path());
    if (const char* env = std::getenv("KARAPACE_IMAGE_SERVER"); env && *env) {
        config.server = strip_trailing_slashes(env);
        check_server_url(config.server, "KARAPACE_IMAGE_SERVER");
    }
    return config;
}

}  // namespace karapace::image
