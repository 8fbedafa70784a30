// Host launchers for an environment's applications: finding the application's desktop entry in
// the environment (by desktop-file id, by the last part of a reverse-DNS id, or by executable
// name) and rewriting it so the host's menu starts it inside the environment.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/export/desktop_entry.hpp"
#include "karapace/export/merged_tree.hpp"

namespace karapace::exports {

// How a launcher reaches the environment.
struct LaunchTarget {
    std::string env_id;      // full id: a name can later point at another environment
    std::string label;       // name or short id, shown in menus and used in file names
    std::string program;     // absolute path of the karapace executable
    std::string store_root;  // passed as --store, so a non-default store works from the menu
};

struct AppEntry {
    std::string id;      // desktop-file id without ".desktop" ("org.gnome.TextEditor")
    std::string source;  // its path inside the environment ("/usr/share/applications/...")
    DesktopEntry entry;
};

// Where applications keep their desktop entries, in lookup order.
const std::vector<std::string>& application_dirs();

// Finds `app` in the environment. Error(not_found) naming the environment and where it looked;
// Error(conflict) listing the candidates when the name fits several entries equally well.
AppEntry find_app(const MergedTree& tree, std::string_view app, const std::string& env_label);

// True when an Icon value (as written in the entry, escapes included) is a theme icon name
// ("org.gnome.TextEditor"), not a path: no '/', no "..", no leading '.' or '-'.
bool plain_icon_name(std::string_view raw_value);

// The launcher: Exec lines (main and actions) run the original command through
// `karapace --store S exec ENV_ID -- ...`; Name gets " (label)"; TryExec, DBusActivatable and
// Path are removed (they would be checked or used on the host); the Icon is replaced by
// `icon` (the exported copy) when not empty; any other Icon that is not a plain icon name
// (plain_icon_name) is removed, so the desktop shows its default icon rather than a host file;
// X-Karapace-Env records the environment. Error(failed) for an entry that is not an
// application or has no usable Exec.
DesktopEntry make_launcher(const AppEntry& app, const LaunchTarget& target,
                           const std::string& icon);

// The file name of the launcher: file_prefix(label) + id + ".desktop".
std::string launcher_file_name(const AppEntry& app, const std::string& label);

// The environment id recorded in a file this module wrote (launcher or wrapper), or empty.
std::string exported_env_of(const std::string& file_text);

}  // namespace karapace::exports
