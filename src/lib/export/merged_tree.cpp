#include "karapace/export/merged_tree.hpp"

#include <dirent.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <set>

namespace karapace::exports {

namespace {

constexpr int max_symlinks = 40;

bool is_whiteout(const struct stat& st) {
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 0 && minor(st.st_rdev) == 0;
}

bool has_overlay_flag(const std::string& path, const char* what) {
    for (std::string ns : {"user.overlay.", "trusted.overlay."}) {
        char value[4] = {};
        ssize_t n = ::lgetxattr(path.c_str(), (ns + what).c_str(), value, sizeof value);
        if (n == 1 && value[0] == 'y') return true;
    }
    return false;
}

// A regular file carrying the overlay.whiteout xattr is a whiteout too (kernels >= 6.7).
bool is_whiteout_at(const std::string& path, const struct stat& st) {
    if (is_whiteout(st)) return true;
    if (!S_ISREG(st.st_mode) || st.st_size != 0) return false;
    char value[4];
    for (const char* name : {"user.overlay.whiteout", "trusted.overlay.whiteout"})
        if (::lgetxattr(path.c_str(), name, value, sizeof value) >= 0) return true;
    return false;
}

std::vector<std::string> split(std::string_view path) {
    std::vector<std::string> parts;
    while (!path.empty()) {
        auto slash = path.find('/');
        auto part = path.substr(0, slash);
        if (!part.empty()) parts.emplace_back(part);
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash + 1);
    }
    return parts;
}

std::string join(const std::vector<std::string>& parts, std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i)
        out += (i == 0 ? "" : "/") + parts[i];
    return out;
}

// How one layer sees a directory path: what lower layers may still contribute.
enum class Reach { continues, stops_after, hidden };

}  // namespace

MergedTree::MergedTree(std::vector<std::string> layers) : layers_(std::move(layers)) {}

std::optional<TreeEntry> MergedTree::lookup(const std::vector<std::string>& parts) const {
    if (parts.empty()) {
        if (layers_.empty()) return std::nullopt;
        TreeEntry e;
        e.path = layers_.front();
        if (::stat(e.path.c_str(), &e.st) != 0) return std::nullopt;
        return e;
    }
    for (const auto& layer : layers_) {
        bool stop_after = false;
        std::string path = layer;
        for (std::size_t i = 0; i < parts.size(); ++i) {
            path += "/" + parts[i];
            struct stat st {};
            if (::lstat(path.c_str(), &st) != 0) break;
            if (is_whiteout_at(path, st)) return std::nullopt;
            if (i + 1 == parts.size()) return TreeEntry{path, join(parts, parts.size()), st};
            // A file where a directory is expected hides the path in every lower layer.
            if (!S_ISDIR(st.st_mode)) return std::nullopt;
            if (has_overlay_flag(path, "opaque")) stop_after = true;
        }
        if (stop_after) return std::nullopt;
    }
    return std::nullopt;
}

std::optional<TreeEntry> MergedTree::find(std::string_view path, bool follow_last) const {
    auto todo = split(path);
    std::vector<std::string> done;
    int links = 0;
    std::optional<TreeEntry> last = lookup(done);
    std::size_t i = 0;
    while (i < todo.size()) {
        const auto part = todo[i];
        if (part == ".") {
            ++i;
            continue;
        }
        if (part == "..") {
            if (!done.empty()) done.pop_back();
            last = lookup(done);
            ++i;
            continue;
        }
        done.push_back(part);
        last = lookup(done);
        if (!last) return std::nullopt;
        bool is_last = i + 1 == todo.size();
        if (S_ISLNK(last->st.st_mode) && (!is_last || follow_last)) {
            if (++links > max_symlinks) return std::nullopt;
            std::string target(static_cast<std::size_t>(last->st.st_size) + 1, '\0');
            ssize_t n = ::readlink(last->path.c_str(), target.data(), target.size());
            if (n < 0 || static_cast<std::size_t>(n) >= target.size()) return std::nullopt;
            target.resize(static_cast<std::size_t>(n));
            done.pop_back();
            if (!target.empty() && target.front() == '/') done.clear();
            auto next = split(target);
            next.insert(next.end(), todo.begin() + static_cast<std::ptrdiff_t>(i) + 1, todo.end());
            todo = std::move(next);
            i = 0;
            last = lookup(done);
            if (todo.empty()) return last;
            continue;
        }
        if (!is_last && !S_ISDIR(last->st.st_mode)) return std::nullopt;
        ++i;
    }
    return last;
}

std::vector<std::string> MergedTree::list(std::string_view path) const {
    auto dir = find(path);
    if (!dir || !S_ISDIR(dir->st.st_mode)) return {};
    auto parts = split(dir->rel);
    std::set<std::string> names, hidden;
    for (const auto& layer : layers_) {
        Reach reach = Reach::continues;
        std::string p = layer;
        bool present = true;
        for (std::size_t i = 0; i < parts.size() && reach != Reach::hidden; ++i) {
            p += "/" + parts[i];
            struct stat st {};
            if (::lstat(p.c_str(), &st) != 0) {
                present = false;
                break;
            }
            if (is_whiteout_at(p, st) || !S_ISDIR(st.st_mode))
                reach = Reach::hidden;
            else if (has_overlay_flag(p, "opaque"))
                reach = Reach::stops_after;
        }
        if (reach == Reach::hidden) break;
        if (parts.empty() && has_overlay_flag(p, "opaque")) reach = Reach::stops_after;
        if (present) {
            std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(p.c_str()), ::closedir);
            if (d) {
                while (auto* ent = ::readdir(d.get())) {
                    std::string name = ent->d_name;
                    if (name == "." || name == ".." || names.count(name) || hidden.count(name))
                        continue;
                    struct stat st {};
                    auto entry = p + "/" + name;
                    if (::lstat(entry.c_str(), &st) != 0) continue;
                    if (is_whiteout_at(entry, st))
                        hidden.insert(name);
                    else
                        names.insert(name);
                }
            }
        }
        if (reach == Reach::stops_after) break;
    }
    return {names.begin(), names.end()};
}

}  // namespace karapace::exports
