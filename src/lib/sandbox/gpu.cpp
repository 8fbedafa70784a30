// Step: the NVIDIA driver's userspace for `gpu = true`. Everything lands below /run/host/nvidia,
// on the sandbox's own /run tmpfs, so no mount point is created in the environment's writable
// layer and nothing of its /usr is hidden. The environment's ld.so finds the libraries through
// its own ld.so.cache with theirs added, shown from a read-only layer of the sandbox's own
// (RootFile), together with an ld.so.conf.d entry so that an ldconfig run inside keeps them.
#include "karapace/sandbox/gpu.hpp"

#include <sys/utsname.h>

#include <algorithm>
#include <map>

#include "karapace/sandbox/env.hpp"
#include "karapace/sandbox/ld_cache.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "sandbox/layer_view.hpp"

namespace karapace::sandbox {

namespace {

using Kind = MountOp::Kind;

constexpr const char* kLdConf = "/etc/ld.so.conf.d/000-karapace-nvidia.conf";
constexpr std::string_view kGenerator =
    "karapace: the environment's ld.so.cache with the host's NVIDIA driver libraries";

std::string machine() {
    struct utsname u {};
    return ::uname(&u) == 0 ? std::string(u.machine) : std::string();
}

// True when `cache` already maps every library of `entries` to the same place.
bool lists_all(const std::string& cache, const std::vector<LdCacheEntry>& entries) {
    try {
        auto c = parse_ld_cache(cache, "the environment's /etc/ld.so.cache");
        return std::all_of(entries.begin(), entries.end(), [&](const LdCacheEntry& e) {
            return std::any_of(c.entries.begin(), c.entries.end(), [&](const LdCacheEntry& have) {
                return have.name == e.name && have.flags == e.flags && have.path == e.path;
            });
        });
    } catch (const Error&) {
        return false;
    }
}

std::string join(const std::vector<std::string>& items, const char* sep) {
    std::string out;
    for (const auto& s : items)
        out += (out.empty() ? "" : sep) + s;
    return out;
}

bool below(const std::string& path, const std::string& dir) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path[dir.size()] == '/';
}

}  // namespace

ImageLinker read_image_linker(const SandboxSpec& spec) {
    auto layers = root_layers(spec);
    bool has_upper = has_writable_upper(spec);

    ImageLinker linker;
    auto musl = find_in_layers(layers, "lib/ld-musl-" + machine() + ".so.1");
    linker.musl = musl.seen == Seen::file || musl.seen == Seen::symlink;
    auto cache = find_in_layers(layers, "etc/ld.so.cache");
    if (cache.seen == Seen::absent) return linker;
    linker.cache_hidden = cache.seen != Seen::file || (has_upper && cache.layer == 0);
    if (cache.seen == Seen::file) {
        try {
            linker.cache = read_file_limited(cache.path, 64u << 20);
        } catch (const Error&) {
            linker.cache_hidden = true;
        }
    }
    return linker;
}

