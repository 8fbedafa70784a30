// The user's karapace configuration (`$XDG_CONFIG_HOME/karapace/config.toml`, normally
// `~/.config/karapace/config.toml`): extra directories manifests may mount, and the image server.
//
//   [mounts]
//   allow = ["/srv/data", "~/shared"]
//
//   [images]
//   server = "https://mirror.example.org/images"
//   bootstrap_mirror = "http://deb.debian.org/debian"
//   arch = "arm64"
//   registry = "quay.io"        # where docker://NAME without a registry is looked for
//
//   [remote]
//   url = "https://registry.example.org/team"     # default remote of push and pull
//   [remote.credentials."registry.example.org"]   # optional; else podman/docker auth files
//   username = "alice"
//   password = "..."
//
// The image layer reads [images] for itself too; both readers accept the same keys.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::schema {

// A registry login from `[remote.credentials."<host>"]`.
struct RegistryLogin {
    std::string username;
    std::string password;
    friend bool operator==(const RegistryLogin&, const RegistryLogin&) = default;
};

struct UserConfig {
    std::vector<std::string> mount_allow;         // absolute, `~` expanded, lexically normalised
    std::optional<std::string> image_server;      // [images] server, without a trailing '/'
    std::optional<std::string> bootstrap_mirror;  // [images] bootstrap_mirror
    std::optional<std::string> image_arch;        // [images] arch
    std::optional<std::string> default_registry;  // [images] registry: for docker://NAME
    std::optional<std::string> remote_url;        // [remote] url, as written (trimmed)
    std::map<std::string, RegistryLogin> registry_credentials;  // host[:port] -> login
    std::string source;  // the file read; empty when there was none

    friend bool operator==(const UserConfig&, const UserConfig&) = default;
};

// `$XDG_CONFIG_HOME/karapace/config.toml`.
std::string user_config_path();
// Reads user_config_path(); a missing file gives the defaults. A malformed one is an
// Error(failed) naming file, key, line and column.
UserConfig load_user_config();
UserConfig load_user_config(const std::string& path, const std::string& home);
UserConfig parse_user_config(std::string_view text, const std::string& source_name,
                             const std::string& home);

// default_mount_allowlist(home) followed by the configured directories, each also under its
// realpath when that differs (symlinked /home), without duplicates.
std::vector<std::string> mount_allowlist(const UserConfig& config, const std::string& home);

}  // namespace karapace::schema
