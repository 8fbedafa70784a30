// render_manifest (declared in templates.hpp): manifest values to a commented karapace.toml, for
// the interactive `karapace new`.
#include "karapace/schema/templates.hpp"

#include "karapace/util/log.hpp"
#include "schema/text.hpp"
#include "schema/toml_reader.hpp"

namespace karapace::schema {

namespace {

// Short lists stay on one line; longer ones get one name per line so diffs stay readable.
std::string name_list(const std::vector<std::string>& names) {
    std::string one_line = detail::toml_string_array(names);
    if (one_line.size() <= 60) return one_line;
    std::string out = "[\n";
    for (const auto& n : names)
        out += "    " + detail::toml_basic_string(n) + ",\n";
    return out + "]";
}

// One command per line: commands are long and order matters.
std::string command_list(const std::vector<std::string>& commands) {
    std::string out = "[\n";
    for (const auto& c : commands)
        out += "    " + detail::toml_basic_string(c) + ",\n";
    return out + "]";
}

const char* yes_no(bool b) { return b ? "true" : "false"; }

}  // namespace

std::string render_manifest(const Manifest& m) {
    std::string out;
    out += "# Karapace environment manifest. Every key is described in docs/manifest.md.\n";
    out += "#\n";
    out +=
        "#   karapace build     build the environment from this file (and write karapace.lock)\n";
    out += "#   karapace enter     open a shell inside it\n";
    out += "\n# Version of the manifest format. 1 is the only version.\n";
    out += log::cat("manifest_version = ", m.manifest_version, "\n");

    out += "\n# The base system: an image from the LXC image catalogue (\"debian/bookworm\",\n";
    out += "# \"ubuntu/24.04\", \"fedora/41\", \"opensuse/tumbleweed\"), a tarball URL or a\n";
    out += "# docker:// reference. `karapace pin` rewrites it to one exact, verifiable build.\n";
    out += "[base]\n";
    out += "image = " + detail::toml_basic_string(m.base_image) + "\n";

    out += "\n# Distribution packages to install, named as the base distribution names them.\n";
    out += "[system]\n";
    out += "packages = " + name_list(m.packages) + "\n";

    out += "\n# Desktop applications to offer in the host's application menu (desktop entry\n";
    out += "# names); install them through [system] packages.\n";
    if (m.apps.empty()) {
        out += "# [gui]\n# apps = [\"firefox\"]\n";
    } else {
        out += "[gui]\n";
        out += "apps = " + name_list(m.apps) + "\n";
    }

    out +=
        "\n# Devices passed through: gpu gives /dev/dri (and the NVIDIA driver when the host has "
        "it), audio gives /dev/snd.\n";
    out += "[hardware]\n";
    out += log::cat("gpu = ", yes_no(m.gpu), "\n");
    out += log::cat("audio = ", yes_no(m.audio), "\n");

    out += "\n# Host directories to share, as label = \"host:container\" (add \":ro\" for\n";
    out += "# read-only). \"~\" is your home directory; a relative path starts at this file's\n";
    out += "# directory.\n";
    if (m.mounts.empty()) {
        out += "# [mounts]\n# workspace = \".:/workspace\"\n";
    } else {
        out += "[mounts]\n";
        for (const auto& mount : m.mounts)
            out += detail::key_text(mount.label) + " = " + detail::toml_basic_string(mount.spec()) +
                   "\n";
    }

    out += "\n# How the environment runs: \"namespace\" uses rootless Linux namespaces (the\n";
    out += "# default), \"oci\" runs it with runc. network_isolation = true leaves only a\n";
    out += "# loopback interface inside.\n";
    out += "[runtime]\n";
    out += "backend = " + detail::toml_basic_string(m.backend) + "\n";
    out += log::cat("network_isolation = ", yes_no(m.network_isolation), "\n");
    if (m.no_new_privileges) out += "no_new_privileges = true\n";
    if (m.cpu_shares || m.memory_limit_mb) {
        out += "\n# Limits for the processes of the environment.\n";
        out += "[runtime.resource_limits]\n";
        if (m.cpu_shares) out += log::cat("cpu_shares = ", *m.cpu_shares, "\n");
        if (m.memory_limit_mb) out += log::cat("memory_limit_mb = ", *m.memory_limit_mb, "\n");
    } else {
        out += "\n# Limits for the processes of the environment:\n";
        out += "# [runtime.resource_limits]\n# cpu_shares = 1024\n# memory_limit_mb = 4096\n";
    }

    out +=
        "\n# Variables set in every session (enter, exec, launchers); `exec --env` overrides "
        "them.\n";
    out += "# $NAME and ${NAME} read the session's own variables, $$ is a literal $.\n";
    if (m.env.empty()) {
        out += "# [env]\n# EDITOR = \"vim\"\n# PATH = \"$HOME/.local/bin:$PATH\"\n";
    } else {
        out += "[env]\n";
        for (const auto& var : m.env)
            out += detail::key_text(var.name) + " = " + detail::toml_basic_string(var.value) + "\n";
    }

    out += "\n# Commands for /bin/sh -c: post_build runs as root once, after the packages are\n";
    out += "# installed (part of the environment's identity); on_enter runs as you at each\n";
    out += "# `karapace enter`, before the shell starts.\n";
    if (m.post_build.empty() && m.on_enter.empty()) {
        out += "# [hooks]\n# post_build = [\"mkdir -p /opt/tools\"]\n";
        out += "# on_enter = [\"echo Welcome to $KARAPACE_ENV\"]\n";
    } else {
        out += "[hooks]\n";
        if (!m.post_build.empty()) out += "post_build = " + command_list(m.post_build) + "\n";
        if (!m.on_enter.empty()) out += "on_enter = " + command_list(m.on_enter) + "\n";
    }
    return out;
}

}  // namespace karapace::schema
