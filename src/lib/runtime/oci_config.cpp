// The OCI bundle's config.json, translated from the sandbox's spec and mount plan, and the
// reading of the runtime's log when it exits: what an OCI runtime needs to run the same command
// the namespace sandbox would, and how its failures map to our exit statuses.
#include <cstdlib>
#include <sstream>

#include "karapace/sandbox/confine.hpp"
#include "karapace/util/json.hpp"
#include "runtime/oci.hpp"

namespace karapace::runtime {

namespace bj = boost::json;
using Kind = sandbox::MountOp::Kind;

namespace {

// Device nodes every OCI runtime provides in /dev itself (bound from the host in a user
// namespace); binding them again would put a second mount where the runtime opens the node.
bool runtime_device(const std::string& target) {
    for (const char* d :
         {"/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"})
        if (target == d) return true;
    return false;
}

bj::array strings(const std::vector<std::string>& v) {
    bj::array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return a;
}

bj::array mount_flags(const sandbox::MountOp& op) {
    bj::array o;
    if (op.nosuid) o.emplace_back("nosuid");
    if (op.nodev) o.emplace_back("nodev");
    if (op.noexec) o.emplace_back("noexec");
    if (op.read_only) o.emplace_back("ro");
    return o;
}

bj::array flag_options(const sandbox::MountOp& op) {
    auto o = mount_flags(op);
    // Data options ("mode=0755", "newinstance,ptmxmode=0666") are comma-separated in the plan.
    std::stringstream data(op.options);
    for (std::string item; std::getline(data, item, ',');)
        if (!item.empty()) o.emplace_back(item);
    return o;
}

bj::object mount_entry(const std::string& destination, const std::string& type,
                       const std::string& source, bj::array options) {
    return bj::object{{"destination", destination},
                      {"type", type},
                      {"source", source},
                      {"options", std::move(options)}};
}

bj::object bind_entry(const sandbox::MountOp& op, const std::string& source, bool read_only) {
    auto options = flag_options(op);
    options.insert(options.begin(), bj::value("rbind"));
    // "ro" alone would leave the submounts of a recursive bind (/sys's cgroups) writable.
    if (read_only || op.read_only) {
        if (!op.read_only) options.emplace_back("ro");
        options.emplace_back("rro");
    }
    return mount_entry(op.target, "bind", source, std::move(options));
}

bj::object new_fs(const sandbox::MountOp& op, const char* type) {
    return mount_entry(op.target, type, op.source, flag_options(op));
}

// The bind source of the file a relative symlink op names in its own directory, or "".
std::string bound_beside(const sandbox::MountPlan& plan, const OciBundlePaths& paths,
                         std::size_t link) {
    const auto& op = plan.ops[link];
    if (op.source.empty() || op.source.find('/') != std::string::npos) return {};
    auto target = op.target.substr(0, op.target.rfind('/') + 1) + op.source;
    for (std::size_t i = 0; i < link; ++i)
        if (plan.ops[i].kind == Kind::bind && plan.ops[i].target == target &&
            i < paths.binds.size())
            return paths.binds[i];
    return {};
}

// The namespace sandbox mounts its tmpfs as the caller, so /run, /dev and above all
// $XDG_RUNTIME_DIR (mode 0700) belong to the user inside; the runtime mounts them as root.
bj::object owned_tmpfs(const sandbox::MountOp& op, const OciIdentity& who) {
    auto entry = new_fs(op, "tmpfs");
    auto& options = entry["options"].as_array();
    options.emplace_back("uid=" + std::to_string(who.uid));
    options.emplace_back("gid=" + std::to_string(who.gid));
    return entry;
}

bj::array mounts(const sandbox::MountPlan& plan, const OciBundlePaths& paths,
                 const OciIdentity& who) {
    bj::array out;
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        const auto& op = plan.ops[i];
        auto file = i < paths.files.size() ? paths.files[i] : std::string();
        auto bind = i < paths.binds.size() ? paths.binds[i] : std::string();
        switch (op.kind) {
        case Kind::bind:
            if (!bind.empty() && !runtime_device(op.target))
                out.emplace_back(bind_entry(op, bind, false));
            break;
        case Kind::tmpfs:
            if (bind.empty()) {
                out.emplace_back(owned_tmpfs(op, who));
            } else {
                auto options = mount_flags(op);
                options.insert(options.begin(), bj::value("rbind"));
                out.emplace_back(mount_entry(op.target, "bind", bind, std::move(options)));
            }
            break;
        case Kind::proc: out.emplace_back(new_fs(op, "proc")); break;
        case Kind::devpts: out.emplace_back(new_fs(op, "devpts")); break;
        case Kind::mqueue: out.emplace_back(new_fs(op, "mqueue")); break;
        case Kind::sysfs: out.emplace_back(new_fs(op, "sysfs")); break;
        case Kind::readonly:
        case Kind::mask: break;  // linux.readonlyPaths and linux.maskedPaths
        case Kind::symlink:
            // /dev/ptmx, /dev/fd, /dev/std*: the runtime makes them. A link to a file bound
            // beside it (another name of an NVIDIA library) cannot be made through the config:
            // the file is bound a second time instead.
            if (auto source = bound_beside(plan, paths, i); !source.empty())
                out.emplace_back(bind_entry(op, source, true));
            break;
        case Kind::file:
        case Kind::passwd:
        case Kind::group:
        case Kind::shadow:
            if (!file.empty()) out.emplace_back(bind_entry(op, file, true));
            break;
        }
    }
    return out;
}

bj::array rlimits(const sandbox::Limits& limits) {
    bj::array out;
    auto add = [&](const char* type, std::uint64_t value) {
        out.emplace_back(bj::object{{"type", type}, {"hard", value}, {"soft", value}});
    };
    if (limits.memory_max_bytes) add("RLIMIT_AS", limits.memory_max_bytes);
    if (limits.tasks_max) add("RLIMIT_NPROC", limits.tasks_max);
    return out;
}

// The sandbox's seccomp rules (confine.hpp) in the runtime spec's form: libseccomp compares the
// ioctl request as (arg & value) == valueTwo, on its low 32 bits as the kernel reads it.
bj::object seccomp() {
    bj::array archs;
#if defined(__x86_64__)
    archs = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
#elif defined(__aarch64__)
    archs = {"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"};
#endif
    bj::array syscalls;
    for (const auto& r : sandbox::seccomp_rules()) {
        bj::object rule{{"names", bj::array{r.syscall}},
                        {"action", "SCMP_ACT_ERRNO"},
                        {"errnoRet", r.errno_value}};
        if (r.request != 0)
            rule["args"] = bj::array{bj::object{{"index", 1},
                                                {"value", 0xffffffffu},
                                                {"valueTwo", r.request},
                                                {"op", "SCMP_CMP_MASKED_EQ"}}};
        syscalls.emplace_back(std::move(rule));
    }
    bj::object out{{"defaultAction", "SCMP_ACT_ALLOW"}, {"syscalls", std::move(syscalls)}};
    if (!archs.empty()) out["architectures"] = std::move(archs);
    return out;
}

bj::array id_mapping(unsigned inside) {
    return bj::array{bj::object{{"containerID", inside}, {"hostID", 0}, {"size", 1}}};
}

}  // namespace

