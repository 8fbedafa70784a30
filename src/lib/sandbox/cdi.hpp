// Container Device Interface specs (github.com/cncf-tags/container-device-interface): the files a
// GPU vendor's tooling (nvidia-ctk cdi generate) writes to /etc/cdi or /var/run/cdi to say which
// device nodes, files, variables and hook steps a container needs. Read here as data, checked
// against the places a driver's files may come from; a spec that fails a check is refused whole.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::sandbox {

struct CdiDeviceNode {
    std::string path;       // inside the container
    std::string host_path;  // on the host; `path` when the spec gives none
};

struct CdiMount {
    std::string host_path;
    std::string container_path;
    std::vector<std::string> options;
};

struct CdiHook {
    std::string hook_name;  // createContainer, startContainer, ...
    std::string path;
    std::vector<std::string> args;
};

struct CdiEdits {
    std::vector<std::string> env;  // K=V
    std::vector<CdiDeviceNode> device_nodes;
    std::vector<CdiMount> mounts;
    std::vector<CdiHook> hooks;
};

struct CdiDevice {
    std::string name;  // "0", "GPU-<uuid>", "all", ...
    CdiEdits edits;
};

struct CdiSpec {
    std::string path;  // the file it was read from
    std::string version;
    std::string kind;  // vendor/class: nvidia.com/gpu
    std::vector<CdiDevice> devices;
    CdiEdits edits;  // applied whenever any of its devices is
};

// Reads a spec (JSON when it starts with '{', else YAML) and checks it: a cdiVersion, a kind of
// the form vendor/class, named devices, absolute paths without "..", device nodes below /dev, and
// mounted host paths inside the driver's places (cdi_host_path_allowed). nullopt when the spec is
// of another kind than `kind`; Error(runtime) naming the file and the problem otherwise.
std::optional<CdiSpec> parse_cdi_spec(std::string_view text, const std::string& path,
                                      std::string_view kind);

// Whether a spec may bind `path` (absolute, as the host sees it) into a sandbox: device nodes
// below /dev; files below /usr, /lib*, /opt, /etc/{vulkan,glvnd,egl,OpenCL,nvidia} and the
// NVIDIA daemons' directories in /run and /var/run.
bool cdi_host_path_allowed(std::string_view path, bool device_node);

// The spec files of the host below `host_root`, most authoritative first: /var/run/cdi before
// /etc/cdi (as the CDI registry ranks them), each directory's *.json, *.yaml and *.yml by name.
std::vector<std::string> cdi_spec_files(const std::string& host_root);

}  // namespace karapace::sandbox
