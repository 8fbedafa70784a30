// apt (Debian, Ubuntu): apt-get installs, dpkg-query reports what is installed.
#include <array>
#include <optional>
#include <span>
#include <string_view>

#include "pkg/managers.hpp"
#include "pkg/text.hpp"

namespace karapace::pkg {
namespace {

constexpr LayerExclusion apt_exclusions[] = {
    {"var/lib/apt/lists/*", "repository indexes: tens of MB that `apt-get update` fetches again"},
    {"var/cache/apt/*", "binary caches apt rebuilds from the indexes, and downloaded packages"},
    {"var/log/apt/*", "apt's history and terminal log of the install, with its times"},
    {"var/log/dpkg.log", "dpkg's log of the install, with its times"},
    {"var/log/alternatives.log", "update-alternatives' log of the install, with its times"},
    {"var/lib/dpkg/*-old", "dpkg's copies of its database from before the install"},
    {"var/cache/debconf/*-old", "debconf's copies of its database from before the install"},
    {"var/cache/ldconfig/aux-cache", "ldconfig's cache of inode numbers and times of libraries"},
};

class Apt final : public PackageManager {
public:
    explicit Apt(Options options) : PackageManager(options) {}

    Kind kind() const noexcept override { return Kind::apt; }

    Argv refresh_argv() const override {
        auto argv = apt_get();
        argv.push_back("update");
        return argv;
    }

    std::vector<std::string> environment() const override {
        return {"DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true",
                "APT_LISTCHANGES_FRONTEND=none", "LC_ALL=C"};
    }

    std::vector<std::string> error_lines(const std::string& output) const override {
        static constexpr std::array<std::string_view, 2> heads{"E: ", "dpkg: error"};
        return text::error_lines(output, heads, false);
    }

    Argv clean_argv() const override {
        auto argv = apt_get();
        argv.push_back("clean");
        return argv;
    }

    std::span<const LayerExclusion> layer_exclusions() const override { return apt_exclusions; }

    std::vector<ArchiveChecksum> parse_checksums(const std::string& output) const override {
        // apt-cache show prints one Packages record per version, records separated by a blank
        // line; the record from dpkg's status file (an installed version no index offers) has
        // no SHA256 field and is skipped.
        std::vector<ArchiveChecksum> out;
        ArchiveChecksum record;
        auto flush = [&] {
            if (!record.package.name.empty() && !record.package.version.empty() &&
                record.sha256.size() == 64)
                out.push_back(record);
            record = {};
        };
        for (auto line : text::lines(output)) {
            if (text::trim(line).empty()) {
                flush();
                continue;
            }
            auto colon = line.find(':');
            if (colon == std::string_view::npos || line[0] == ' ') continue;
            auto key = line.substr(0, colon);
            auto value = std::string(text::trim(line.substr(colon + 1)));
            if (key == "Package") record.package.name = value;
            if (key == "Version") record.package.version = value;
            if (key == "Architecture") record.package.arch = value;
            if (key == "SHA256") record.sha256 = value;
        }
        flush();
        return out;
    }

    std::string archive_dir() const override { return "var/cache/apt/archives"; }

    std::optional<PackageVersion> archive_package(std::string_view file) const override {
        // apt names a downloaded package `name_version_arch.deb`, the version's ':' written %3a.
        if (!file.ends_with(".deb")) return std::nullopt;
        auto fields = text::split(file.substr(0, file.size() - 4), '_');
        if (fields.size() != 3 || fields[0].empty() || fields[1].empty()) return std::nullopt;
        std::string version;
        for (std::size_t i = 0; i < fields[1].size(); ++i) {
            if (fields[1].substr(i, 3) == "%3a") {
                version += ':';
                i += 2;
            } else {
                version += fields[1][i];
            }
        }
        return PackageVersion{std::string(fields[0]), version, std::string(fields[2])};
    }

    PackageVersion split_request(std::string_view request) const override {
        // Debian package names never contain ':', so the first one starts the architecture.
        auto colon = request.find(':');
        if (colon == std::string_view::npos) return {std::string(request), {}, {}};
        return {std::string(request.substr(0, colon)), {}, std::string(request.substr(colon + 1))};
    }

protected:
    Argv install_command() const override {
        auto argv = apt_get();
        // Keep the image's configuration files without asking when a package brings new ones.
        for (const char* opt :
             {"Dpkg::Options::=--force-confdef", "Dpkg::Options::=--force-confold"}) {
            argv.push_back("-o");
            argv.push_back(opt);
        }
        argv.insert(argv.end(), {"install", "-y", "--no-install-recommends"});
        return argv;
    }

    Argv install_exact_command() const override {
        auto argv = install_command();
        // The image may already carry a newer version of a locked package.
        argv.push_back("--allow-downgrades");
        return argv;
    }

    std::string exact_spec(const LockedPackage& p) const override {
        // `name:arch=version`; arch-independent packages take no qualifier.
        if (p.arch.empty() || p.arch == "all") return p.name + "=" + p.version;
        return p.name + ":" + p.arch + "=" + p.version;
    }

    Argv checksum_command() const override { return {"apt-cache", "show", "--"}; }

    Argv mark_auto_command() const override { return {"apt-mark", "auto", "--"}; }

    std::string mark_auto_spec(const PackageVersion& p) const override {
        if (p.arch.empty() || p.arch == "all") return p.name;
        return p.name + ":" + p.arch;
    }

    Argv download_command() const override {
        auto argv = install_exact_command();
        argv.push_back("--download-only");
        return argv;
    }

    Argv query_command() const override {
        // dpkg-query expands the \t and \n escapes itself. The status column tells installed
        // packages from ones that only left their configuration files behind.
        return {"dpkg-query", "--show",
                "--showformat=${Package}\\t${Version}\\t${Architecture}\\t${db:Status-Abbrev}\\n",
                "--"};
    }

    Argv list_all_command() const override {
        auto argv = query_command();
        argv.pop_back();  // no "--": with no pattern, dpkg-query lists every package
        return argv;
    }

    std::vector<PackageVersion> parse_query_output(const std::string& output) const override {
        std::vector<PackageVersion> out;
        for (auto line : text::lines(output)) {
            auto fields = text::split(line, '\t');
            if (fields.size() < 3 || fields[0].empty() || fields[1].empty()) continue;
            // db:Status-Abbrev is want/status/error, e.g. "ii " or "rc ": keep status 'i'.
            if (fields.size() >= 4 && (fields[3].size() < 2 || fields[3][1] != 'i')) continue;
            out.push_back({std::string(fields[0]), std::string(fields[1]),
                           std::string(text::trim(fields[2]))});
        }
        return out;
    }

private:
    Argv apt_get() const {
        // No pseudo-terminal progress bar in captured output; retry flaky mirrors.
        Argv argv{"apt-get", "-o", "Dpkg::Use-Pty=0", "-o", "Acquire::Retries=3"};
        // With one uid mapped, apt's switch to the `_apt` user fails ("setgroups 65534 failed").
        if (options().single_uid_mapping) {
            argv.push_back("-o");
            argv.push_back("APT::Sandbox::User=root");
        }
        return argv;
    }
};

}  // namespace

std::unique_ptr<PackageManager> make_apt(Options options) { return std::make_unique<Apt>(options); }

}  // namespace karapace::pkg
