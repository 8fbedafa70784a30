// The NVIDIA passthrough on a fake driver tree: discovery through the host's ld.so.cache, CDI
// specs, NVIDIA_VISIBLE_DEVICES, and the mount plan made of it.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/xattr.h>

#include <algorithm>
#include <catch2/catch.hpp>

#include "fake_driver.hpp"
#include "karapace/sandbox/gpu.hpp"
#include "karapace/sandbox/ld_cache.hpp"
#include "karapace/sandbox/nvidia.hpp"
#include "karapace/util/error.hpp"
#include "sandbox/cdi.hpp"
#include "sandbox/elf_info.hpp"

using namespace karapace;
using namespace karapace::sandbox;
using karapace::testing::FakeDriverRoot;

namespace {

constexpr const char* kLib64 = "/usr/lib/x86_64-linux-gnu";

// A host with a driver of version 999.1: two GPUs, CUDA, NVML and GLX libraries (and a 32-bit
// libcuda), nvidia-smi, a Vulkan manifest naming its library by absolute path and an EGL one
// naming it by soname, plus libraries that are not the driver's.
void install_driver(FakeDriverRoot& host, const std::string& version = "999.1") {
    host.driver(version, {"GPU-aaaa", "GPU-bbbb"});
    host.library(kLib64, "libcuda.so.1", version);
    host.library(kLib64, "libnvidia-ml.so.1", version);
    host.library(kLib64, "libGLX_nvidia.so.0", version);
    host.library(kLib64, "libnvidia-container.so.1", "1.17.0");
    host.library(kLib64, "libz.so.1", "1.2.13");
    if (ld_cache_compat_flags() != 0)
        host.library("/usr/lib/i386-linux-gnu", "libcuda.so.1", version, ld_cache_compat_flags());
    host.write_cache();
    host.file("/usr/bin/nvidia-smi", "#!/bin/sh\necho fake\n", 0755);
    host.file("/usr/share/vulkan/icd.d/nvidia_icd.json",
              R"({"file_format_version":"1.0.0","ICD":{"library_path":")" + std::string(kLib64) +
                  R"(/libGLX_nvidia.so.0","api_version":"1.3.0"}})");
    host.file("/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
              R"({"file_format_version":"1.0.0","ICD":{"library_path":"libEGL_nvidia.so.0"}})");
}

NvidiaPassthrough discover(const FakeDriverRoot& host,
                           std::optional<std::string> visible = std::nullopt) {
    NvidiaRequest r;
    r.host_root = host.root();
    r.visible_devices = std::move(visible);
    return discover_nvidia(r);
}

const DriverLibrary* library(const NvidiaPassthrough& nv, const std::string& container_path) {
    for (const auto& l : nv.libraries)
        if (l.file.container_path == container_path) return &l;
    return nullptr;
}

std::vector<std::string> device_paths(const NvidiaPassthrough& nv) {
    std::vector<std::string> out;
    for (const auto& d : nv.devices)
        out.push_back(d.container_path);
    return out;
}

bool contains(const std::vector<std::string>& v, const std::string& needle) {
    return std::any_of(v.begin(), v.end(),
                       [&](const std::string& s) { return s.find(needle) != std::string::npos; });
}

}  // namespace

TEST_CASE("a host without the NVIDIA driver gives nothing") {
    FakeDriverRoot host;
    auto nv = discover(host);
    CHECK_FALSE(nv.found());
    CHECK(nv.devices.empty());
    CHECK_FALSE(nvidia_present(host.root()));
}

