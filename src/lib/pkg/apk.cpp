// apk (Alpine Linux).
#include <array>
#include <span>
#include <string_view>

#include "pkg/managers.hpp"
#include "pkg/text.hpp"

namespace karapace::pkg {
namespace {

constexpr LayerExclusion apk_exclusions[] = {
    {"var/cache/apk/*", "repository indexes (APKINDEX) that `apk update` fetches again"},
};

// Splits apk's "name-version" (`ca-certificates-bundle-20240226-r0`): versions always end in
// "-r<digits>", and the version starts after the '-' before that.
bool split_name_version(std::string_view token, PackageVersion& out) {
    auto rel = token.rfind("-r");
    if (rel == std::string_view::npos || rel == 0 || rel + 2 >= token.size()) return false;
    for (char c : token.substr(rel + 2))
        if (c < '0' || c > '9') return false;
    auto dash = token.rfind('-', rel - 1);
    if (dash == std::string_view::npos || dash == 0) return false;
    out.name = std::string(token.substr(0, dash));
    out.version = std::string(token.substr(dash + 1));
    return true;
}

class Apk final : public PackageManager {
public:
    explicit Apk(Options options) : PackageManager(options) {}

    Kind kind() const noexcept override { return Kind::apk; }

    Argv refresh_argv() const override { return {"apk", "--no-progress", "update"}; }

    // apk keeps no package cache unless /etc/apk/cache is set up; its indexes are in the table.
    Argv clean_argv() const override { return {}; }

    std::span<const LayerExclusion> layer_exclusions() const override { return apk_exclusions; }

    std::vector<std::string> environment() const override { return {"LC_ALL=C"}; }

    std::vector<std::string> error_lines(const std::string& output) const override {
        // "ERROR: unable to select packages:" names the packages on the indented lines below it.
        static constexpr std::array<std::string_view, 1> heads{"ERROR:"};
        return text::error_lines(output, heads, true);
    }

protected:
    Argv install_command() const override { return {"apk", "--no-progress", "add"}; }

    // `name=version` pins the version in /etc/apk/world; apk downgrades to it if needed.
    Argv install_exact_command() const override { return install_command(); }

    std::string exact_spec(const LockedPackage& p) const override {
        return p.name + "=" + p.version;
    }

    Argv query_command() const override { return {"apk", "--no-progress", "list", "--installed"}; }
    Argv list_all_command() const override { return query_command(); }

    // `apk list --installed` lines: "name-version arch {origin} (license) [installed]".
    std::vector<PackageVersion> parse_query_output(const std::string& output) const override {
        std::vector<PackageVersion> out;
        for (auto line : text::lines(output)) {
            // An upgradable entry shows the repository's version, not the installed one.
            if (line.find("[upgradable from") != std::string_view::npos) continue;
            auto fields = text::split(text::trim(line), ' ');
            if (fields.size() < 2) continue;
            PackageVersion record;
            if (!split_name_version(fields[0], record)) continue;
            record.arch = std::string(fields[1]);
            out.push_back(std::move(record));
        }
        return out;
    }
};

}  // namespace

std::unique_ptr<PackageManager> make_apk(Options options) { return std::make_unique<Apk>(options); }

}  // namespace karapace::pkg
