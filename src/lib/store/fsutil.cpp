#include "store/fsutil.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "karapace/util/error.hpp"

namespace karapace::store {

std::vector<std::string> list_dir(const std::string& dir) {
    std::vector<std::string> out;
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    if (!d) {
        if (errno == ENOENT) return out;
        throw_errno(Errc::store, "cannot read directory " + dir);
    }
    errno = 0;
    while (dirent* e = ::readdir(d.get())) {
        std::string name = e->d_name;
        if (name != "." && name != "..") out.push_back(std::move(name));
        errno = 0;
    }
    if (errno != 0) throw_errno(Errc::store, "cannot read directory " + dir);
    std::sort(out.begin(), out.end());
    return out;
}

std::optional<struct stat> lstat_path(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return std::nullopt;
    return st;
}

}  // namespace karapace::store
