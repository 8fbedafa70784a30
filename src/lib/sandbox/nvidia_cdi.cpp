// A CDI spec for nvidia.com/gpu turned into the passthrough. The spec binds the driver's files at
// their host paths (into the container's /usr/lib/...), which would put mount points into the
// environment's writable layer and hide its own files; here each file is placed by what it is —
// library, program, loader manifest, daemon socket — below /run/host/nvidia instead. The hooks'
// intents are carried out by us: `create-symlinks` becomes another name for a bound library,
// `update-ldcache` is the sandbox's generated ld.so.cache. No hook program is run.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <map>

#include "karapace/util/error.hpp"
#include "sandbox/cdi.hpp"
#include "sandbox/elf_info.hpp"
#include "sandbox/nvidia_files.hpp"

namespace karapace::sandbox {

namespace {

class CdiApplier {
public:
    CdiApplier(const CdiSpec& spec, const HostRoot& host, NvidiaPassthrough& out)
        : spec_(spec), host_(host), out_(out), b_(out, host) {}

    void edits(const CdiEdits& e) {
        for (const auto& kv : e.env)
            if (kv != "NVIDIA_VISIBLE_DEVICES=void") out_.env.push_back(kv);
        for (const auto& node : e.device_nodes)
            device(node);
        for (const auto& m : e.mounts)
            mount(m);
    }
    // After every mount, so a link can name any library of the spec.
    void hooks(const CdiEdits& e) {
        for (const auto& h : e.hooks)
            hook(h);
    }

private:
    // A resolved host file whose real path is again inside the allowed places.
    std::optional<ResolvedFile> resolve(const std::string& path, bool device_node) {
        auto f = host_.resolve(path);
        if (!f) {
            out_.notes.push_back(path + " (named by " + spec_.path + ") is not on the host");
            return std::nullopt;
        }
        if (!cdi_host_path_allowed(f->host_view, device_node))
            throw Error(Errc::runtime,
                        "the CDI spec " + spec_.path + " is refused: " + path + " leads to " +
                            f->host_view + ", outside the places a driver's files live",
                        "fix or regenerate it (nvidia-ctk cdi generate), or remove it");
        return f;
    }

    void device(const CdiDeviceNode& node) {
        auto f = resolve(node.host_path, true);
        if (!f) return;
        b_.device(*f, node.path);
    }

    void mount(const CdiMount& m) {
        auto f = resolve(m.host_path, false);
        if (!f) return;
        auto name = base_name(m.container_path);
        if (S_ISSOCK(f->st.st_mode)) {
            // The daemons' sockets keep their path: /run is the sandbox's own tmpfs.
            std::string path = m.container_path.rfind("/var/run/", 0) == 0
                                   ? m.container_path.substr(4)
                                   : m.container_path;
            if (path.rfind("/run/", 0) == 0)
                b_.socket(*f, path, "socket " + m.container_path);
            else
                out_.notes.push_back(m.container_path + " is a socket outside /run; left out");
            return;
        }
        if (!S_ISREG(f->st.st_mode)) {
            out_.notes.push_back(m.host_path + " is not a file; left out");
            return;
        }
        if (f->host_view.find("/firmware/") != std::string::npos) {
            out_.notes.push_back(m.host_path +
                                 ": firmware is loaded by the host's kernel; left out");
            return;
        }
        if (const auto* rule = loader_rule_for(m.container_path)) {
            b_.loader_file(*f, *rule, name);
            return;
        }
        UniqueFd fd(::open(f->reach.c_str(), O_RDONLY | O_CLOEXEC));
        auto elf = fd ? read_elf_info(fd.get()) : std::nullopt;
        if (elf && elf->shared_object && name.find(".so") != std::string::npos) {
            library(*f, *elf, m.container_path);
            return;
        }
        auto dir = parent_dir(m.container_path);
        if ((f->st.st_mode & 0111) && (dir.ends_with("/bin") || dir.ends_with("/sbin"))) {
            b_.program(*f, name, "program " + m.container_path);
            return;
        }
        out_.notes.push_back(m.container_path +
                             " is no library, program, loader manifest or socket; left out");
    }

