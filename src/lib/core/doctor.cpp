// `karapace doctor`: what this host offers the sandbox and the store, each check with the fix for
// the host's distribution when something is missing.
#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/engine_impl.hpp"
#include "core/gpu_report.hpp"
#include "core/install_hint.hpp"
#include "karapace/sandbox/idmap.hpp"
#include "karapace/sandbox/init_program.hpp"
#include "karapace/sandbox/keeper.hpp"
#include "karapace/sandbox/limits.hpp"
#include "karapace/sandbox/overlay.hpp"
#include "karapace/sandbox/userns.hpp"
#include "karapace/store/wal.hpp"
#include "karapace/util/process.hpp"
#include "runtime/oci.hpp"

namespace karapace::core {

namespace {

std::string install_command(const PackageNames& package) {
    return install_command(current_host_kind(), package);
}

// A package of the same name everywhere.
PackageNames same_name(const std::string& name) { return {name, name}; }

DoctorCheck program_check(const std::string& name, const std::string& program, bool required,
                          const std::string& purpose, const PackageNames& package) {
    DoctorCheck c{name, "pass", "", "", required};
    if (auto path = find_program(program)) {
        c.message = program + " found at " + *path + " (" + purpose + ")";
    } else {
        c.status = required ? "fail" : "warn";
        c.message = program + " is missing (" + purpose + ")";
        c.fix = install_command(package);
    }
    return c;
}

// Whether enter/exec of `backend = "oci"` environments work here: every installed runtime runs a
// small container of the host's root through the backend's own steps, with a directory bound
// read-only as manifest mounts are (every template has one). Not required: only environments
// with backend = "oci" need it, but a runtime that is chosen and fails is a failure.
DoctorCheck oci_backend_check() {
    DoctorCheck c{"oci_runtime", "info", "", "", false};
    auto chosen = runtime::oci_runtime_path();
    if (!chosen) {
        c.message = "no OCI runtime (runc or crun): environments with backend = \"oci\" cannot run";
        c.fix = install_command(same_name("runc"));
        return c;
    }
    std::vector<std::string> paths{*chosen};
    for (const char* name : {"runc", "crun"})
        if (auto p = find_program(name); p && *p != *chosen) paths.push_back(*p);
    std::string others;
    std::optional<std::string> chosen_problem, working_other;
    for (const auto& path : paths) {
        auto problem = runtime::probe_oci_runtime(path);
        if (path == *chosen) {
            chosen_problem = problem;
        } else {
            others += "; " + path + (problem ? " fails: " + *problem : " works too");
            if (!problem && !working_other) working_other = path;
        }
    }
    if (!chosen_problem) {
        c.status = "pass";
        c.message = "the OCI backend works with " + *chosen + others;
    } else {
        c.status = "fail";
        c.message = "the OCI backend cannot run containers with " + *chosen + ": " +
                    *chosen_problem + others;
        c.fix = working_other ? "export KARAPACE_OCI_RUNTIME=" + *working_other
                              : "use backend = \"namespace\" for environments on this host";
    }
    return c;
}

}  // namespace

std::vector<DoctorCheck> Engine::doctor() {
    std::vector<DoctorCheck> checks;

    DoctorCheck userns{"user_namespaces", "pass", "", "", true};
    try {
        int status = sandbox::run_in_userns([] { return 0; }, sandbox::IdMapping::keep_id);
        if (status != 0) throw Error(Errc::runtime, "probe exited with " + std::to_string(status));
        userns.message = "user namespaces work for this user";
    } catch (const Error& e) {
        userns.status = "fail";
        userns.message = std::string("cannot create a user namespace: ") + e.what();
        userns.fix =
            "enable unprivileged user namespaces: sudo sysctl -w "
            "kernel.unprivileged_userns_clone=1 (Debian) or user.max_user_namespaces=15000";
    }
    checks.push_back(userns);

    auto plan = sandbox::plan_id_maps_for_caller(sandbox::IdMapping::keep_id);
    DoctorCheck subids{"subids", "pass", "", "", false};
    if (::geteuid() == 0) {
        subids.message = "running as root: the whole id range is mapped";
    } else if (plan.single_id) {
        subids.status = "warn";
        subids.message =
            "no sub-uid/sub-gid range of 65536 ids for this user: only your own id "
            "is mapped, so packages that create system users may fail to install";
        subids.fix = "sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $USER";
    } else {
        subids.message = "sub-id ranges found in /etc/subuid and /etc/subgid";
    }
    checks.push_back(subids);
    if (::geteuid() != 0)
        checks.push_back(program_check("newuidmap", "newuidmap", !plan.single_id,
                                       "writes sub-id maps", newuidmap_package()));

    // Every sandbox's PID 1.
    DoctorCheck init{"sandbox_init", "pass", "", "", true};
    try {
        UniqueFd fd = sandbox::open_init_program();
        char path[4096];
        ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd.get())).c_str(), path,
                               sizeof path - 1);
        init.message = "the sandboxes' init is " +
                       (n > 0 ? std::string(path, static_cast<std::size_t>(n)) : "found");
    } catch (const Error& e) {
        init.status = "fail";
        init.message = e.what();
        init.fix = e.hint();
    }
    checks.push_back(init);

    checks.push_back(
        {"namespace_keeper", "info",
         "exec/enter: " + sandbox::describe_keeper(sandbox::IdMapping::keep_id) +
             "; build: " + sandbox::describe_keeper(sandbox::IdMapping::container_root),
         "", false});

    auto limits = sandbox::probe_limit_mechanism();
    DoctorCheck lim{"limits", "pass", "", "", false};
    lim.message =
        std::string("resource limits are enforced with ") + sandbox::limit_mechanism_name(limits);
    if (limits == sandbox::LimitMechanism::rlimit || limits == sandbox::LimitMechanism::none) {
        lim.status = "warn";
        lim.message += " (per process; no CPU weight, memory is address space)";
        lim.fix = "run under a systemd user session (cgroup v2 delegation) for real limits";
    }
    checks.push_back(lim);

    checks.push_back(program_check("mmdebstrap", "mmdebstrap", false,
                                   "builds bootstrap:debian/... and bootstrap:ubuntu/... images",
                                   same_name("mmdebstrap")));
    // The root of every environment: kernel overlayfs in a user namespace, else fuse-overlayfs.
    DoctorCheck overlay{"overlay", "pass", "", "", true};
    switch (userns.status == "pass" ? sandbox::probe_overlay() : sandbox::OverlayKind::none) {
    case sandbox::OverlayKind::kernel:
        overlay.message = "environments are mounted with kernel overlayfs (userxattr)";
        break;
    case sandbox::OverlayKind::fuse:
        overlay.status = "warn";
        overlay.message =
            ::getenv("KARAPACE_OVERLAY") != nullptr
                ? "KARAPACE_OVERLAY=fuse: environments are mounted with fuse-overlayfs"
                : "the kernel refuses overlayfs in a user namespace; fuse-overlayfs is used "
                  "instead (slower)";
        if (::getenv("KARAPACE_OVERLAY") == nullptr)
            overlay.fix = "a Linux 5.11 or newer kernel mounts overlayfs with userxattr itself";
        break;
    case sandbox::OverlayKind::none:
        overlay.status = "fail";
        overlay.message =
            "no overlay filesystem can be mounted in a user namespace (kernel overlayfs refused, "
            "fuse-overlayfs missing or /dev/fuse not usable)";
        overlay.fix = "use Linux 5.11 or newer, or " +
                      install_command(same_name("fuse-overlayfs")) + " and make /dev/fuse usable";
        break;
    }
    checks.push_back(overlay);

    checks.push_back(program_check("fuse_overlayfs", "fuse-overlayfs", false,
                                   "fallback when the kernel refuses overlayfs in a user namespace",
                                   same_name("fuse-overlayfs")));
    checks.push_back(oci_backend_check());
    checks.push_back(gpu_check());

    DoctorCheck st{"store", "pass", "", "", true};
    if (!impl_->store_exists()) {
        st.status = "info";
        st.message = "no store at " + impl_->root + " yet; the first build creates it";
        st.required = false;
    } else {
        try {
            auto& s = impl_->store(false);
            int corrupt = 0;
            std::size_t count = 0;
            for (const auto& e : s.metadata().list()) {
                ++count;
                if (!e.ok()) ++corrupt;
            }
            auto wal = s.wal().list();
            st.message = "store at " + impl_->root + ": " + std::to_string(count) +
                         " environment(s), " + std::to_string(wal.size()) +
                         " operation(s) in the write-ahead log";
            if (corrupt > 0) {
                st.status = "fail";
                st.message += ", " + std::to_string(corrupt) + " unreadable record(s)";
                st.fix = "run `karapace verify-store` for details";
            }
        } catch (const Error& e) {
            st.status = "fail";
            st.message = e.what();
            st.fix = e.hint();
        }
        struct statvfs vfs {};
        if (::statvfs(impl_->root.c_str(), &vfs) == 0) {
            auto free_mb = static_cast<unsigned long long>(vfs.f_bavail) * vfs.f_frsize >> 20;
            DoctorCheck disk{"disk_space", free_mb < 1024 ? "warn" : "pass",
                             std::to_string(free_mb) + " MiB free for the store", "", false};
            if (free_mb < 1024) disk.fix = "free some space or run `karapace gc`";
            checks.push_back(disk);
        }
    }
    checks.push_back(st);
    return checks;
}

}  // namespace karapace::core
