#include "karapace/sandbox/mounts.hpp"

#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>

using namespace karapace::sandbox;
using Kind = MountOp::Kind;

namespace {

// A host described by a table of paths and variables.
struct FakeHost {
    std::map<std::string, FileKind> files;
    std::map<std::string, std::string> env;

    HostView view() const {
        HostView h;
        h.uid = 1000;
        h.gid = 1000;
        h.user = "alice";
        h.home = "/home/alice";
        h.shell = "/bin/bash";
        h.getenv = [this](const std::string& k) -> std::optional<std::string> {
            auto it = env.find(k);
            if (it == env.end()) return std::nullopt;
            return it->second;
        };
        h.probe = [this](const std::string& p) -> std::optional<FileKind> {
            auto it = files.find(p);
            if (it == files.end()) return std::nullopt;
            return it->second;
        };
        h.read = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
        return h;
    }
};

FakeHost desktop() {
    FakeHost h;
    h.files = {{"/home/alice", FileKind::directory},
               {"/run/user/1000", FileKind::directory},
               {"/run/user/1000/wayland-1", FileKind::socket},
               {"/run/user/1000/pipewire-0", FileKind::socket},
               {"/run/user/1000/pulse/native", FileKind::socket},
               {"/run/user/1000/bus", FileKind::socket},
               {"/run/user/1000/keyring", FileKind::directory},
               {"/tmp/.X11-unix", FileKind::directory},
               {"/run/user/1000/xauth_abc", FileKind::regular},
               {"/tmp/ssh-x/agent.1", FileKind::socket},
               {"/usr/share/fonts", FileKind::directory},
               {"/usr/share/icons", FileKind::directory},
               {"/dev/dri", FileKind::directory},
               {"/dev/snd", FileKind::directory}};
    h.env = {{"XDG_RUNTIME_DIR", "/run/user/1000"},
             {"WAYLAND_DISPLAY", "wayland-1"},
             {"DISPLAY", ":0"},
             {"XAUTHORITY", "/run/user/1000/xauth_abc"},
             {"SSH_AUTH_SOCK", "/tmp/ssh-x/agent.1"}};
    return h;
}

SandboxSpec enter_spec() {
    SandboxSpec s;
    s.hostname = "web";
    s.argv = {"sh"};
    s.cwd = "/srv";
    return s;
}

const MountOp* find(const MountPlan& plan, const std::string& target) {
    for (const auto& op : plan.ops)
        if (op.target == target) return &op;
    return nullptr;
}

std::set<std::string> dev_targets(const MountPlan& plan) {
    std::set<std::string> out;
    for (const auto& op : plan.ops)
        if (op.target.rfind("/dev/", 0) == 0) out.insert(op.target);
    return out;
}

std::size_t index_of(const MountPlan& plan, const std::string& target) {
    for (std::size_t i = 0; i < plan.ops.size(); ++i)
        if (plan.ops[i].target == target) return i;
    return plan.ops.size();
}

}  // namespace

TEST_CASE("/dev holds only the minimal nodes without gpu and audio") {
    auto host = desktop();
    auto plan = plan_mounts(enter_spec(), host.view());
    std::set<std::string> expected{"/dev/null",    "/dev/zero",   "/dev/full", "/dev/random",
                                   "/dev/urandom", "/dev/tty",    "/dev/pts",  "/dev/ptmx",
                                   "/dev/shm",     "/dev/mqueue", "/dev/fd",   "/dev/stdin",
                                   "/dev/stdout",  "/dev/stderr"};
    CHECK(dev_targets(plan) == expected);
    REQUIRE(find(plan, "/dev"));
    CHECK(find(plan, "/dev")->kind == Kind::tmpfs);
    CHECK(find(plan, "/dev/pts")->kind == Kind::devpts);
    CHECK(find(plan, "/dev/pts")->options.find("newinstance") != std::string::npos);
}

TEST_CASE("gpu adds /dev/dri, never other host devices") {
    auto host = desktop();
    auto spec = enter_spec();
    spec.gpu = true;
    auto plan = plan_mounts(spec, host.view());
    CHECK(find(plan, "/dev/dri"));
    CHECK_FALSE(find(plan, "/dev/sda"));
    CHECK_FALSE(find(plan, "/dev/vda"));
    CHECK_FALSE(find(plan, "/dev/snd"));
    CHECK_FALSE(find(plan, "/dev/dri")->nodev);
}

