#include "karapace/sandbox/idmap.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <exception>
#include <string>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/text.hpp"

namespace karapace::sandbox {

namespace {

std::vector<std::string_view> split(std::string_view line, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (;;) {
        auto pos = line.find(sep, start);
        out.push_back(line.substr(start, pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return out;
}

template <typename F>
void for_each_line(std::string_view text, F&& f) {
    while (!text.empty()) {
        auto nl = text.find('\n');
        auto line = text.substr(0, nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!line.empty() && line.front() != '#') f(line);
        if (nl == std::string_view::npos) break;
        text.remove_prefix(nl + 1);
    }
}

std::string read_or_empty(const char* path) {
    try {
        return read_file(path);
    } catch (const Error&) {
        return {};
    }
}

// newuidmap and newgidmap, started together (two setuid programs are the slowest part of a
// rootless start; they do not depend on each other) and waited for; stderr is kept for errors.
struct Helper {
    const char* name;
    pid_t pid = -1;
    UniqueFd err;
};

void start_helper(Helper& h, pid_t target, const std::vector<IdMapLine>& lines) {
    auto exe = find_program(h.name);
    if (!exe)
        throw Error(Errc::runtime, std::string(h.name) + " is not installed",
                    "install the uidmap package, or run with a single-id mapping");
    std::vector<std::string> args{*exe, std::to_string(target)};
    for (const auto& l : lines) {
        args.push_back(std::to_string(l.inside));
        args.push_back(std::to_string(l.outside));
        args.push_back(std::to_string(l.count));
    }
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    Pipe err;
    // posix_spawn (vfork-like: no copy of our page tables) since every rootless start pays it.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, err.write.get(), 2);
    int rc = ::posix_spawn(&h.pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        h.pid = -1;
        throw_errno(Errc::runtime, std::string("cannot start ") + h.name, rc);
    }
    h.err = std::move(err.read);
}

void finish_helper(Helper& h, pid_t target) {
    if (h.pid < 0) return;
    int status = 0;
    while (::waitpid(h.pid, &status, 0) < 0 && errno == EINTR) {}
    h.pid = -1;
    std::string err;
    char buf[512];
    ssize_t n;
    while ((n = ::read(h.err.get(), buf, sizeof buf)) > 0)
        err.append(buf, static_cast<std::size_t>(n));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        throw Error(
            Errc::runtime,
            std::string(h.name) + " refused the id map for process " + std::to_string(target) +
                ": " + tail_lines(err, 3),
            "check /etc/subuid and /etc/subgid for your user (useradd allocates 65536 ids)");
}

void write_proc_file(pid_t pid, const char* name, const std::string& text) {
    std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) throw_errno(Errc::runtime, "cannot open " + path);
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
        throw_errno(Errc::runtime, "cannot write " + path + " (\"" + text + "\")");
}

// Keep-id, made consistent with the build mapping (0 -> user, n -> sub + n - 1): every container
// id keeps the host id it has during builds, except that the user is itself and container root
// takes the sub-id that container `self` has during builds. So files the image installs for its
// system users keep their owners between build and enter; only root- and self-owned swap.
std::vector<IdMapLine> keep_id_lines(std::uint32_t self, SubIdRange r) {
    std::vector<IdMapLine> out;
    if (self <= r.count) {
        out.push_back({0, r.start + self - 1, 1});
        if (self > 1) out.push_back({1, r.start, self - 1});
        out.push_back({self, self, 1});
        if (r.count > self) out.push_back({self + 1, r.start + self, r.count - self});
    } else {
        out.push_back({0, r.start + r.count - 1, 1});
        if (r.count > 1) out.push_back({1, r.start, r.count - 1});
        out.push_back({self, self, 1});
    }
    return out;
}

}  // namespace

bool IdMapPlan::maps(const std::vector<IdMapLine>& lines, std::uint32_t id) {
    for (const auto& l : lines)
        if (id >= l.inside && id - l.inside < l.count) return true;
    return false;
}

std::optional<SubIdRange> find_subid_range(std::string_view text, std::string_view user, uid_t id) {
    std::optional<SubIdRange> found;
    std::string id_text = std::to_string(id);
    for_each_line(text, [&](std::string_view line) {
        if (found) return;
        auto f = split(line, ':');
        if (f.size() != 3) return;
        if (f[0] != user && f[0] != id_text) return;
        SubIdRange r;
        if (!parse_number(f[1], r.start) || !parse_number(f[2], r.count) || r.count == 0) return;
        found = r;
    });
    return found;
}

std::optional<std::string> passwd_name(std::string_view passwd_text, uid_t uid) {
    std::optional<std::string> name;
    for_each_line(passwd_text, [&](std::string_view line) {
        if (name) return;
        auto f = split(line, ':');
        uid_t u = 0;
        if (f.size() >= 3 && parse_number(f[2], u) && u == uid) name = std::string(f[0]);
    });
    return name;
}

IdMapPlan plan_id_maps(IdMapping mapping, uid_t uid, gid_t gid, std::optional<SubIdRange> subuid,
                       std::optional<SubIdRange> subgid) {
    IdMapPlan plan;
    if (uid == 0) {
        // Real root: every id means itself, so the store and the host agree on ownership.
        plan.uid = {{0, 0, 4294967295u}};
        plan.gid = {{0, 0, 4294967295u}};
        plan.inner_uid = 0;
        plan.inner_gid = gid;
        return plan;
    }
    bool ranges = subuid && subgid && subuid->count >= kMinSubIds && subgid->count >= kMinSubIds;
    if (!ranges) {
        plan.single_id = true;
        plan.deny_setgroups = true;
        if (mapping == IdMapping::container_root) {
            plan.uid = {{0, uid, 1}};
            plan.gid = {{0, gid, 1}};
        } else {
            plan.uid = {{uid, uid, 1}};
            plan.gid = {{gid, gid, 1}};
            plan.inner_uid = uid;
            plan.inner_gid = gid;
        }
        return plan;
    }
    // One map for builds and runs: the user is itself inside and container root one of its
    // sub-ids. So what root owns in an image is root's inside every session (sudo is setuid root,
    // /etc/sudoers root's), and the user's own files, in $HOME and in the image, are the user's.
    plan.use_helpers = true;
    plan.uid = keep_id_lines(uid, *subuid);
    plan.gid = keep_id_lines(gid, *subgid);
    if (mapping == IdMapping::container_root) {
        plan.switch_ids = true;
    } else {
        plan.inner_uid = uid;
        plan.inner_gid = gid;
    }
    return plan;
}

std::uint32_t top_sub_id_inside(const std::vector<IdMapLine>& lines, std::uint32_t self) {
    std::uint32_t inside = 0, top = 0;
    for (const auto& l : lines) {
        if (l.count == 0 || (l.inside == self && l.count == 1)) continue;
        std::uint32_t last = l.outside + (l.count - 1);
        if (last >= top) {
            top = last;
            inside = l.inside + (l.count - 1);
        }
    }
    return inside;
}

void become_inner_ids(const IdMapPlan& plan) {
    if (!plan.switch_ids) return;
    // Raw system calls, like setgroups: glibc's wrappers synchronise with threads a child
    // cloned from a threaded process does not have.
    if (::syscall(SYS_setresgid, plan.inner_gid, plan.inner_gid, plan.inner_gid) != 0)
        throw_errno(Errc::runtime, "cannot become group " + std::to_string(plan.inner_gid) +
                                       " in the user namespace");
    if (::syscall(SYS_setresuid, plan.inner_uid, plan.inner_uid, plan.inner_uid) != 0)
        throw_errno(Errc::runtime, "cannot become user " + std::to_string(plan.inner_uid) +
                                       " in the user namespace");
}

IdMapPlan plan_id_maps_for_caller(IdMapping mapping) {
    uid_t uid = ::getuid();
    if (uid == 0) return plan_id_maps(mapping, uid, ::getgid(), std::nullopt, std::nullopt);
    return plan_id_maps_for_caller(
        mapping, passwd_name(read_or_empty("/etc/passwd"), uid).value_or(std::to_string(uid)));
}

IdMapPlan plan_id_maps_for_caller(IdMapping mapping, const std::string& name) {
    uid_t uid = ::getuid();
    gid_t gid = ::getgid();
    if (uid == 0) return plan_id_maps(mapping, uid, gid, std::nullopt, std::nullopt);
    auto subuid = find_subid_range(read_or_empty("/etc/subuid"), name, uid);
    auto subgid = find_subid_range(read_or_empty("/etc/subgid"), name, uid);
    auto plan = plan_id_maps(mapping, uid, gid, subuid, subgid);
    if (plan.single_id) {
        static bool warned = false;
        if (!warned)
            log::warn("no sub-id range of ", kMinSubIds, " ids for user '", name,
                      "' in /etc/subuid and /etc/subgid: only your own id is mapped, packages "
                      "that chown files will fail (fix: usermod --add-subuids/--add-subgids)");
        warned = true;
    }
    return plan;
}

std::string format_id_map(const std::vector<IdMapLine>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += std::to_string(l.inside) + " " + std::to_string(l.outside) + " " +
               std::to_string(l.count) + "\n";
    return out;
}

void write_id_maps(pid_t pid, const IdMapPlan& plan) {
    if (plan.use_helpers) {
        Helper uid{"newuidmap"}, gid{"newgidmap"};
        try {
            start_helper(uid, pid, plan.uid);
            start_helper(gid, pid, plan.gid);
        } catch (...) {
            // Reap whatever started; the first error is the one reported.
            try {
                finish_helper(uid, pid);
            } catch (...) {}
            throw;
        }
        std::exception_ptr first;
        for (Helper* h : {&uid, &gid}) {
            try {
                finish_helper(*h, pid);
            } catch (...) {
                if (!first) first = std::current_exception();
            }
        }
        if (first) std::rethrow_exception(first);
        return;
    }
    // An unprivileged process may write a single-id gid map only after denying setgroups.
    if (plan.deny_setgroups) write_proc_file(pid, "setgroups", "deny");
    write_proc_file(pid, "uid_map", format_id_map(plan.uid));
    write_proc_file(pid, "gid_map", format_id_map(plan.gid));
}

}  // namespace karapace::sandbox