std::optional<mode_t> tmpfs_as_directory(const sandbox::MountOp& op) {
    if (op.kind != Kind::tmpfs) return std::nullopt;
    std::stringstream data(op.options);
    for (std::string item; std::getline(data, item, ',');) {
        if (item.rfind("mode=", 0) != 0) continue;
        char* end = nullptr;
        unsigned long mode = std::strtoul(item.c_str() + 5, &end, 8);
        if (*end == '\0' && mode <= 07777 && mode != 0755) return static_cast<mode_t>(mode);
    }
    return std::nullopt;
}

bj::object oci_config(const sandbox::SandboxSpec& spec, const sandbox::MountPlan& plan,
                      const std::vector<std::string>& env, const OciIdentity& who,
                      const OciBundlePaths& paths) {
    bj::object caps;
    bj::array root_caps;
    for (const auto& c : sandbox::container_capabilities())
        root_caps.emplace_back(c.name);
    // Container root gets the default set; another user keeps it only as the bounding set
    // (setuid programs inside cannot go beyond it, and no_new_privs stops them anyway).
    caps["bounding"] = root_caps;
    if (who.uid == 0) {
        caps["effective"] = root_caps;
        caps["permitted"] = root_caps;
    }

    bj::object process{
        {"terminal", spec.interactive},
        {"user", bj::object{{"uid", who.uid}, {"gid", who.gid}}},
        {"args", strings(spec.argv)},
        {"env", strings(env)},
        {"cwd", plan.cwd.empty() ? std::string("/") : plan.cwd},
        {"capabilities", std::move(caps)},
        {"noNewPrivileges", true},
    };
    auto limits = rlimits(spec.limits);
    if (!limits.empty()) process["rlimits"] = std::move(limits);

    bj::array namespaces{bj::object{{"type", "pid"}}, bj::object{{"type", "ipc"}},
                         bj::object{{"type", "uts"}}, bj::object{{"type", "mount"}}};
    if (spec.network_isolation) namespaces.emplace_back(bj::object{{"type", "network"}});
    bj::object linux{{"namespaces", std::move(namespaces)}};
    if (who.nested_userns) {
        linux["namespaces"].as_array().emplace_back(bj::object{{"type", "user"}});
        linux["uidMappings"] = id_mapping(who.uid);
        linux["gidMappings"] = id_mapping(who.gid);
    }
    bj::array masked, readonly;
    for (const auto& p : sandbox::masked_paths())
        masked.emplace_back(p);
    for (const auto& p : sandbox::readonly_paths())
        readonly.emplace_back(p);
    linux["maskedPaths"] = std::move(masked);
    linux["readonlyPaths"] = std::move(readonly);
    linux["seccomp"] = seccomp();

    bj::object config{
        {"ociVersion", "1.0.2"},
        {"process", std::move(process)},
        {"root", bj::object{{"path", paths.root}, {"readonly", spec.read_only}}},
        {"hostname", spec.hostname},
        {"mounts", mounts(plan, paths, who)},
        {"linux", std::move(linux)},
    };
    if (!paths.started_fifo.empty()) {
        // Runs in the runtime's namespaces once the container's init exists and before the
        // command starts: the state on stdin carries init's pid, which is recorded as the session.
        bj::object hook{{"path", "/bin/sh"},
                        {"args", bj::array{"sh", "-c", "exec cat > \"$0\"", paths.started_fifo}}};
        config["hooks"] = bj::object{{"createRuntime", bj::array{std::move(hook)}}};
    }
    return config;
}