TEST_CASE("discovery finds the driver's libraries, programs and manifests through ld.so.cache") {
    FakeDriverRoot host;
    install_driver(host);
    auto nv = discover(host);
    REQUIRE(nv.source == NvidiaSource::discovery);
    CHECK(nv.driver_version == "999.1");
    const auto* cuda = library(nv, "/run/host/nvidia/lib64/libcuda.so.1");
    REQUIRE(cuda);
    CHECK(cuda->name == "libcuda.so.1");
    CHECK(cuda->ld_flags == ld_cache_native_flags());
    // The file itself, symlinks resolved: the soname link would dangle inside.
    CHECK(cuda->file.host_path == host.at(std::string(kLib64) + "/libcuda.so.999.1"));
    CHECK(library(nv, "/run/host/nvidia/lib64/libnvidia-ml.so.1"));
    CHECK(library(nv, "/run/host/nvidia/lib64/libGLX_nvidia.so.0"));
    if (ld_cache_compat_flags() != 0) CHECK(library(nv, "/run/host/nvidia/lib/libcuda.so.1"));
    CHECK_FALSE(library(nv, "/run/host/nvidia/lib64/libnvidia-container.so.1"));
    CHECK_FALSE(library(nv, "/run/host/nvidia/lib64/libz.so.1"));
    REQUIRE(nv.programs.size() == 1);
    CHECK(nv.programs[0].container_path == "/run/host/nvidia/bin/nvidia-smi");
    // The Vulkan manifest named an absolute host path: rewritten to the soname.
    REQUIRE(nv.generated.size() == 1);
    CHECK(nv.generated[0].first == "/run/host/nvidia/share/vulkan/icd.d/nvidia_icd.json");
    CHECK(nv.generated[0].second.find("\"library_path\": \"libGLX_nvidia.so.0\"") !=
          std::string::npos);
    REQUIRE(nv.files.size() == 1);
    CHECK(nv.files[0].container_path == "/run/host/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json");
    CHECK(device_paths(nv) == std::vector<std::string>{"/dev/nvidia-uvm", "/dev/nvidia0",
                                                       "/dev/nvidia1", "/dev/nvidiactl"});
    // No libEGL_nvidia on this host: said, not hidden.
    CHECK(contains(nv.missing, "libEGL_nvidia.so.0"));
    CHECK_FALSE(contains(nv.missing, "libcuda.so.1"));
    CHECK(nv.warnings.empty());
}

TEST_CASE("NVIDIA_VISIBLE_DEVICES picks GPUs by index or UUID, none or void") {
    FakeDriverRoot host;
    install_driver(host);
    auto only = [&](const char* value) { return device_paths(discover(host, value)); };
    CHECK(only("1") ==
          std::vector<std::string>{"/dev/nvidia-uvm", "/dev/nvidia1", "/dev/nvidiactl"});
    CHECK(only("GPU-aaaa") ==
          std::vector<std::string>{"/dev/nvidia-uvm", "/dev/nvidia0", "/dev/nvidiactl"});
    CHECK(only("0, GPU-bbbb").size() == 4);
    CHECK(only("all").size() == 4);
    CHECK(only("none") == std::vector<std::string>{"/dev/nvidia-uvm", "/dev/nvidiactl"});
    auto none = discover(host, "none");
    CHECK(library(none, "/run/host/nvidia/lib64/libcuda.so.1"));  // the driver without a GPU
    auto nothing = discover(host, "void");
    CHECK_FALSE(nothing.found());
    CHECK(nothing.devices.empty());
    auto bad = discover(host, "7,GPU-zzzz");
    CHECK(contains(bad.warnings, "'7'"));
    CHECK(contains(bad.warnings, "'GPU-zzzz'"));
}

TEST_CASE("libraries of another driver version than the kernel module's are reported") {
    FakeDriverRoot host;
    install_driver(host, "999.1");
    host.driver("999.2", {"GPU-aaaa"});
    auto nv = discover(host);
    CHECK(contains(nv.warnings, "version 999.1 but its kernel module is 999.2"));
}

TEST_CASE("the ELF reader finds the soname and the machine of a library") {
    FakeDriverRoot host;
    host.file("/lib64.so", karapace::testing::tiny_elf("libcuda.so.1"));
    host.file("/lib32.so", karapace::testing::tiny_elf("libcuda.so.1", false));
    host.file("/text", "not an ELF file at all, but long enough to be read as a header ...");
    auto info = [&](const std::string& p) {
        UniqueFd fd(::open(host.at(p).c_str(), O_RDONLY | O_CLOEXEC));
        return read_elf_info(fd.get());
    };
    auto lib = info("/lib64.so");
    REQUIRE(lib);
    CHECK(lib->is64);
    CHECK(lib->shared_object);
    CHECK(lib->soname == "libcuda.so.1");
    CHECK(ld_flags_for(*lib) == ld_cache_native_flags());
    auto lib32 = info("/lib32.so");
    REQUIRE(lib32);
    CHECK_FALSE(lib32->is64);
    CHECK(lib32->soname == "libcuda.so.1");
    CHECK(ld_flags_for(*lib32) == 0x0003);
    CHECK_FALSE(info("/text"));
}

// ---- CDI ------------------------------------------------------------------------------------

