#include "karapace/store/prune.hpp"

#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "karapace/store/remove.hpp"
#include "karapace/util/error.hpp"
#include "store/fsutil.hpp"

namespace karapace::store {

namespace {

std::vector<std::string> components(std::string_view pattern) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= pattern.size()) {
        auto end = pattern.find('/', pos);
        if (end == std::string_view::npos) end = pattern.size();
        if (end > pos) out.emplace_back(pattern.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == 0; }

class Pruner {
public:
    explicit Pruner(const std::string& root) : root_(root) {}

    void prune(const std::vector<std::string>& parts, std::size_t i, const std::string& rel) {
        const std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
        for (const auto& name : list_dir(dir)) {
            if (::fnmatch(parts[i].c_str(), name.c_str(), 0) != 0) continue;
            const std::string child = rel.empty() ? name : rel + "/" + name;
            struct stat st {};
            if (::lstat((root_ + "/" + child).c_str(), &st) != 0) {
                if (errno == ENOENT) continue;
                throw_errno(Errc::failed, "cannot inspect " + root_ + "/" + child);
            }
            if (i + 1 < parts.size()) {
                // Only real directories lead further: a symlink could point out of the tree.
                if (S_ISDIR(st.st_mode)) prune(parts, i + 1, child);
                continue;
            }
            if (is_whiteout(st)) continue;
            remove_tree(root_ + "/" + child);
            removed_.push_back(child);
        }
    }

    std::vector<std::string> removed() {
        std::sort(removed_.begin(), removed_.end());
        return removed_;
    }

private:
    std::string root_;
    std::vector<std::string> removed_;
};

}  // namespace

std::vector<std::string> prune_tree(const std::string& root,
                                    const std::vector<std::string_view>& patterns) {
    Pruner p(root);
    for (auto pattern : patterns) {
        auto parts = components(pattern);
        if (!parts.empty()) p.prune(parts, 0, "");
    }
    return p.removed();
}

}  // namespace karapace::store
