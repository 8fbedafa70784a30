// The install commands `karapace doctor` suggests, immutable desktops included.
#include <catch2/catch.hpp>

#include "core/install_hint.hpp"

using namespace karapace::core;

TEST_CASE("doctor's install command follows the host's own tools") {
    CHECK(install_command({"debian ", false, false}, "uidmap", "shadow-utils") ==
          "sudo apt-get install uidmap");
    CHECK(install_command({"fedora ", false, false}, "uidmap", "shadow-utils") ==
          "sudo dnf install shadow-utils");
    // Silverblue/Kinoite: rpm-ostree layers the package; dnf would write to a read-only /usr.
    auto ostree = install_command({"fedora ", true, false}, "uidmap", "shadow-utils");
    CHECK(ostree.starts_with("sudo rpm-ostree install shadow-utils"));
    CHECK(ostree.find("reboot") != std::string::npos);
    // openSUSE Aeon/MicroOS.
    CHECK(install_command({"opensuse-aeon suse opensuse", false, true}, "uidmap", "shadow")
              .starts_with("sudo transactional-update pkg install shadow"));
    CHECK(install_command({"steamos arch", false, false}, "uidmap", "shadow")
              .starts_with("sudo steamos-readonly disable && sudo pacman -S shadow"));
    CHECK(install_command({"plan9 ", false, false}, "uidmap", "shadow-utils") ==
          "install uidmap with your distribution's package manager");
}
