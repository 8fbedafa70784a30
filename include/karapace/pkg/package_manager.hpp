// The distribution package managers an environment's packages are installed with: apt, dnf,
// zypper, pacman and apk. This layer only builds argv and environment for commands that the sandbox
// runs inside the container, and parses what they print; it never runs anything itself.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::pkg {

using Argv = std::vector<std::string>;

// One installed package as its package manager reports it. `name` is the package's own name (no
// architecture qualifier), `version` the full version string the manager accepts back for an exact
// install (apt `1:2.3-4`, rpm `[epoch:]version-release`, pacman `[epoch:]version-rel`, apk
// `version-rN`), `arch` the package architecture (`amd64`, `all`, `x86_64`, `noarch`, `any`).
struct PackageVersion {
    std::string name;
    std::string version;
    std::string arch;
    bool operator==(const PackageVersion&) const = default;
    auto operator<=>(const PackageVersion&) const = default;
};

// A package as recorded in `karapace.lock`; installing it again must give exactly this version.
using LockedPackage = PackageVersion;

// What the version query found for the packages that were asked for.
struct QueryResult {
    // Every installed instance of each requested package, in request order. A bare name installed
    // for several architectures (dpkg multi-arch, rpm multilib) gives one entry per architecture.
    std::vector<PackageVersion> installed;
    // Requests with no installed package of that exact name: typos, virtual packages, provides,
    // groups and patterns (the lock must name real packages).
    std::vector<std::string> not_installed;
};

// A locked package whose installed version is not the locked one.
struct VersionMismatch {
    LockedPackage locked;
    std::optional<std::string> installed;  // nullopt: not installed at all
};

enum class Kind { apt, dnf, zypper, pacman, apk };

// A path that a build never keeps in a packages layer: the manager's indexes, caches of
// downloaded packages and logs of the install, which differ from one run to the next and are
// worth nothing to the environment. `pattern` is relative to the root; each of its components
// may hold shell wildcards (fnmatch). `reason` says in one line why the path is left out.
struct LayerExclusion {
    std::string_view pattern;
    std::string_view reason;
};

// The archive checksum a manager's index gives for one exact package version (apt: the SHA256
// field of the Packages record), as lower-case hex.
struct ArchiveChecksum {
    PackageVersion package;
    std::string sha256;
};

struct Options {
    // The build runs with a single uid mapped (no sub-id range): managers that switch to an
    // unprivileged download user (apt's `_apt`, pacman's `alpm`) are told not to.
    bool single_uid_mapping = false;
};

class PackageManager {
public:
    virtual ~PackageManager() = default;

    virtual Kind kind() const noexcept = 0;
    // "apt", "dnf", "zypper", "pacman" or "apk".
    std::string_view name() const noexcept;

    // Downloads fresh repository metadata. Minimal images often ship without any.
    virtual Argv refresh_argv() const = 0;
    // Installs the newest available versions. An empty list gives an empty argv: nothing to run.
    // Names that a tool would read as options are refused with Error(manifest).
    Argv install_argv(const std::vector<std::string>& packages) const;
    // Installs exactly the locked versions (downgrading what the image has if needed).
    Argv install_exact_argv(const std::vector<LockedPackage>& packages) const;

    // Managers that can install only what the repository offers right now (pacman) need a check
    // before an exact install: run this argv (after refresh_argv) and pass its stdout to
    // check_available(), which throws Error(conflict) listing every locked version the repository
    // no longer has. An empty argv means install_exact_argv can fetch any version and no check is
    // needed.
    Argv available_argv(const std::vector<LockedPackage>& packages) const;
    virtual void check_available(const std::string& output,
                                 const std::vector<LockedPackage>& packages) const;

    // Asks the package database for the installed versions of `packages` (as written in the
    // manifest, `name:arch` for apt and `name.arch` for rpm included). Its exit status is not
    // meaningful (non-zero when one package is missing): parse stdout with parse_versions().
    Argv query_argv(const std::vector<std::string>& packages) const;
    // Reads query_argv's stdout and keeps exactly the installed packages that were asked for.
    QueryResult parse_versions(const std::string& output,
                               const std::vector<std::string>& requested) const;
    // The same selection over records already parsed (parse_installed).
    QueryResult select_requested(const std::vector<PackageVersion>& records,
                                 const std::vector<std::string>& requested) const;

    // Lists every installed package. Run before and after an install, the difference is what the
    // install added or changed: the requested packages and every dependency they pulled in, which
    // is what a lock must pin for a rebuild to install the same things.
    Argv list_installed_argv() const { return list_all_command(); }
    std::vector<PackageVersion> parse_installed(const std::string& output) const {
        return parse_query_output(output);
    }

