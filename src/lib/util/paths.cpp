#include "karapace/util/paths.hpp"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string_view>
#include <vector>

#include "karapace/util/error.hpp"
#include "karapace_config.h"

namespace karapace {

namespace {
std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return (v != nullptr && *v == '/') ? std::string(v) : fallback;
}
}  // namespace

std::string home_dir() {
    const char* h = std::getenv("HOME");
    if (h != nullptr && *h == '/') return h;
    std::vector<char> buf(16384);
    passwd pw{};
    passwd* res = nullptr;
    if (::getpwuid_r(::getuid(), &pw, buf.data(), buf.size(), &res) == 0 && res != nullptr)
        return pw.pw_dir;
    throw Error(Errc::failed,
                "cannot determine the home directory: HOME is not set and uid " +
                    std::to_string(::getuid()) + " has no passwd entry",
                "set HOME or use --store");
}

std::string xdg_data_home() { return env_or("XDG_DATA_HOME", home_dir() + "/.local/share"); }
std::string xdg_config_home() { return env_or("XDG_CONFIG_HOME", home_dir() + "/.config"); }
std::string xdg_cache_home() { return env_or("XDG_CACHE_HOME", home_dir() + "/.cache"); }

std::string default_store_root() {
    const char* s = std::getenv("KARAPACE_STORE");
    if (s != nullptr && *s != '\0') return lexically_absolute(s);
    return xdg_data_home() + "/karapace";
}

void make_dirs(const std::string& path, mode_t mode) {
    if (path.empty()) return;
    // Usually the directory or its parent exists: try the path itself, and walk up only when a
    // parent is missing.
    if (::mkdir(path.c_str(), mode) != 0) {
        if (errno == ENOENT) {
            auto slash = path.find_last_of('/');
            if (slash != std::string::npos && slash > 0) make_dirs(path.substr(0, slash), mode);
            if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
                throw_errno(Errc::failed, "cannot create directory " + path);
        } else if (errno != EEXIST) {
            throw_errno(Errc::failed, "cannot create directory " + path);
        }
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
        throw Error(Errc::failed, path + " exists and is not a directory");
}

std::string lexically_absolute(const std::string& path, const std::string& base) {
    if (path.empty() || path.front() != '/') {
        if (base.empty() || base.front() != '/') {
            // Relative to a relative base: the general rules (a leading ".." stays).
            std::filesystem::path p = std::filesystem::path(base) / path;
            std::string out = p.lexically_normal().string();
            if (out.size() > 1 && out.back() == '/') out.pop_back();
            return out;
        }
        return lexically_absolute(base + "/" + path, "/");
    }
    // An absolute path, one component at a time: empty ones and "." go, ".." takes the previous
    // one away (none above the root). This runs for every mount of a sandbox: no
    // std::filesystem::path, whose components are each a path of their own.
    std::string out;
    out.reserve(path.size());
    std::size_t pos = 0;
    while (pos < path.size()) {
        while (pos < path.size() && path[pos] == '/')
            ++pos;
        std::size_t end = path.find('/', pos);
        if (end == std::string::npos) end = path.size();
        std::string_view comp(path.data() + pos, end - pos);
        if (comp == "..") {
            auto slash = out.rfind('/');
            out.resize(slash == std::string::npos ? 0 : slash);
        } else if (!comp.empty() && comp != ".") {
            out += '/';
            out += comp;
        }
        pos = end;
    }
    if (out.empty()) out = "/";
    return out;
}

std::string lexically_absolute(const std::string& path) {
    if (!path.empty() && path.front() == '/') return lexically_absolute(path, "/");
    std::error_code ec;
    auto cwd = std::filesystem::current_path(ec);
    if (ec)
        throw Error(Errc::failed, "cannot read the current directory: " + ec.message(),
                    "run from a directory that exists, or give an absolute path");
    return lexically_absolute(path, cwd.string());
}

std::vector<std::string> libexec_program_candidates(std::string_view name) {
    std::vector<std::string> out;
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        std::string dir(self, static_cast<std::size_t>(n));
        dir.erase(dir.rfind('/') + 1);
        out.push_back(dir + std::string(name));
        out.push_back(dir + "../libexec/" + std::string(name));
    }
    out.push_back(std::string(KARAPACE_LIBEXECDIR) + "/" + std::string(name));
    return out;
}

}  // namespace karapace