namespace {

std::string cdi_yaml(const std::string& extra_mount = "") {
    return R"(---
cdiVersion: 0.5.0
kind: nvidia.com/gpu
devices:
- name: "0"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: GPU-aaaa
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
- name: "1"
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia1
- name: all
  containerEdits:
    deviceNodes:
    - path: /dev/nvidia0
    - path: /dev/nvidia1
containerEdits:
  env:
  - NVIDIA_VISIBLE_DEVICES=void
  - NVIDIA_CTK_LIBCUDA_DIR=/usr/lib/x86_64-linux-gnu
  deviceNodes:
  - path: /dev/nvidiactl
  - path: /dev/nvidia-uvm
  hooks:
  - hookName: createContainer
    path: /usr/bin/nvidia-ctk
    args: [nvidia-ctk, hook, create-symlinks, --link, libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so]
  - hookName: createContainer
    path: /usr/bin/nvidia-ctk
    args:
    - nvidia-ctk
    - hook
    - update-ldcache
    - --folder
    - /usr/lib/x86_64-linux-gnu
  - hookName: createContainer
    path: /usr/bin/nvidia-ctk
    args: [nvidia-ctk, hook, enable-cuda-compat]
  mounts:
  - hostPath: /usr/lib/x86_64-linux-gnu/libcuda.so.999.1
    containerPath: /usr/lib/x86_64-linux-gnu/libcuda.so.999.1
    options: [ro, nosuid, nodev, bind]
  - hostPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.999.1
    containerPath: /usr/lib/x86_64-linux-gnu/libnvidia-ml.so.999.1
    options: [ro, nosuid, nodev, bind]
  - hostPath: /usr/bin/nvidia-smi
    containerPath: /usr/bin/nvidia-smi
    options: [ro, nosuid, nodev, bind]
  - hostPath: /usr/share/vulkan/icd.d/nvidia_icd.json
    containerPath: /etc/vulkan/icd.d/nvidia_icd.json
    options: [ro, nosuid, nodev, bind]
  - hostPath: /usr/share/nvidia/nvoptix.bin
    containerPath: /usr/share/nvidia/nvoptix.bin
    options: [ro, nosuid, nodev, bind]
)" + extra_mount;
}

}  // namespace

TEST_CASE("a CDI spec in YAML or JSON is read; one of another kind is passed over") {
    auto spec = parse_cdi_spec(cdi_yaml(), "/etc/cdi/nvidia.yaml", "nvidia.com/gpu");
    REQUIRE(spec);
    CHECK(spec->version == "0.5.0");
    REQUIRE(spec->devices.size() == 4);
    CHECK(spec->devices[0].name == "0");
    CHECK(spec->devices[3].edits.device_nodes.size() == 2);
    CHECK(spec->edits.mounts.size() == 5);
    CHECK(spec->edits.hooks[1].args[2] == "update-ldcache");
    CHECK(spec->edits.device_nodes[0].host_path == "/dev/nvidiactl");

    auto json = parse_cdi_spec(
        R"({"cdiVersion":"0.6.0","kind":"nvidia.com/gpu","devices":[{"name":"all",
            "containerEdits":{"deviceNodes":[{"path":"/dev/nvidia0","hostPath":"/dev/nvidia0"}]}}],
            "containerEdits":{"env":["A=b"]}})",
        "/etc/cdi/nvidia.json", "nvidia.com/gpu");
    REQUIRE(json);
    CHECK(json->edits.env == std::vector<std::string>{"A=b"});
    CHECK_FALSE(parse_cdi_spec("cdiVersion: 0.5.0\nkind: amd.com/gpu\ndevices:\n- name: x\n", "x",
                               "nvidia.com/gpu"));
}

TEST_CASE("a CDI spec that binds outside the driver's places, or is malformed, is refused") {
    auto refused = [](const std::string& text, const std::string& why) {
        CHECK_THROWS_WITH(
            parse_cdi_spec(text, "/etc/cdi/bad.yaml", "nvidia.com/gpu"),
            Catch::Contains("the CDI spec /etc/cdi/bad.yaml is refused") && Catch::Contains(why));
    };
    std::string head = "cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices:\n- name: all\n";
    refused(head +
                "containerEdits:\n  mounts:\n  - hostPath: /home/alice/.ssh/id_rsa\n"
                "    containerPath: /usr/lib/x.so\n",
            "outside the places a driver's files live");
    refused(head +
                "containerEdits:\n  mounts:\n  - hostPath: /usr/lib/../../etc/shadow\n"
                "    containerPath: /x\n",
            "'..' component");
    refused(head +
                "containerEdits:\n  mounts:\n  - hostPath: usr/lib/libcuda.so\n"
                "    containerPath: /x\n",
            "not an absolute path");
    refused(head + "containerEdits:\n  deviceNodes:\n  - path: /etc/passwd\n", "not below /dev");
    refused(head + "containerEdits:\n  env: [JUSTANAME]\n", "not NAME=value");
    refused("kind: nvidia.com/gpu\ndevices:\n- name: all\n", "has no cdiVersion");
    refused("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: []\n", "lists no devices");
    refused("cdiVersion: 0.5.0\nkind: nvidia\ndevices: []\n", "not of the form vendor/class");
    refused("cdiVersion: 0.5.0\nkind: nvidia.com/gpu\ndevices: [\n", "cannot be read");
    refused("[1, 2]", "is not a map");
}