    void library(const ResolvedFile& f, const ElfInfo& elf, const std::string& container_path) {
        auto flags = ld_flags_for(elf);
        auto name = base_name(container_path);
        std::string what = "library " + container_path;
        if (flags == 0 || !b_.library(f, name, flags, what)) {
            if (flags == 0 || (flags != b_.native_flags() && flags != b_.compat_flags()))
                out_.notes.push_back(container_path + " is for another machine; left out");
            return;
        }
        // The soname is what programs ask for; ldconfig would make it a link to this file.
        if (!elf.soname.empty() && elf.soname != name) b_.library(f, elf.soname, flags, what);
        by_container_path_[container_path] = {f.host_view, flags};
        by_name_.try_emplace(name, f.host_view, flags);
        if (!elf.soname.empty()) by_name_.try_emplace(elf.soname, f.host_view, flags);
    }

    void hook(const CdiHook& h) {
        auto has = [&](const char* word) {
            return std::find(h.args.begin(), h.args.end(), word) != h.args.end();
        };
        if (has("update-ldcache")) return;  // the sandbox's ld.so.cache lists every library
        if (!has("create-symlinks")) {
            std::string args;
            for (const auto& a : h.args)
                args += (args.empty() ? "" : " ") + a;
            out_.notes.push_back("the " + h.hook_name + " hook `" + args + "` is not run");
            return;
        }
        for (std::size_t i = 0; i < h.args.size(); ++i) {
            std::string link;
            if (h.args[i] == "--link" && i + 1 < h.args.size())
                link = h.args[++i];
            else if (h.args[i].rfind("--link=", 0) == 0)
                link = h.args[i].substr(7);
            else
                continue;
            symlink(link);
        }
    }

    // "target::link": another name for a library of the spec, in the same directory.
    void symlink(const std::string& spec) {
        auto sep = spec.find("::");
        if (sep == std::string::npos) return;
        std::string target = spec.substr(0, sep), link = spec.substr(sep + 2);
        auto dir = parent_dir(link);
        std::string full = target.front() == '/' ? target : dir + "/" + target;
        const std::pair<std::string, std::int32_t>* lib = nullptr;
        if (auto it = by_container_path_.find(full); it != by_container_path_.end())
            lib = &it->second;
        else if (auto n = by_name_.find(base_name(full));
                 n != by_name_.end() && parent_dir(full) == dir)
            lib = &n->second;
        if (lib == nullptr) {
            out_.notes.push_back("the link " + link + " -> " + target +
                                 " does not lead to a library of the spec; not made");
            return;
        }
        auto f = host_.resolve(lib->first);
        if (f) b_.library(*f, base_name(link), lib->second, "link " + link + " -> " + target);
    }

    const CdiSpec& spec_;
    const HostRoot& host_;
    NvidiaPassthrough& out_;
    PassthroughBuilder b_;
    // Libraries of the spec by their container path and by name: (host path, ld.so.cache flags).
    std::map<std::string, std::pair<std::string, std::int32_t>> by_container_path_, by_name_;
};

std::vector<const CdiDevice*> selected(const CdiSpec& spec, const VisibleDevices& visible,
                                       NvidiaPassthrough& out) {
    std::vector<const CdiDevice*> devices;
    auto named = [&](const std::string& name) -> const CdiDevice* {
        for (const auto& d : spec.devices)
            if (d.name == name) return &d;
        return nullptr;
    };
    switch (visible.mode) {
    case VisibleDevices::Mode::none:
    case VisibleDevices::Mode::nothing: break;
    case VisibleDevices::Mode::all:
        if (const auto* all = named("all")) {
            devices.push_back(all);
        } else {
            for (const auto& d : spec.devices)
                devices.push_back(&d);
        }
        break;
    case VisibleDevices::Mode::list:
        for (const auto& name : visible.names) {
            if (const auto* d = named(name)) {
                devices.push_back(d);
            } else {
                std::string known;
                for (const auto& d2 : spec.devices)
                    known += (known.empty() ? "" : ", ") + d2.name;
                out.warnings.push_back("NVIDIA_VISIBLE_DEVICES names '" + name +
                                       "', which the CDI spec " + spec.path +
                                       " does not list (it lists " + known + ")");
            }
        }
        break;
    }
    return devices;
}

}  // namespace

void apply_cdi_spec(const CdiSpec& spec, const VisibleDevices& visible, const HostRoot& host,
                    NvidiaPassthrough& out) {
    CdiApplier apply(spec, host, out);
    auto devices = selected(spec, visible, out);
    apply.edits(spec.edits);
    for (const auto* d : devices)
        apply.edits(d->edits);
    apply.hooks(spec.edits);
    for (const auto* d : devices)
        apply.hooks(d->edits);
}

}  // namespace karapace::sandbox
