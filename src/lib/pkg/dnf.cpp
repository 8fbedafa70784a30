// dnf (Fedora, RHEL and derivatives; dnf5 on newer Fedora): installs, with rpm answering queries.
#include <array>
#include <span>
#include <string_view>

#include "pkg/managers.hpp"
#include "pkg/rpm.hpp"
#include "pkg/text.hpp"

namespace karapace::pkg {
namespace {

constexpr LayerExclusion dnf_exclusions[] = {
    {"var/cache/dnf/*", "repository metadata and downloaded packages"},
    {"var/cache/libdnf5/*", "dnf5's repository metadata and downloaded packages"},
    {"var/log/dnf*", "dnf's logs of the install, with their times"},
    {"var/log/hawkey.log", "libdnf's log of the install, with its times"},
    {"var/lib/dnf/history.sqlite*", "dnf's transaction history, with the times of the install"},
    {"var/lib/rpm/__db.*", "rpm's Berkeley DB environment files, runtime state"},
    {"var/cache/ldconfig/aux-cache", "ldconfig's cache of inode numbers and times of libraries"},
};

class Dnf final : public PackageManager {
public:
    Dnf(Options options, std::string program)
        : PackageManager(options), program_(std::move(program)) {}

    Kind kind() const noexcept override { return Kind::dnf; }

    Argv refresh_argv() const override { return {program_, "-y", "makecache"}; }

    std::vector<std::string> environment() const override { return {"LC_ALL=C"}; }

    std::vector<std::string> error_lines(const std::string& output) const override {
        // dnf4: "No match for argument: x" then "Error: Unable to find a match: x";
        // dnf5: "Failed to resolve the transaction:" then "No match for argument: x";
        // both: "Problem: ..." followed by indented "  - nothing provides ..." lines.
        static constexpr std::array<std::string_view, 5> heads{"Error:", "No match for argument",
                                                               "Failed to resolve the transaction",
                                                               "Problem", "Transaction failed"};
        return text::error_lines(output, heads, true);
    }

    Argv clean_argv() const override { return {program_, "clean", "all"}; }

    std::span<const LayerExclusion> layer_exclusions() const override { return dnf_exclusions; }

    PackageVersion split_request(std::string_view request) const override {
        return rpm::split_request(request);
    }

protected:
    // Weak dependencies are the rpm world's recommends: left out, like apt's.
    Argv install_command() const override {
        return {program_, "install", "-y", "--setopt=install_weak_deps=False"};
    }

    Argv install_exact_command() const override { return install_command(); }

    // NEVRA: name-[epoch:]version-release.arch, which dnf matches exactly.
    std::string exact_spec(const LockedPackage& p) const override {
        return p.name + "-" + p.version + (p.arch.empty() ? "" : "." + p.arch);
    }

    Argv query_command() const override { return rpm::query_command(); }
    Argv list_all_command() const override { return rpm::list_all_command(); }

    std::vector<PackageVersion> parse_query_output(const std::string& output) const override {
        return rpm::parse_query(output);
    }

private:
    std::string program_;
};

}  // namespace

std::unique_ptr<PackageManager> make_dnf(Options options, std::string program) {
    return std::make_unique<Dnf>(options, std::move(program));
}

}  // namespace karapace::pkg
