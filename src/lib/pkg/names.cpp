#include "pkg/names.hpp"

#include <string>

#include "karapace/util/error.hpp"

namespace karapace::pkg {

void check_package_name(std::string_view name) {
    auto bad = [&](const std::string& why) {
        throw Error(Errc::manifest, "invalid package name '" + std::string(name) + "': " + why,
                    "fix the name in [system] packages of karapace.toml");
    };
    if (name.empty()) bad("it is empty");
    if (name.front() == '-') bad("it starts with '-', which a package manager reads as an option");
    for (unsigned char c : name)
        if (c <= ' ' || c == 0x7f) bad("it contains whitespace or a control character");
}

void check_package_names(const std::vector<std::string>& names) {
    for (const auto& n : names)
        check_package_name(n);
}

void check_package_names(const std::vector<LockedPackage>& packages) {
    for (const auto& p : packages) {
        check_package_name(p.name);
        if (p.version.empty() || p.version.front() == '-')
            throw Error(
                Errc::manifest,
                "locked package '" + p.name + "' has an invalid version '" + p.version + "'",
                "rebuild without --locked to write a fresh karapace.lock");
        for (unsigned char c : p.version + p.arch)
            if (c <= ' ' || c == 0x7f)
                throw Error(Errc::manifest,
                            "locked package '" + p.name + "' has whitespace in its version or arch",
                            "rebuild without --locked to write a fresh karapace.lock");
    }
}

}  // namespace karapace::pkg
