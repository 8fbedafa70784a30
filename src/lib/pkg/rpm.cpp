#include "pkg/rpm.hpp"

#include <array>

#include "pkg/text.hpp"

namespace karapace::pkg::rpm {

Argv query_command() {
    // rpm expands \t and \n in a query format itself.
    return {"rpm", "-q", "--qf", "%{NAME}\\t%{EPOCH}:%{VERSION}-%{RELEASE}\\t%{ARCH}\\n", "--"};
}

Argv list_all_command() {
    auto argv = query_command();
    argv.back() = "-a";  // every installed package instead of the names that would follow "--"
    return argv;
}

std::vector<PackageVersion> parse_query(const std::string& output) {
    std::vector<PackageVersion> out;
    for (auto line : text::lines(output)) {
        auto fields = text::split(line, '\t');
        if (fields.size() != 3 || fields[0].empty() || fields[1].empty()) continue;
        std::string_view version = fields[1];
        if (version.starts_with("(none):")) version.remove_prefix(7);
        out.push_back(
            {std::string(fields[0]), std::string(version), std::string(text::trim(fields[2]))});
    }
    return out;
}

bool is_arch(std::string_view word) {
    static constexpr std::array<std::string_view, 20> arches{
        "noarch",  "x86_64", "x86_64_v2", "x86_64_v3", "i386",        "i486",    "i586",
        "i686",    "athlon", "aarch64",   "armv7hl",   "armv7l",      "armv6hl", "armv6l",
        "ppc64le", "ppc64",  "s390x",     "riscv64",   "loongarch64", "ia64"};
    for (auto a : arches)
        if (a == word) return true;
    return false;
}

PackageVersion split_request(std::string_view request) {
    auto dot = request.rfind('.');
    if (dot != std::string_view::npos && dot > 0 && is_arch(request.substr(dot + 1)))
        return {std::string(request.substr(0, dot)), {}, std::string(request.substr(dot + 1))};
    return {std::string(request), {}, {}};
}

}  // namespace karapace::pkg::rpm
