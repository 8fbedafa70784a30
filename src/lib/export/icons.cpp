#include "karapace/export/icons.hpp"

#include "karapace/export/names.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"

namespace karapace::exports {

namespace {

constexpr std::size_t max_icon_bytes = 16u << 20;
constexpr std::string_view theme_dirs[] = {"usr/share/icons/hicolor",
                                           "usr/local/share/icons/hicolor"};
constexpr std::string_view pixmap_dirs[] = {"usr/share/pixmaps", "usr/local/share/pixmaps"};
constexpr std::string_view extensions[] = {".png", ".svg", ".svgz", ".xpm"};

bool has_extension(std::string_view name, std::string_view* ext = nullptr) {
    for (auto e : extensions)
        if (name.size() > e.size() && name.ends_with(e)) {
            if (ext != nullptr) *ext = e;
            return true;
        }
    return false;
}

bool regular(const std::optional<TreeEntry>& e) { return e && S_ISREG(e->st.st_mode); }

}  // namespace

IconPlan plan_icon(const MergedTree& tree, std::string_view icon, const std::string& prefix,
                   const std::string& data_home) {
    IconPlan plan;
    if (icon.empty()) return plan;
    auto icons_dir = data_home + "/icons";

    if (icon.front() == '/') {
        auto e = tree.find(icon);
        std::string_view ext;
        auto base = std::string(icon.substr(icon.rfind('/') + 1));
        if (!regular(e) || !has_extension(base, &ext) || !valid_app_name(base)) return plan;
        auto to = icons_dir + "/" + prefix + base;
        plan.copies.push_back({e->path, to});
        plan.icon = to;
        return plan;
    }

    // A theme name; some entries wrongly carry an extension, which lookups ignore.
    std::string name(icon);
    std::string_view ext;
    if (has_extension(name, &ext)) name.resize(name.size() - ext.size());
    if (!valid_app_name(name)) return plan;
    for (auto theme : theme_dirs) {
        for (const auto& size : tree.list(theme)) {
            if (!valid_app_name(size)) continue;
            auto apps = std::string(theme) + "/" + size + "/apps";
            for (const auto& file : tree.list(apps)) {
                std::string_view fext;
                if (!has_extension(file, &fext)) continue;
                auto stem = std::string_view(file).substr(0, file.size() - fext.size());
                if (stem != name && stem != name + "-symbolic") continue;
                auto e = tree.find(apps + "/" + file);
                if (!regular(e)) continue;
                auto to = icons_dir + "/hicolor/" + size + "/apps/" + prefix + file;
                bool dup = false;
                for (const auto& c : plan.copies)
                    dup = dup || c.to == to;
                if (!dup) plan.copies.push_back({e->path, to});
            }
        }
    }
    if (!plan.copies.empty()) {
        plan.icon = prefix + name;
        return plan;
    }
    for (auto dir : pixmap_dirs)
        for (auto e : extensions) {
            auto found = tree.find(std::string(dir) + "/" + name + std::string(e));
            if (!regular(found)) continue;
            auto to = icons_dir + "/" + prefix + name + std::string(e);
            plan.copies.push_back({found->path, to});
            plan.icon = to;
            return plan;
        }
    return plan;
}

void copy_icons(const IconPlan& plan) {
    for (const auto& c : plan.copies) {
        auto data = read_file_limited(c.from, max_icon_bytes);
        make_dirs(parent_dir(c.to));
        write_file_atomic(c.to, data, 0644);
    }
}

}  // namespace karapace::exports
