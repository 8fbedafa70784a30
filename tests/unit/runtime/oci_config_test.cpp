// The OCI backend's config.json from a sandbox spec and mount plan, and how the runtime's exit
// and log map to exit statuses.
#include <catch2/catch.hpp>
#include <cerrno>

#include "runtime/oci.hpp"

using namespace karapace;
using namespace karapace::runtime;
namespace bj = boost::json;

namespace {

sandbox::HostView fake_host() {
    sandbox::HostView h;
    h.uid = 1000;
    h.gid = 1000;
    h.user = "u";
    h.home = "/home/u";
    h.shell = "/bin/bash";
    h.getenv = [](const std::string&) { return std::nullopt; };
    h.probe = [](const std::string& p) -> std::optional<sandbox::FileKind> {
        if (p == "/home/u") return sandbox::FileKind::directory;
        return std::nullopt;
    };
    h.read = [](const std::string&) { return std::nullopt; };
    return h;
}

// A desktop session: a runtime directory, GPU and sound devices.
sandbox::HostView desktop_host() {
    auto h = fake_host();
    h.getenv = [](const std::string& k) -> std::optional<std::string> {
        if (k == "XDG_RUNTIME_DIR") return "/run/user/1000";
        return std::nullopt;
    };
    h.probe = [](const std::string& p) -> std::optional<sandbox::FileKind> {
        for (const char* d : {"/home/u", "/run/user/1000", "/dev/dri", "/dev/snd"})
            if (p == d) return sandbox::FileKind::directory;
        return std::nullopt;
    };
    return h;
}

sandbox::SandboxSpec sample_spec() {
    sandbox::SandboxSpec s;
    s.hostname = "web";
    s.argv = {"make", "-j2"};
    s.mounts = {{"/home/u/src", "/src", true}};
    s.cwd = "/home/u/src/app";
    s.limits.memory_max_bytes = 1 << 30;
    s.limits.tasks_max = 64;
    return s;
}

struct Config {
    sandbox::MountPlan plan;
    bj::object json;
};

Config config_for(const sandbox::SandboxSpec& spec, OciIdentity who = {1000, 1000, false},
                  const sandbox::HostView& host = fake_host()) {
    Config c;
    c.plan = sandbox::plan_mounts(spec, host);
    OciBundlePaths paths;
    paths.root = "/stage/root";
    paths.started_fifo = "/run/dir/started";
    paths.files.resize(c.plan.ops.size());
    paths.binds.resize(c.plan.ops.size());
    for (std::size_t i = 0; i < c.plan.ops.size(); ++i) {
        const auto& op = c.plan.ops[i];
        if (op.kind == sandbox::MountOp::Kind::bind)
            paths.binds[i] = "/stage/binds/bind-" + std::to_string(i);
        if (tmpfs_as_directory(op)) paths.binds[i] = "/stage/binds/tmpfs-" + std::to_string(i);
        paths.files[i] = "/stage/files/gen-" + std::to_string(i);
    }
    c.json = oci_config(spec, c.plan, {"PATH=/bin", "HOME=/home/u"}, who, paths);
    return c;
}

const bj::object* mount_at(const bj::object& config, const std::string& destination) {
    for (const auto& m : config.at("mounts").as_array())
        if (m.as_object().at("destination").as_string() == destination) return &m.as_object();
    return nullptr;
}

bool has_option(const bj::object& mount, const char* option) {
    for (const auto& o : mount.at("options").as_array())
        if (o.as_string() == option) return true;
    return false;
}

}  // namespace

TEST_CASE("the OCI process is the spec's command, identity, environment and working directory") {
    auto c = config_for(sample_spec()).json;
    const auto& process = c.at("process").as_object();
    CHECK(process.at("args").as_array() == bj::array{"make", "-j2"});
    CHECK(process.at("user").as_object().at("uid").to_number<int>() == 1000);
    CHECK(process.at("env").as_array() == bj::array{"PATH=/bin", "HOME=/home/u"});
    CHECK(process.at("cwd").as_string() == "/src/app");  // translated into the manifest mount
    CHECK(process.at("noNewPrivileges").as_bool());
    CHECK_FALSE(process.at("terminal").as_bool());
    // A user other than root keeps no capabilities beyond the bounding set.
    CHECK_FALSE(process.at("capabilities").as_object().contains("effective"));
    CHECK(c.at("hostname").as_string() == "web");
    CHECK(c.at("root").as_object().at("path").as_string() == "/stage/root");
}

TEST_CASE("limits become rlimits, memory as address space and tasks as processes") {
    auto process = config_for(sample_spec()).json.at("process").as_object();
    const auto& limits = process.at("rlimits").as_array();
    REQUIRE(limits.size() == 2);
    CHECK(limits[0].as_object().at("type").as_string() == "RLIMIT_AS");
    CHECK(limits[0].as_object().at("hard").to_number<std::uint64_t>() == (1u << 30));
    CHECK(limits[1].as_object().at("type").as_string() == "RLIMIT_NPROC");
}

