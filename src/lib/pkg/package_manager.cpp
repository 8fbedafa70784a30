#include "karapace/pkg/package_manager.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <sstream>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"
#include "pkg/managers.hpp"
#include "pkg/names.hpp"

namespace karapace::pkg {

std::string_view to_string(Kind kind) noexcept {
    switch (kind) {
    case Kind::apt: return "apt";
    case Kind::dnf: return "dnf";
    case Kind::zypper: return "zypper";
    case Kind::pacman: return "pacman";
    case Kind::apk: return "apk";
    }
    return "apt";
}

std::optional<Kind> parse_kind(std::string_view name) noexcept {
    for (Kind k : {Kind::apt, Kind::dnf, Kind::zypper, Kind::pacman, Kind::apk})
        if (to_string(k) == name) return k;
    return std::nullopt;
}

std::string_view PackageManager::name() const noexcept { return to_string(kind()); }

namespace {

Argv append(Argv argv, const std::vector<std::string>& words) {
    argv.insert(argv.end(), words.begin(), words.end());
    return argv;
}

}  // namespace

Argv PackageManager::install_argv(const std::vector<std::string>& packages) const {
    if (packages.empty()) return {};
    check_package_names(packages);
    return append(install_command(), packages);
}

Argv PackageManager::install_exact_argv(const std::vector<LockedPackage>& packages) const {
    if (packages.empty()) return {};
    check_package_names(packages);
    auto argv = install_exact_command();
    for (const auto& p : packages)
        argv.push_back(exact_spec(p));
    return argv;
}

Argv PackageManager::available_argv(const std::vector<LockedPackage>& packages) const {
    auto argv = available_command();
    if (packages.empty() || argv.empty()) return {};
    check_package_names(packages);
    for (const auto& p : packages)
        argv.push_back(p.name);
    return argv;
}

Argv PackageManager::query_argv(const std::vector<std::string>& packages) const {
    if (packages.empty()) return {};
    check_package_names(packages);
    return append(query_command(), packages);
}

Argv PackageManager::mark_auto_argv(const std::vector<PackageVersion>& packages) const {
    auto argv = mark_auto_command();
    if (packages.empty() || argv.empty()) return {};
    check_package_names(packages);
    for (const auto& p : packages)
        argv.push_back(mark_auto_spec(p));
    return argv;
}

std::string PackageManager::mark_auto_spec(const PackageVersion& package) const {
    return package.name;
}

Argv PackageManager::checksum_argv(const std::vector<LockedPackage>& packages) const {
    auto argv = checksum_command();
    if (packages.empty() || argv.empty()) return {};
    check_package_names(packages);
    for (const auto& p : packages)
        argv.push_back(exact_spec(p));
    return argv;
}

std::vector<ArchiveChecksum> PackageManager::parse_checksums(const std::string&) const {
    return {};
}

Argv PackageManager::download_argv(const std::vector<LockedPackage>& packages) const {
    auto argv = download_command();
    if (packages.empty() || argv.empty()) return {};
    check_package_names(packages);
    for (const auto& p : packages)
        argv.push_back(exact_spec(p));
    return argv;
}

std::optional<PackageVersion> PackageManager::archive_package(std::string_view) const {
    return std::nullopt;
}

void PackageManager::check_available(const std::string&, const std::vector<LockedPackage>&) const {}

PackageVersion PackageManager::split_request(std::string_view request) const {
    return {std::string(request), {}, {}};
}

QueryResult PackageManager::parse_versions(const std::string& output,
                                           const std::vector<std::string>& requested) const {
    return select_requested(parse_query_output(output), requested);
}

QueryResult PackageManager::select_requested(const std::vector<PackageVersion>& records,
                                             const std::vector<std::string>& requested) const {
    QueryResult result;
    for (const auto& request : requested) {
        const auto want = split_request(request);
        bool found = false;
        for (const auto& record : records) {
            if (record.name != want.name) continue;
            if (!want.arch.empty() && record.arch != want.arch) continue;
            found = true;
            if (std::find(result.installed.begin(), result.installed.end(), record) ==
                result.installed.end())
                result.installed.push_back(record);
        }
        if (!found) result.not_installed.push_back(request);
    }
    return result;
}

std::unique_ptr<PackageManager> make_package_manager(Kind kind, Options options) {
    switch (kind) {
    case Kind::apt: return make_apt(options);
    case Kind::dnf: return make_dnf(options, "dnf");
    case Kind::zypper: return make_zypper(options);
    case Kind::pacman: return make_pacman(options);
    case Kind::apk: return make_apk(options);
    }
    return make_apt(options);
}

namespace {

// True when `rel` names a regular file inside the tree at `root`. The path is resolved as if
// `root` were `/`, so an absolute symlink in an image (usr/bin/dnf -> /usr/bin/dnf-3) stays in the
// image instead of reaching the host's file of the same name.
bool file_in_root(int root, const char* rel) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    int fd = static_cast<int>(::syscall(SYS_openat2, root, rel, &how, sizeof how));
    if (fd < 0 && errno == ENOSYS) {
        // Kernels before 5.6: look at the entry itself without following anything.
        struct stat st {};
        return ::fstatat(root, rel, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode));
    }
    if (fd < 0) return false;
    UniqueFd guard(fd);
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
}

