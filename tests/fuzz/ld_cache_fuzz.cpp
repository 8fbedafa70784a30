// libFuzzer target for ld.so.cache files, read from the host and from every gpu = true
// environment's layers: read or refused with karapace::Error, never beyond the data. A cache that
// is read must survive being written and read back with the same entries.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>

#include "invariant.hpp"
#include "karapace/sandbox/ld_cache.hpp"
#include "karapace/util/error.hpp"

using karapace::fuzz::require;
using namespace karapace::sandbox;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    LdCache cache;
    try {
        cache = parse_ld_cache(input, "fuzz");
    } catch (const karapace::Error&) {
        return 0;
    }
    auto back = parse_ld_cache(write_ld_cache(cache, "fuzz"), "written");
    require(back.glibc_hwcaps == cache.glibc_hwcaps, "hwcaps names survive a rewrite");
    require(back.entries.size() == cache.entries.size(), "every entry survives a rewrite");
    auto key = [](const LdCacheEntry& e) {
        return std::tie(e.name, e.path, e.flags, e.hwcap, e.osversion);
    };
    auto sorted = [&](std::vector<LdCacheEntry> v) {
        std::sort(v.begin(), v.end(),
                  [&](const auto& a, const auto& b) { return key(a) < key(b); });
        return v;
    };
    auto a = sorted(cache.entries), b = sorted(back.entries);
    for (std::size_t i = 0; i < a.size(); ++i)
        require(key(a[i]) == key(b[i]), "entries are the same after a rewrite");
    // Written entries are in ld.so's search order: names never increase.
    for (std::size_t i = 1; i < back.entries.size(); ++i)
        require(ld_cache_name_compare(back.entries[i - 1].name, back.entries[i].name) >= 0,
                "names are in ld.so's descending order");
    return 0;
}
