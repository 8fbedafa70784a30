// export / unexport: host launchers and command wrappers for an environment's applications,
// the record of what was written (env/<id>/exports.json), and keeping them pointed at the right
// environment through build, rebuild, rename and destroy.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <climits>

#include "core/engine_impl.hpp"
#include "karapace/export/install.hpp"
#include "karapace/export/names.hpp"
#include "karapace/export/service_unit.hpp"
#include "karapace/schema/env_vars.hpp"
#include "karapace/util/atomic_file.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/paths.hpp"
#include "karapace/util/process.hpp"
#include "karapace/util/text.hpp"
#include "karapace_config.h"

namespace karapace::core {

namespace {

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

// The karapace executable launchers should run: this one when this process is the CLI, the one
// beside it; from karapace-full (which `karapace` hands most commands to, src/cli/front.hpp) the
// one in ../bin or where it was built to be installed; else PATH's (always absolute). A launcher
// with a bare name that PATH may not resolve vanishes from menus, so finding none is an error.
std::string default_program() {
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) {
        std::string self(buf, static_cast<std::size_t>(n));
        if (self.ends_with("/karapace")) return self;
        auto sibling = parent_dir(self) + "/karapace";
        if (executable(sibling)) return sibling;
        if (self.ends_with("/karapace-full")) {
            auto installed = lexically_absolute("../bin/karapace", parent_dir(self));
            if (executable(installed)) return installed;
            if (executable(KARAPACE_CLI_PATH)) return KARAPACE_CLI_PATH;
        }
    }
    if (auto found = find_program("karapace"); found && found->front() == '/') return *found;
    throw Error(Errc::not_found, "cannot find the karapace executable for launchers and wrappers",
                "put the directory that holds karapace in PATH and export again");
}

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// Whether a recorded item is what the user named in `want`: its id, the name export was given,
// or (apps) the last part of a reverse-DNS id; (bins) the wrapper's name.
bool matches(const exports::RecordItem& item, const std::string& kind, std::string want) {
    if (item.kind != kind) return false;
    if (kind == "service") return item.name == want;
    if (kind == "bin")
        return item.name == want || base_name(item.name) == want || base_name(item.source) == want;
    if (want.ends_with(".desktop")) want.resize(want.size() - 8);
    if (item.name == want || ascii_lower(item.name) == ascii_lower(want)) return true;
    auto dot = item.name.rfind('.');
    if (dot != std::string::npos && ascii_lower(item.name.substr(dot + 1)) == ascii_lower(want))
        return true;
    auto exe = base_name(item.source);
    return exe == want + ".desktop";
}

ExportedItem to_item(const exports::RecordItem& r) {
    return {r.kind, r.name, r.source, r.files, r.service};
}

std::string default_bin_dir() { return home_dir() + "/.local/bin"; }
std::string default_unit_dir() { return xdg_config_home() + "/systemd/user"; }

// A recorded item exported again to the same place.
ExportRequest again(const exports::RecordItem& r) {
    return {r.kind, r.name, r.target_dir, false, r.service};
}

// The unit names of the services among `items`, socket units included.
std::vector<std::string> unit_names(const std::vector<ExportedItem>& items) {
    std::vector<std::string> names;
    for (const auto& i : items)
        if (i.kind == "service")
            for (const auto& f : i.files)
                names.push_back(base_name(f));
    return names;
}

}  // namespace

std::string Engine::Impl::export_record_path(const store::EnvMetadata& m) {
    return layout().env_dir(m.env_id) + "/exports.json";
}

std::vector<ExportedItem> Engine::Impl::exported_items(const store::EnvMetadata& m) {
    std::vector<ExportedItem> out;
    for (const auto& r : exports::read_record(export_record_path(m)))
        out.push_back(to_item(r));
    return out;
}

