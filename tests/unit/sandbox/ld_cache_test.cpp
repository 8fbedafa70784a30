#include "karapace/sandbox/ld_cache.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "karapace/util/error.hpp"
#include "karapace/util/fd.hpp"

using namespace karapace;
using namespace karapace::sandbox;

namespace {

std::string run(const std::string& command) {
    std::string out;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buf[4096];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
            out.append(buf, n);
        ::pclose(p);
    }
    return out;
}

std::string ldconfig() {
    for (const char* p : {"/sbin/ldconfig", "/usr/sbin/ldconfig"})
        if (::access(p, X_OK) == 0) return p;
    return {};
}

// `ldconfig -p` lines without the "N libs found in cache" header.
std::vector<std::string> listing(const std::string& cache_file) {
    std::vector<std::string> lines;
    std::stringstream in(run(ldconfig() + " -p -C " + cache_file + " 2>&1"));
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line.front() == '\t') lines.push_back(line);
    return lines;
}

struct TempFile {
    std::string path;
    explicit TempFile(const std::string& content) {
        char tmpl[] = "/tmp/karapace-ldcache-test.XXXXXX";
        int fd = ::mkstemp(tmpl);
        path = tmpl;
        write_all(fd, content, path);
        ::close(fd);
    }
    ~TempFile() { ::unlink(path.c_str()); }
};

std::string host_cache() {
    try {
        return read_file("/etc/ld.so.cache");
    } catch (const Error&) {
        return {};
    }
}

}  // namespace

TEST_CASE("ld.so's name order compares runs of digits as numbers") {
    CHECK(ld_cache_name_compare("libfoo.so.10", "libfoo.so.9") > 0);
    CHECK(ld_cache_name_compare("libfoo.so.9", "libfoo.so.10") < 0);
    CHECK(ld_cache_name_compare("libfoo.so.1", "libfoo.so.1") == 0);
    CHECK(ld_cache_name_compare("libfoo.so.01", "libfoo.so.1") == 0);
    CHECK(ld_cache_name_compare("libfoo.so", "libfoo.so.1") < 0);
    CHECK(ld_cache_name_compare("libfoo.so.1", "libfoo.so") > 0);
    CHECK(ld_cache_name_compare("liba.so", "libb.so") < 0);
    // A digit sorts after any other character at the same place.
    CHECK(ld_cache_name_compare("lib1", "libx") > 0);
    CHECK(ld_cache_name_compare("libx", "lib1") < 0);
}

TEST_CASE("the host's ld.so.cache reads as ldconfig -p lists it, and writes back the same") {
    auto data = host_cache();
    if (data.empty() || ldconfig().empty()) {
        WARN("skipped: no /etc/ld.so.cache or ldconfig on this host");
        return;
    }
    auto cache = parse_ld_cache(data, "/etc/ld.so.cache");
    auto expected = listing("/etc/ld.so.cache");
    REQUIRE(cache.entries.size() == expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const auto& e = cache.entries[i];
        CHECK(expected[i].rfind("\t" + e.name + " (", 0) == 0);
        CHECK(expected[i].find("=> " + e.path) != std::string::npos);
    }
    // Written again, ldconfig lists it line for line the same.
    TempFile same(write_ld_cache(cache, "test"));
    CHECK(listing(same.path) == expected);
    // Sorted by our own code from the reverse order, names and flags come in ldconfig's order,
    // which ld.so's binary search relies on (entries equal in both keep no particular order).
    std::reverse(cache.entries.begin(), cache.entries.end());
    TempFile sorted(write_ld_cache(cache, "test"));
    auto keys = [](const std::vector<std::string>& lines) {
        std::vector<std::string> out;
        for (const auto& l : lines)
            out.push_back(l.substr(0, l.find(" => ")));
        return out;
    };
    CHECK(keys(listing(sorted.path)) == keys(expected));
}

