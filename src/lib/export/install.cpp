#include "karapace/export/install.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "karapace/export/bin_wrapper.hpp"
#include "karapace/export/icons.hpp"
#include "karapace/export/names.hpp"
#include "karapace/export/service_unit.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"

namespace karapace::exports {

namespace {

constexpr std::size_t max_marker_scan = 1u << 20;

// Whether `path` may be (re)written for `env_id`: absent, or a file this module wrote for it.
void check_replaceable(const std::string& path, const LaunchTarget& t, const std::string& what) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return;
    std::string owner;
    if (S_ISREG(st.st_mode)) {
        try {
            owner = exported_env_of(read_file_limited(path, max_marker_scan));
        } catch (const Error&) {}
    }
    if (owner == t.env_id) return;
    if (!owner.empty())
        throw Error(
            Errc::conflict,
            path + " is already exported from another environment (" + owner.substr(0, 12) + ")",
            "unexport it there first: karapace unexport " + owner.substr(0, 12) + " " + what);
    throw Error(Errc::conflict, path + " exists and was not written by karapace",
                "move it away, or export under another directory");
}

}  // namespace

Installed install_app(const MergedTree& tree, std::string_view app, const LaunchTarget& target,
                      const std::string& data_home) {
    auto entry = find_app(tree, app, target.label);
    auto prefix = file_prefix(target.label);
    auto launcher_path = data_home + "/applications/" + launcher_file_name(entry, target.label);
    check_replaceable(launcher_path, target, std::string(app));

    Installed out;
    auto original_icon = entry.entry.get("Desktop Entry", "Icon");
    IconPlan icons;
    if (original_icon) {
        icons = plan_icon(tree, unescape_value(*original_icon), prefix, data_home);
        if (icons.icon.empty() && plain_icon_name(*original_icon))
            out.warnings.push_back("the icon '" + *original_icon + "' of " + entry.id +
                                   " is not in environment " + target.label +
                                   "; the launcher names it as it is");
        else if (icons.icon.empty())
            out.warnings.push_back(
                "the icon '" + *original_icon + "' of " + entry.id +
                " is a path, not an icon name, and not an icon file of environment " +
                target.label + "; the launcher has no Icon (the desktop shows its default)");
    }
    auto launcher = make_launcher(entry, target, icons.icon);
    copy_icons(icons);
    make_dirs(data_home + "/applications");
    write_file_atomic(launcher_path, launcher.render(), 0644);

    out.item.kind = "app";
    out.item.name = entry.id;
    out.item.source = entry.source;
    out.item.target_dir = data_home;
    out.item.files.push_back(launcher_path);
    for (const auto& c : icons.copies)
        out.item.files.push_back(c.to);
    return out;
}

Installed install_bin(const MergedTree& tree, std::string_view command, const LaunchTarget& target,
                      const std::string& bin_dir, std::string_view search_path) {
    auto path = resolve_command(tree, command, search_path);
    if (!path)
        throw Error(Errc::not_found,
                    "environment " + target.label + " has no executable '" + std::string(command) +
                        "'" + (command.front() == '/' ? "" : " in " + std::string(search_path)),
                    "install the package that provides it, or give its absolute path in the "
                    "environment");
    auto name = std::string(command.substr(command.rfind('/') + 1));
    validate_app_name(name);
    auto wrapper = bin_dir + "/" + name;
    check_replaceable(wrapper, target, "--bin " + std::string(command));
    make_dirs(bin_dir);
    write_file_atomic(wrapper, wrapper_script(*path, target), 0755);

    Installed out;
    out.item.kind = "bin";
    out.item.name = std::string(command);
    out.item.source = *path;
    out.item.target_dir = bin_dir;
    out.item.files.push_back(wrapper);
    return out;
}

