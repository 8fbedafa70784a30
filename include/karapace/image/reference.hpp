// Base image references as written in `base.image`: an alias resolved through the LXC image
// server, a tarball URL, an OCI image, or a Debian/Ubuntu bootstrap. Parsing is pure (no network);
// `is_pinned` says whether the reference names the same bytes forever.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/util/digest.hpp"

namespace karapace::image {

enum class RefKind {
    alias,      // "debian/bookworm", "rolling", "images:busybox/1.36": LXC simplestreams product
    url,        // "https://…/rootfs.tar.xz#sha256=<hex>", "file:///…"
    oci,        // "docker://registry/repo:tag" or "…@sha256:<hex>": an OCI image in a registry
    bootstrap,  // "bootstrap:debian/bookworm@20261128T000000Z": built with mmdebstrap
};

struct ImageRef {
    RefKind kind = RefKind::alias;

    // alias: the simplestreams product, without the architecture (chosen at resolve time).
    std::string distro;   // "debian", "opensuse", "archlinux"
    std::string release;  // "bookworm", "tumbleweed", "current"
    std::string variant = "default";
    std::string alias;  // the alias as written (lower-cased), e.g. "rolling"

    // url: the address without the fragment; `sha256` from `#sha256=<hex>`.
    std::string url;
    std::optional<Digest> sha256;

    // oci: registry host, repository path, tag and/or manifest digest.
    std::string registry;
    std::string repository;
    std::string tag;
    std::optional<Digest> oci_digest;
    // Written without a registry (docker://ubuntu:24.04): `registry` is docker.io until resolve()
    // applies the configured default registry.
    bool short_name = false;

    // bootstrap: `distro` above is "debian" or "ubuntu"; the suite and the optional snapshot
    // timestamp ("YYYYMMDDTHHMMSSZ", snapshot.debian.org / snapshot.ubuntu.com form).
    std::string suite;
    std::string snapshot;

    // Throws Error(Errc::image) naming the text; an unknown alias lists the known ones.
    static ImageRef parse(std::string_view text);

    // True when the reference always denotes the same bytes: a URL with `#sha256=`, a bootstrap
    // with a snapshot timestamp, an OCI image with `@sha256:`. Aliases are never pinned.
    bool is_pinned() const;
    // Canonical text; parse(str()) gives an equal reference.
    std::string str() const;
    // Simplestreams product id for an architecture: "debian:bookworm:amd64:default".
    std::string product_id(std::string_view arch) const;

    friend bool operator==(const ImageRef&, const ImageRef&) = default;
};

// The aliases Karapace knows (fixed names such as "rolling" and the "<distro>/<release>" pattern
// distros), for error messages and completions.
std::vector<std::string> known_aliases();
// Distros accepted in the "<distro>/<release>" form (anything the LXC server publishes).
const std::vector<std::string>& known_distros();

// A snapshot timestamp is "YYYYMMDDTHHMMSSZ".
bool is_snapshot_timestamp(std::string_view text);

}  // namespace karapace::image
