// Where images come from: the simplestreams server (a mirror works), the apt mirror used for
// bootstrap images, the architecture, and download limits. Read from KARAPACE_IMAGE_SERVER and
// the `[images]` table of ~/.config/karapace/config.toml.
#pragma once

#include <string>

#include "karapace/image/download.hpp"

namespace karapace::image {

inline constexpr const char* kDefaultImageServer = "https://images.linuxcontainers.org";

struct Config {
    std::string server = kDefaultImageServer;  // base URL, no trailing slash
    std::string bootstrap_mirror;              // empty: the host's apt sources
    std::string arch;                          // Debian architecture name; empty: the host's
    std::string registry = "docker.io";        // for docker://NAME without a registry
    DownloadOptions download;
};

// Defaults, then `[images]` of `$XDG_CONFIG_HOME/karapace/config.toml` (keys `server`,
// `bootstrap_mirror`, `arch`, `registry`, read by schema::load_user_config), then
// KARAPACE_IMAGE_SERVER. A malformed file is the schema layer's error naming the file, the key and
// the line.
Config load_config();
Config load_config_file(const std::string& path);

// The host's architecture in simplestreams/Debian naming (amd64, arm64, i386, armhf, ppc64el,
// s390x, riscv64), from uname; the machine name itself when there is no such mapping.
std::string host_arch();
std::string debian_arch(const std::string& machine);
// `config.arch` or host_arch().
std::string effective_arch(const Config& config);

}  // namespace karapace::image
