// Step: resource limits. See limits.hpp for the order of preference.
#include "karapace/sandbox/limits.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"
#include "sandbox/steps.hpp"

#ifndef CGROUP_SUPER_MAGIC
#define CGROUP_SUPER_MAGIC 0x27e0eb
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

namespace karapace::sandbox {

namespace {

std::string runtime_dir() {
    const char* r = std::getenv("XDG_RUNTIME_DIR");
    return r ? r : "";
}

bool user_manager_reachable() {
    std::string rt = runtime_dir();
    if (rt.empty()) return false;
    struct stat st {};
    // The user manager listens here; without it StartTransientUnit cannot work.
    return ::stat((rt + "/systemd/private").c_str(), &st) == 0 &&
           ::stat((rt + "/bus").c_str(), &st) == 0 && find_program("busctl").has_value();
}

bool start_scope(const Limits& l, pid_t pid, const std::string& unit) {
    std::vector<std::string> argv{"busctl",
                                  "--user",
                                  "call",
                                  "org.freedesktop.systemd1",
                                  "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager",
                                  "StartTransientUnit",
                                  "ssa(sv)a(sa(sv))",
                                  unit,
                                  "fail"};
    std::vector<std::string> props{"PIDs", "au", "1", std::to_string(pid)};
    int n = 1;
    auto add = [&](const char* name, std::uint64_t v) {
        if (!v) return;
        props.insert(props.end(), {name, "t", std::to_string(v)});
        ++n;
    };
    add("MemoryMax", l.memory_max_bytes);
    add("CPUWeight", l.cpu_weight);
    add("TasksMax", l.tasks_max);
    argv.push_back(std::to_string(n));
    argv.insert(argv.end(), props.begin(), props.end());
    argv.push_back("0");
    try {
        auto r = run_process(argv);
        if (!r.ok()) log::debug("systemd user scope refused: ", tail_lines(r.err, 2));
        return r.ok();
    } catch (const Error&) {
        return false;
    }
}

// The lines of /proc/self/cgroup as (controller list, path): "4:memory:/user.slice" gives
// ("memory", "/user.slice"); the cgroup v2 line "0::/x" gives ("", "/x").
std::vector<std::pair<std::string, std::string>> own_cgroups() {
    std::vector<std::pair<std::string, std::string>> out;
    std::string self;
    try {
        self = read_file("/proc/self/cgroup");
    } catch (const Error&) {
        return out;
    }
    std::istringstream in(self);
    std::string line;
    while (std::getline(in, line)) {
        auto a = line.find(':');
        auto b = a == std::string::npos ? a : line.find(':', a + 1);
        if (b == std::string::npos) continue;
        out.emplace_back(line.substr(a + 1, b - a - 1), line.substr(b + 1));
    }
    return out;
}

// The cgroup v2 directory of this process when cgroup2 is mounted (unified or hybrid).
std::string own_cgroup_dir() {
    std::string path;
    for (const auto& [controllers, p] : own_cgroups())
        if (controllers.empty() && !p.empty()) path = p;
    if (path.empty()) return {};
    for (const char* mnt : {"/sys/fs/cgroup", "/sys/fs/cgroup/unified"}) {
        struct statfs fs {};
        if (::statfs(mnt, &fs) == 0 && fs.f_type == CGROUP2_SUPER_MAGIC)
            return std::string(mnt) + (path == "/" ? "" : path);
    }
    return {};
}

bool has_words(const std::string& text, std::initializer_list<const char*> words) {
    std::istringstream in(text);
    std::string w;
    std::vector<std::string> have;
    while (in >> w)
        have.push_back(w);
    for (const char* need : words)
        if (std::find(have.begin(), have.end(), need) == have.end()) return false;
    return true;
}

// A cgroup we may create children in, with the controllers the limits need already delegated.
std::string delegated_cgroup(const Limits& l) {
    std::string dir = own_cgroup_dir();
    if (dir.empty() || ::access(dir.c_str(), W_OK) != 0) return {};
    std::string control;
    try {
        control = read_file(dir + "/cgroup.subtree_control");
    } catch (const Error&) {
        return {};
    }
    std::vector<const char*> need;
    if (l.memory_max_bytes) need.push_back("memory");
    if (l.cpu_weight) need.push_back("cpu");
    if (l.tasks_max) need.push_back("pids");
    for (const char* c : need)
        if (!has_words(control, {c})) return {};
    return dir;
}

void write_knob(const std::string& dir, const char* knob, std::uint64_t value) {
    if (!value) return;
    UniqueFd fd(::open((dir + "/" + knob).c_str(), O_WRONLY | O_CLOEXEC));
    std::string text = std::to_string(value);
    if (!fd || ::write(fd.get(), text.data(), text.size()) < 0)
        throw_errno(Errc::runtime, "cannot set " + dir + "/" + knob);
}

// cgroup v1, as on hosts without systemd whose controllers still sit in per-controller
// hierarchies (v1 or hybrid): one child per controller the limits need, under our own cgroup of
// that hierarchy, when we may create it there (root, or a v1 subtree delegated to the user).
struct V1Knob {
    const char* controller;
    const char* knob;
    std::uint64_t value;
};

std::vector<V1Knob> v1_knobs(const Limits& l) {
    std::vector<V1Knob> out;
    if (l.memory_max_bytes) out.push_back({"memory", "memory.limit_in_bytes", l.memory_max_bytes});
    if (l.cpu_weight || l.cpu_shares) {
        // The inverse of cpu_weight_from_shares when only a weight was given.
        std::uint64_t shares =
            l.cpu_shares ? l.cpu_shares
                         : 2 + ((std::max<std::uint64_t>(l.cpu_weight, 1) - 1) * 262142) / 9999;
        out.push_back({"cpu", "cpu.shares", shares});
    }
    if (l.tasks_max) out.push_back({"pids", "pids.max", l.tasks_max});
    return out;
}

// Our cgroup in the v1 hierarchy holding `controller`, as a path under its mount.
std::string v1_cgroup_dir(const char* controller) {
    for (auto [controllers, path] : own_cgroups()) {
        std::replace(controllers.begin(), controllers.end(), ',', ' ');
        if (controllers.empty() || !has_words(controllers, {controller})) continue;
        std::string mnt = std::string("/sys/fs/cgroup/") + controller;
        struct statfs fs {};
        if (::statfs(mnt.c_str(), &fs) != 0 || fs.f_type != CGROUP_SUPER_MAGIC) return {};
        return mnt + (path == "/" ? "" : path);
    }
    return {};
}

// Creates the children and moves `pid` in; returns the directories made (to remove later), or
// nothing when a controller is missing or not writable, leaving nothing behind.
std::vector<std::string> enter_v1_cgroups(const Limits& l, pid_t pid, const std::string& unit) {
    std::vector<std::string> made;
    auto undo = [&] {
        for (const auto& d : made)
            ::rmdir(d.c_str());
        made.clear();
    };
    for (const auto& k : v1_knobs(l)) {
        std::string parent = v1_cgroup_dir(k.controller);
        if (parent.empty() || ::access(parent.c_str(), W_OK) != 0) {
            undo();
            return {};
        }
        std::string dir = parent + "/" + unit;
        if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
            undo();
            return {};
        }
        made.push_back(dir);
        try {
            write_knob(dir, k.knob, k.value);
            if (k.knob == std::string_view("memory.limit_in_bytes")) {
                // Without a memory+swap limit the excess would go to swap instead of failing.
                struct stat st {};
                if (::stat((dir + "/memory.memsw.limit_in_bytes").c_str(), &st) == 0)
                    write_knob(dir, "memory.memsw.limit_in_bytes", k.value);
            }
            write_knob(dir, "cgroup.procs", static_cast<std::uint64_t>(pid));
        } catch (const Error& e) {
            log::debug("cgroup v1 unusable: ", e.what());
            undo();
            return {};
        }
    }
    return made;
}

bool v1_usable(const Limits& l) {
    for (const auto& k : v1_knobs(l)) {
        std::string parent = v1_cgroup_dir(k.controller);
        if (parent.empty() || ::access(parent.c_str(), W_OK) != 0) return false;
    }
    return !v1_knobs(l).empty();
}

}  // namespace