TEST_CASE("a CDI spec's files are placed by what they are, below /run/host/nvidia") {
    FakeDriverRoot host;
    install_driver(host);
    host.file("/usr/share/nvidia/nvoptix.bin", "data");
    host.file("/etc/cdi/nvidia.yaml", cdi_yaml());
    auto nv = discover(host);
    REQUIRE(nv.source == NvidiaSource::cdi);
    CHECK(nv.cdi_spec == host.at("/etc/cdi/nvidia.yaml"));
    // The soname (from the ELF file) is what programs ask for; the file name is kept too, and
    // the create-symlinks hook's libcuda.so becomes one more name.
    CHECK(library(nv, "/run/host/nvidia/lib64/libcuda.so.999.1"));
    CHECK(library(nv, "/run/host/nvidia/lib64/libcuda.so.1"));
    CHECK(library(nv, "/run/host/nvidia/lib64/libcuda.so"));
    CHECK(library(nv, "/run/host/nvidia/lib64/libnvidia-ml.so.1"));
    CHECK_FALSE(library(nv, "/run/host/nvidia/lib64/libGLX_nvidia.so.0"));  // not in the spec
    REQUIRE(nv.programs.size() == 1);
    CHECK(nv.programs[0].container_path == "/run/host/nvidia/bin/nvidia-smi");
    REQUIRE(nv.generated.size() == 1);
    CHECK(nv.generated[0].first == "/run/host/nvidia/share/vulkan/icd.d/nvidia_icd.json");
    CHECK(device_paths(nv) == std::vector<std::string>{"/dev/nvidiactl", "/dev/nvidia-uvm",
                                                       "/dev/nvidia0", "/dev/nvidia1"});
    CHECK(nv.env == std::vector<std::string>{"NVIDIA_CTK_LIBCUDA_DIR=/usr/lib/x86_64-linux-gnu"});
    CHECK(contains(nv.notes, "nvoptix.bin is no library"));
    CHECK(contains(nv.notes, "enable-cuda-compat` is not run"));
    CHECK(nv.warnings.empty());

    auto one = discover(host, "GPU-aaaa");
    CHECK(device_paths(one) ==
          std::vector<std::string>{"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia0"});
    auto unknown = discover(host, "5");
    CHECK(contains(unknown.warnings, "does not list (it lists 0, GPU-aaaa, 1, all)"));
}

TEST_CASE("a refused CDI spec is reported and discovery is used instead") {
    FakeDriverRoot host;
    install_driver(host);
    host.file("/etc/cdi/nvidia.yaml",
              cdi_yaml("  - hostPath: /root/secret\n    containerPath: /usr/lib/secret.so\n"));
    auto nv = discover(host);
    CHECK(nv.source == NvidiaSource::discovery);
    CHECK(contains(nv.warnings, "is refused"));
    CHECK(contains(nv.warnings, "looked up without it"));
    CHECK(library(nv, "/run/host/nvidia/lib64/libcuda.so.1"));

    // A path that is allowed as written but leads elsewhere through a symlink.
    FakeDriverRoot sneaky;
    install_driver(sneaky);
    sneaky.file("/root/secret", "s");
    sneaky.link("/usr/lib/x86_64-linux-gnu/libevil.so.1", "/root/secret");
    sneaky.file("/etc/cdi/nvidia.yaml",
                cdi_yaml("  - hostPath: /usr/lib/x86_64-linux-gnu/libevil.so.1\n"
                         "    containerPath: /usr/lib/x86_64-linux-gnu/libevil.so.1\n"));
    auto nv2 = discover(sneaky);
    CHECK(nv2.source == NvidiaSource::discovery);
    CHECK(contains(nv2.warnings, "leads to /root/secret"));
}

