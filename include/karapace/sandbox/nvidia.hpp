// The NVIDIA driver's userspace for `gpu = true`: which device nodes, libraries, programs and
// loader files of the host's driver a sandbox gets. They must match the host's kernel module, so
// they come from the host, never from the environment: from a CDI spec for nvidia.com/gpu when
// the host has one, else found through the host's /etc/ld.so.cache. The result is plain data;
// the GPU step (gpu.cpp) binds it below /run/host/nvidia, never over the environment's own /usr.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace karapace::sandbox {

// Where the driver's files appear in every sandbox.
inline constexpr const char* kNvidiaDir = "/run/host/nvidia";

struct DriverFile {
    std::string host_path;       // the file to bind, as this process reaches it (symlinks resolved)
    std::string container_path;  // where it appears inside
    std::string what;            // what it is for ("CUDA driver API"), for inspect and errors
};

struct DriverLibrary {
    DriverFile file;        // container_path: /run/host/nvidia/lib64/<name> (lib/ for 32-bit)
    std::string name;       // the name ld.so looks it up by (libcuda.so.1)
    std::int32_t ld_flags;  // its ld.so.cache flags (0x0303 x86-64, 0x0003 i386)
};

enum class NvidiaSource { none, cdi, discovery };
const char* nvidia_source_name(NvidiaSource s) noexcept;  // "none", "cdi", "discovery"

struct NvidiaPassthrough {
    NvidiaSource source = NvidiaSource::none;
    std::string driver_version;       // of the kernel module ("580.159.04"); empty when unknown
    std::string cdi_spec;             // the spec used, when source is cdi
    std::vector<DriverFile> devices;  // /dev/nvidia0, /dev/nvidiactl, ... at the same path
    std::vector<DriverLibrary> libraries;
    std::vector<DriverFile> programs;  // nvidia-smi, ... in /run/host/nvidia/bin
    std::vector<DriverFile> files;     // loader manifests below /run/host/nvidia/share; sockets
    // Loader manifests that name their library by an absolute host path, rewritten to name it
    // by its soname: (container path, contents).
    std::vector<std::pair<std::string, std::string>> generated;
    std::vector<std::string> env;       // K=V the sandbox gets (from the CDI spec)
    std::vector<std::string> warnings;  // refused specs, unknown devices, version mismatches
    std::vector<std::string> notes;     // what was left out, and why
    std::vector<std::string> missing;   // expected pieces the host lacks, with what they are for
    bool found() const noexcept { return source != NvidiaSource::none; }
};

struct NvidiaRequest {
    // Where the host's files are looked up: "/" on a real host. Tests point it at a fake driver
    // tree ($KARAPACE_GPU_HOST_ROOT); every host path (ld.so.cache entries, CDI paths, /dev,
    // /proc/driver/nvidia) is then read below it.
    std::string host_root = "/";
    // NVIDIA_VISIBLE_DEVICES as CDI users set it: unset or "all" (every GPU), "none" (the
    // driver without a GPU), "void" or empty (nothing of NVIDIA), else a comma-separated list
    // of indices and GPU UUIDs.
    std::optional<std::string> visible_devices;
};

// $KARAPACE_GPU_HOST_ROOT when set (tests), else "/".
std::string gpu_host_root();

// True when the host below `host_root` has the NVIDIA kernel driver loaded.
bool nvidia_present(const std::string& host_root);

NvidiaPassthrough discover_nvidia(const NvidiaRequest& request);

}  // namespace karapace::sandbox