TEST_CASE("an added library replaces the cache's entry of the same name and flags") {
    LdCache cache;
    cache.entries = {{0x0303, "libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", 0, 0},
                     {0x0303, "libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", 0, 0},
                     {0x0003, "libcuda.so.1", "/usr/lib/i386-linux-gnu/libcuda.so.1", 0, 0}};
    ld_cache_put(cache,
                 {{0x0303, "libcuda.so.1", "/run/host/nvidia/lib64/libcuda.so.1", 0, 0},
                  {0x0303, "libnvidia-ml.so.1", "/run/host/nvidia/lib64/libnvidia-ml.so.1", 0, 0}});
    auto back = parse_ld_cache(write_ld_cache(cache, "test"), "test");
    std::vector<std::string> got;
    for (const auto& e : back.entries)
        got.push_back(e.name + "=" + e.path + "@" + std::to_string(e.flags));
    // Names descending in ld.so's order; for one name, 64-bit before 32-bit.
    CHECK(got ==
          std::vector<std::string>{"libnvidia-ml.so.1=/run/host/nvidia/lib64/libnvidia-ml.so.1@771",
                                   "libcuda.so.1=/run/host/nvidia/lib64/libcuda.so.1@771",
                                   "libcuda.so.1=/usr/lib/i386-linux-gnu/libcuda.so.1@3",
                                   "libc.so.6=/lib/x86_64-linux-gnu/libc.so.6@771"});
    if (!ldconfig().empty()) {
        TempFile written(write_ld_cache(cache, "test"));
        auto lines = listing(written.path);
        REQUIRE(lines.size() == 4);
        CHECK(lines[1] == "\tlibcuda.so.1 (libc6,x86-64) => /run/host/nvidia/lib64/libcuda.so.1");
    }
}

TEST_CASE("glibc-hwcaps entries keep their subdirectory through a rewrite") {
    LdCache cache;
    cache.glibc_hwcaps = {"x86-64-v3"};
    constexpr std::uint64_t ext = std::uint64_t{1} << 62;
    cache.entries = {{0x0303, "libz.so.1", "/usr/lib/glibc-hwcaps/x86-64-v3/libz.so.1", 0, ext | 0},
                     {0x0303, "libz.so.1", "/usr/lib/libz.so.1", 0, 0}};
    auto data = write_ld_cache(cache, "test");
    auto back = parse_ld_cache(data, "test");
    REQUIRE(back.glibc_hwcaps == cache.glibc_hwcaps);
    REQUIRE(back.entries.size() == 2);
    CHECK(back.entries[0].hwcap == (ext | 0));  // extension entries come first
    CHECK(back.entries[1].hwcap == 0);
    if (!ldconfig().empty()) {
        TempFile written(data);
        auto lines = listing(written.path);
        REQUIRE(lines.size() == 2);
        CHECK(lines[0].find("hwcap: \"x86-64-v3\"") != std::string::npos);
    }
}

TEST_CASE("a compat-format cache is read from its new-format part") {
    LdCache cache;
    cache.entries = {{0x0303, "libm.so.6", "/lib/libm.so.6", 0, 0}};
    std::string fresh = write_ld_cache(cache, "test");
    // Old header with one 12-byte entry, padded to 8, then the new cache, whose string offsets
    // count from its own start.
    std::string old = "ld.so-1.7.0";
    old.resize(16, '\0');
    std::uint32_t one = 1;
    std::memcpy(old.data() + 12, &one, 4);
    old.append(12, '\0');
    old.resize((old.size() + 7) & ~std::size_t{7}, '\0');
    auto back = parse_ld_cache(old + fresh, "compat");
    REQUIRE(back.entries.size() == 1);
    CHECK(back.entries[0].path == "/lib/libm.so.6");
}

TEST_CASE("a truncated or foreign file is refused with its name") {
    LdCache cache;
    cache.entries = {{0x0303, "libm.so.6", "/lib/libm.so.6", 0, 0}};
    auto data = write_ld_cache(cache, "test");
    CHECK_THROWS_WITH(parse_ld_cache(data.substr(0, 60), "/etc/ld.so.cache"),
                      Catch::Contains("/etc/ld.so.cache is not a usable ld.so cache"));
    CHECK_THROWS_WITH(parse_ld_cache("hello world, this is no cache at all", "x"),
                      Catch::Contains("does not start with an ld.so cache header"));
    CHECK_THROWS_WITH(parse_ld_cache(data.substr(0, 20), "x"), Catch::Contains("x is not"));
    // An old-format table that ends within the padding to the new one (found by fuzzing).
    std::string old_only = "ld.so-1.7.0";
    old_only.resize(16, '\0');
    std::uint32_t one = 1;
    std::memcpy(old_only.data() + 12, &one, 4);
    old_only.append(12, '\0');
    CHECK_THROWS_WITH(parse_ld_cache(old_only, "x"), Catch::Contains("before 2.2"));
    // A name offset pointing past the end.
    auto broken = data;
    std::uint32_t far = 1u << 30;
    std::memcpy(broken.data() + 48 + 4, &far, 4);
    CHECK_THROWS_WITH(parse_ld_cache(broken, "x"), Catch::Contains("beyond the end"));
}