    // The manager's own clean-up after an install (apt-get clean, dnf clean all, ...): run in
    // the build sandbox before the layer is packed. Empty when the manager has none.
    virtual Argv clean_argv() const = 0;
    // What the build removes from its writable layer after clean_argv, in this manager's
    // images. One table per manager, each entry with its reason.
    virtual std::span<const LayerExclusion> layer_exclusions() const = 0;

    // Marks `packages` as installed only as dependencies of others. An exact install names every
    // locked package, which makes each one look asked for; marking the ones the first build
    // pulled in as dependencies again gives the same package database (apt's extended_states,
    // pacman's install reason) as that build. Empty argv: the manager keeps no such mark.
    Argv mark_auto_argv(const std::vector<PackageVersion>& packages) const;

    // Asks the repository index for the archive checksums of exactly these versions. An empty
    // argv: the manager reports none, and locks made with it carry no checksums. Its exit status
    // is not meaningful: parse stdout with parse_checksums(), which keeps only records that carry
    // a checksum.
    Argv checksum_argv(const std::vector<LockedPackage>& packages) const;
    virtual std::vector<ArchiveChecksum> parse_checksums(const std::string& output) const;
    // Downloads the archives an exact install of `packages` needs, without installing them, into
    // archive_dir() (relative to the root), where archive_package() names the package each file
    // holds. An empty argv: downloads cannot be checked before the install.
    Argv download_argv(const std::vector<LockedPackage>& packages) const;
    virtual std::string archive_dir() const { return {}; }
    virtual std::optional<PackageVersion> archive_package(std::string_view file_name) const;

    // Extra environment ("K=V") for every command above: no prompts, C locale so the error lines
    // and query labels this module parses are the English ones.
    virtual std::vector<std::string> environment() const = 0;

    // The manager's own error lines in a failed command's combined output (apt `E: …`, dnf
    // `Error: …`, pacman `error: …`, apk `ERROR: …` with their indented details), in order, at
    // most 20. Empty when it printed none: callers then fall back to the output's last lines.
    virtual std::vector<std::string> error_lines(const std::string& output) const = 0;

    // The (name, arch) a manifest request names: apt `libc6:i386`, rpm `glibc.i686` (only with a
    // known rpm architecture, since names may contain dots). `arch` is empty when not qualified.
    virtual PackageVersion split_request(std::string_view request) const;

protected:
    explicit PackageManager(Options options) : options_(options) {}
    const Options& options() const noexcept { return options_; }

    // The command words the public builders append package arguments to.
    virtual Argv install_command() const = 0;
    virtual Argv install_exact_command() const = 0;
    // One locked package as install_exact_command's argument (apt `name:arch=version`, ...).
    virtual std::string exact_spec(const LockedPackage& package) const = 0;
    virtual Argv query_command() const = 0;
    // query_command's listing of every installed package (no names given).
    virtual Argv list_all_command() const = 0;
    // Empty when exact installs need no availability check (see available_argv).
    virtual Argv available_command() const { return {}; }
    // Empty when the manager reports no archive checksums (see checksum_argv), or cannot
    // download without installing (see download_argv).
    virtual Argv checksum_command() const { return {}; }
    virtual Argv mark_auto_command() const { return {}; }
    // One package as mark_auto_command's argument; the name by default.
    virtual std::string mark_auto_spec(const PackageVersion& package) const;
    virtual Argv download_command() const { return {}; }

    // Every package record in the query output, unfiltered.
    virtual std::vector<PackageVersion> parse_query_output(const std::string& output) const = 0;

private:
    Options options_;
};

std::string_view to_string(Kind kind) noexcept;
// nullopt for an unknown name.
std::optional<Kind> parse_kind(std::string_view name) noexcept;

std::unique_ptr<PackageManager> make_package_manager(Kind kind, Options options = {});

// The manager a root filesystem uses, judged by the programs it contains (resolved inside
// `rootfs`, so a symlink in the image cannot point the check at the host): apt (usr/bin/apt-get),
// dnf (usr/bin/dnf or dnf5), zypper, pacman, apk (sbin/apk). nullopt when there is none.
std::optional<Kind> detect_kind(const std::string& rootfs);
// Like detect_kind, but throws Error(runtime) naming what was looked for when nothing matches.
std::unique_ptr<PackageManager> detect(const std::string& rootfs, Options options = {});

// The locked packages whose installed version differs from the lock, or that are not installed,
// in lock order. A locked entry with an arch only matches an installed package of that arch.
std::vector<VersionMismatch> missing_versions(const QueryResult& query,
                                              const std::vector<LockedPackage>& locked);
// The records of `after` that `before` does not hold exactly: packages an install added, upgraded
// or downgraded. Sorted by name, arch, version.
std::vector<PackageVersion> changed_packages(const std::vector<PackageVersion>& before,
                                             const std::vector<PackageVersion>& after);
// One line per mismatch: "hello 2.10-3 (amd64): installed 2.10-4" / "...: not installed".
std::string describe(const std::vector<VersionMismatch>& mismatches);

}  // namespace karapace::pkg
