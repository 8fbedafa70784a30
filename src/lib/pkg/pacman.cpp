// pacman (Arch Linux). Arch repositories keep only the newest build of each package, so an exact
// install succeeds only while the repository still offers the locked version; available_argv and
// check_available say so before anything is installed.
#include <array>
#include <map>
#include <span>
#include <sstream>
#include <string_view>

#include "karapace/util/error.hpp"
#include "pkg/managers.hpp"
#include "pkg/text.hpp"

namespace karapace::pkg {
namespace {

constexpr LayerExclusion pacman_exclusions[] = {
    {"var/cache/pacman/pkg/*", "downloaded packages, already installed"},
    {"var/lib/pacman/sync/*", "repository databases that `pacman -Sy` fetches again"},
    {"var/log/pacman.log", "pacman's log of the install, with its times"},
    {"var/cache/ldconfig/aux-cache", "ldconfig's cache of inode numbers and times of libraries"},
};

// Records of `pacman -Qi` / `pacman -Si`: blocks of "Key   : value" lines separated by blank
// lines (labels in English under LC_ALL=C). Continuation lines of multi-line values have no ':'
// at the label position and are ignored.
std::vector<PackageVersion> parse_info_blocks(const std::string& output) {
    std::vector<PackageVersion> out;
    PackageVersion current;
    auto flush = [&] {
        if (!current.name.empty() && !current.version.empty()) out.push_back(current);
        current = {};
    };
    for (auto line : text::lines(output)) {
        if (text::trim(line).empty()) {
            flush();
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || line.front() == ' ') continue;
        auto key = text::trim(line.substr(0, colon));
        auto value = std::string(text::trim(line.substr(colon + 1)));
        if (key == "Name") {
            flush();
            current.name = value;
        } else if (key == "Version") {
            current.version = value;
        } else if (key == "Architecture") {
            current.arch = value;
        }
    }
    flush();
    return out;
}

class Pacman final : public PackageManager {
public:
    explicit Pacman(Options options) : PackageManager(options) {}

    Kind kind() const noexcept override { return Kind::pacman; }

    Argv refresh_argv() const override { return sync({"-Sy", "--noconfirm"}); }

    void check_available(const std::string& output,
                         const std::vector<LockedPackage>& packages) const override {
        std::multimap<std::string, std::string> offered;
        for (const auto& r : parse_info_blocks(output))
            offered.emplace(r.name, r.version);
        std::ostringstream gone;
        for (const auto& p : packages) {
            auto [first, last] = offered.equal_range(p.name);
            bool match = false;
            std::string versions;
            for (auto it = first; it != last; ++it) {
                if (it->second == p.version) match = true;
                versions += (versions.empty() ? "" : ", ") + it->second;
            }
            if (match) continue;
            gone << "\n  " << p.name << ' ' << p.version << ": "
                 << (versions.empty() ? "not in any repository" : "the repository has " + versions);
        }
        if (gone.str().empty()) return;
        throw Error(
            Errc::conflict,
            "pacman can only install the versions its repositories offer now, and these "
            "locked versions are no longer offered:" +
                gone.str(),
            "Arch repositories keep only the newest build; rebuild without --locked to lock "
            "the current versions, or use an image whose mirror is an archive snapshot "
            "(archive.archlinux.org) of the lock's date");
    }

    Argv clean_argv() const override { return sync({"-Scc", "--noconfirm"}); }

    std::span<const LayerExclusion> layer_exclusions() const override { return pacman_exclusions; }

    std::vector<std::string> environment() const override { return {"LC_ALL=C"}; }

    std::vector<std::string> error_lines(const std::string& output) const override {
        static constexpr std::array<std::string_view, 1> heads{"error:"};
        return text::error_lines(output, heads, false);
    }

protected:
    // -u with the install: after a database refresh, Arch supports only whole-system upgrades
    // (installing against a refreshed database without -u is a partial upgrade).
    Argv install_command() const override { return sync({"-Su", "--noconfirm", "--needed"}); }

    // Exact installs upgrade nothing else: the lock does not cover the rest of the system.
    Argv install_exact_command() const override { return sync({"-S", "--noconfirm", "--needed"}); }

    // `name=version` is a version constraint pacman resolves against the sync databases: if the
    // repository no longer has that version, pacman fails with "target not found".
    std::string exact_spec(const LockedPackage& p) const override {
        return p.name + "=" + p.version;
    }

    Argv mark_auto_command() const override { return {"pacman", "-D", "--asdeps", "--"}; }

    Argv available_command() const override { return {"pacman", "-Si", "--"}; }

    // -Qi rather than -Q: it also reports the architecture.
    Argv query_command() const override { return {"pacman", "-Qi", "--"}; }
    Argv list_all_command() const override { return {"pacman", "-Qi"}; }

    std::vector<PackageVersion> parse_query_output(const std::string& output) const override {
        return parse_info_blocks(output);
    }

private:
    Argv sync(std::initializer_list<const char*> args) const {
        Argv argv{"pacman"};
        argv.insert(argv.end(), args.begin(), args.end());
        // pacman >= 7 downloads as the `alpm` user inside a Landlock sandbox; with one uid mapped
        // that user does not exist in the namespace.
        if (options().single_uid_mapping) argv.push_back("--disable-sandbox");
        return argv;
    }
};

}  // namespace

std::unique_ptr<PackageManager> make_pacman(Options options) {
    return std::make_unique<Pacman>(options);
}

}  // namespace karapace::pkg