Installed install_service(const MergedTree& tree, std::string_view name, const ServiceSpec& spec,
                          const LaunchTarget& target, const std::string& unit_dir,
                          std::string_view search_path) {
    validate_service(name, spec);
    const auto& command = spec.command.front();
    Installed out;
    auto path = resolve_command(tree, command, search_path);
    // An absolute path may name a file that a mount or the shared home brings at run time.
    if (!path && command.front() == '/') {
        out.warnings.push_back("service " + std::string(name) + ": " + command +
                               " is not among environment " + target.label +
                               "'s files; it must be there when the unit starts (a mount or "
                               "your home)");
        path = command;
    }
    if (!path)
        throw Error(Errc::not_found,
                    "environment " + target.label + " has no executable '" + command + "' in " +
                        std::string(search_path),
                    "install the package that provides it, or give its absolute path");
    auto unit = unit_dir + "/" + service_unit_name(target.label, name);
    auto socket = unit_dir + "/" + socket_unit_name(target.label, name);
    check_replaceable(unit, target, "--service " + std::string(name));
    if (!spec.sockets.empty()) check_replaceable(socket, target, "--service " + std::string(name));
    make_dirs(unit_dir);
    if (!spec.sockets.empty())
        write_file_atomic(socket, socket_unit_text(name, spec, target), 0644);
    write_file_atomic(unit, service_unit_text(name, spec, target), 0644);

    out.item.kind = "service";
    out.item.name = std::string(name);
    out.item.source = *path;
    out.item.target_dir = unit_dir;
    out.item.files.push_back(unit);
    if (!spec.sockets.empty()) out.item.files.push_back(socket);
    out.item.service = spec;
    return out;
}

std::vector<std::string> remove_icons(const std::vector<std::string>& files) {
    std::vector<std::string> warnings;
    for (const auto& f : files) {
        struct stat st {};
        if (::lstat(f.c_str(), &st) != 0) continue;
        if (!S_ISREG(st.st_mode)) {
            warnings.push_back("left " + f + " in place: it is no longer a regular file");
            continue;
        }
        if (::unlink(f.c_str()) != 0 && errno != ENOENT)
            warnings.push_back("cannot remove " + f + ": " + std::strerror(errno));
    }
    return warnings;
}

std::vector<std::string> remove_item(const RecordItem& item, const std::string& env_id) {
    std::vector<std::string> warnings;
    // Files that run the environment go only while they still name it; a service's units also
    // lose the links that enabled them. Icons are copies and go whenever they are regular files.
    auto remove_owned = [&](const std::string& path) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0) return;
        std::string owner;
        if (S_ISREG(st.st_mode)) {
            try {
                owner = exported_env_of(read_file_limited(path, max_marker_scan));
            } catch (const Error&) {}
        }
        if (owner != env_id) {
            warnings.push_back("left " + path +
                               " in place: it was changed and no longer runs this environment");
            return;
        }
        if (item.kind == "service") move_unit_links(path, {});
        if (::unlink(path.c_str()) != 0 && errno != ENOENT)
            warnings.push_back("cannot remove " + path + ": " + std::strerror(errno));
    };
    if (item.files.empty()) return warnings;
    if (item.kind == "service") {
        for (const auto& f : item.files)
            remove_owned(f);
        return warnings;
    }
    remove_owned(item.files.front());
    auto more = remove_icons({item.files.begin() + 1, item.files.end()});
    warnings.insert(warnings.end(), more.begin(), more.end());
    return warnings;
}

std::string refresh_menus(const std::string& data_home) {
    auto icons = data_home + "/icons/hicolor";
    ::utimensat(AT_FDCWD, icons.c_str(), nullptr, 0);
    auto apps = data_home + "/applications";
    struct stat st {};
    if (::stat(apps.c_str(), &st) != 0) return {};
    auto tool = find_program("update-desktop-database");
    if (!tool) return {};
    try {
        auto r = run_process({*tool, "-q", apps});
        if (!r.ok())
            return "update-desktop-database " + apps + " failed: " + tail_lines(r.err + r.out, 3);
    } catch (const Error& e) {
        return std::string("update-desktop-database: ") + e.what();
    }
    return {};
}

}  // namespace karapace::exports
