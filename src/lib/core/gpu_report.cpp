#include "core/gpu_report.hpp"

#include <sys/stat.h>

#include <cstdlib>

#include "karapace/sandbox/gpu.hpp"
#include "karapace/sandbox/nvidia.hpp"

namespace karapace::core {

namespace {

sandbox::NvidiaPassthrough discover_here() {
    sandbox::NvidiaRequest r;
    r.host_root = sandbox::gpu_host_root();
    if (const char* v = std::getenv("NVIDIA_VISIBLE_DEVICES")) r.visible_devices = v;
    return sandbox::discover_nvidia(r);
}

std::string count(std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

// " (libcuda.so.1, libnvidia-ml.so.1, ... and 20 more)": the ones programs ask for first.
std::string library_names(const sandbox::NvidiaPassthrough& nv) {
    std::vector<std::string> shown;
    std::size_t rest = 0;
    for (const char* name : {"libcuda.so.1", "libnvidia-ml.so.1", "libGLX_nvidia.so.0",
                             "libEGL_nvidia.so.0", "libnvidia-encode.so.1", "libnvcuvid.so.1"})
        for (const auto& l : nv.libraries)
            if (l.name == name && l.file.container_path.find("/lib64/") != std::string::npos)
                shown.emplace_back(name);
    rest = nv.libraries.size() - shown.size();
    if (shown.empty()) return {};
    std::string out = " (";
    for (std::size_t i = 0; i < shown.size(); ++i)
        out += (i ? ", " : "") + shown[i];
    return out + (rest ? " and " + std::to_string(rest) + " more)" : ")");
}

}  // namespace

GpuDetails gpu_details(bool requested, const std::string& upper,
                       const std::vector<std::string>& lowers) {
    GpuDetails d;
    d.requested = requested;
    if (!requested) return d;
    struct stat st {};
    d.dri = ::stat("/dev/dri", &st) == 0;
    auto nv = discover_here();
    d.nvidia = sandbox::nvidia_source_name(nv.source);
    d.driver_version = nv.driver_version;
    d.cdi_spec = nv.cdi_spec;
    d.warnings = nv.warnings;
    d.missing = nv.missing;
    if (!nv.found()) return d;
    // The plan a run would make, without running anything.
    sandbox::SandboxSpec spec;
    spec.upper_dir = upper;
    spec.lower_dirs = lowers;
    spec.read_only = upper.empty();
    sandbox::MountPlan plan;
    auto warnings = sandbox::plan_nvidia(nv, sandbox::read_image_linker(spec), plan);
    d.warnings.insert(d.warnings.end(), warnings.begin(), warnings.end());
    for (const auto& op : plan.ops) {
        const auto& t = op.target;
        if (t.rfind("/dev/", 0) == 0)
            d.devices.push_back(t);
        else if (t.find("/lib64/") != std::string::npos || t.find("/lib/") != std::string::npos)
            d.libraries.push_back(t);
        else if (t.find("/bin/") != std::string::npos)
            d.programs.push_back(t);
        else
            d.files.push_back(t);
    }
    bool cache = false, path = false;
    for (const auto& f : plan.root_files)
        cache = cache || f.path == "/etc/ld.so.cache";
    for (const auto& kv : plan.env_extra)
        path = path || kv.rfind("LD_LIBRARY_PATH=", 0) == 0;
    d.linker = d.libraries.empty() ? "none"
               : cache             ? "ld.so.cache"
               : path              ? "LD_LIBRARY_PATH"
                                   : "ld.so.cache";
    return d;
}

DoctorCheck gpu_check() {
    DoctorCheck c{"gpu", "info", "", "", false};
    struct stat st {};
    bool dri = ::stat("/dev/dri", &st) == 0;
    auto nv = discover_here();
    if (!nv.found()) {
        c.message = std::string(dri ? "/dev/dri is there (Intel, AMD and other Mesa drivers "
                                      "work inside gpu = true environments)"
                                    : "no GPU device nodes") +
                    "; no NVIDIA driver is loaded";
        for (const auto& n : nv.notes)
            c.message += "; " + n;
        return c;
    }
    std::size_t lib64 = 0, lib32 = 0;
    for (const auto& l : nv.libraries)
        (l.file.container_path.find("/lib64/") != std::string::npos ? lib64 : lib32)++;
    std::size_t gpus = 0;
    for (const auto& d : nv.devices) {
        auto name = d.container_path.substr(d.container_path.rfind('/') + 1);
        if (name.size() > 6 && name.find_first_not_of("0123456789", 6) == std::string::npos) ++gpus;
    }
    c.status = "pass";
    c.message = "NVIDIA driver " +
                (nv.driver_version.empty() ? "(version unknown)" : nv.driver_version) + ", " +
                count(gpus, "GPU", "GPUs") + "; its userspace " +
                (nv.source == sandbox::NvidiaSource::cdi ? "from the CDI spec " + nv.cdi_spec
                                                         : "found through /etc/ld.so.cache") +
                ": " + count(lib64, "library", "libraries") +
                (lib32 ? " and " + count(lib32, "32-bit library", "32-bit libraries") : "") +
                library_names(nv) + ", " + count(nv.programs.size(), "program", "programs") + ", " +
                count(nv.files.size() + nv.generated.size(), "loader manifest or socket",
                      "loader manifests and sockets");
    if (!nv.missing.empty()) {
        c.message += "; missing: ";
        for (std::size_t i = 0; i < nv.missing.size(); ++i)
            c.message += (i ? ", " : "") + nv.missing[i];
    }
    for (const auto& w : nv.warnings)
        c.message += "; " + w;
    // Compute needs CUDA, NVML and nvidia-smi; a server without the OpenGL libraries is fine.
    bool essential_missing = false;
    for (const auto& m : nv.missing)
        for (const char* name : {"libcuda.so.1 ", "libnvidia-ml.so.1 ", "nvidia-smi "})
            essential_missing = essential_missing || m.rfind(name, 0) == 0;
    if (!nv.warnings.empty() || essential_missing) {
        c.status = "warn";
        c.fix =
            nv.source == sandbox::NvidiaSource::cdi
                ? "regenerate the CDI spec: sudo nvidia-ctk cdi generate --output=" + nv.cdi_spec
                : "install the driver's libraries for your kernel module and run "
                  "`sudo ldconfig`, or describe them in a CDI spec: sudo nvidia-ctk cdi "
                  "generate --output=/etc/cdi/nvidia.yaml";
    }
    return c;
}

}  // namespace karapace::core
