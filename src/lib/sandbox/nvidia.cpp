// Finding the NVIDIA driver's userspace on the host: a CDI spec when there is one for
// nvidia.com/gpu (nvidia_cdi.cpp), else discovery. Discovery reads the host's ld.so.cache (what
// the host's own programs load) for the libraries of the table below, looks for the programs
// beside them and in the usual places, and for the loaders' manifests in the share directories.
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>

#include "karapace/sandbox/ld_cache.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/json.hpp"
#include "sandbox/cdi.hpp"
#include "sandbox/nvidia_files.hpp"

namespace karapace::sandbox {

namespace {

// The driver's libraries, by the name ld.so looks them up under. They must come from the host:
// each is built for exactly the kernel module that runs there.
struct LibraryRule {
    const char* glob;
    const char* what;
};
constexpr std::array kLibraries{
    LibraryRule{"libcuda.so*", "CUDA driver API"},
    LibraryRule{"libcudadebugger.so*", "CUDA debugger back end (cuda-gdb)"},
    LibraryRule{"libnvidia-ml.so*", "NVML, the management library of nvidia-smi"},
    // The rest of the driver: PTX JIT, NVVM, OpenCL, NVENC, OpenGL/Vulkan core, ray tracing,
    // GPU memory allocator, EGL platforms, ...
    LibraryRule{"libnvidia-*.so*", "NVIDIA driver component"},
    LibraryRule{"libnvcuvid.so*", "NVDEC video decoding"},
    LibraryRule{"libnvoptix.so*", "OptiX ray tracing"},
    LibraryRule{"libGLX_nvidia.so*", "OpenGL (GLX) and Vulkan driver"},
    LibraryRule{"libEGL_nvidia.so*", "EGL driver"},
    LibraryRule{"libGLESv1_CM_nvidia.so*", "OpenGL ES 1 driver"},
    LibraryRule{"libGLESv2_nvidia.so*", "OpenGL ES 2 and 3 driver"},
    LibraryRule{"libvdpau_nvidia.so*", "VDPAU video decoding"},
};
// Named like the driver but not of it.
constexpr std::array kNotDriverLibraries{
    "libnvidia-container*.so*",  // the container toolkit's own library
    "libnvidia-gtk*.so*",        // nvidia-settings' user interface
};

// What a GPU environment is expected to get, and what is lost without it.
struct Expected {
    bool library;
    const char* name;
    const char* loss;
};
constexpr std::array kExpected{
    Expected{true, "libcuda.so.1", "CUDA programs cannot reach the GPU"},
    Expected{true, "libnvidia-ml.so.1", "nvidia-smi and other NVML users cannot work"},
    Expected{false, "nvidia-smi", "no nvidia-smi inside"},
    Expected{true, "libGLX_nvidia.so.0", "OpenGL (GLX) and Vulkan have no NVIDIA driver"},
    Expected{true, "libEGL_nvidia.so.0", "EGL has no NVIDIA driver"},
};

// Where programs are looked for when they are not beside the libraries.
constexpr std::array kProgramDirs{"/usr/bin",       "/usr/sbin",       "/bin",    "/sbin",
                                  "/usr/local/bin", "/usr/local/sbin", "/opt/bin"};
// Where loader manifests are looked for when there is no share directory beside the libraries.
constexpr std::array kLoaderRoots{"/etc", "/usr/share", "/usr/local/share"};

bool matches(const char* glob, const std::string& name) {
    return ::fnmatch(glob, name.c_str(), 0) == 0;
}

std::string trim(std::string s) {
    auto b = s.find_first_not_of(" \t\r\n");
    auto e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool is_version(const std::string& s) {
    if (s.empty() || s.front() == '.' || s.back() == '.' || s.find('.') == std::string::npos)
        return false;
    return s.find_first_not_of("0123456789.") == std::string::npos;
}

std::string driver_version(const HostRoot& host) {
    if (auto text = host.read("/proc/driver/nvidia/version", 1 << 16)) {
        // "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  580.159.04  Release Build ..."
        auto line = text->substr(0, text->find('\n'));
        std::size_t pos = 0;
        while (pos < line.size()) {
            auto start = line.find_first_not_of(' ', pos);
            if (start == std::string::npos) break;
            auto end = line.find(' ', start);
            auto word = line.substr(start, end == std::string::npos ? end : end - start);
            if (is_version(word)) return word;
            pos = end == std::string::npos ? line.size() : end;
        }
    }
    if (auto text = host.read("/sys/module/nvidia/version", 4096)) return trim(*text);
    return {};
}

bool present(const HostRoot& host) {
    return host.resolve("/proc/driver/nvidia/version").has_value() ||
           host.resolve("/dev/nvidiactl").has_value();
}

void discover_from_cache(const HostRoot& host, PassthroughBuilder& b, NvidiaPassthrough& out,
                         std::vector<std::string>& lib_dirs) {
    auto text = host.read("/etc/ld.so.cache", 64u << 20);
    if (!text) {
        out.warnings.push_back(
            "the host has no readable /etc/ld.so.cache, so the NVIDIA driver's libraries cannot "
            "be found; run `sudo ldconfig` on the host");
        return;
    }
    LdCache cache;
    try {
        cache = parse_ld_cache(*text, "the host's /etc/ld.so.cache");
    } catch (const Error& e) {
        out.warnings.push_back(e.what());
        return;
    }
    if (ld_cache_native_flags() == 0)
        for (const auto& e : cache.entries)
            if (e.name == "libc.so.6" && e.hwcap == 0) {
                b.set_native_flags(e.flags);
                break;
            }
    for (const auto& e : cache.entries) {
        if (e.hwcap != 0) continue;  // a glibc-hwcaps variant; the plain entry is taken
        const char* what = driver_library_purpose(e.name);
        if (what == nullptr) continue;
        if (e.flags != b.native_flags() && e.flags != b.compat_flags()) continue;
        auto f = host.resolve(e.path);
        if (!f || !S_ISREG(f->st.st_mode)) {
            out.notes.push_back("the host's ld.so.cache lists " + e.path + " for " + e.name +
                                ", but it is not there (run `sudo ldconfig` on the host)");
            continue;
        }
        if (b.library(*f, e.name, e.flags, what) && e.flags == b.native_flags()) {
            auto dir = parent_dir(e.path);
            if (std::find(lib_dirs.begin(), lib_dirs.end(), dir) == lib_dirs.end())
                lib_dirs.push_back(dir);
        }
    }
}

void discover_programs(const HostRoot& host, PassthroughBuilder& b,
                       const std::vector<std::string>& lib_dirs) {
    std::vector<std::string> dirs;
    for (const auto& d : lib_dirs)
        dirs.push_back(parent_dir(d) + "/bin");  // /usr/local/nvidia/lib64 -> /usr/local/nvidia/bin
    dirs.insert(dirs.end(), kProgramDirs.begin(), kProgramDirs.end());
    for (const auto& rule : driver_programs()) {
        for (const auto& dir : dirs) {
            auto f = host.resolve(dir + "/" + rule.name);
            if (f && S_ISREG(f->st.st_mode) && (f->st.st_mode & 0111)) {
                b.program(*f, rule.name, rule.what);
                break;
            }
        }
    }
}

void discover_loader_files(const HostRoot& host, PassthroughBuilder& b,
                           const std::vector<std::string>& lib_dirs) {
    std::vector<std::string> roots;
    for (const auto& d : lib_dirs)
        roots.push_back(parent_dir(d) + "/share");
    roots.insert(roots.end(), kLoaderRoots.begin(), kLoaderRoots.end());
    for (const auto& rule : driver_loader_files()) {
        for (const auto& root : roots) {
            std::string dir = root + "/" + rule.subdir;
            for (const auto& name : host.list(dir)) {
                if (!matches(rule.glob, name)) continue;
                if (auto f = host.resolve(dir + "/" + name); f && S_ISREG(f->st.st_mode))
                    b.loader_file(*f, rule, name);
            }
        }
    }
}

void check_expected(NvidiaPassthrough& out) {
    for (const auto& e : kExpected) {
        bool have = false;
        if (e.library) {
            for (const auto& l : out.libraries)
                have = have || l.name == e.name;
        } else {
            for (const auto& p : out.programs)
                have = have || base_name(p.container_path) == e.name;
        }
        if (!have) out.missing.push_back(std::string(e.name) + " (" + e.loss + ")");
    }
    // libcuda.so.<version> must be the kernel module's version, or CUDA fails to initialise.
    for (const auto& l : out.libraries) {
        if (l.name != "libcuda.so.1" || out.driver_version.empty()) continue;
        auto file = base_name(l.file.host_path);
        std::string prefix = "libcuda.so.";
        if (file.rfind(prefix, 0) != 0 || file == l.name) continue;
        auto version = file.substr(prefix.size());
        if (is_version(version) && version != out.driver_version)
            out.warnings.push_back("the host's NVIDIA libraries are version " + version +
                                   " but its kernel module is " + out.driver_version +
                                   ": CUDA will fail until they match (reboot the host after a "
                                   "driver update)");
    }
}

}  // namespace

const char* nvidia_source_name(NvidiaSource s) noexcept {
    switch (s) {
    case NvidiaSource::cdi: return "cdi";
    case NvidiaSource::discovery: return "discovery";
    case NvidiaSource::none: break;
    }
    return "none";
}

VisibleDevices parse_visible_devices(const std::optional<std::string>& value) {
    VisibleDevices v;
    if (!value) return v;
    auto s = trim(*value);
    if (s.empty() || s == "void") {
        v.mode = VisibleDevices::Mode::nothing;
    } else if (s == "all") {
        v.mode = VisibleDevices::Mode::all;
    } else if (s == "none") {
        v.mode = VisibleDevices::Mode::none;
    } else {
        v.mode = VisibleDevices::Mode::list;
        std::size_t pos = 0;
        while (pos <= s.size()) {
            auto comma = s.find(',', pos);
            if (comma == std::string::npos) comma = s.size();
            auto name = trim(s.substr(pos, comma - pos));
            if (!name.empty()) v.names.push_back(name);
            pos = comma + 1;
        }
    }
    return v;
}

const char* driver_library_purpose(const std::string& soname) {
    for (const char* glob : kNotDriverLibraries)
        if (matches(glob, soname)) return nullptr;
    for (const auto& rule : kLibraries)
        if (matches(rule.glob, soname)) return rule.what;
    return nullptr;
}

const std::vector<ProgramRule>& driver_programs() {
    static const std::vector<ProgramRule> programs{
        {"nvidia-smi", "GPU status and management"},
        {"nvidia-debugdump", "driver diagnostics"},
        {"nvidia-persistenced", "persistence daemon"},
        {"nvidia-cuda-mps-control", "Multi-Process Service control"},
        {"nvidia-cuda-mps-server", "Multi-Process Service server"},
    };
    return programs;
}

const std::vector<LoaderRule>& driver_loader_files() {
    // Found inside through XDG_DATA_DIRS (Vulkan) and the glvnd/EGL directory variables, which
    // add to the environment's own directories instead of replacing them.
    static const std::vector<LoaderRule> files{
        {"vulkan/icd.d", "nvidia_icd*.json", "Vulkan driver manifest"},
        {"vulkan/implicit_layer.d", "nvidia_layers*.json", "Vulkan layer manifest"},
        {"glvnd/egl_vendor.d", "*_nvidia*.json", "EGL vendor manifest (glvnd)"},
        {"egl/egl_external_platform.d", "*_nvidia*.json", "EGL platform manifest"},
    };
    return files;
}

std::string loader_container_path(const LoaderRule& rule, const std::string& name) {
    return std::string(kNvidiaDir) + "/share/" + rule.subdir + "/" + name;
}

const LoaderRule* loader_rule_for(const std::string& host_path) {
    auto dir = parent_dir(host_path), name = base_name(host_path);
    for (const auto& rule : driver_loader_files()) {
        std::string sub = std::string("/") + rule.subdir;
        if (dir.size() >= sub.size() &&
            dir.compare(dir.size() - sub.size(), sub.size(), sub) == 0 && name.ends_with(".json"))
            return &rule;
    }
    return nullptr;
}

// ---- PassthroughBuilder --------------------------------------------------------------------

bool PassthroughBuilder::claim(const std::string& container_path) {
    return taken_.insert(container_path).second;
}

std::int32_t PassthroughBuilder::native_flags() const {
    return native_ != 0 ? native_ : ld_cache_native_flags();
}

std::int32_t PassthroughBuilder::compat_flags() const { return ld_cache_compat_flags(); }

void PassthroughBuilder::device(const ResolvedFile& f, const std::string& container_path) {
    if (claim(container_path))
        out_.devices.push_back({f.reach, container_path, "NVIDIA device " + container_path});
}

bool PassthroughBuilder::library(const ResolvedFile& f, const std::string& name, std::int32_t flags,
                                 const std::string& what) {
    const char* dir = flags == native_flags()                            ? "/lib64/"
                      : (compat_flags() != 0 && flags == compat_flags()) ? "/lib/"
                                                                         : nullptr;
    if (dir == nullptr) return false;
    std::string path = std::string(kNvidiaDir) + dir + name;
    if (!claim(path)) return false;
    out_.libraries.push_back({{f.reach, path, what}, name, flags});
    return true;
}

void PassthroughBuilder::program(const ResolvedFile& f, const std::string& name,
                                 const std::string& what) {
    std::string path = std::string(kNvidiaDir) + "/bin/" + name;
    if (claim(path)) out_.programs.push_back({f.reach, path, what});
}

void PassthroughBuilder::loader_file(const ResolvedFile& f, const LoaderRule& rule,
                                     const std::string& name) {
    std::string path = loader_container_path(rule, name);
    if (!claim(path)) return;
    // A manifest naming its library by an absolute host path would point at nothing inside:
    // it is given the soname instead, which the sandbox's ld.so.cache resolves.
    if (auto text = host_.read(f.host_view, 1 << 20)) {
        boost::system::error_code ec;
        auto doc = boost::json::parse(*text, ec);
        bool rewritten = false;
        if (!ec && doc.is_object()) {
            for (const char* section : {"ICD", "layer"}) {
                auto* s = doc.as_object().if_contains(section);
                if (s == nullptr || !s->is_object()) continue;
                auto* lib = s->as_object().if_contains("library_path");
                if (lib && lib->is_string() && lib->as_string().starts_with("/")) {
                    *lib = base_name(std::string(lib->as_string()));
                    rewritten = true;
                }
            }
        }
        if (rewritten) {
            out_.generated.emplace_back(path, json::pretty(doc));
            return;
        }
    }
    out_.files.push_back({f.reach, path, std::string(rule.what)});
}

void PassthroughBuilder::socket(const ResolvedFile& f, const std::string& container_path,
                                const std::string& what) {
    if (S_ISSOCK(f.st.st_mode) && claim(container_path))
        out_.files.push_back({f.reach, container_path, what});
}

void PassthroughBuilder::daemon_sockets() {
    for (auto [path, what] :
         {std::pair{"/run/nvidia-persistenced/socket", "nvidia-persistenced socket"},
          std::pair{"/run/nvidia-fabricmanager/socket", "NVIDIA Fabric Manager socket"}}) {
        auto f = host_.resolve(path);
        if (!f) f = host_.resolve(std::string("/var") + path);
        if (f) socket(*f, path, what);
    }
}

void PassthroughBuilder::devices_from_dev(const VisibleDevices& visible) {
    std::vector<int> minors;  // of the GPUs named in a list
    if (visible.mode == VisibleDevices::Mode::list) {
        auto gpus = host_gpus(host_);
        for (const auto& name : visible.names) {
            int minor = -1;
            if (name.find_first_not_of("0123456789") == std::string::npos) {
                auto index = static_cast<std::size_t>(std::strtoul(name.c_str(), nullptr, 10));
                // Without /proc/driver/nvidia/gpus, index and minor number are taken as one.
                minor = gpus.empty()          ? static_cast<int>(index)
                        : index < gpus.size() ? gpus[index].minor
                                              : -1;
            } else {
                for (const auto& g : gpus)
                    if (g.uuid == name) minor = g.minor;
            }
            if (minor < 0)
                out_.warnings.push_back("NVIDIA_VISIBLE_DEVICES names '" + name +
                                        "', which is no GPU index or UUID of this host");
            else
                minors.push_back(minor);
        }
    }
    for (const auto& name : host_.list("/dev")) {
        if (name.rfind("nvidia", 0) != 0) continue;
        auto rest = name.substr(6);
        if (!rest.empty() && rest.find_first_not_of("0123456789") == std::string::npos) {
            int minor = std::atoi(rest.c_str());
            if (visible.mode == VisibleDevices::Mode::none) continue;
            if (visible.mode == VisibleDevices::Mode::list &&
                std::find(minors.begin(), minors.end(), minor) == minors.end())
                continue;
        }
        // nvidiactl, nvidia-uvm(-tools), nvidia-modeset, nvidia-caps/: the driver's control nodes.
        if (auto f = host_.resolve("/dev/" + name)) device(*f, "/dev/" + name);
    }
}

std::vector<GpuInfo> host_gpus(const HostRoot& host) {
    std::vector<GpuInfo> gpus;
    for (const auto& bus : host.list("/proc/driver/nvidia/gpus")) {
        auto text = host.read("/proc/driver/nvidia/gpus/" + bus + "/information", 1 << 16);
        if (!text) continue;
        GpuInfo g;
        std::size_t pos = 0;
        while (pos < text->size()) {
            auto nl = text->find('\n', pos);
            auto line = text->substr(pos, nl == std::string::npos ? nl : nl - pos);
            pos = nl == std::string::npos ? text->size() : nl + 1;
            auto colon = line.find(':');
            if (colon == std::string::npos) continue;
            auto key = trim(line.substr(0, colon)), value = trim(line.substr(colon + 1));
            if (key == "Device Minor") g.minor = std::atoi(value.c_str());
            if (key == "GPU UUID") g.uuid = value;
        }
        if (g.minor >= 0) gpus.push_back(g);
    }
    return gpus;
}

std::string gpu_host_root() {
    const char* root = std::getenv("KARAPACE_GPU_HOST_ROOT");
    return root != nullptr && *root == '/' ? std::string(root) : std::string("/");
}

bool nvidia_present(const std::string& host_root) { return present(HostRoot(host_root)); }

NvidiaPassthrough discover_nvidia(const NvidiaRequest& request) {
    NvidiaPassthrough out;
    HostRoot host(request.host_root);
    if (!present(host)) return out;
    out.driver_version = driver_version(host);
    auto visible = parse_visible_devices(request.visible_devices);
    if (visible.mode == VisibleDevices::Mode::nothing) {
        out.notes.push_back("NVIDIA_VISIBLE_DEVICES='" + request.visible_devices.value_or("") +
                            "': nothing of the NVIDIA driver is passed");
        return out;
    }
    for (const auto& path : cdi_spec_files(request.host_root)) {
        std::string text;
        try {
            text = read_file_limited(path, 4u << 20);
            auto spec = parse_cdi_spec(text, path, "nvidia.com/gpu");
            if (!spec) continue;
            NvidiaPassthrough attempt = out;
            apply_cdi_spec(*spec, visible, host, attempt);
            attempt.source = NvidiaSource::cdi;
            attempt.cdi_spec = path;
            out = std::move(attempt);
            break;
        } catch (const Error& e) {
            out.warnings.push_back(std::string(e.what()) +
                                   "; the driver's files are looked up without it");
        }
    }
    if (!out.found()) {
        PassthroughBuilder b(out, host);
        std::vector<std::string> lib_dirs;
        discover_from_cache(host, b, out, lib_dirs);
        discover_programs(host, b, lib_dirs);
        discover_loader_files(host, b, lib_dirs);
        b.daemon_sockets();
        b.devices_from_dev(visible);
        out.source = NvidiaSource::discovery;
    }
    check_expected(out);
    return out;
}

}  // namespace karapace::sandbox
