#include "karapace/schema/templates.hpp"

#include <algorithm>

namespace karapace::schema {

namespace {

// The texts are also shipped as examples/<name>.toml; a unit test keeps the two identical.
const char* const minimal_text =
    R"toml(# minimal: a plain Debian 12 (bookworm) system with nothing installed on top.
# A starting point: add packages, mounts and hardware access as you need them.
#
#   karapace build     build the environment from this file (and write karapace.lock)
#   karapace enter     open a shell inside it
#
# Every key is described in docs/manifest.md.

# Version of the manifest format. 1 is the only version.
manifest_version = 1

# The base system the environment starts from: an image name from the LXC image catalogue
# ("debian/bookworm", "ubuntu/24.04", "fedora/41", "opensuse/tumbleweed"), a tarball URL or a
# docker:// reference. `karapace pin` rewrites it to one exact, verifiable build.
[base]
image = "debian/bookworm"

# Distribution packages to install, named as the base distribution names them:
# [system]
# packages = ["git", "curl"]

# Host directories to share, as label = "host:container" (add ":ro" for read-only).
# "~" is your home directory; a relative path starts at this file's directory.
# [mounts]
# workspace = ".:/workspace"

# Variables set in every session (enter, exec, exported launchers); `exec --env` overrides them.
# $NAME and ${NAME} read the session's own variables ($HOME, $PATH, ...), $$ is a literal $.
# [env]
# EDITOR = "vi"
# PATH = "$HOME/.local/bin:$PATH"

# Commands for /bin/sh -c: post_build runs as root once, after the packages are installed (part
# of the environment's identity); on_enter runs as you at each `karapace enter`, before the shell.
# [hooks]
# post_build = ["mkdir -p /opt/tools"]
# on_enter = ["echo Welcome to $KARAPACE_ENV"]
)toml";

const char* const dev_text =
    R"toml(# dev: a command-line development environment on Debian 12 (bookworm): compilers, build tools,
# a debugger, Git and editors. No GUI.
#
#   karapace build     build the environment from this file (and write karapace.lock)
#   karapace enter     open a shell inside it
#
# Every key is described in docs/manifest.md.

# Version of the manifest format. 1 is the only version.
manifest_version = 1

# The base system: an image from the LXC image catalogue. `karapace pin` rewrites it to one
# exact, verifiable build.
[base]
image = "debian/bookworm"

# Debian packages to install (Debian names: build-essential brings gcc, g++ and make).
[system]
packages = [
    "build-essential",
    "clang",
    "cmake",
    "curl",
    "gdb",
    "git",
    "htop",
    "neovim",
    "ninja-build",
    "pkg-config",
    "tmux",
    "vim",
]

# Host directories to share, as label = "host:container" (add ":ro" for read-only).
# "." is the directory holding this file, so your project appears at /workspace.
# Your home directory is shared at its usual path in any case.
[mounts]
workspace = ".:/workspace"

# How the environment runs: "namespace" uses rootless Linux namespaces (the default).
[runtime]
backend = "namespace"

# Variables set in every session (enter, exec, exported launchers); `exec --env` overrides them.
[env]
EDITOR = "vim"
)toml";

const char* const gui_dev_text =
    R"toml(# gui-dev: desktop application development on Fedora 41 with GPU and audio access.
# Wayland/X11, PipeWire/PulseAudio and the session bus are shared with the host, so GUI
# programs started inside open windows on your desktop.
#
#   karapace build     build the environment from this file (and write karapace.lock)
#   karapace enter     open a shell inside it
#
# Every key is described in docs/manifest.md.

# Version of the manifest format. 1 is the only version.
manifest_version = 1

# The base system: an image from the LXC image catalogue. `karapace pin` rewrites it to one
# exact, verifiable build.
[base]
image = "fedora/41"

# Fedora packages to install (Fedora names: gcc-c++, gtk4-devel, mesa-dri-drivers).
[system]
packages = [
    "cmake",
    "firefox",
    "gcc",
    "gcc-c++",
    "gdb",
    "git",
    "gtk4-devel",
    "mesa-dri-drivers",
    "mesa-vulkan-drivers",
    "meson",
    "ninja-build",
    "pkgconf-pkg-config",
    "vulkan-tools",
]

# Desktop applications of this environment to offer in the host's application menu, by the
# name of their desktop entry. Install them through [system] packages.
[gui]
apps = ["firefox"]

# Devices passed through: gpu gives /dev/dri (and the NVIDIA driver's devices, libraries and
# nvidia-smi when the host has it), audio gives /dev/snd.
[hardware]
gpu = true
audio = true

# Host directories to share, as label = "host:container" (add ":ro" for read-only).
# "." is the directory holding this file, so your project appears at /workspace.
[mounts]
workspace = ".:/workspace"

# How the environment runs: "namespace" uses rootless Linux namespaces (the default).
[runtime]
backend = "namespace"
)toml";