int classify_runtime_exit(int status, const std::string& log, std::optional<Error>& error) {
    // The runtime logs one JSON object per line; its failures are the "error"/"fatal" ones. A
    // command that ran and failed logs nothing of the kind.
    std::string message;
    std::stringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        boost::system::error_code ec;
        auto v = bj::parse(line, ec);
        if (ec || !v.is_object()) continue;
        const auto& o = v.as_object();
        const auto* level = o.if_contains("level");
        const auto* msg = o.if_contains("msg");
        if (!level || !msg || !level->is_string() || !msg->is_string()) continue;
        if (level->as_string() != "error" && level->as_string() != "fatal") continue;
        message = std::string(msg->as_string());
    }
    if (message.empty() || status == 0) return status;
    // runc: `exec: "x": executable file not found in $PATH`, `exec: "/x": stat /x: no such
    // file or directory`, `exec: "/etc": permission denied`; crun: `executable file `x` not
    // found in $PATH: No such file or directory`, `open executable: Permission denied`.
    bool exec_step = message.find("exec: \"") != std::string::npos ||
                     message.find("executable") != std::string::npos;
    bool missing = message.find("not found") != std::string::npos ||
                   message.find("o such file or directory") != std::string::npos;
    int code = !exec_step ? 125 : missing ? 127 : 126;
    error = Error(Errc::runtime, "the OCI runtime reported: " + message,
                  code == 127   ? "is it installed in the environment?"
                  : code == 126 ? ""
                                : "`karapace doctor` checks whether the OCI backend works here");
    return code;
}

}  // namespace karapace::runtime
