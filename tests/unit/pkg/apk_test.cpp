// apk: argv builders and `apk list --installed` parsing. The line format is the one apk-tools'
// src/app_list.c prints ("name-version arch {origin} (license) [installed]"); the error block is
// apk's "unable to select packages" report (as quoted in alpinelinux/alpine-make-rootfs#21).
#include <catch2/catch.hpp>

#include "karapace/pkg/package_manager.hpp"

using namespace karapace::pkg;

TEST_CASE("apk refreshes its index and adds packages without a progress bar") {
    auto apk = make_package_manager(Kind::apk);
    CHECK(apk->name() == "apk");
    CHECK(apk->refresh_argv() == Argv{"apk", "--no-progress", "update"});
    CHECK(apk->install_argv({"hello", "jq"}) == Argv{"apk", "--no-progress", "add", "hello", "jq"});
    CHECK(apk->install_exact_argv({{"jq", "1.7.1-r0", "x86_64"}}) ==
          Argv{"apk", "--no-progress", "add", "jq=1.7.1-r0"});
    CHECK(apk->query_argv({"jq"}) == Argv{"apk", "--no-progress", "list", "--installed", "jq"});
}

TEST_CASE("apk list lines split name and version at the release suffix") {
    auto apk = make_package_manager(Kind::apk);
    const std::string out =
        "busybox-1.36.1-r29 x86_64 {busybox} (GPL-2.0-only) [installed]\n"
        "ca-certificates-bundle-20240705-r0 x86_64 {ca-certificates} (MPL-2.0 AND MIT) "
        "[installed]\n"
        "jq-1.7.1-r0 x86_64 {jq} (MIT) [installed]\n";
    auto r = apk->parse_versions(out, {"jq", "ca-certificates-bundle", "busybox", "hello"});
    REQUIRE(r.installed.size() == 3);
    CHECK(r.installed[0] == PackageVersion{"jq", "1.7.1-r0", "x86_64"});
    CHECK(r.installed[1] == PackageVersion{"ca-certificates-bundle", "20240705-r0", "x86_64"});
    CHECK(r.installed[2] == PackageVersion{"busybox", "1.36.1-r29", "x86_64"});
    CHECK(r.not_installed == std::vector<std::string>{"hello"});
    CHECK(apk->list_installed_argv() == Argv{"apk", "--no-progress", "list", "--installed"});
    CHECK(apk->parse_installed(out).size() == 3);
}

TEST_CASE("apk failures show the ERROR line with the packages below it") {
    auto apk = make_package_manager(Kind::apk);
    const std::string out =
        "fetch http://dl-cdn.alpinelinux.org/alpine/v3.20/main/x86_64/APKINDEX.tar.gz\n"
        "ERROR: unable to select packages:\n"
        "  karapace-nope (no such package):\n"
        "    required by: world[karapace-nope]\n"
        "OK: 8 MiB in 14 packages\n";
    CHECK(apk->error_lines(out) ==
          std::vector<std::string>{
              "ERROR: unable to select packages:", "  karapace-nope (no such package):",
              "    required by: world[karapace-nope]"});
}