std::vector<std::string> plan_nvidia(const NvidiaPassthrough& nv, const ImageLinker& linker,
                                     MountPlan& plan) {
    std::vector<std::string> warnings;
    auto bind = [&](const DriverFile& f, bool read_only, bool device) {
        MountOp m;
        m.kind = Kind::bind;
        m.source = f.host_path;
        m.target = f.container_path;
        m.read_only = read_only;
        m.nodev = !device;
        m.optional = true;  // a driver update may remove a file between discovery and the mount
        m.why = f.what;
        plan.ops.push_back(m);
    };
    for (const auto& d : nv.devices)
        bind(d, false, true);
    if (linker.musl) {
        warnings.push_back(
            "the environment uses musl: the NVIDIA driver's libraries and programs are built for "
            "glibc and are not passed, only its device nodes");
        return warnings;
    }
    std::string dir = kNvidiaDir;
    // One bind per file: a further name of the same file (libcuda.so beside libcuda.so.1) is a
    // symlink to the first, which costs a run far less than another mount.
    std::map<std::string, std::string> bound;  // host file -> its first path inside
    for (const auto& l : nv.libraries) {
        auto [first, fresh] = bound.try_emplace(l.file.host_path, l.file.container_path);
        auto slash = l.file.container_path.rfind('/');
        if (fresh ||
            first->second.compare(0, slash + 1, l.file.container_path, 0, slash + 1) != 0) {
            bind(l.file, true, false);
            continue;
        }
        MountOp link;
        link.kind = Kind::symlink;
        link.source = first->second.substr(slash + 1);
        link.target = l.file.container_path;
        link.why = l.file.what;
        plan.ops.push_back(link);
    }
    for (const auto& p : nv.programs)
        bind(p, true, false);
    for (const auto& f : nv.files)
        bind(f, below(f.container_path, dir), false);  // sockets stay connectable
    for (const auto& [path, content] : nv.generated) {
        MountOp m;
        m.kind = Kind::file;
        m.source = content;
        m.target = path;
        m.why = path;
        plan.ops.push_back(m);
    }

    if (!nv.libraries.empty()) {
        std::vector<std::string> dirs;
        std::vector<LdCacheEntry> entries;
        for (const auto& l : nv.libraries) {
            auto d = l.file.container_path.substr(0, l.file.container_path.rfind('/'));
            if (std::find(dirs.begin(), dirs.end(), d) == dirs.end()) dirs.push_back(d);
            entries.push_back({l.ld_flags, l.name, l.file.container_path, 0, 0});
        }
        plan.root_files.push_back(
            {kLdConf,
             "# The host's NVIDIA driver libraries, there while karapace runs this "
             "environment with gpu = true\n" +
                 join(dirs, "\n") + "\n"});
        bool found = false;
        if (!linker.cache_hidden) {
            try {
                LdCache cache;
                if (linker.cache)
                    cache = parse_ld_cache(*linker.cache, "the environment's /etc/ld.so.cache");
                ld_cache_put(cache, entries);
                plan.root_files.push_back({"/etc/ld.so.cache", write_ld_cache(cache, kGenerator)});
                found = true;
            } catch (const Error& e) {
                warnings.push_back(std::string(e.what()) +
                                   "; the NVIDIA libraries are found through LD_LIBRARY_PATH");
            }
        } else {
            found = linker.cache && lists_all(*linker.cache, entries);
        }
        // The writable layer's own cache would hide ours; an ldconfig run inside (which reads
        // the ld.so.conf.d entry) adds the libraries to it for good.
        if (!found) plan.env_extra.push_back("LD_LIBRARY_PATH=" + join(dirs, ":"));
    }
    if (!nv.programs.empty())
        plan.env_extra.push_back(std::string("PATH=") + kDefaultPath + ":" + dir + "/bin");
    auto have = [&](const std::string& sub) {
        auto in = [&](const std::string& p) { return below(p, dir + "/share/" + sub); };
        return std::any_of(nv.files.begin(), nv.files.end(),
                           [&](const DriverFile& f) { return in(f.container_path); }) ||
               std::any_of(nv.generated.begin(), nv.generated.end(),
                           [&](const auto& g) { return in(g.first); });
    };
    // The loaders' own directories stay searched: a second GPU's driver (Mesa) is not hidden.
    if (have("vulkan"))
        append_search_dir(plan.env_extra, "XDG_DATA_DIRS", "/usr/local/share:/usr/share",
                          dir + "/share");
    if (have("glvnd/egl_vendor.d"))
        append_search_dir(plan.env_extra, "__EGL_VENDOR_LIBRARY_DIRS",
                          "/etc/glvnd/egl_vendor.d:/usr/share/glvnd/egl_vendor.d",
                          dir + "/share/glvnd/egl_vendor.d");
    if (have("egl/egl_external_platform.d"))
        append_search_dir(plan.env_extra, "__EGL_EXTERNAL_PLATFORM_CONFIG_DIRS",
                          "/etc/egl/egl_external_platform.d:/usr/share/egl/egl_external_platform.d",
                          dir + "/share/egl/egl_external_platform.d");
    plan.env_extra.insert(plan.env_extra.end(), nv.env.begin(), nv.env.end());
    return warnings;
}

std::optional<std::string> visible_devices_for(const SandboxSpec& spec, const HostView& host) {
    constexpr std::string_view key = "NVIDIA_VISIBLE_DEVICES=";
    std::optional<std::string> value;
    for (const auto& kv : spec.env)
        if (kv.rfind(key, 0) == 0) value = kv.substr(key.size());
    if (value) return value;
    return host.getenv ? host.getenv("NVIDIA_VISIBLE_DEVICES") : std::nullopt;
}

void plan_gpu(const SandboxSpec& spec, const HostView& host, MountPlan& plan) {
    if (!spec.gpu) return;
    NvidiaRequest request;
    request.host_root = gpu_host_root();
    request.visible_devices = visible_devices_for(spec, host);
    auto nv = discover_nvidia(request);
    for (const auto& w : nv.warnings)
        log::warn(w);
    for (const auto& n : nv.notes)
        log::debug("gpu: ", n);
    if (!nv.found()) return;
    for (const auto& w : plan_nvidia(nv, read_image_linker(spec), plan))
        log::warn(w);
}

}  // namespace karapace::sandbox