// ---- the plan --------------------------------------------------------------------------------

namespace {

const MountOp* op_at(const MountPlan& plan, const std::string& target) {
    for (const auto& op : plan.ops)
        if (op.target == target) return &op;
    return nullptr;
}

const RootFile* root_file(const MountPlan& plan, const std::string& path) {
    for (const auto& f : plan.root_files)
        if (f.path == path) return &f;
    return nullptr;
}

std::string env_of(const MountPlan& plan, const std::string& name) {
    std::string value;
    for (const auto& kv : plan.env_extra)
        if (kv.rfind(name + "=", 0) == 0) value = kv.substr(name.size() + 1);
    return value;
}

std::string image_cache() {
    LdCache c;
    c.entries = {
        {ld_cache_native_flags(), "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", 0, 0},
        {ld_cache_native_flags(), "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", 0, 0}};
    return write_ld_cache(c, "image");
}

}  // namespace

TEST_CASE("the plan binds the driver read-only below /run/host/nvidia and extends the cache") {
    FakeDriverRoot host;
    install_driver(host);
    auto nv = discover(host);
    MountPlan plan;
    ImageLinker linker;
    linker.cache = image_cache();
    CHECK(plan_nvidia(nv, linker, plan).empty());

    const auto* cuda = op_at(plan, "/run/host/nvidia/lib64/libcuda.so.1");
    REQUIRE(cuda);
    CHECK(cuda->kind == MountOp::Kind::bind);
    CHECK(cuda->read_only);
    CHECK(cuda->nodev);
    CHECK_FALSE(cuda->noexec);  // libraries are mapped executable
    const auto* dev = op_at(plan, "/dev/nvidia0");
    REQUIRE(dev);
    CHECK_FALSE(dev->nodev);
    CHECK_FALSE(dev->read_only);
    CHECK(op_at(plan, "/run/host/nvidia/bin/nvidia-smi"));
    REQUIRE(op_at(plan, "/run/host/nvidia/share/vulkan/icd.d/nvidia_icd.json"));
    CHECK(op_at(plan, "/run/host/nvidia/share/vulkan/icd.d/nvidia_icd.json")->kind ==
          MountOp::Kind::file);
    // Nothing is planned over the environment's own directories.
    for (const auto& op : plan.ops) {
        bool ours =
            op.target.rfind("/run/host/nvidia/", 0) == 0 || op.target.rfind("/dev/", 0) == 0;
        CHECK(ours);
    }

    const auto* cache = root_file(plan, "/etc/ld.so.cache");
    REQUIRE(cache);
    auto merged = parse_ld_cache(cache->content, "merged");
    auto path_of = [&](const std::string& name) {
        for (const auto& e : merged.entries)
            if (e.name == name && e.flags == ld_cache_native_flags()) return e.path;
        return std::string();
    };
    CHECK(path_of("libcuda.so.1") ==
          "/run/host/nvidia/lib64/libcuda.so.1");                      // the image's is replaced
    CHECK(path_of("libc.so.6") == "/lib/x86_64-linux-gnu/libc.so.6");  // the rest is kept
    const auto* conf = root_file(plan, "/etc/ld.so.conf.d/000-karapace-nvidia.conf");
    REQUIRE(conf);
    CHECK(conf->content.find("\n/run/host/nvidia/lib64\n") != std::string::npos);
    CHECK(env_of(plan, "LD_LIBRARY_PATH").empty());
    CHECK(env_of(plan, "PATH").ends_with(":/run/host/nvidia/bin"));
    CHECK(env_of(plan, "XDG_DATA_DIRS") == "/usr/local/share:/usr/share:/run/host/nvidia/share");
    CHECK(env_of(plan, "__EGL_VENDOR_LIBRARY_DIRS") ==
          "/etc/glvnd/egl_vendor.d:/usr/share/glvnd/egl_vendor.d:"
          "/run/host/nvidia/share/glvnd/egl_vendor.d");
}