TEST_CASE("gpu on a host without /dev/dri adds nothing") {
    auto host = desktop();
    host.files.erase("/dev/dri");
    auto spec = enter_spec();
    spec.gpu = true;
    CHECK_FALSE(find(plan_mounts(spec, host.view()), "/dev/dri"));
}

TEST_CASE("the kernel interfaces OCI runtimes hide or make read-only get the same here") {
    auto plan = plan_mounts(enter_spec(), desktop().view());
    for (const auto& path : readonly_paths()) {
        REQUIRE(find(plan, path));
        CHECK(find(plan, path)->kind == Kind::readonly);
        CHECK(index_of(plan, path) > index_of(plan, "/proc"));
    }
    for (const auto& path : masked_paths()) {
        REQUIRE(find(plan, path));
        CHECK(find(plan, path)->kind == Kind::mask);
    }
    CHECK(find(plan, "/proc/sys"));
    CHECK(find(plan, "/proc/sysrq-trigger"));
    CHECK(index_of(plan, "/sys/firmware") > index_of(plan, "/sys"));
}

TEST_CASE("with network isolation a new sysfs comes after the host integration, before the rest") {
    auto spec = enter_spec();
    spec.network_isolation = true;
    spec.mounts = {{"/srv/data", "/data", false}};
    auto host = desktop();
    host.files["/srv/data"] = FileKind::directory;
    auto plan = plan_mounts(spec, host.view());
    for (const char* target :
         {"/sys", "/sys/firmware", "/proc/sys", "/dev/null", "/home/alice", "/data"})
        REQUIRE(find(plan, target));
    CHECK(find(plan, "/sys")->kind == Kind::sysfs);
    // The child enters the network namespace just before it (build_sandbox): what needs no
    // namespace comes first; the GPU's files and the manifest's mounts, which may go anywhere
    // (below /sys too), after.
    CHECK(index_of(plan, "/sys") > index_of(plan, "/proc/sys"));
    CHECK(index_of(plan, "/sys") > index_of(plan, "/dev/null"));
    CHECK(index_of(plan, "/sys") > index_of(plan, "/home/alice"));
    CHECK(index_of(plan, "/sys") < index_of(plan, "/data"));
    CHECK(index_of(plan, "/sys/firmware") > index_of(plan, "/sys"));
    CHECK(index_of(plan, "/sys/firmware") < index_of(plan, "/data"));
    // Without it the host's sysfs is bound second, as before.
    spec.network_isolation = false;
    auto shared = plan_mounts(spec, host.view());
    CHECK(find(shared, "/sys")->kind == Kind::bind);
    CHECK(index_of(shared, "/sys") == index_of(shared, "/proc") + 1);
}

TEST_CASE("a mount target that is a symlink in the image gets a plain file or directory of ours") {
    namespace fs = std::filesystem;
    auto dir = fs::temp_directory_path() / ("karapace-symlinked-" + std::to_string(::getpid()));
    fs::create_directories(dir / "lower/etc");
    fs::create_directories(dir / "upper");
    fs::create_directories(dir / "host-src");
    fs::create_symlink("../run/systemd/resolve/stub-resolv.conf", dir / "lower/etc/resolv.conf");
    fs::create_symlink("/nowhere", dir / "lower/work");
    auto spec = enter_spec();
    spec.lower_dirs = {(dir / "lower").string()};
    spec.upper_dir = (dir / "upper").string();
    spec.mounts = {{(dir / "host-src").string(), "/work", false}};
    auto host = desktop();
    host.files["/etc/resolv.conf"] = FileKind::regular;
    auto plan = plan_mounts(spec, host.view());
    auto root_file = [&](const std::string& path) -> const RootFile* {
        for (const auto& f : plan.root_files)
            if (f.path == path) return &f;
        return nullptr;
    };
    REQUIRE(root_file("/etc/resolv.conf"));
    CHECK_FALSE(root_file("/etc/resolv.conf")->directory);
    REQUIRE(root_file("/work"));
    CHECK(root_file("/work")->directory);
    CHECK_FALSE(root_file("/etc/hosts"));  // not a symlink in the image

    // A symlink in the writable layer would hide a layer of ours: left to the attach step.
    fs::create_directories(dir / "upper/etc");
    fs::create_symlink("/elsewhere", dir / "upper/etc/resolv.conf");
    auto again = plan_mounts(spec, host.view());
    bool resolv = false;
    for (const auto& f : again.root_files)
        resolv = resolv || f.path == "/etc/resolv.conf";
    CHECK_FALSE(resolv);
    fs::remove_all(dir);
}

