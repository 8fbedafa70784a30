// Which overlay implementation this host gives an unprivileged sandbox, for `karapace doctor`.
// Every run also falls back by itself (overlay.cpp); this probe says so in advance.
#pragma once

namespace karapace::sandbox {

enum class OverlayKind {
    kernel,  // overlayfs with userxattr inside a user namespace (Linux >= 5.11)
    fuse,    // fuse-overlayfs, because the kernel refused and /dev/fuse is usable
    none,    // neither works: environments cannot run
};

const char* overlay_kind_name(OverlayKind kind) noexcept;

// Mounts a two-layer overlay on scratch directories inside a user namespace, as a run would.
OverlayKind probe_overlay();

}  // namespace karapace::sandbox