const char* limit_mechanism_name(LimitMechanism m) noexcept {
    switch (m) {
    case LimitMechanism::none: return "none";
    case LimitMechanism::systemd_scope: return "systemd-scope";
    case LimitMechanism::cgroup: return "cgroup";
    case LimitMechanism::cgroup_v1: return "cgroup-v1";
    case LimitMechanism::rlimit: return "rlimit";
    }
    return "none";
}

std::uint64_t cpu_weight_from_shares(std::uint64_t shares) noexcept {
    if (shares == 0) return 0;
    // The linear mapping systemd and runc use: 2 -> 1, 262144 -> 10000, 1024 -> 39 (not 100).
    shares = std::clamp<std::uint64_t>(shares, 2, 262144);
    return 1 + ((shares - 2) * 9999) / 262142;
}

LimitMechanism probe_limit_mechanism() {
    if (user_manager_reachable()) return LimitMechanism::systemd_scope;
    Limits all{1, 1, 1};
    if (!delegated_cgroup(all).empty()) return LimitMechanism::cgroup;
    if (v1_usable(all)) return LimitMechanism::cgroup_v1;
    return LimitMechanism::rlimit;
}

LimitScope::LimitScope(const Limits& limits, pid_t pid, const std::string& unit_name) {
    if (!limits.any()) return;
    if (user_manager_reachable() && start_scope(limits, pid, unit_name)) {
        mechanism_ = LimitMechanism::systemd_scope;
        return;
    }
    std::string parent = delegated_cgroup(limits);
    if (!parent.empty()) {
        std::string dir = parent + "/" + unit_name;
        if (::mkdir(dir.c_str(), 0755) == 0) {
            cgroup_dirs_ = {dir};
            try {
                write_knob(dir, "memory.max", limits.memory_max_bytes);
                write_knob(dir, "cpu.weight", limits.cpu_weight);
                write_knob(dir, "pids.max", limits.tasks_max);
                write_knob(dir, "cgroup.procs", static_cast<std::uint64_t>(pid));
                mechanism_ = LimitMechanism::cgroup;
                return;
            } catch (const Error& e) {
                log::debug("delegated cgroup unusable: ", e.what());
            }
        }
    }
    cgroup_dirs_ = enter_v1_cgroups(limits, pid, unit_name);
    if (!cgroup_dirs_.empty()) {
        mechanism_ = LimitMechanism::cgroup_v1;
        return;
    }
    mechanism_ = LimitMechanism::rlimit;
    log::warn(
        "no systemd user manager and no writable cgroup: limits are enforced with rlimits "
        "(address space per process, process count per user; CPU weight ignored)");
}

LimitScope::~LimitScope() {
    // The namespace's processes are gone once init has been reaped, but the kernel may take a
    // moment to notice.
    for (const auto& dir : cgroup_dirs_)
        for (int i = 0; i < 50 && ::rmdir(dir.c_str()) != 0 && errno == EBUSY; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

LimitScope::LimitScope(LimitScope&& o) noexcept
    : mechanism_(o.mechanism_), cgroup_dirs_(std::exchange(o.cgroup_dirs_, {})) {}

LimitScope& LimitScope::operator=(LimitScope&& o) noexcept {
    if (this != &o) {
        this->~LimitScope();
        mechanism_ = o.mechanism_;
        cgroup_dirs_ = std::exchange(o.cgroup_dirs_, {});
    }
    return *this;
}

}  // namespace karapace::sandbox