TEST_CASE("audio adds /dev/snd") {
    auto host = desktop();
    auto spec = enter_spec();
    spec.audio = true;
    CHECK(find(plan_mounts(spec, host.view()), "/dev/snd"));
}

TEST_CASE("host sockets are planned as binds of the socket files themselves") {
    auto host = desktop();
    auto plan = plan_mounts(enter_spec(), host.view());
    for (const char* sock :
         {"/run/user/1000/wayland-1", "/run/user/1000/pipewire-0", "/run/user/1000/pulse/native",
          "/run/user/1000/bus", "/tmp/ssh-x/agent.1"}) {
        INFO(sock);
        auto* op = find(plan, sock);
        REQUIRE(op);
        CHECK(op->kind == Kind::bind);
        CHECK(op->source == sock);
    }
    // The runtime dir itself is a fresh tmpfs, attached before the sockets inside it.
    REQUIRE(find(plan, "/run/user/1000"));
    CHECK(find(plan, "/run/user/1000")->kind == Kind::tmpfs);
    CHECK(index_of(plan, "/run/user/1000") < index_of(plan, "/run/user/1000/wayland-1"));
    CHECK(index_of(plan, "/run") < index_of(plan, "/run/user/1000"));
    CHECK_FALSE(find(plan, "/run/user/1000/keyring"));
}

TEST_CASE("X11 and Xauthority are shared read-only when DISPLAY is set") {
    auto host = desktop();
    auto plan = plan_mounts(enter_spec(), host.view());
    REQUIRE(find(plan, "/tmp/.X11-unix"));
    CHECK(find(plan, "/tmp/.X11-unix")->read_only);
    REQUIRE(find(plan, "/run/user/1000/xauth_abc"));
    host.env.erase("DISPLAY");
    CHECK_FALSE(find(plan_mounts(enter_spec(), host.view()), "/tmp/.X11-unix"));
}

TEST_CASE("missing host items are not planned") {
    FakeHost bare;
    bare.files = {{"/home/alice", FileKind::directory}};
    bare.env = {{"XDG_RUNTIME_DIR", "/run/user/1000"}, {"SSH_AUTH_SOCK", "/tmp/none"}};
    auto plan = plan_mounts(enter_spec(), bare.view());
    CHECK_FALSE(find(plan, "/run/user/1000"));
    CHECK_FALSE(find(plan, "/tmp/none"));
    CHECK_FALSE(find(plan, "/run/host/share/fonts"));
    CHECK(find(plan, "/home/alice"));
}

TEST_CASE("an SSH agent path that is not a socket is not bound") {
    auto host = desktop();
    host.files["/tmp/ssh-x/agent.1"] = FileKind::directory;
    CHECK_FALSE(find(plan_mounts(enter_spec(), host.view()), "/tmp/ssh-x/agent.1"));
}

TEST_CASE("host fonts go beside the image's, not over them") {
    auto host = desktop();
    auto plan = plan_mounts(enter_spec(), host.view());
    REQUIRE(find(plan, "/run/host/share/fonts"));
    CHECK(find(plan, "/run/host/share/fonts")->source == "/usr/share/fonts");
    CHECK(find(plan, "/run/host/share/fonts")->read_only);
    CHECK_FALSE(find(plan, "/usr/share/fonts"));
    auto* conf = find(plan, "/etc/fonts/conf.d/99-karapace-host-fonts.conf");
    REQUIRE(conf);
    CHECK(conf->needs_parent);
    CHECK(conf->source.find("<dir>/run/host/share/fonts</dir>") != std::string::npos);
    CHECK(std::find(plan.env_extra.begin(), plan.env_extra.end(),
                    "XDG_DATA_DIRS=/usr/local/share:/usr/share:/run/host/share") !=
          plan.env_extra.end());
}

