// The install commands `karapace doctor` suggests, immutable desktops included.
#include <catch2/catch.hpp>

#include "core/install_hint.hpp"

using namespace karapace::core;

TEST_CASE("doctor's install command follows the host's own tools") {
    const auto& uidmap = newuidmap_package();
    CHECK(install_command({"debian ", false, false}, uidmap) == "sudo apt-get install uidmap");
    CHECK(install_command({"ubuntu debian", false, false}, uidmap) ==
          "sudo apt-get install uidmap");
    CHECK(install_command({"fedora ", false, false}, uidmap) == "sudo dnf install shadow-utils");
    // Silverblue/Kinoite: rpm-ostree layers the package; dnf would write to a read-only /usr.
    auto ostree = install_command({"fedora ", true, false}, uidmap);
    CHECK(ostree.starts_with("sudo rpm-ostree install shadow-utils,"));
    CHECK(ostree.find("reboot") != std::string::npos);
    // openSUSE Aeon/MicroOS and Tumbleweed: SUSE calls the package shadow.
    CHECK(install_command({"opensuse-aeon suse opensuse", false, true}, uidmap)
              .starts_with("sudo transactional-update pkg install shadow,"));
    CHECK(install_command({"opensuse-tumbleweed suse opensuse", false, false}, uidmap) ==
          "sudo zypper install shadow");
    CHECK(install_command({"steamos arch", false, false}, uidmap)
              .starts_with("sudo steamos-readonly disable && sudo pacman -S shadow "));
    CHECK(install_command({"arch ", false, false}, uidmap) == "sudo pacman -S shadow");
    CHECK(install_command({"alpine ", false, false}, uidmap) == "sudo apk add shadow-uidmap");
    CHECK(install_command({"plan9 ", false, false}, uidmap) ==
          "install uidmap with your distribution's package manager");
}

TEST_CASE("a family without its own name uses the one it descends from") {
    PackageNames runc{"runc", "runc"};
    CHECK(install_command({"opensuse-tumbleweed suse", false, false}, runc) ==
          "sudo zypper install runc");
    CHECK(install_command({"arch ", false, false}, runc) == "sudo pacman -S runc");
    CHECK(install_command({"alpine ", false, false}, runc) == "sudo apk add runc");
}