TEST_CASE("the OCI mounts are the sandbox's plan: /proc, /dev, /sys, home and manifest mounts") {
    auto c = config_for(sample_spec()).json;
    REQUIRE(mount_at(c, "/proc"));
    CHECK(mount_at(c, "/proc")->at("type").as_string() == "proc");
    REQUIRE(mount_at(c, "/dev/pts"));
    CHECK(has_option(*mount_at(c, "/dev/pts"), "newinstance"));
    CHECK_FALSE(has_option(*mount_at(c, "/dev/pts"), "nodev"));
    REQUIRE(mount_at(c, "/sys"));
    CHECK(has_option(*mount_at(c, "/sys"), "rro"));  // its submounts too
    REQUIRE(mount_at(c, "/home/u"));
    // Every bind comes from its clone on the stage, made by the caller inside the namespace.
    CHECK(mount_at(c, "/home/u")->at("source").as_string().starts_with("/stage/binds/bind-"));
    // A manifest mount is bound from its clone on the stage, never from the host path.
    REQUIRE(mount_at(c, "/src"));
    CHECK(mount_at(c, "/src")->at("source").as_string().starts_with("/stage/binds/bind-"));
    CHECK(has_option(*mount_at(c, "/src"), "ro"));
    // Generated files are bound read-only from the stage.
    REQUIRE(mount_at(c, "/etc/hosts"));
    CHECK(has_option(*mount_at(c, "/etc/hosts"), "ro"));
    // The runtime makes the standard device nodes and /dev's links itself.
    CHECK_FALSE(mount_at(c, "/dev/null"));
    CHECK_FALSE(mount_at(c, "/dev/ptmx"));
}

TEST_CASE("network isolation adds a network namespace; otherwise the host network is shared") {
    auto spec = sample_spec();
    auto types = [](const bj::object& c) {
        std::vector<std::string> out;
        for (const auto& n : c.at("linux").as_object().at("namespaces").as_array())
            out.emplace_back(n.as_object().at("type").as_string());
        return out;
    };
    CHECK(types(config_for(spec).json) == std::vector<std::string>{"pid", "ipc", "uts", "mount"});
    spec.network_isolation = true;
    CHECK(types(config_for(spec).json) ==
          std::vector<std::string>{"pid", "ipc", "uts", "mount", "network"});
}

TEST_CASE("a frozen environment's root is read-only; container root gets the default caps") {
    auto spec = sample_spec();
    spec.read_only = true;
    spec.mapping = sandbox::IdMapping::container_root;
    auto c = config_for(spec, {0, 0, false}).json;
    CHECK(c.at("root").as_object().at("readonly").as_bool());
    const auto& caps = c.at("process").as_object().at("capabilities").as_object();
    CHECK(caps.at("effective").as_array().size() == 14);
}

TEST_CASE("a user without sub-ids gets a nested user namespace mapping its uid onto root") {
    auto c = config_for(sample_spec(), {1000, 1000, true}).json;
    const auto& linux = c.at("linux").as_object();
    CHECK(linux.at("namespaces").as_array().back().as_object().at("type").as_string() == "user");
    const auto& map = linux.at("uidMappings").as_array()[0].as_object();
    CHECK(map.at("containerID").to_number<int>() == 1000);
    CHECK(map.at("hostID").to_number<int>() == 0);
}

TEST_CASE("the createRuntime hook writes the container's state to the fifo") {
    auto c = config_for(sample_spec()).json;
    const auto& hook = c.at("hooks").as_object().at("createRuntime").as_array()[0].as_object();
    CHECK(hook.at("args").as_array().back().as_string() == "/run/dir/started");
}

TEST_CASE("runtime failures map to 127, 126 and 125; the command's own status passes") {
    std::optional<Error> error;
    CHECK(classify_runtime_exit(7, "{\"level\":\"warning\",\"msg\":\"oom\"}\n", error) == 7);
    CHECK_FALSE(error);
    CHECK(classify_runtime_exit(
              1,
              "{\"level\":\"error\",\"msg\":\"runc run failed: unable to start container process: "
              "exec: \\\"nope\\\": executable file not found in $PATH\"}\n",
              error) == 127);
    REQUIRE(error);
    CHECK(std::string(error->what()).find("nope") != std::string::npos);
    error.reset();
    CHECK(classify_runtime_exit(1,
                                "{\"level\":\"error\",\"msg\":\"runc run failed: unable to start "
                                "container process: exec: \\\"/etc\\\": permission denied\"}\n",
                                error) == 126);
    error.reset();
    CHECK(classify_runtime_exit(
              1, "{\"level\":\"error\",\"msg\":\"error mounting proc: permission denied\"}\n",
              error) == 125);
    CHECK(error);
}

