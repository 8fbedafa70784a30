// Test driver for the package-manager integration tests: prints what the pkg layer builds and
// parses, so a shell script can run the commands for real (e.g. inside a chroot) and feed their
// output back. argv and environment lists are printed NUL-separated, everything else as lines.
//
//   pkg_argv_tool [--single-uid] MANAGER refresh | env
//   pkg_argv_tool [--single-uid] MANAGER install PKG... | query PKG...
//   pkg_argv_tool [--single-uid] MANAGER install-exact NAME VERSION ARCH [NAME VERSION ARCH]...
//   pkg_argv_tool MANAGER parse PKG... < query-output     -> "NAME\tVERSION\tARCH" / "missing\tPKG"
//   pkg_argv_tool MANAGER missing NAME VERSION ARCH... < query-output  -> describe() lines
//   pkg_argv_tool MANAGER errors < command-output          -> error_lines()
//   pkg_argv_tool detect ROOTFS                            -> the manager's name
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "karapace/pkg/package_manager.hpp"
#include "karapace/util/error.hpp"

using namespace karapace;
using namespace karapace::pkg;

namespace {

void print_nul(const std::vector<std::string>& items) {
    for (const auto& s : items)
        std::cout << s << '\0';
}

std::string read_stdin() {
    return {std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
}

std::vector<LockedPackage> triples(const std::vector<std::string>& args) {
    if (args.size() % 3 != 0) throw Error(Errc::usage, "expected NAME VERSION ARCH triples");
    std::vector<LockedPackage> out;
    for (std::size_t i = 0; i < args.size(); i += 3)
        out.push_back({args[i], args[i + 1], args[i + 2]});
    return out;
}

int run(std::vector<std::string> args) {
    Options options;
    if (!args.empty() && args.front() == "--single-uid") {
        options.single_uid_mapping = true;
        args.erase(args.begin());
    }
    if (args.size() >= 2 && args[0] == "detect") {
        std::cout << detect(args[1], options)->name() << '\n';
        return 0;
    }
    if (args.size() < 2) throw Error(Errc::usage, "usage: pkg_argv_tool MANAGER COMMAND [ARGS...]");
    auto kind = parse_kind(args[0]);
    if (!kind) throw Error(Errc::usage, "unknown package manager '" + args[0] + "'");
    auto pm = make_package_manager(*kind, options);
    const std::string command = args[1];
    const std::vector<std::string> rest(args.begin() + 2, args.end());

    if (command == "refresh") {
        print_nul(pm->refresh_argv());
    } else if (command == "env") {
        print_nul(pm->environment());
    } else if (command == "install") {
        print_nul(pm->install_argv(rest));
    } else if (command == "install-exact") {
        print_nul(pm->install_exact_argv(triples(rest)));
    } else if (command == "query") {
        print_nul(pm->query_argv(rest));
    } else if (command == "parse") {
        auto result = pm->parse_versions(read_stdin(), rest);
        for (const auto& p : result.installed)
            std::cout << p.name << '\t' << p.version << '\t' << p.arch << '\n';
        for (const auto& n : result.not_installed)
            std::cout << "missing\t" << n << '\n';
    } else if (command == "missing") {
        auto locked = triples(rest);
        std::vector<std::string> names;
        names.reserve(locked.size());
        for (const auto& p : locked)
            names.push_back(p.name);
        auto text = describe(missing_versions(pm->parse_versions(read_stdin(), names), locked));
        if (!text.empty()) std::cout << text << '\n';
    } else if (command == "errors") {
        for (const auto& line : pm->error_lines(read_stdin()))
            std::cout << line << '\n';
    } else {
        throw Error(Errc::usage, "unknown command '" + command + "'");
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(std::vector<std::string>(argv + 1, argv + argc));
    } catch (const Error& e) {
        std::cerr << "pkg_argv_tool: " << e.what() << '\n';
        if (!e.hint().empty()) std::cerr << "hint: " << e.hint() << '\n';
        return exit_code(e.code());
    }
}
