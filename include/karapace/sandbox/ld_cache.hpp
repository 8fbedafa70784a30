// glibc's dynamic linker cache (/etc/ld.so.cache): read on the host to find the NVIDIA driver's
// libraries, and written for a sandbox as the environment's own cache with the driver's libraries
// added, so its ld.so finds them without a file of the environment being changed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace karapace::sandbox {

struct LdCacheEntry {
    // FLAG_ELF_LIBC6 (3) with the architecture in bits 8-15: 0x0303 x86-64, 0x0003 i386,
    // 0x0a03 aarch64. ld.so ignores entries whose flags are not its own.
    std::int32_t flags = 0;
    std::string name;  // what ld.so looks up: a soname such as libcuda.so.1
    std::string path;  // the file it loads
    std::uint32_t osversion = 0;
    // With bit 62 set, the low 32 bits index LdCache::glibc_hwcaps (the glibc-hwcaps/<name>
    // subdirectory the library was found in); 0 for ordinary libraries.
    std::uint64_t hwcap = 0;
};

struct LdCache {
    std::vector<LdCacheEntry> entries;      // in file order, which is ld.so's search order
    std::vector<std::string> glibc_hwcaps;  // subdirectory names referred to by hwcap indices
};

// Parses the "glibc-ld.so.cache1.1" format of glibc 2.32 and later, and the compat format of
// older ldconfig (the old table followed by the new one, of which only the new one is read).
// Throws Error(runtime) naming `what` when the data is not such a cache or is inconsistent.
LdCache parse_ld_cache(std::string_view data, const std::string& what);

// The cache in the new format, its entries in the order ld.so's binary search expects (names in
// descending ld.so order, then flags and hwcaps descending, as ldconfig writes them). `generator`
// is recorded in the cache's generator extension (ldconfig -p does not show it).
std::string write_ld_cache(const LdCache& cache, std::string_view generator);

// ld.so's name order: runs of digits compare as numbers (libfoo.so.10 after libfoo.so.9).
int ld_cache_name_compare(std::string_view a, std::string_view b) noexcept;

// Adds `added` to `cache`: an added entry replaces every entry of the same name and flags, so
// ld.so finds the added library first whatever the cache had for that name.
void ld_cache_put(LdCache& cache, const std::vector<LdCacheEntry>& added);

// The flags of this machine's own libraries in a cache (0x0303 on x86-64), and those of the
// 32-bit libraries it can also run (0x0003 on x86-64), 0 where there are none.
std::int32_t ld_cache_native_flags() noexcept;
std::int32_t ld_cache_compat_flags() noexcept;

}  // namespace karapace::sandbox
