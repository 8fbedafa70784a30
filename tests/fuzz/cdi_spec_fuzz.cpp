// libFuzzer target for CDI specs, which the GPU step reads from /etc/cdi and /var/run/cdi on every
// run of a gpu = true environment: YAML or JSON, read or refused with karapace::Error. A spec
// that is accepted names only absolute paths without "..", device nodes below /dev, and files in
// the driver's places.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "invariant.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/yaml.hpp"
#include "sandbox/cdi.hpp"

namespace {

using karapace::fuzz::require;
using namespace karapace::sandbox;

void check_paths(const CdiEdits& e) {
    for (const auto& n : e.device_nodes)
        require(cdi_host_path_allowed(n.path, true) && cdi_host_path_allowed(n.host_path, true),
                "an accepted device node is below /dev");
    for (const auto& m : e.mounts) {
        require(cdi_host_path_allowed(m.host_path, false), "an accepted mount is a driver's file");
        require(m.host_path.find("/../") == std::string::npos && !m.host_path.ends_with("/.."),
                "an accepted mount has no '..'");
        require(!m.container_path.empty() && m.container_path.front() == '/',
                "an accepted mount's target is absolute");
    }
    for (const auto& kv : e.env)
        require(kv.find('=') != std::string::npos && kv.front() != '=', "env entries are K=V");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    try {
        (void)karapace::yaml::parse(input, "fuzz.yaml");
    } catch (const karapace::Error&) {}
    try {
        auto spec = parse_cdi_spec(input, "/etc/cdi/fuzz.yaml", "nvidia.com/gpu");
        if (!spec) return 0;
        require(!spec->devices.empty(), "an accepted spec has devices");
        check_paths(spec->edits);
        for (const auto& d : spec->devices) {
            require(!d.name.empty(), "an accepted device has a name");
            check_paths(d.edits);
        }
    } catch (const karapace::Error&) {}
    return 0;
}
