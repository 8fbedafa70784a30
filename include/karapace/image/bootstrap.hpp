// Bootstrap images: a Debian or Ubuntu minbase root filesystem built locally with mmdebstrap
// (`--mode=unshare` for unprivileged users, `--mode=root` as root) into a tar file, from the host's
// apt mirror, a configured mirror, or a snapshot archive (snapshot.debian.org /
// snapshot.ubuntu.com) when the reference carries a timestamp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "karapace/util/digest.hpp"
#include "karapace/util/progress.hpp"

namespace karapace::image {

struct BootstrapRequest {
    std::string distro;    // "debian" or "ubuntu"
    std::string suite;     // "bookworm"
    std::string snapshot;  // "YYYYMMDDTHHMMSSZ" or empty
    std::string mirror;    // explicit mirror URL; empty: snapshot, else host sources, else default
    std::string arch;      // empty: the host's
    std::string output;    // tar file to write
};

struct BootstrapResult {
    Digest digest;  // of the produced tar
    std::uint64_t size = 0;
    std::string mirror;  // the mirror actually used ("" = mmdebstrap's default)
};

// Builds the tar; mmdebstrap's status lines go to progress.note(). Throws Error(image) quoting the
// last lines of mmdebstrap's output on failure, Error(not_found) when mmdebstrap is missing.
BootstrapResult bootstrap(const BootstrapRequest& req, ProgressSink& progress);

// The mmdebstrap command line for `req` (mirror already chosen).
std::vector<std::string> bootstrap_argv(const BootstrapRequest& req, std::string_view mirror,
                                        bool as_root);
// "http://snapshot.debian.org/archive/debian/<ts>/" or the snapshot.ubuntu.com equivalent.
std::string snapshot_mirror(std::string_view distro, std::string_view timestamp);

// How far a bootstrap is, in percent, when mmdebstrap prints `line` (its "I: " stage lines:
// apt-get update, downloading, extracting, installing, cleaning, creating the tarball); nullopt
// for other lines. The bootstrap step advances by it.
std::optional<std::uint64_t> bootstrap_stage_percent(std::string_view line);
// The first archive URI for `distro` in apt sources text (one-line `deb` or deb822 `URIs:`),
// skipping security archives; empty when there is none.
std::string apt_mirror_from_sources(std::string_view sources, std::string_view distro);
// The host's mirror for `distro` from /etc/apt/sources.list and sources.list.d.
std::string host_apt_mirror(std::string_view distro);
// The current UTC time as a snapshot timestamp ("20261128T191500Z").
std::string snapshot_now();
// Seconds since the epoch of a snapshot timestamp (SOURCE_DATE_EPOCH for reproducible tars).
std::int64_t snapshot_epoch(std::string_view timestamp);

}  // namespace karapace::image