const char* const rust_dev_text =
    R"toml(# rust-dev: Rust development on openSUSE Tumbleweed, a rolling release whose Rust toolchain
# follows upstream closely: rustc, cargo, a C toolchain for -sys crates, OpenSSL headers, gdb.
#
#   karapace build     build the environment from this file (and write karapace.lock)
#   karapace enter     open a shell inside it, then `cargo build` in /workspace
#
# Every key is described in docs/manifest.md.

# Version of the manifest format. 1 is the only version.
manifest_version = 1

# The base system: an image from the LXC image catalogue. A rolling release changes every day,
# so `karapace pin` (which rewrites this to one exact build) matters most here.
[base]
image = "opensuse/tumbleweed"

# openSUSE packages to install (openSUSE names: libopenssl-devel, pkgconf-pkg-config).
[system]
packages = [
    "cargo",
    "cmake",
    "curl",
    "gcc",
    "gdb",
    "git",
    "libopenssl-devel",
    "make",
    "pkgconf-pkg-config",
    "rust",
]

# Host directories to share, as label = "host:container" (add ":ro" for read-only).
# "." is the directory holding this file, so your project appears at /workspace.
[mounts]
workspace = ".:/workspace"

# How the environment runs: "namespace" uses rootless Linux namespaces (the default).
[runtime]
backend = "namespace"
)toml";

const char* const ubuntu_dev_text =
    R"toml(# ubuntu-dev: a development environment on Ubuntu 24.04 LTS (Noble Numbat), for teams whose
# toolchains or CI expect Ubuntu: C/C++ build tools, Python and Node.js.
#
#   karapace build     build the environment from this file (and write karapace.lock)
#   karapace enter     open a shell inside it
#
# Every key is described in docs/manifest.md.

# Version of the manifest format. 1 is the only version.
manifest_version = 1

# The base system: an image from the LXC image catalogue. `karapace pin` rewrites it to one
# exact, verifiable build.
[base]
image = "ubuntu/24.04"

# Ubuntu packages to install (nodejs and npm come from the universe component).
[system]
packages = [
    "build-essential",
    "cmake",
    "curl",
    "gdb",
    "git",
    "ninja-build",
    "nodejs",
    "npm",
    "pkg-config",
    "python3",
    "python3-pip",
    "python3-venv",
]

# Host directories to share, as label = "host:container" (add ":ro" for read-only).
# "." is the directory holding this file, so your project appears at /workspace.
[mounts]
workspace = ".:/workspace"

# How the environment runs: "namespace" uses rootless Linux namespaces (the default).
[runtime]
backend = "namespace"
)toml";

const char* const debian_dev_text =
    R"toml(# debian-dev: building and checking Debian packages on Debian 12 (bookworm): debhelper,
# devscripts (debuild, dch), git-buildpackage, lintian and quilt, without touching the host.
#
#   karapace build     build the environment from this file (and write karapace.lock)
#   karapace enter     open a shell inside it, then `debuild -us -uc` in /workspace
#
# Every key is described in docs/manifest.md.

# Version of the manifest format. 1 is the only version.
manifest_version = 1

# The base system: an image from the LXC image catalogue. `karapace pin` rewrites it to one
# exact, verifiable build.
[base]
image = "debian/bookworm"

# Debian packages to install.
[system]
packages = [
    "build-essential",
    "debhelper",
    "devscripts",
    "dpkg-dev",
    "equivs",
    "fakeroot",
    "git",
    "git-buildpackage",
    "lintian",
    "quilt",
]

# Host directories to share, as label = "host:container" (add ":ro" for read-only).
# "." is the directory holding this file: the package's source tree appears at /workspace.
[mounts]
workspace = ".:/workspace"

# How the environment runs: "namespace" uses rootless Linux namespaces (the default).
# network_isolation = true would cut the network while you test a build (packages are still
# downloaded at build time).
[runtime]
backend = "namespace"
network_isolation = false
)toml";

}  // namespace

const std::vector<Template>& templates() {
    static const std::vector<Template> all{
        {"minimal", "a plain Debian 12 system with nothing installed on top", minimal_text},
        {"dev", "command-line development on Debian 12: compilers, build tools, Git, editors",
         dev_text},
        {"gui-dev", "desktop application development on Fedora 41 with GPU and audio",
         gui_dev_text},
        {"rust-dev", "Rust development on openSUSE Tumbleweed", rust_dev_text},
        {"ubuntu-dev", "development on Ubuntu 24.04 LTS: C/C++, Python and Node.js",
         ubuntu_dev_text},
        {"debian-dev", "building and checking Debian packages on Debian 12", debian_dev_text},
    };
    return all;
}

const Template* find_template(std::string_view name) {
    const auto& all = templates();
    auto it =
        std::find_if(all.begin(), all.end(), [&](const Template& t) { return t.name == name; });
    return it == all.end() ? nullptr : &*it;
}

}  // namespace karapace::schema
