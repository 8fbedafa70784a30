// Shared by the two ways of finding the driver's userspace (nvidia.cpp: discovery through the
// host's ld.so.cache; nvidia_cdi.cpp: a CDI spec): the tables of what belongs to the driver, and
// the one place that turns a host file into an entry of the passthrough.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "karapace/sandbox/nvidia.hpp"
#include "sandbox/host_root.hpp"

namespace karapace::sandbox {

// NVIDIA_VISIBLE_DEVICES, read.
struct VisibleDevices {
    enum class Mode { all, none, nothing, list } mode = Mode::all;  // nothing: "void" / empty
    std::vector<std::string> names;  // indices and UUIDs, for Mode::list
};
VisibleDevices parse_visible_devices(const std::optional<std::string>& value);

// What a library name is for, when it belongs to the driver (nullptr when it does not).
const char* driver_library_purpose(const std::string& soname);
// The driver's programs, by name, and what each is for.
struct ProgramRule {
    const char* name;
    const char* what;
};
const std::vector<ProgramRule>& driver_programs();
// Loader manifests: the directory they are searched in (below a share directory or /etc), a
// glob of their names, and what they are for.
struct LoaderRule {
    const char* subdir;
    const char* glob;
    const char* what;
};
const std::vector<LoaderRule>& driver_loader_files();
// Where the loader file of `rule` named `name` appears inside.
std::string loader_container_path(const LoaderRule& rule, const std::string& name);
// The loader rule for a host path (".../vulkan/icd.d/nvidia_icd.json"), or nullptr.
const LoaderRule* loader_rule_for(const std::string& host_path);

// Collects the passthrough without duplicates: the first file for a container path wins.
class PassthroughBuilder {
public:
    PassthroughBuilder(NvidiaPassthrough& out, const HostRoot& host) : out_(out), host_(host) {}

    void device(const ResolvedFile& f, const std::string& container_path);
    // A library at /run/host/nvidia/{lib64,lib}/<name>; false when its flags are for neither.
    bool library(const ResolvedFile& f, const std::string& name, std::int32_t flags,
                 const std::string& what);
    void program(const ResolvedFile& f, const std::string& name, const std::string& what);
    // A loader manifest, rewritten when it names its library by an absolute path.
    void loader_file(const ResolvedFile& f, const LoaderRule& rule, const std::string& name);
    void socket(const ResolvedFile& f, const std::string& container_path, const std::string& what);
    // The GPU device nodes and the control nodes of /dev, as `visible` allows.
    void devices_from_dev(const VisibleDevices& visible);
    // The daemons' sockets (persistenced, fabric manager) where they run.
    void daemon_sockets();

    std::int32_t native_flags() const;
    std::int32_t compat_flags() const;
    void set_native_flags(std::int32_t flags) { native_ = flags; }

private:
    bool claim(const std::string& container_path);
    NvidiaPassthrough& out_;
    const HostRoot& host_;
    std::set<std::string> taken_;
    std::int32_t native_ = 0;
};

// The GPUs of the host (/proc/driver/nvidia/gpus/*/information) in index order: device minor
// and UUID of each.
struct GpuInfo {
    int minor = -1;
    std::string uuid;
};
std::vector<GpuInfo> host_gpus(const HostRoot& host);

// Fills `out` from a CDI spec (nvidia_cdi.cpp). Throws Error when a path the spec names
// resolves outside the allowed places; the caller then refuses the spec.
struct CdiSpec;
void apply_cdi_spec(const CdiSpec& spec, const VisibleDevices& visible, const HostRoot& host,
                    NvidiaPassthrough& out);

}  // namespace karapace::sandbox
