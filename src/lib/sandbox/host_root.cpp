#include "sandbox/host_root.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <climits>

namespace karapace::sandbox {

HostRoot::HostRoot(std::string root)
    : root_(root == "/" || root.empty() ? std::string() : std::move(root)) {
    while (!root_.empty() && root_.back() == '/')
        root_.pop_back();
    fd_.reset(::open(root_.empty() ? "/" : root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
}

std::optional<ResolvedFile> HostRoot::resolve(const std::string& path) const {
    if (!fd_ || path.empty() || path.front() != '/') return std::nullopt;
    struct open_how how {};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    std::string rel =
        path.substr(path.find_first_not_of('/') == std::string::npos ? path.size()
                                                                     : path.find_first_not_of('/'));
    if (rel.empty()) rel = ".";
    int fd = static_cast<int>(::syscall(SYS_openat2, fd_.get(), rel.c_str(), &how, sizeof how));
    if (fd < 0) return std::nullopt;
    ResolvedFile r;
    r.fd.reset(fd);
    if (::fstat(fd, &r.st) != 0) return std::nullopt;
    char buf[PATH_MAX];
    auto n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return std::nullopt;
    r.reach.assign(buf, static_cast<std::size_t>(n));
    if (!root_.empty()) {
        if (r.reach.compare(0, root_.size(), root_) != 0) return std::nullopt;
        r.host_view = r.reach.substr(root_.size());
        if (r.host_view.empty()) r.host_view = "/";
    } else {
        r.host_view = r.reach;
    }
    return r;
}

std::optional<std::string> HostRoot::read(const std::string& path, std::size_t limit) const {
    auto r = resolve(path);
    if (!r || !S_ISREG(r->st.st_mode)) return std::nullopt;
    UniqueFd fd(
        ::open(("/proc/self/fd/" + std::to_string(r->fd.get())).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return std::nullopt;
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > limit) return std::nullopt;
    }
    if (n < 0) return std::nullopt;
    return out;
}

std::vector<std::string> HostRoot::list(const std::string& dir) const {
    std::vector<std::string> names;
    auto r = resolve(dir);
    if (!r || !S_ISDIR(r->st.st_mode)) return names;
    if (DIR* d = ::opendir(r->reach.c_str())) {
        while (auto* e = ::readdir(d))
            if (e->d_name[0] != '.') names.emplace_back(e->d_name);
        ::closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string parent_dir(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace karapace::sandbox