struct Probe {
    const char* path;
    Kind kind;
};

// The first match wins; the order puts the managers of images that carry several binaries (an
// rpm-based image with both dnf and zypper is unusual, but dnf is the one that owns it) first.
constexpr Probe probes[] = {
    {"usr/bin/apt-get", Kind::apt},   {"usr/bin/dnf", Kind::dnf},       {"usr/bin/dnf5", Kind::dnf},
    {"usr/bin/zypper", Kind::zypper}, {"usr/bin/pacman", Kind::pacman}, {"sbin/apk", Kind::apk},
    {"usr/sbin/apk", Kind::apk},      {"usr/bin/apk", Kind::apk},
};

UniqueFd open_root(const std::string& rootfs) {
    int fd = ::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) throw_errno(Errc::runtime, "cannot open root filesystem " + rootfs);
    return UniqueFd(fd);
}

}  // namespace

std::optional<Kind> detect_kind(const std::string& rootfs) {
    auto root = open_root(rootfs);
    for (const auto& probe : probes)
        if (file_in_root(root.get(), probe.path)) return probe.kind;
    return std::nullopt;
}

std::unique_ptr<PackageManager> detect(const std::string& rootfs, Options options) {
    auto root = open_root(rootfs);
    for (const auto& probe : probes) {
        if (!file_in_root(root.get(), probe.path)) continue;
        if (probe.kind == Kind::dnf)
            return make_dnf(options, file_in_root(root.get(), "usr/bin/dnf") ? "dnf" : "dnf5");
        return make_package_manager(probe.kind, options);
    }
    std::string looked_for;
    for (const auto& probe : probes)
        looked_for += std::string(looked_for.empty() ? "" : ", ") + "/" + probe.path;
    std::string hint =
        "use an image that has one of them, or an image without packages in the manifest";
    if (file_in_root(root.get(), "usr/bin/dpkg"))
        hint = "the image has dpkg but not apt-get; install apt in the image or use a fuller one";
    throw Error(Errc::runtime,
                "no supported package manager in the image at " + rootfs + " (looked for " +
                    looked_for + ")",
                hint);
}

std::vector<PackageVersion> changed_packages(const std::vector<PackageVersion>& before,
                                             const std::vector<PackageVersion>& after) {
    auto old = before;
    std::sort(old.begin(), old.end());
    std::vector<PackageVersion> out;
    for (const auto& record : after)
        if (!std::binary_search(old.begin(), old.end(), record)) out.push_back(record);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::vector<VersionMismatch> missing_versions(const QueryResult& query,
                                              const std::vector<LockedPackage>& locked) {
    std::vector<VersionMismatch> out;
    for (const auto& want : locked) {
        std::optional<std::string> installed;
        bool exact = false;
        for (const auto& have : query.installed) {
            if (have.name != want.name) continue;
            if (!want.arch.empty() && have.arch != want.arch) continue;
            if (have.version == want.version) {
                exact = true;
                break;
            }
            installed = have.version;
        }
        if (!exact) out.push_back({want, installed});
    }
    return out;
}

std::string describe(const std::vector<VersionMismatch>& mismatches) {
    std::ostringstream out;
    for (const auto& m : mismatches) {
        out << m.locked.name << ' ' << m.locked.version;
        if (!m.locked.arch.empty()) out << " (" << m.locked.arch << ')';
        if (m.installed)
            out << ": installed " << *m.installed << '\n';
        else
            out << ": not installed\n";
    }
    auto text = out.str();
    if (!text.empty()) text.pop_back();
    return text;
}

}  // namespace karapace::pkg