TEST_CASE("a link to a file bound beside it becomes a second bind of that file") {
    auto spec = sample_spec();
    sandbox::MountPlan plan;
    plan.ops.resize(3);
    plan.ops[0].kind = sandbox::MountOp::Kind::bind;
    plan.ops[0].source = "/usr/lib/libcuda.so.580";
    plan.ops[0].target = "/run/host/nvidia/lib64/libcuda.so.1";
    plan.ops[0].read_only = true;
    plan.ops[1].kind = sandbox::MountOp::Kind::symlink;
    plan.ops[1].source = "libcuda.so.1";
    plan.ops[1].target = "/run/host/nvidia/lib64/libcuda.so";
    plan.ops[2].kind = sandbox::MountOp::Kind::symlink;  // the runtime's own /dev links stay out
    plan.ops[2].source = "pts/ptmx";
    plan.ops[2].target = "/dev/ptmx";
    OciBundlePaths paths;
    paths.root = "/stage/root";
    paths.files.resize(3);
    paths.binds = {"/usr/lib/libcuda.so.580", "", ""};
    auto json = oci_config(spec, plan, {}, {1000, 1000, false}, paths);
    const auto* alias = mount_at(json, "/run/host/nvidia/lib64/libcuda.so");
    REQUIRE(alias);
    CHECK(alias->at("source").as_string() == "/usr/lib/libcuda.so.580");
    CHECK(has_option(*alias, "ro"));
    CHECK_FALSE(mount_at(json, "/dev/ptmx"));
}

TEST_CASE("the OCI config carries the sandbox's seccomp rules and leaves masks to the runtime") {
    auto c = config_for(sample_spec());
    const auto& linux = c.json.at("linux").as_object();
    const auto& sec = linux.at("seccomp").as_object();
    CHECK(sec.at("defaultAction").as_string() == "SCMP_ACT_ALLOW");
    bool tiocsti = false, keyctl = false;
    for (const auto& r : sec.at("syscalls").as_array()) {
        const auto& o = r.as_object();
        auto name = o.at("names").as_array()[0].as_string();
        if (name == "ioctl" &&
            o.at("args").as_array()[0].as_object().at("valueTwo").to_number<std::uint64_t>() ==
                0x5412)
            tiocsti = o.at("action").as_string() == "SCMP_ACT_ERRNO";
        if (name == "keyctl") keyctl = o.at("errnoRet").to_number<int>() == ENOSYS;
    }
    CHECK(tiocsti);
    CHECK(keyctl);
    CHECK_FALSE(mount_at(c.json, "/proc/sys"));
    CHECK_FALSE(mount_at(c.json, "/proc/kcore"));
    bool masked = false;
    for (const auto& p : linux.at("maskedPaths").as_array())
        masked = masked || p.as_string() == "/proc/kcore";
    CHECK(masked);
}

TEST_CASE("tmpfs mounts belong to the caller; the runtime directory is a 0700 directory bound") {
    auto c = config_for(sample_spec(), {1000, 1000, false}, desktop_host());
    const auto* run = mount_at(c.json, "/run");
    REQUIRE(run);
    CHECK(run->at("type").as_string() == "tmpfs");
    CHECK(has_option(*run, "uid=1000"));
    CHECK(has_option(*run, "gid=1000"));
    // runc would give a tmpfs the 0755 of its mount point instead of mode=0700.
    const auto* runtime_dir = mount_at(c.json, "/run/user/1000");
    REQUIRE(runtime_dir);
    CHECK(runtime_dir->at("type").as_string() == "bind");
    CHECK(runtime_dir->at("source").as_string().starts_with("/stage/binds/tmpfs-"));
    CHECK(has_option(*runtime_dir, "nosuid"));
    CHECK_FALSE(has_option(*runtime_dir, "mode=0700"));
    sandbox::MountOp op;
    op.kind = sandbox::MountOp::Kind::tmpfs;
    op.options = "mode=0700";
    CHECK(tmpfs_as_directory(op) == mode_t{0700});
    op.options = "mode=0755";
    CHECK_FALSE(tmpfs_as_directory(op));
    op.options = "mode=1777";
    CHECK(tmpfs_as_directory(op) == mode_t{01777});
}

TEST_CASE("gpu and audio bind /dev/dri and /dev/snd with their nodes usable") {
    auto spec = sample_spec();
    CHECK_FALSE(mount_at(config_for(spec, {1000, 1000, false}, desktop_host()).json, "/dev/dri"));
    spec.gpu = true;
    spec.audio = true;
    auto c = config_for(spec, {1000, 1000, false}, desktop_host()).json;
    for (const char* dev : {"/dev/dri", "/dev/snd"}) {
        const auto* m = mount_at(c, dev);
        REQUIRE(m);
        CHECK(m->at("type").as_string() == "bind");
        CHECK_FALSE(has_option(*m, "nodev"));
    }
}
