// The steps of a build that run in the staging sandbox: the package install (with the lock's
// exact versions, archive checksums and dependency marks), the post_build hooks, and the package
// manager's clean-up before the layer is packed.
#include "core/build_steps.hpp"

#include <algorithm>
#include <cstdio>

#include "core/sandbox_steps.hpp"
#include "karapace/pkg/package_manager.hpp"
#include "karapace/sandbox/idmap.hpp"
#include "karapace/util/digest.hpp"
#include "karapace/util/log.hpp"
#include "karapace/util/process.hpp"
#include "store/fsutil.hpp"

namespace karapace::core {

namespace {

// The package manager's environment for the build's commands, with the lock's
// SOURCE_DATE_EPOCH, so tools that write dates into files (man-db, python, gzip'd changelogs)
// write the same ones every time.
std::vector<std::string> build_env(const pkg::PackageManager& pm, std::int64_t epoch) {
    auto env = pm.environment();
    env.push_back("SOURCE_DATE_EPOCH=" + std::to_string(epoch));
    return env;
}

pkg::Options package_options() {
    pkg::Options po;
    po.single_uid_mapping =
        sandbox::plan_id_maps_for_caller(sandbox::IdMapping::container_root).single_id;
    return po;
}

sandbox::SandboxSpec build_spec(const std::string& rootfs, const Staging& st) {
    sandbox::SandboxSpec spec;
    spec.lower_dirs = {rootfs};
    spec.upper_dir = st.upper;
    spec.work_dir = st.work;
    spec.hostname = "karapace-build";
    spec.mapping = sandbox::IdMapping::container_root;
    spec.host_integration = false;
    spec.network_isolation = false;
    spec.cwd = "/";
    return spec;
}

[[noreturn]] void install_failed(const pkg::PackageManager& pm, const StepOutput& out,
                                 const std::string& what) {
    if (out.error && out.status == 125) throw *out.error;
    auto lines = pm.error_lines(out.out + out.err);
    std::string detail;
    if (lines.empty()) detail = tail_lines(out.out + out.err, 8);
    for (const auto& l : lines)
        detail += (detail.empty() ? "" : "\n") + l;
    throw Error(Errc::failed,
                what + " failed (" + std::string(pm.name()) + " exited with status " +
                    std::to_string(out.status) + ")" + (detail.empty() ? "" : ":\n" + detail),
                "check the package names in [system] packages; run with -v to see the whole "
                "output");
}

// Every package installed in the staging tree, as the package manager reports it.
std::vector<pkg::PackageVersion> list_installed(const pkg::PackageManager& pm,
                                                const sandbox::SandboxSpec& base,
                                                ProgressSink& progress) {
    auto spec = base;
    spec.argv = pm.list_installed_argv();
    auto out = run_captured_step(spec, progress, true);
    if (out.error && out.status == 125) throw *out.error;
    if (out.status != 0)
        throw Error(Errc::failed,
                    "listing the installed packages failed (" + std::string(pm.name()) +
                        " exited with status " + std::to_string(out.status) + "):\n" +
                        tail_lines(out.out + out.err, 8),
                    "check that the image's package database is intact");
    return pm.parse_installed(out.out);
}

// Downloads the archives of the locked packages that the image does not have yet and checks
// each against the checksum the lock records for it, before anything is installed: a mirror
// that serves another build of a locked version fails the build here, naming the package.
void check_downloads(const pkg::PackageManager& pm, const sandbox::SandboxSpec& base,
                     const Staging& st, const std::vector<schema::LockedPackage>& locked,
                     ProgressSink& progress) {
    std::vector<pkg::LockedPackage> exact;
    for (const auto& p : locked)
        exact.push_back({p.name, p.version, p.arch});
    auto argv = pm.download_argv(exact);
    bool any_checksum =
        std::any_of(locked.begin(), locked.end(),
                    [](const schema::LockedPackage& p) { return !p.sha256.empty(); });
    if (argv.empty() || !any_checksum) return;
    progress.step("downloading and checking locked packages", 0, ProgressUnit::items);
    auto spec = base;
    spec.argv = argv;
    auto out = run_captured_step(spec, progress, false);
    if (out.status != 0) install_failed(pm, out, "downloading the locked packages");
    const auto dir = st.upper + "/" + pm.archive_dir();
    for (const auto& file : store::list_dir(dir)) {
        auto package = pm.archive_package(file);
        if (!package) continue;
        auto it = std::find_if(locked.begin(), locked.end(), [&](const schema::LockedPackage& p) {
            return p.name == package->name && p.version == package->version &&
                   (p.arch.empty() || p.arch == package->arch);
        });
        if (it == locked.end() || it->sha256.empty()) continue;
        auto got = sha256_file(dir + "/" + file).hex();
        if (got != it->sha256)
            throw Error(Errc::conflict,
                        "package " + it->name + " " + it->version + " (" + it->arch +
                            ") downloaded from the repository has SHA-256 " + got +
                            ", but karapace.lock records " + it->sha256,
                        "the mirror serves another build of this version; nothing was stored. "
                        "Check the mirror (apt sources of the image), or re-lock with `karapace "
                        "build` without --locked if the new archive is the one you want");
    }
    progress.finish(true);
}

// The archive checksums the package index gives for `packages`, filled in where it has one.
void record_checksums(const pkg::PackageManager& pm, const sandbox::SandboxSpec& base,
                      std::vector<schema::LockedPackage>& packages, ProgressSink& progress) {
    std::vector<pkg::LockedPackage> exact;
    for (const auto& p : packages)
        exact.push_back({p.name, p.version, p.arch});
    auto argv = pm.checksum_argv(exact);
    if (argv.empty()) return;
    auto spec = base;
    spec.argv = argv;
    auto out = run_captured_step(spec, progress, true);
    if (out.error && out.status == 125) throw *out.error;
    for (const auto& c : pm.parse_checksums(out.out))
        for (auto& p : packages)
            if (p.name == c.package.name && p.version == c.package.version &&
                p.arch == c.package.arch)
                p.sha256 = c.sha256;
}

// After an exact install: the packages it added that the manifest does not ask for are marked as
// dependencies, as the install from the manifest's names left them, so the package database in
// the layer is the same whichever of the two made it.
void mark_dependencies(const pkg::PackageManager& pm, const sandbox::SandboxSpec& base,
                       const schema::NormalizedManifest& manifest,
                       const std::vector<pkg::PackageVersion>& before,
                       const std::vector<pkg::PackageVersion>& after, ProgressSink& progress) {
    auto requested = [&](const pkg::PackageVersion& p) {
        return std::any_of(
            manifest.packages.begin(), manifest.packages.end(),
            [&](const std::string& r) { return pm.split_request(r).name == p.name; });
    };
    auto had = [&](const pkg::PackageVersion& p) {
        return std::any_of(before.begin(), before.end(), [&](const pkg::PackageVersion& b) {
            return b.name == p.name && b.arch == p.arch;
        });
    };
    std::vector<pkg::PackageVersion> deps;
    for (const auto& p : after)
        if (!had(p) && !requested(p)) deps.push_back(p);
    auto argv = pm.mark_auto_argv(deps);
    if (argv.empty()) return;
    auto spec = base;
    spec.argv = argv;
    auto out = run_captured_step(spec, progress, true);
    if (out.status != 0) install_failed(pm, out, "marking the dependencies");
}

// A hook command in one line for progress and messages: its first line, at most 60 bytes of it
// (cut before a UTF-8 continuation byte), and " ..." when there is more.
std::string hook_label(const std::string& hook) {
    auto line = hook.substr(0, hook.find('\n'));
    bool cut = line.size() < hook.size();
    if (line.size() > 60) {
        std::size_t end = 60;
        while (end > 0 && (static_cast<unsigned char>(line[end]) & 0xc0) == 0x80)
            --end;
        line.resize(end);
        cut = true;
    }
    return cut ? line + " ..." : line;
}

}  // namespace

void AptInstallProgress::note(std::string_view line) {
    inner_.note(line);
    if (total_ == 0) {
        unsigned long upgraded = 0, installed = 0;
        if (std::sscanf(std::string(line).c_str(), "%lu upgraded, %lu newly installed", &upgraded,
                        &installed) == 2 &&
            upgraded + installed > 0) {
            total_ = 3 * (upgraded + installed);
            inner_.resize(total_);
        }
        return;
    }
    if (line.starts_with("Get:") || line.starts_with("Unpacking ") ||
        line.starts_with("Setting up "))
        inner_.advance(std::min(++done_, total_));
}

// Installs the packages into `st.upper` and returns their exact versions, with the archive
// checksums the package index reports.
std::vector<schema::LockedPackage> install_packages(const std::string& rootfs, const Staging& st,
                                                    const schema::NormalizedManifest& manifest,
                                                    const schema::LockFile* lock,
                                                    std::int64_t epoch, ProgressSink& progress) {
    auto pm = pkg::detect(rootfs, package_options());
    auto base = build_spec(rootfs, st);
    base.env = build_env(*pm, epoch);

    progress.step("refreshing package lists (" + std::string(pm->name()) + ")", 0,
                  ProgressUnit::items);
    auto spec = base;
    spec.argv = pm->refresh_argv();
    auto out = run_captured_step(spec, progress, false);
    if (out.status != 0) install_failed(*pm, out, "refreshing package lists");
    progress.finish(true);

    std::vector<pkg::LockedPackage> exact;
    if (lock != nullptr)
        for (const auto& p : lock->packages)
            exact.push_back({p.name, p.version, p.arch});

    if (lock != nullptr) {
        auto check = pm->available_argv(exact);
        if (!check.empty()) {
            spec = base;
            spec.argv = check;
            auto avail = run_captured_step(spec, progress, true);
            pm->check_available(avail.out, exact);
        }
        check_downloads(*pm, base, st, lock->packages, progress);
    }

    // What the image holds before the install: the difference afterwards is every package the
    // install added or changed, dependencies included, and all of it goes into the lock.
    const auto before = list_installed(*pm, base, progress);

    progress.step(lock != nullptr ? "installing locked package versions" : "installing packages", 0,
                  ProgressUnit::items);
    spec = base;
    spec.argv =
        lock != nullptr ? pm->install_exact_argv(exact) : pm->install_argv(manifest.packages);
    AptInstallProgress apt_progress(progress);
    out = run_captured_step(spec, pm->kind() == pkg::Kind::apt ? apt_progress : progress, false);
    if (out.status != 0) install_failed(*pm, out, "installing packages");
    progress.finish(true);

    const auto after = list_installed(*pm, base, progress);
    auto query = pm->select_requested(after, manifest.packages);
    if (!query.not_installed.empty()) {
        std::string names;
        for (const auto& n : query.not_installed)
            names += (names.empty() ? "" : ", ") + n;
        throw Error(Errc::failed,
                    "after the install, " + std::string(pm->name()) +
                        " reports these packages as not installed: " + names,
                    "name real packages in [system] packages (not virtual packages or groups)");
    }
    if (lock != nullptr) {
        auto mismatches = pkg::missing_versions(pkg::QueryResult{after, {}}, exact);
        if (!mismatches.empty())
            throw Error(
                Errc::conflict,
                "the installed versions differ from karapace.lock:\n" + pkg::describe(mismatches),
                "the repository no longer offers a locked version; pin the image to a "
                "snapshot or re-lock with `karapace build` without --locked");
    }
    if (lock != nullptr) mark_dependencies(*pm, base, manifest, before, after, progress);
    // Requested packages the image already had are locked too: a later image must not change them.
    auto changed = pkg::changed_packages(before, after);
    changed.insert(changed.end(), query.installed.begin(), query.installed.end());
    std::sort(changed.begin(), changed.end());
    changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
    std::vector<schema::LockedPackage> locked;
    for (const auto& p : changed)
        locked.push_back({p.name, p.version, p.arch, {}});
    std::sort(locked.begin(), locked.end());
    record_checksums(*pm, base, locked, progress);
    return locked;
}

// After the install and the hooks, before packing: the package manager's own clean-up. Returns
// its LayerExclusion table's patterns (static data), which the caller removes from the layer.
std::vector<std::string_view> clean_layer(const std::string& rootfs, const Staging& st,
                                          std::int64_t epoch, ProgressSink& progress) {
    if (!pkg::detect_kind(rootfs)) return {};
    auto pm = pkg::detect(rootfs, package_options());
    auto clean = pm->clean_argv();
    if (!clean.empty()) {
        auto spec = build_spec(rootfs, st);
        spec.env = build_env(*pm, epoch);
        spec.argv = clean;
        auto out = run_captured_step(spec, progress, true);
        if (out.error && out.status == 125) throw *out.error;
        // What it would have removed is in the table too: a failure costs nothing.
        if (out.status != 0)
            log::warn(pm->name(), "'s clean-up exited with status ", out.status,
                      "; its caches are removed by path instead");
    }
    std::vector<std::string_view> patterns;
    for (const auto& e : pm->layer_exclusions())
        patterns.push_back(e.pattern);
    return patterns;
}

// The manifest's post_build hooks, in order, each by /bin/sh -c as container root in the
// staging sandbox after the packages, so that what they change is packed into the layer.
void run_post_build_hooks(const std::string& rootfs, const Staging& st,
                          const std::vector<std::string>& hooks, std::int64_t epoch,
                          ProgressSink& progress) {
    auto base = build_spec(rootfs, st);
    // The variables the package manager's commands get (apt asks no questions), when it has one.
    if (pkg::detect_kind(rootfs))
        base.env = build_env(*pkg::detect(rootfs, package_options()), epoch);
    else
        base.env = {"SOURCE_DATE_EPOCH=" + std::to_string(epoch)};
    for (std::size_t i = 0; i < hooks.size(); ++i) {
        const std::string what = log::cat("post_build hook ", i + 1, " of ", hooks.size());
        progress.step(what + ": " + hook_label(hooks[i]), 0, ProgressUnit::items);
        auto spec = base;
        spec.argv = {"/bin/sh", "-c", hooks[i]};
        auto out = run_captured_step(spec, progress, false);
        if (out.error && out.status == 125) throw *out.error;
        if (out.status != 0) {
            auto tail = tail_lines(out.out, 8);
            throw Error(Errc::failed,
                        what + " (" + hook_label(hooks[i]) + ") failed with status " +
                            std::to_string(out.status) + (tail.empty() ? "" : ":\n" + tail),
                        "fix the command in [hooks] post_build and build again; nothing was "
                        "built. Run with -v to see its whole output");
        }
        progress.finish(true);
    }
}

}  // namespace karapace::core
