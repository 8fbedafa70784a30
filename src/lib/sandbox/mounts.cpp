#include "karapace/sandbox/mounts.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <utility>

#include "karapace/sandbox/idmap.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"
#include "sandbox/layer_view.hpp"

namespace karapace::sandbox {

namespace {

using Kind = MountOp::Kind;

MountOp op(Kind kind, std::string source, std::string target, std::string why) {
    MountOp m;
    m.kind = kind;
    m.source = std::move(source);
    m.target = std::move(target);
    m.why = std::move(why);
    return m;
}

// True when `path` is `dir` or below it, on whole components.
bool is_within(const std::string& path, const std::string& dir) {
    if (dir.empty() || path.size() < dir.size() || path.compare(0, dir.size(), dir) != 0)
        return false;
    return path.size() == dir.size() || dir == "/" || path[dir.size()] == '/';
}

std::optional<FileKind> probe_host(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    if (S_ISDIR(st.st_mode)) return FileKind::directory;
    if (S_ISREG(st.st_mode)) return FileKind::regular;
    if (S_ISSOCK(st.st_mode)) return FileKind::socket;
    if (S_ISCHR(st.st_mode)) return FileKind::character;
    return FileKind::other;
}

}  // namespace

HostView HostView::current() {
    HostView h;
    h.uid = ::getuid();
    h.gid = ::getgid();
    h.getenv = [](const std::string& k) -> std::optional<std::string> {
        const char* v = std::getenv(k.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
    h.probe = probe_host;
    h.read = [](const std::string& p) -> std::optional<std::string> {
        try {
            return read_file_limited(p, 1 << 20);
        } catch (...) {
            return std::nullopt;
        }
    };
    std::string passwd = h.read("/etc/passwd").value_or("");
    h.user = passwd_name(passwd, h.uid).value_or(std::to_string(h.uid));
    h.home = h.getenv("HOME").value_or(h.uid == 0 ? "/root" : "/home/" + h.user);
    h.shell = h.getenv("SHELL").value_or("/bin/sh");
    if (::isatty(0) == 1)
        if (const char* tty = ::ttyname(0)) h.terminal = tty;
    return h;
}

const std::vector<std::string>& masked_paths() {
    static const std::vector<std::string> paths{
        "/proc/acpi",          "/proc/asound",     "/proc/kcore",       "/proc/keys",
        "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",          "/sys/firmware"};
    return paths;
}

const std::vector<std::string>& readonly_paths() {
    static const std::vector<std::string> paths{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                                                "/proc/sysrq-trigger"};
    return paths;
}

void append_search_dir(std::vector<std::string>& env, const std::string& name,
                       const std::string& defaults, const std::string& dir) {
    std::string prefix = name + "=";
    for (auto& entry : env) {
        if (entry.rfind(prefix, 0) == 0) {
            entry += (entry.size() == prefix.size() ? "" : ":") + dir;
            return;
        }
    }
    env.push_back(prefix + (defaults.empty() ? dir : defaults + ":" + dir));
}

std::string merge_account_entry(const std::string& image_text, const std::string& entry) {
    std::string name = entry.substr(0, entry.find(':')) + ":";
    std::string out;
    std::size_t pos = 0;
    while (pos < image_text.size()) {
        auto nl = image_text.find('\n', pos);
        auto end = nl == std::string::npos ? image_text.size() : nl;
        std::string_view line(image_text.data() + pos, end - pos);
        if (line.substr(0, name.size()) != name && !line.empty()) {
            out.append(line);
            out.push_back('\n');
        }
        pos = end + 1;
    }
    out += entry + "\n";
    return out;
}

std::string hosts_file(const std::optional<std::string>& host_hosts, const std::string& hostname) {
    std::string out = host_hosts.value_or("127.0.0.1\tlocalhost\n::1\tlocalhost\n");
    if (!out.empty() && out.back() != '\n') out.push_back('\n');
    if (!hostname.empty()) out += "127.0.1.1\t" + hostname + "\n";
    return out;
}

std::string plan_cwd(const SandboxSpec& spec, const HostView& host) {
    std::string cwd = spec.cwd;
    if (cwd.empty()) {
        char buf[4096];
        if (::getcwd(buf, sizeof buf)) cwd = buf;
    }
    if (!cwd.empty()) {
        for (const auto& m : spec.mounts)
            if (is_within(cwd, m.host_path))
                return m.container_path + cwd.substr(m.host_path.size());
        if (spec.host_integration && is_within(cwd, host.home) && host.home != "/") return cwd;
    }
    if (!spec.image_workdir.empty()) return spec.image_workdir;
    if (spec.host_integration && !host.home.empty()) return host.home;
    return spec.mapping == IdMapping::container_root ? "/root" : "/";
}

namespace {
// Mount targets that are symlinks in the image (/etc/resolv.conf -> ../run/systemd/resolve/
// stub-resolv.conf on systemd-resolved images, dangling until that daemon runs) are not followed:
// the sandbox's own layer puts a plain file or directory there for the session. Reads the
// environment's layers; a symlink in the writable layer (which that layer would hide) is left to
// the attach step, which never follows it out of the root.
void symlinked_targets(const SandboxSpec& spec, LayerView& layers, MountPlan& plan);
// Fills plan.mount_points from plan.ops: the target of every mount that would otherwise be
// created in the root (directories and the parents on the way, files, the sandbox's symlinks),
// leaving out targets below another mount of the plan, and targets of `needs_parent` mounts whose
// directory the environment's layers do not have.
void mount_points(const HostView& host, LayerView& layers, MountPlan& plan);
}  // namespace

MountPlan plan_mounts(const SandboxSpec& spec, const HostView& host) {
    MountPlan plan;
    auto& ops = plan.ops;
    ops.reserve(64);  // about 45 for a desktop session

    auto proc = op(Kind::proc, "proc", "/proc", "process list");
    proc.noexec = true;
    ops.push_back(std::move(proc));
    // A new sysfs needs a network namespace of our own (and then shows only its devices);
    // otherwise the host's is bound read-only. The new one, and what is hidden below it, come
    // after the host integration: the child enters the namespace, made meanwhile, just before
    // (build_sandbox, net.cpp), as late as it can.
    std::vector<MountOp> sys_ops;
    auto& sys_place = spec.network_isolation ? sys_ops : ops;
    auto sys =
        op(spec.network_isolation ? Kind::sysfs : Kind::bind, "/sys", "/sys", "/sys (read-only)");
    if (spec.network_isolation) sys.source = "sysfs";
    sys.read_only = true;
    sys.noexec = true;
    sys_place.push_back(std::move(sys));

    for (const auto& path : readonly_paths()) {
        auto ro = op(Kind::readonly, path, path, path + " (read-only)");
        ro.optional = true;
        ops.push_back(std::move(ro));
    }
    for (const auto& path : masked_paths()) {
        auto m = op(Kind::mask, path, path, path + " (hidden)");
        m.optional = true;
        (is_within(path, "/sys") ? sys_place : ops).push_back(std::move(m));
    }

    plan_devices(spec, host, plan);

    auto run = op(Kind::tmpfs, "tmpfs", "/run", "/run");
    run.options = "mode=0755";
    ops.push_back(std::move(run));

    auto resolv = op(Kind::bind, "/etc/resolv.conf", "/etc/resolv.conf", "DNS configuration");
    resolv.read_only = true;
    resolv.optional = true;
    ops.push_back(std::move(resolv));
    // The image's /etc normally has these files; where it cannot even get them, run anyway.
    auto etc_file = [&](Kind kind, std::string content, const char* target, std::string why) {
        auto m = op(kind, std::move(content), target, std::move(why));
        m.optional = true;
        ops.push_back(std::move(m));
    };
    etc_file(Kind::file, hosts_file(host.read("/etc/hosts"), spec.hostname), "/etc/hosts",
             "/etc/hosts");
    if (!spec.hostname.empty())
        etc_file(Kind::file, spec.hostname + "\n", "/etc/hostname", "/etc/hostname");

    if (spec.mapping == IdMapping::keep_id && host.uid != 0) {
        // Shell is chosen in the child: the host's when the image has it, else /bin/sh.
        std::string uid = std::to_string(host.uid), gid = std::to_string(host.gid);
        etc_file(Kind::passwd,
                 host.user + ":x:" + uid + ":" + gid + ":" + host.user + ":" + host.home + ":" +
                     host.shell,
                 "/etc/passwd", "user entry in /etc/passwd");
        etc_file(Kind::group, host.user + ":x:" + gid + ":", "/etc/group",
                 "user entry in /etc/group");
        // Password-less sudo, as in Toolbx, where the image has sudo's drop-in directory: root
        // inside is one of the user's sub-ids, so it gives nothing `exec --root` does not. A
        // rule by uid, which no user name can break; never written into a layer.
        if (!spec.no_new_privileges) {
            auto sudo = op(Kind::file, "#" + uid + " ALL=(ALL:ALL) NOPASSWD: ALL\n",
                           "/etc/sudoers.d/karapace", "sudo rule for the user");
            sudo.optional = true;
            sudo.needs_parent = true;
            sudo.file_mode = 0440;
            ops.push_back(std::move(sudo));
            // PAM's account check (pam_unix) wants the user in /etc/shadow: a locked password
            // ("*") and no aging, so the rule above works and no password can be used.
            auto shadow = op(Kind::shadow, host.user + ":*:::::::", "/etc/shadow",
                             "user entry in /etc/shadow");
            shadow.optional = true;
            shadow.needs_parent = true;
            shadow.file_mode = 0640;
            ops.push_back(std::move(shadow));
        }
    }

    if (spec.host_integration) plan_host_integration(spec, host, plan);
    for (auto& o : sys_ops)
        ops.push_back(std::move(o));
    plan_gpu(spec, host, plan);

    for (const auto& m : spec.mounts) {
        auto b = op(Kind::bind, m.host_path, m.container_path, "mount " + m.host_path);
        b.read_only = m.read_only;
        b.no_symlinks = true;
        ops.push_back(std::move(b));
    }
    plan.cwd = plan_cwd(spec, host);
    // One look into the layers for both: they ask about the same directories.
    LayerView layers(root_layers(spec));
    symlinked_targets(spec, layers, plan);
    mount_points(host, layers, plan);
    return plan;
}

namespace {

void symlinked_targets(const SandboxSpec& spec, LayerView& layers, MountPlan& plan) {
    if (layers.empty()) return;
    bool upper = has_writable_upper(spec);
    for (const auto& op : plan.ops) {
        if (op.kind != Kind::bind && op.kind != Kind::file) continue;
        // Below a filesystem of the sandbox's own (/dev, /proc, /sys, /run), not the image's.
        bool ours = false;
        for (const char* dir : {"/dev", "/proc", "/sys", "/run"})
            ours = ours || is_within(op.target, dir);
        if (ours) continue;
        auto found = layers.find(op.target.substr(1));
        if (found.seen != Seen::symlink || (upper && found.layer == 0)) continue;
        struct stat st {};
        bool directory =
            op.kind == Kind::bind && ::stat(op.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
        plan.root_files.push_back({op.target, "", directory});
    }
}

}  // namespace

}  // namespace karapace::sandbox

namespace karapace::sandbox {

namespace {

// The directories on the way to `target` as the layers show them (mode copied), so a layer put
// above those that hide the bottom one changes nothing but adding the mount point.
void add_parents_above(LayerView& layers, const std::string& target, MountPlan& plan) {
    for (auto slash = target.find('/', 1); slash != std::string::npos;
         slash = target.find('/', slash + 1)) {
        auto dir = target.substr(0, slash);
        bool listed = false;
        for (const auto& f : plan.mount_points_above)
            listed = listed || f.path == dir;
        if (listed) continue;
        RootFile parent{dir, "", true, ""};
        auto found = layers.find(dir.substr(1));
        struct stat st {};
        if (found.seen == Seen::directory && ::stat(found.path.c_str(), &st) == 0)
            parent.mode = st.st_mode & 07777;
        plan.mount_points_above.push_back(std::move(parent));
    }
}

void mount_points(const HostView& host, LayerView& layers, MountPlan& plan) {
    std::vector<std::string> covered;  // directories mounted earlier: what lies below is theirs
    for (const auto& op : plan.ops) {
        if (op.kind == Kind::readonly || op.kind == Kind::mask) continue;
        std::string target = lexically_absolute(op.target, "/");
        if (target == "/") continue;
        bool below = false;
        for (const auto& dir : covered)
            below = below || is_within(target, dir);
        if (below) continue;
        RootFile point{target, "", false, ""};
        switch (op.kind) {
        case Kind::bind: {
            auto kind = host.probe ? host.probe(op.source) : std::nullopt;
            if (!kind) continue;  // absent: skipped or refused when attached
            point.directory = *kind == FileKind::directory;
            break;
        }
        case Kind::file:
        case Kind::passwd:
        case Kind::group:
        case Kind::shadow: break;
        case Kind::symlink: point.symlink = op.source; break;
        default: point.directory = true; break;
        }
        if (op.needs_parent) {
            auto parent = target.substr(0, target.rfind('/'));
            // A directory this user cannot look into (/etc/sudoers.d is root's, 0750) is there.
            auto seen = parent.empty() ? Seen::directory : layers.find(parent.substr(1)).seen;
            if (seen != Seen::directory && seen != Seen::other) continue;
        }
        if (point.directory) covered.push_back(target);
        if (layers.find(target.substr(1)).hidden) {
            add_parents_above(layers, target, plan);
            plan.mount_points_above.push_back(std::move(point));
        } else {
            plan.mount_points.push_back(std::move(point));
        }
    }
}

}  // namespace

}  // namespace karapace::sandbox
