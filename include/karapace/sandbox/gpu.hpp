// The GPU step of the mount plan: the NVIDIA driver's userspace (nvidia.hpp) made visible in a
// sandbox without writing to the environment. Split in what reads the environment's layers and
// what plans from it, so the plan is unit-tested without a driver or a root filesystem.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "karapace/sandbox/mounts.hpp"
#include "karapace/sandbox/nvidia.hpp"

namespace karapace::sandbox {

// What the environment's root holds for its dynamic linker, read from its layer directories.
struct ImageLinker {
    // lib/ld-musl-<arch>.so.1: a musl environment, where the driver's glibc libraries cannot load.
    bool musl = false;
    std::optional<std::string> cache;  // etc/ld.so.cache as the root shows it; nullopt: none
    // A file of a layer of ours would not show: the writable layer has its own cache (written
    // by an ldconfig run inside), or it is a symlink or cannot be read.
    bool cache_hidden = false;
};
ImageLinker read_image_linker(const SandboxSpec& spec);

// Mount operations, root files and variables for `nv` in an environment whose linker is
// `linker`: device nodes at their paths; libraries, programs and loader manifests read-only below
// /run/host/nvidia; the environment's ld.so.cache with the libraries added (or LD_LIBRARY_PATH
// where that cache cannot be replaced); PATH, XDG_DATA_DIRS and the EGL directories extended.
// Returns warnings for the user (a musl environment, an unreadable cache).
std::vector<std::string> plan_nvidia(const NvidiaPassthrough& nv, const ImageLinker& linker,
                                     MountPlan& plan);

// NVIDIA_VISIBLE_DEVICES for a run: the last --env of it, else the caller's environment.
std::optional<std::string> visible_devices_for(const SandboxSpec& spec, const HostView& host);

}  // namespace karapace::sandbox
