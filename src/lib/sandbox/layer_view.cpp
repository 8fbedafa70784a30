#include "sandbox/layer_view.hpp"

#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

namespace karapace::sandbox {

namespace {

bool has_xattr(const std::string& path, const char* name) {
    return ::lgetxattr(path.c_str(), name, nullptr, 0) >= 0;
}

bool is_whiteout(const std::string& path, const struct stat& st) {
    if (S_ISCHR(st.st_mode) && st.st_rdev == 0) return true;
    return S_ISREG(st.st_mode) && st.st_size == 0 &&
           (has_xattr(path, "user.overlay.whiteout") ||
            has_xattr(path, "trusted.overlay.whiteout"));
}

bool is_opaque(const std::string& dir) {
    char v[2] = {};
    for (const char* name : {"user.overlay.opaque", "trusted.overlay.opaque"})
        if (::lgetxattr(dir.c_str(), name, v, 1) == 1 && v[0] == 'y') return true;
    return false;
}

// "a/b/../c/./d" -> "a/c/d"; nullopt when ".." leaves the root.
std::optional<std::vector<std::string>> normalise(const std::string& rel) {
    std::vector<std::string> parts;
    for (std::size_t pos = 0; pos <= rel.size();) {
        auto slash = rel.find('/', pos);
        if (slash == std::string::npos) slash = rel.size();
        auto part = rel.substr(pos, slash - pos);
        pos = slash + 1;
        if (part.empty() || part == ".") continue;
        if (part == "..") {
            if (parts.empty()) return std::nullopt;
            parts.pop_back();
            continue;
        }
        parts.push_back(part);
    }
    return parts;
}

Found hidden() {
    Found f;
    f.hidden = true;
    return f;
}

}  // namespace

LayerView::Lstat& LayerView::lstat(const std::string& path) {
    auto [it, added] = seen_.try_emplace(path);
    if (added && ::lstat(path.c_str(), &it->second.st) != 0) it->second.err = errno;
    return it->second;
}

Found LayerView::find(const std::string& rel) { return find(rel, 0); }

Found LayerView::find(const std::string& rel, int depth) {
    auto parts = normalise(rel);
    if (!parts || parts->empty() || depth > 8) return {};
    for (std::size_t i = 0; i < layers_.size(); ++i) {
        std::string cur = layers_[i];
        bool stop_after = false, missing = false;
        for (std::size_t k = 0; k + 1 < parts->size(); ++k) {
            cur += "/" + (*parts)[k];
            Lstat& dir = lstat(cur);
            const struct stat& st = dir.st;
            if (dir.err != 0) {
                // A directory this user cannot look into may hold the file: unknown, not absent.
                if (dir.err != ENOENT && dir.err != ENOTDIR) return {Seen::other, cur, i};
                missing = true;
                break;
            }
            if (is_whiteout(cur, st)) return hidden();
            if (S_ISREG(st.st_mode)) return {};
            if (S_ISLNK(st.st_mode)) {
                // A directory that is a link (/lib -> usr/lib): the path goes on from its target.
                char target[4096];
                auto n = ::readlink(cur.c_str(), target, sizeof target - 1);
                if (n <= 0) return {};
                std::string t(target, static_cast<std::size_t>(n)), next;
                if (t.front() != '/')
                    for (std::size_t j = 0; j < k; ++j)
                        next += (*parts)[j] + "/";
                next += t;
                for (std::size_t j = k + 1; j < parts->size(); ++j)
                    next += "/" + (*parts)[j];
                return find(next, depth + 1);
            }
            if (!S_ISDIR(st.st_mode)) return {Seen::other, cur, i};
            if (!dir.opaque) dir.opaque = is_opaque(cur);
            stop_after = stop_after || *dir.opaque;
        }
        if (!missing) {
            cur += "/" + parts->back();
            const Lstat& last = lstat(cur);
            const struct stat& st = last.st;
            if (last.err == 0) {
                if (is_whiteout(cur, st)) return hidden();
                if (S_ISREG(st.st_mode)) return {Seen::file, cur, i};
                if (S_ISLNK(st.st_mode)) return {Seen::symlink, cur, i};
                if (S_ISDIR(st.st_mode)) return {Seen::directory, cur, i};
                return {Seen::other, cur, i};
            }
            if (last.err != ENOENT && last.err != ENOTDIR) return {Seen::other, cur, i};
        }
        if (stop_after) return hidden();
    }
    return {};
}

std::vector<std::string> root_layers(const SandboxSpec& spec) {
    std::vector<std::string> layers;
    if (has_writable_upper(spec)) layers.push_back(spec.upper_dir);
    layers.insert(layers.end(), spec.lower_dirs.begin(), spec.lower_dirs.end());
    return layers;
}

bool has_writable_upper(const SandboxSpec& spec) {
    return !spec.read_only && !spec.upper_dir.empty();
}

Found find_in_layers(const std::vector<std::string>& layers, const std::string& rel) {
    return LayerView(layers).find(rel);
}

}  // namespace karapace::sandbox