// Exports `requests` from `m` and records them. Items already recorded under the same kind and
// id are replaced, and their files that the new export no longer writes are removed.
ExportReport Engine::Impl::run_exports(const store::EnvMetadata& m,
                                       const std::vector<ExportRequest>& requests) {
    auto& impl = *this;
    ExportReport report;
    report.env_id = m.env_id.str();
    report.env = label(m);
    check_operation(report.env, impl.state_of(m), Operation::exec);
    for (const auto& r : requests) {
        if (r.kind == "app")
            exports::validate_app_name(r.name);
        else if (r.kind == "service")
            exports::validate_service(r.name, r.service);
        else
            exports::validate_command(r.name);
    }

    // The view of the environment's files: its writable layer over the layers below.
    std::vector<std::string> layers{impl.layout().env_dir(m.env_id) + "/upper"};
    auto lowers = impl.lower_dirs(m);
    layers.insert(layers.end(), lowers.begin(), lowers.end());
    exports::MergedTree tree(std::move(layers));
    // Commands are looked up in the PATH a session has: the manifest's [env] may change it. Of
    // the session's other variables only HOME matters here (a directory of the host's home is
    // no part of the environment's files).
    std::string search_path(exports::env_path);
    const std::string default_path(exports::env_path), home = home_dir();
    for (const auto& var : m.session.env)
        if (var.name == "PATH")
            search_path = schema::expand_env_value(
                var.value, [&](std::string_view name) -> const std::string* {
                    if (name == "PATH") return &default_path;
                    return name == "HOME" ? &home : nullptr;
                });
    exports::LaunchTarget target{
        m.env_id.str(), report.env,
        impl.options.program.empty() ? default_program() : impl.options.program, impl.root};

    auto guard = impl.lock_exclusive();
    auto record_path = impl.export_record_path(m);
    auto record = exports::read_record(record_path);
    std::vector<std::string> data_homes;
    bool units_changed = false;
    std::optional<Error> failure;
    for (const auto& r : requests) {
        exports::Installed done;
        try {
            if (r.kind == "app")
                done = exports::install_app(tree, r.name, target, r.target_dir);
            else if (r.kind == "service")
                done = exports::install_service(tree, r.name, r.service, target, r.target_dir,
                                                search_path);
            else
                done = exports::install_bin(tree, r.name, target, r.target_dir, search_path);
        } catch (const Error& e) {
            if (r.required) {
                failure = e;
                break;
            }
            report.warnings.push_back(std::string("not exported: ") + e.what());
            continue;
        }
        report.warnings.insert(report.warnings.end(), done.warnings.begin(), done.warnings.end());
        auto old = std::find_if(record.begin(), record.end(), [&](const exports::RecordItem& i) {
            return i.kind == done.item.kind && i.name == done.item.name;
        });
        if (old != record.end()) {
            // Files the new export no longer writes: a launcher under an old name, icons.
            const auto& now = done.item.files;
            auto gone = [&](const std::string& f) {
                return std::find(now.begin(), now.end(), f) == now.end();
            };
            std::vector<std::string> warnings;
            if (old->kind == "service") {
                // A unit under a new name (the environment was renamed) stays enabled; the unit
                // files no longer written go.
                for (std::size_t i = 0; i < old->files.size() && i < now.size(); ++i)
                    if (gone(old->files[i])) exports::move_unit_links(old->files[i], now[i]);
                auto stale = *old;
                std::erase_if(stale.files, [&](const std::string& f) { return !gone(f); });
                warnings = exports::remove_item(stale, m.env_id.str());
            } else {
                std::vector<std::string> icons;
                for (std::size_t i = 1; i < old->files.size(); ++i)
                    if (gone(old->files[i])) icons.push_back(old->files[i]);
                warnings = exports::remove_icons(icons);
                if (!old->files.empty() && gone(old->files.front())) {
                    auto launcher = *old;
                    launcher.files.resize(1);
                    auto more = exports::remove_item(launcher, m.env_id.str());
                    warnings.insert(warnings.end(), more.begin(), more.end());
                }
            }
            report.warnings.insert(report.warnings.end(), warnings.begin(), warnings.end());
            *old = done.item;
        } else {
            record.push_back(done.item);
        }
        if (r.kind == "app" &&
            std::find(data_homes.begin(), data_homes.end(), r.target_dir) == data_homes.end())
            data_homes.push_back(r.target_dir);
        if (r.kind == "service") units_changed = true;
        bool listed =
            std::any_of(report.exported.begin(), report.exported.end(), [&](const ExportedItem& i) {
                return i.kind == done.item.kind && i.name == done.item.name;
            });
        if (!listed) report.exported.push_back(to_item(done.item));
    }
    exports::write_record(record_path, record);
    for (const auto& home : data_homes)
        if (auto w = exports::refresh_menus(home); !w.empty()) report.warnings.push_back(w);
    if (units_changed)
        if (auto w = exports::reload_user_units(); !w.empty()) report.warnings.push_back(w);
    if (failure) throw *failure;
    return report;
}

