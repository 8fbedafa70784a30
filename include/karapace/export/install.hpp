// Writing and removing exported files on the host: launchers with their icons, and command
// wrappers. Every write is atomic and idempotent; a file that exists but was not written for
// this environment is never replaced or removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "karapace/export/bin_wrapper.hpp"
#include "karapace/export/launcher.hpp"
#include "karapace/export/merged_tree.hpp"
#include "karapace/export/record.hpp"
#include "karapace/export/service_spec.hpp"

namespace karapace::exports {

struct Installed {
    RecordItem item;
    std::vector<std::string> warnings;
};

// Exports application `app`: `data_home`/applications/<prefix><id>.desktop plus its icons under
// `data_home`/icons. Does not refresh the desktop database (see refresh_menus).
Installed install_app(const MergedTree& tree, std::string_view app, const LaunchTarget& target,
                      const std::string& data_home);

// Exports command `command` as an executable wrapper `bin_dir`/<command's file name>; a name is
// looked up in `search_path` (the environment's PATH).
Installed install_bin(const MergedTree& tree, std::string_view command, const LaunchTarget& target,
                      const std::string& bin_dir, std::string_view search_path = env_path);

// Exports a service: `unit_dir`/karapace-<label>-<name>.service running `spec.command` in the
// environment (argv[0] must be an executable there, looked up in `search_path`), and its
// .socket unit when `spec.sockets` names addresses. Enablement links of a unit written under
// another name before are the caller's (move_unit_links).
Installed install_service(const MergedTree& tree, std::string_view name, const ServiceSpec& spec,
                          const LaunchTarget& target, const std::string& unit_dir,
                          std::string_view search_path = env_path);

// Removes the files of an exported item. The launcher or wrapper (the first file) goes only
// while it still carries `env_id`'s marker; the icons whenever they are regular files. Returns
// warnings for files left in place. A service's units also lose their enablement links.
std::vector<std::string> remove_item(const RecordItem& item, const std::string& env_id);
// Removes icon copies (regular files only).
std::vector<std::string> remove_icons(const std::vector<std::string>& files);

// Tells desktops that launchers or icons changed: runs update-desktop-database on
// `data_home`/applications when it is installed, and touches the user's hicolor directory
// (icon caches compare its time stamp). Returns a warning, or empty.
std::string refresh_menus(const std::string& data_home);

}  // namespace karapace::exports
