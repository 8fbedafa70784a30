// zypper (openSUSE, SLE): installs, with rpm answering queries.
#include <array>
#include <span>
#include <string_view>

#include "pkg/managers.hpp"
#include "pkg/rpm.hpp"
#include "pkg/text.hpp"

namespace karapace::pkg {
namespace {

constexpr LayerExclusion zypper_exclusions[] = {
    {"var/cache/zypp/*", "repository metadata, solver caches and downloaded packages"},
    {"var/log/zypp*", "zypper's and libzypp's logs of the install, with their times"},
    {"var/lib/zypp/AnonymousUniqueId", "a random id zypper sends to repositories"},
    {"var/cache/ldconfig/aux-cache", "ldconfig's cache of inode numbers and times of libraries"},
};

class Zypper final : public PackageManager {
public:
    explicit Zypper(Options options) : PackageManager(options) {}

    Kind kind() const noexcept override { return Kind::zypper; }

    // --non-interactive is a global option: it must come before the command.
    Argv refresh_argv() const override { return {"zypper", "--non-interactive", "refresh"}; }

    std::vector<std::string> environment() const override { return {"LC_ALL=C"}; }

    std::vector<std::string> error_lines(const std::string& output) const override {
        // "No provider of 'x' found." (also for `x = version` that no repository has),
        // "Package 'x' not found.", solver "Problem: ..." with indented solutions, repository and
        // download failures.
        static constexpr std::array<std::string_view, 7> heads{
            "No provider of",       "Package '", "Problem:", "Error", "ERROR", "Repository '",
            "Download (curl) error"};
        return text::error_lines(output, heads, true);
    }

    Argv clean_argv() const override { return {"zypper", "--non-interactive", "clean", "-a"}; }

    std::span<const LayerExclusion> layer_exclusions() const override { return zypper_exclusions; }

    PackageVersion split_request(std::string_view request) const override {
        return rpm::split_request(request);
    }

protected:
    Argv install_command() const override {
        return {"zypper", "--non-interactive", "install", "--no-recommends"};
    }

    // --oldpackage lets a locked version replace a newer one the image already has.
    Argv install_exact_command() const override {
        auto argv = install_command();
        argv.push_back("--oldpackage");
        return argv;
    }

    std::string exact_spec(const LockedPackage& p) const override {
        return p.name + (p.arch.empty() ? "" : "." + p.arch) + "=" + p.version;
    }

    Argv query_command() const override { return rpm::query_command(); }
    Argv list_all_command() const override { return rpm::list_all_command(); }

    std::vector<PackageVersion> parse_query_output(const std::string& output) const override {
        return rpm::parse_query(output);
    }
};

}  // namespace

std::unique_ptr<PackageManager> make_zypper(Options options) {
    return std::make_unique<Zypper>(options);
}

}  // namespace karapace::pkg
