// Icons of an exported application: found in the environment's hicolor theme (every size,
// scalable and symbolic variants) or pixmaps directory and copied to the host user's icon
// directories under a prefixed name, so two environments' copies of one icon never collide.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/export/merged_tree.hpp"

namespace karapace::exports {

struct IconCopy {
    std::string from;  // host path inside a layer
    std::string to;    // where the copy goes
};

struct IconPlan {
    std::string icon;  // the launcher's new Icon= value (theme name or absolute path); empty:
                       // nothing found, keep the original
    std::vector<IconCopy> copies;
};

// Plans copies for the desktop entry's Icon value `icon` (a theme name or an absolute path in
// the environment). `prefix` is file_prefix(label); `data_home` is where icons/ lives.
IconPlan plan_icon(const MergedTree& tree, std::string_view icon, const std::string& prefix,
                   const std::string& data_home);

// Copies the files (atomically, 0644); icons larger than 16 MiB are refused.
void copy_icons(const IconPlan& plan);

}  // namespace karapace::exports
