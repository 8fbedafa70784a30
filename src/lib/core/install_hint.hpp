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

// A package's name in each family of distributions; an empty name is the one of the family it
// descends from: SUSE and Arch (SteamOS) fall back to Fedora's, Alpine to Debian's.
struct PackageNames {
    std::string debian;       // Debian, Ubuntu
    std::string fedora;       // Fedora, RHEL, CentOS; Silverblue/Kinoite through rpm-ostree
    std::string suse = {};    // openSUSE, SLE; Aeon/MicroOS through transactional-update
    std::string arch = {};    // Arch, SteamOS
    std::string alpine = {};  // Alpine
};

// The command that installs the package on `host`.
std::string install_command(const HostKind& host, const PackageNames& package);

// The names of the packages doctor asks for.
const PackageNames& newuidmap_package();  // newuidmap and newgidmap

}  // namespace karapace::core
