// How to install a host package, in the words of the host's own tools: immutable desktops
// (Fedora Silverblue/Kinoite, openSUSE Aeon/MicroOS, SteamOS) do not install with dnf/zypper/pacman
// into a read-only /usr. Used by `karapace doctor`.
#pragma once

#include <string>

namespace karapace::core {

struct HostKind {
    std::string distro;          // ID and ID_LIKE of /etc/os-release, lower case
    bool ostree = false;         // /run/ostree-booted: rpm-ostree layers packages
    bool transactional = false;  // transactional-update installs into a new snapshot
};

// The host this runs on.
HostKind current_host_kind();

// The command that installs `debian_pkg` (Debian and Alpine names) or `rpm_pkg` (Fedora, SUSE,
// Arch names) on `host`.
std::string install_command(const HostKind& host, const std::string& debian_pkg,
                            const std::string& rpm_pkg);

}  // namespace karapace::core
