// lexically_absolute (karapace/util/paths.hpp) against std::filesystem's lexical rules, which it
// used before: the same answer for absolute and relative paths, dots, repeated and trailing
// slashes.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "karapace/util/paths.hpp"

using karapace::lexically_absolute;

namespace {

// std::filesystem's lexically_normal of base/path, one trailing slash dropped. libstdc++ leaves a
// path of three or more slashes and nothing else as it is ("///" -> "//" here), where
// lexically_absolute gives "/".
std::string by_filesystem(const std::string& path, const std::string& base) {
    std::filesystem::path p(path);
    if (p.is_relative()) p = std::filesystem::path(base) / p;
    std::string joined = p.string();
    if (!joined.empty() && joined.find_first_not_of('/') == std::string::npos) return "/";
    std::string out = p.lexically_normal().string();
    if (out.size() > 1 && out.back() == '/') out.pop_back();
    return out;
}

}  // namespace

TEST_CASE("lexically_absolute normalises without the filesystem", "[paths]") {
    CHECK(lexically_absolute("/a/./b/../c", "/") == "/a/c");
    CHECK(lexically_absolute("/", "/x") == "/");
    CHECK(lexically_absolute("/..", "/") == "/");
    CHECK(lexically_absolute("/../../a", "/") == "/a");
    CHECK(lexically_absolute("//a//b//", "/") == "/a/b");
    CHECK(lexically_absolute("b/c", "/a") == "/a/b/c");
    CHECK(lexically_absolute("../../..", "/a/b") == "/");
    CHECK(lexically_absolute("", "/a/b/") == "/a/b");
    CHECK(lexically_absolute("...", "/a") == "/a/...");
    CHECK(lexically_absolute("a/../..", "") == "..");
    CHECK(lexically_absolute("///", "/") == "/");
}

TEST_CASE("lexically_absolute follows std::filesystem's rules", "[paths]") {
    const char* parts[] = {"", "/", "//", "a", "b", ".", "..", "...", ".x", "a.", "/./", "/../"};
    const char* bases[] = {"/", "/srv/store", "/srv/store/", "/a/../b", "rel/dir", ""};
    // Every path of up to four parts, as given, without its first character and made absolute,
    // against each base.
    int checked = 0, differ = 0;
    for (const char* base : bases)
        for (const char* p1 : parts)
            for (const char* p2 : parts)
                for (const char* p3 : parts)
                    for (const char* p4 : parts) {
                        std::string path = std::string(p1) + p2 + "/" + p3 + p4;
                        for (const std::string& c : {path, path.substr(1), "/" + path}) {
                            ++checked;
                            if (lexically_absolute(c, base) != by_filesystem(c, base) &&
                                ++differ <= 5) {
                                INFO("path '" << c << "', base '" << base << "'");
                                CHECK(lexically_absolute(c, base) == by_filesystem(c, base));
                            }
                        }
                    }
    CHECK(checked > 100000);
    CHECK(differ == 0);
}

TEST_CASE("lexically_absolute against the current directory", "[paths]") {
    char buf[4096];
    REQUIRE(::getcwd(buf, sizeof buf) != nullptr);
    CHECK(lexically_absolute("x/../y") == lexically_absolute(std::string(buf) + "/y", "/"));
    CHECK(lexically_absolute("/x/./y") == "/x/y");
}