ExportReport Engine::export_items(const ExportOptions& o) {
    auto m = impl_->find(o.env);
    auto data_home = o.data_home.empty() ? xdg_data_home() : lexically_absolute(o.data_home, "/");
    auto bin_dir = o.bin_dir.empty() ? default_bin_dir() : lexically_absolute(o.bin_dir, "/");
    auto unit_dir = o.unit_dir.empty() ? default_unit_dir() : lexically_absolute(o.unit_dir, "/");
    if ((!o.data_home.empty() && o.data_home.front() != '/') ||
        (!o.bin_dir.empty() && o.bin_dir.front() != '/') ||
        (!o.unit_dir.empty() && o.unit_dir.front() != '/'))
        throw Error(Errc::usage, "export directories must be absolute paths",
                    "the CLI resolves relative ones against the current directory");
    std::vector<ExportRequest> requests;
    for (const auto& a : o.apps)
        requests.push_back({"app", a, data_home, true});
    for (const auto& b : o.bins)
        requests.push_back({"bin", b, bin_dir, true});
    for (const auto& sv : o.services)
        requests.push_back({"service", sv.name, unit_dir, true, sv.spec});
    if (o.refresh) {
        for (const auto& a : impl_->lock_of(m).apps)
            requests.push_back({"app", a, data_home, false});
        for (const auto& r : exports::read_record(impl_->export_record_path(m)))
            requests.push_back(again(r));
        for (const auto& sv : m.session.services)
            requests.push_back({"service", sv.name, unit_dir, false, sv.spec});
    }
    if (requests.empty())
        throw Error(Errc::usage, "nothing to export from environment " + Impl::label(m),
                    "name applications (karapace export " + Impl::label(m) +
                        " APP...), commands (--bin CMD), or list [gui] apps in the manifest");
    return impl_->run_exports(m, requests);
}

std::vector<ExportedItem> Engine::unexport_items(const UnexportOptions& o) {
    auto m = impl_->find(o.env);
    if (!o.all && o.apps.empty() && o.bins.empty() && o.services.empty())
        throw Error(Errc::usage, "name what to unexport from environment " + Impl::label(m),
                    "give applications, --bin CMD, --service NAME, or --all");
    auto guard = impl_->lock_exclusive();
    auto record_path = impl_->export_record_path(m);
    auto record = exports::read_record(record_path);
    std::vector<bool> chosen(record.size(), o.all);
    auto choose = [&](const std::string& kind, const std::string& want) {
        bool hit = false;
        for (std::size_t i = 0; i < record.size(); ++i)
            if (matches(record[i], kind, want)) chosen[i] = hit = true;
        if (!hit)
            throw Error(Errc::not_found,
                        "environment " + Impl::label(m) + " has no exported " +
                            (kind == "app"       ? "application"
                             : kind == "service" ? "service"
                                                 : "command") +
                            " '" + want + "'",
                        "see what is exported: karapace export --list " + Impl::label(m));
    };
    for (const auto& a : o.apps)
        choose("app", a);
    for (const auto& b : o.bins)
        choose("bin", b);
    for (const auto& sv : o.services)
        choose("service", sv);

    std::vector<ExportedItem> removed;
    std::vector<exports::RecordItem> kept;
    std::vector<std::string> data_homes;
    for (std::size_t i = 0; i < record.size(); ++i) {
        if (!chosen[i]) {
            kept.push_back(record[i]);
            continue;
        }
        for (const auto& w : exports::remove_item(record[i], m.env_id.str()))
            log::warn(w);
        if (record[i].kind == "app") data_homes.push_back(record[i].target_dir);
        removed.push_back(to_item(record[i]));
    }
    exports::write_record(record_path, kept);
    if (!unit_names(removed).empty())
        if (auto w = exports::reload_user_units(); !w.empty()) log::warn(w);
    std::sort(data_homes.begin(), data_homes.end());
    data_homes.erase(std::unique(data_homes.begin(), data_homes.end()), data_homes.end());
    for (const auto& home : data_homes)
        if (auto w = exports::refresh_menus(home); !w.empty()) log::warn(w);
    return removed;
}

