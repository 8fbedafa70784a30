#include "manifest_path.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

namespace karapace::dbus {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& why, std::string hint) {
    throw Error(Errc::manifest, "manifest path '" + path + "' " + why, std::move(hint));
}

bool has_dot_component(std::string_view path) {
    std::size_t start = 0;
    while (start <= path.size()) {
        auto slash = path.find('/', start);
        auto part = path.substr(
            start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
        if (part == "." || part == "..") return true;
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    return false;
}

}  // namespace

std::string validate_manifest_path(const std::string& path, std::size_t max_size) {
    const std::string absolute_hint =
        "pass the absolute path of a karapace.toml, e.g. \"$PWD/karapace.toml\"";
    if (path.empty()) refuse(path, "is empty", absolute_hint);
    if (path.front() != '/') {
        refuse(path, "is not absolute (the service has no working directory of yours)",
               absolute_hint);
    }
    if (has_dot_component(path)) refuse(path, "contains '.' or '..' components", absolute_hint);

    // O_NONBLOCK: a FIFO planted at the path must not hang the open.
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        int err = errno;
        if (err == ENOENT || err == ENOTDIR) {
            refuse(path, "does not exist", "check the path, or create it with: karapace new");
        }
        if (err == EACCES || err == EPERM) {
            refuse(path, "is not readable by you", "fix its permissions: chmod u+r '" + path + "'");
        }
        refuse(path, std::string("cannot be opened: ") + std::strerror(err), absolute_hint);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        refuse(path, std::string("cannot be examined: ") + std::strerror(errno), absolute_hint);
    }
    if (S_ISDIR(st.st_mode)) {
        refuse(path, "is a directory",
               "pass the karapace.toml inside it: '" + path + "/karapace.toml'");
    }
    if (!S_ISREG(st.st_mode)) refuse(path, "is not a regular file", absolute_hint);
    if (static_cast<std::uint64_t>(st.st_size) > max_size) {
        refuse(path,
               "is " + std::to_string(st.st_size) + " bytes, more than the " +
                   std::to_string(max_size) + " a manifest may have",
               "check that it is a karapace.toml");
    }
    return path;
}

}  // namespace karapace::dbus
