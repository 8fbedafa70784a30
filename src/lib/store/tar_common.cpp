#include "store/tar_common.hpp"

#include <climits>

namespace karapace::store {

EntryPath normalise_entry_path(std::string_view raw) {
    EntryPath out;
    if (raw.size() >= PATH_MAX) {
        out.error = "path is longer than PATH_MAX";
        return out;
    }
    if (raw.find('\0') != std::string_view::npos) {
        out.error = "path contains a NUL byte";
        return out;
    }
    if (!raw.empty() && raw.front() == '/') {
        out.error = "absolute path";
        return out;
    }
    std::size_t pos = 0;
    while (pos <= raw.size()) {
        auto slash = raw.find('/', pos);
        if (slash == std::string_view::npos) slash = raw.size();
        std::string_view comp = raw.substr(pos, slash - pos);
        pos = slash + 1;
        if (comp.empty() || comp == ".") continue;
        if (comp == "..") {
            out.error = "path contains '..'";
            return out;
        }
        if (comp.size() > NAME_MAX) {
            out.error = "a path component is longer than NAME_MAX";
            return out;
        }
        if (!out.rel.empty()) out.rel += '/';
        out.rel += comp;
    }
    out.ok = true;
    return out;
}

bool layer_xattr_allowed(std::string_view name) {
    if (name == "security.capability") return true;
    return name.starts_with("user.") && !name.starts_with("user.overlay.");
}

}  // namespace karapace::store