std::vector<ExportedItem> Engine::exports(std::string_view env) {
    return impl_->exported_items(impl_->find(env));
}

std::vector<ExportedItem> Engine::Impl::exports_to_remove(const store::EnvMetadata& m) {
    try {
        return exported_items(m);
    } catch (const Error& e) {
        log::warn("cannot remove the launchers of environment ", label(m), ": ", e.what());
        return {};
    }
}

void Engine::Impl::remove_exports(const std::string& env_id,
                                  const std::vector<ExportedItem>& items) {
    std::vector<std::string> data_homes;
    for (const auto& item : items) {
        for (const auto& w : exports::remove_item(
                 {item.kind, item.name, item.source, "", item.files, item.service}, env_id))
            log::warn(w);
        // <data home>/applications/<launcher>
        if (item.kind == "app" && !item.files.empty())
            data_homes.push_back(parent_dir(parent_dir(item.files.front())));
    }
    std::sort(data_homes.begin(), data_homes.end());
    data_homes.erase(std::unique(data_homes.begin(), data_homes.end()), data_homes.end());
    for (const auto& home : data_homes)
        if (auto w = exports::refresh_menus(home); !w.empty()) log::warn(w);
    if (!unit_names(items).empty())
        if (auto w = exports::reload_user_units(); !w.empty()) log::warn(w);
}

std::vector<std::string> Engine::Impl::running_services(const std::vector<ExportedItem>& items) {
    return exports::active_units(unit_names(items));
}

void Engine::Impl::stop_services(const std::vector<ExportedItem>& items) {
    if (auto w = exports::stop_units(unit_names(items)); !w.empty()) log::warn(w);
}

void Engine::Impl::refresh_exports(const store::EnvMetadata& m) {
    try {
        std::vector<ExportRequest> requests;
        for (const auto& item : exports::read_record(export_record_path(m)))
            requests.push_back(again(item));
        if (requests.empty()) return;
        for (const auto& w : run_exports(m, requests).warnings)
            log::warn(w);
    } catch (const Error& e) {
        log::warn("cannot update the launchers of environment ", label(m), ": ", e.what());
    }
}

void Engine::Impl::export_after_build(BuildResult& r, const std::vector<ExportedItem>& carried) {
    try {
        auto m = store().metadata().get(store::EnvId::parse(r.env_id));
        if (stored_state(m.state) == State::archived) return;
        std::vector<ExportRequest> requests;
        for (const auto& a : lock_of(m).apps)
            requests.push_back({"app", a, xdg_data_home(), false});
        // What the replaced environment had exported goes to the same places.
        for (const auto& item : carried) {
            auto dir = item.files.empty() ? std::string() : parent_dir(item.files.front());
            if (item.kind == "app") dir = parent_dir(dir);  // <data home>/applications
            if (!dir.empty()) requests.push_back({item.kind, item.name, dir, false, item.service});
        }
        for (const auto& item : exports::read_record(export_record_path(m)))
            requests.push_back(again(item));
        // Last, so that the manifest's [services] win over what an earlier export wrote.
        for (const auto& sv : m.session.services)
            requests.push_back({"service", sv.name, default_unit_dir(), false, sv.spec});
        if (requests.empty()) return;
        auto report = run_exports(m, requests);
        r.exported = std::move(report.exported);
        r.export_warnings = std::move(report.warnings);
    } catch (const Error& e) {
        r.export_warnings.push_back(std::string("exporting the applications failed: ") + e.what());
    }
}

}  // namespace karapace::core