TEST_CASE("further names of a bound library are symlinks to it, in the cache too") {
    FakeDriverRoot host;
    install_driver(host);
    host.file("/etc/cdi/nvidia.yaml", cdi_yaml());
    auto nv = discover(host);
    REQUIRE(nv.source == NvidiaSource::cdi);
    MountPlan plan;
    plan_nvidia(nv, ImageLinker{}, plan);
    const auto* file = op_at(plan, "/run/host/nvidia/lib64/libcuda.so.999.1");
    REQUIRE(file);
    CHECK(file->kind == MountOp::Kind::bind);
    for (const char* alias :
         {"/run/host/nvidia/lib64/libcuda.so.1", "/run/host/nvidia/lib64/libcuda.so"}) {
        const auto* link = op_at(plan, alias);
        REQUIRE(link);
        CHECK(link->kind == MountOp::Kind::symlink);
        CHECK(link->source == "libcuda.so.999.1");
    }
    // No image cache at all (glibc without one): the sandbox's lists the driver alone.
    auto cache = parse_ld_cache(root_file(plan, "/etc/ld.so.cache")->content, "merged");
    CHECK(cache.entries.size() == 5);  // libcuda.so.999.1, .so.1, .so; libnvidia-ml.so.999.1, .so.1
}

TEST_CASE("a cache the writable layer hides leads to LD_LIBRARY_PATH; musl gets devices only") {
    FakeDriverRoot host;
    install_driver(host);
    auto nv = discover(host);
    MountPlan hidden;
    ImageLinker linker;
    linker.cache = image_cache();
    linker.cache_hidden = true;
    plan_nvidia(nv, linker, hidden);
    CHECK_FALSE(root_file(hidden, "/etc/ld.so.cache"));
    CHECK(root_file(hidden, "/etc/ld.so.conf.d/000-karapace-nvidia.conf"));
    CHECK(env_of(hidden, "LD_LIBRARY_PATH").starts_with("/run/host/nvidia/lib64"));

    MountPlan musl;
    ImageLinker alpine;
    alpine.musl = true;
    auto warnings = plan_nvidia(nv, alpine, musl);
    CHECK(contains(warnings, "musl"));
    CHECK(op_at(musl, "/dev/nvidia0"));
    CHECK_FALSE(op_at(musl, "/run/host/nvidia/lib64/libcuda.so.1"));
    CHECK(musl.root_files.empty());
}

TEST_CASE("the environment's linker files are read through its layers as overlayfs shows them") {
    FakeDriverRoot layers;
    LdCache c;
    c.entries = {{ld_cache_native_flags(), "libc.so.6", "/lib/libc.so.6", 0, 0}};
    layers.file("/base/etc/ld.so.cache", write_ld_cache(c, "base"));
    layers.mkdirs("/upper/etc");
    SandboxSpec spec;
    spec.lower_dirs = {layers.at("/base")};
    spec.upper_dir = layers.at("/upper");
    auto l = read_image_linker(spec);
    REQUIRE(l.cache);
    CHECK_FALSE(l.cache_hidden);
    CHECK_FALSE(l.musl);

    // An ldconfig run inside wrote the writable layer's own cache: ours would not show.
    layers.file("/upper/etc/ld.so.cache", write_ld_cache(c, "upper"));
    CHECK(read_image_linker(spec).cache_hidden);
    // Frozen: the writable layer is a lower one, below the sandbox's own layer.
    spec.read_only = true;
    spec.lower_dirs.insert(spec.lower_dirs.begin(), spec.upper_dir);
    CHECK_FALSE(read_image_linker(spec).cache_hidden);

    // A whiteout in a higher layer hides the file (xattr form, which needs no privilege).
    FakeDriverRoot wh;
    wh.file("/base/etc/ld.so.cache", write_ld_cache(c, "base"));
    wh.file("/top/etc/ld.so.cache", "");
    SandboxSpec spec2;
    spec2.lower_dirs = {wh.at("/top"), wh.at("/base")};
    spec2.read_only = true;
    if (::setxattr(wh.at("/top/etc/ld.so.cache").c_str(), "user.overlay.whiteout", "", 0, 0) == 0)
        CHECK_FALSE(read_image_linker(spec2).cache);
    else
        WARN("skipped the whiteout case: user xattrs are not supported on /tmp");

    // musl behind a /lib -> usr/lib link, as merged-/usr distributions have it.
    FakeDriverRoot m;
    m.link("/base/lib", "usr/lib");
    struct utsname u {};
    ::uname(&u);
    m.file(std::string("/base/usr/lib/ld-musl-") + u.machine + ".so.1", "x");
    SandboxSpec spec3;
    spec3.lower_dirs = {m.at("/base")};
    spec3.read_only = true;
    auto ml = read_image_linker(spec3);
    CHECK(ml.musl);
    CHECK_FALSE(ml.cache);
}