TEST_CASE("a build shares nothing from the host session") {
    auto host = desktop();
    auto spec = enter_spec();
    spec.mapping = IdMapping::container_root;
    spec.host_integration = false;
    auto plan = plan_mounts(spec, host.view());
    CHECK_FALSE(find(plan, "/home/alice"));
    CHECK_FALSE(find(plan, "/run/user/1000"));
    CHECK_FALSE(find(plan, "/tmp/.X11-unix"));
    CHECK_FALSE(find(plan, "/etc/passwd"));
    CHECK(plan.cwd == "/root");
}

TEST_CASE("keep-id puts the user's entry over the image's passwd and group") {
    auto host = desktop();
    auto plan = plan_mounts(enter_spec(), host.view());
    auto* pw = find(plan, "/etc/passwd");
    REQUIRE(pw);
    CHECK(pw->kind == Kind::passwd);
    CHECK(pw->source == "alice:x:1000:1000:alice:/home/alice:/bin/bash");
    REQUIRE(find(plan, "/etc/group"));
    CHECK(find(plan, "/etc/group")->source == "alice:x:1000:");
}

TEST_CASE("merging an account entry replaces the same name only") {
    std::string image =
        "root:x:0:0::/root:/bin/sh\nalice:x:5:5::/old:/bin/sh\nmalice:x:6:6::/m:/bin/sh";
    CHECK(merge_account_entry(image, "alice:x:1000:1000::/home/alice:/bin/sh") ==
          "root:x:0:0::/root:/bin/sh\nmalice:x:6:6::/m:/bin/sh\n"
          "alice:x:1000:1000::/home/alice:/bin/sh\n");
    CHECK(merge_account_entry("", "alice:x:1000:") == "alice:x:1000:\n");
}

TEST_CASE("manifest mounts are bound with their read-only flag and no symlinks") {
    auto host = desktop();
    auto spec = enter_spec();
    spec.mounts = {{"/srv/data", "/data", true}, {"/srv/src", "/src", false}};
    auto plan = plan_mounts(spec, host.view());
    REQUIRE(find(plan, "/data"));
    CHECK(find(plan, "/data")->read_only);
    CHECK(find(plan, "/data")->no_symlinks);
    CHECK_FALSE(find(plan, "/data")->optional);
    CHECK_FALSE(find(plan, "/src")->read_only);
}

TEST_CASE("the working directory follows the caller only into shared paths") {
    auto host = desktop();
    auto spec = enter_spec();
    spec.mounts = {{"/srv/data", "/data", false}};
    spec.cwd = "/home/alice/project";
    CHECK(plan_cwd(spec, host.view()) == "/home/alice/project");
    spec.cwd = "/srv/data/sub";
    CHECK(plan_cwd(spec, host.view()) == "/data/sub");
    spec.cwd = "/srv/database";  // a prefix on characters, not on components
    CHECK(plan_cwd(spec, host.view()) == "/home/alice");
    spec.cwd = "/etc";
    CHECK(plan_cwd(spec, host.view()) == "/home/alice");
}

TEST_CASE("the hosts file names the sandbox") {
    CHECK(hosts_file(std::nullopt, "web") ==
          "127.0.0.1\tlocalhost\n::1\tlocalhost\n127.0.1.1\tweb\n");
    CHECK(hosts_file(std::string("10.0.0.1 db"), "web") == "10.0.0.1 db\n127.0.1.1\tweb\n");
}

TEST_CASE("/sys is the host's read-only, or a new sysfs with an own network namespace") {
    auto host = desktop();
    auto spec = enter_spec();
    auto host_plan = plan_mounts(spec, host.view());  // find() points into the plan
    auto* sys = find(host_plan, "/sys");
    REQUIRE(sys);
    CHECK(sys->kind == Kind::bind);
    CHECK(sys->read_only);
    spec.network_isolation = true;
    auto plan = plan_mounts(spec, host.view());
    REQUIRE(find(plan, "/sys"));
    CHECK(find(plan, "/sys")->kind == Kind::sysfs);
    CHECK(find(plan, "/sys")->read_only);
}
