#include "core/install_hint.hpp"

#include <unistd.h>

#include <fstream>
#include <string_view>

#include "karapace/util/process.hpp"

namespace karapace::core {

HostKind current_host_kind() {
    HostKind h;
    std::ifstream in("/etc/os-release");
    std::string line, id, like;
    while (std::getline(in, line)) {
        auto value = [&](std::string_view key) {
            auto v = line.substr(key.size());
            if (!v.empty() && v.front() == '"') v = v.substr(1, v.size() - 2);
            return v;
        };
        if (line.starts_with("ID=")) id = value("ID=");
        if (line.starts_with("ID_LIKE=")) like = value("ID_LIKE=");
    }
    h.distro = id + " " + like;
    h.ostree = ::access("/run/ostree-booted", F_OK) == 0;
    h.transactional = find_program("transactional-update").has_value();
    return h;
}

std::string install_command(const HostKind& host, const PackageNames& package) {
    auto has = [&](const char* s) { return host.distro.find(s) != std::string::npos; };
    const auto& suse = package.suse.empty() ? package.fedora : package.suse;
    const auto& arch = package.arch.empty() ? package.fedora : package.arch;
    const auto& alpine = package.alpine.empty() ? package.debian : package.alpine;
    // Immutable hosts first: their package managers would write into a read-only /usr.
    if (host.ostree)
        return "sudo rpm-ostree install " + package.fedora +
               ", then reboot (or `sudo rpm-ostree apply-live`)";
    if (host.transactional)
        return "sudo transactional-update pkg install " + suse + ", then reboot";
    if (has("steamos"))
        return "sudo steamos-readonly disable && sudo pacman -S " + arch +
               " (a SteamOS update undoes it)";
    if (has("debian") || has("ubuntu")) return "sudo apt-get install " + package.debian;
    if (has("fedora") || has("rhel") || has("centos")) return "sudo dnf install " + package.fedora;
    if (has("suse")) return "sudo zypper install " + suse;
    if (has("arch")) return "sudo pacman -S " + arch;
    if (has("alpine")) return "sudo apk add " + alpine;
    return "install " + package.debian + " with your distribution's package manager";
}

const PackageNames& newuidmap_package() {
    static const PackageNames names{"uidmap", "shadow-utils", "shadow", "shadow", "shadow-uidmap"};
    return names;
}

}  // namespace karapace::core
