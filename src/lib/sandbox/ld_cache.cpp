// The ld.so.cache format, from glibc's elf/cache.c and sysdeps/generic/dl-cache.h: a 48-byte
// header ("glibc-ld.so.cache" "1.1", entry count, string table length, an endianness byte, the
// offset of the extension directory), 24-byte entries (flags, name and path as offsets from the
// header, osversion, hwcap), the strings, and an extension directory whose sections carry the
// generator and the glibc-hwcaps subdirectory names. ld.so binary-searches the entries, so their
// order is part of the format.
#include "karapace/sandbox/ld_cache.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <map>

#include "karapace/util/error.hpp"

namespace karapace::sandbox {

namespace {

constexpr std::string_view kOldMagic = "ld.so-1.7.0";
constexpr std::string_view kNewMagic = "glibc-ld.so.cache1.1";
constexpr std::size_t kOldHeader = 16;  // magic[11], padding, nlibs
constexpr std::size_t kOldEntry = 12;
constexpr std::size_t kNewHeader = 48;
constexpr std::size_t kNewEntry = 24;
constexpr std::uint32_t kExtensionMagic = 0xeaa42174;
constexpr std::uint32_t kTagGenerator = 0;
constexpr std::uint32_t kTagGlibcHwcaps = 1;
constexpr std::uint8_t kEndianLittle = 2, kEndianBig = 3;
constexpr std::uint64_t kHwcapExtension = std::uint64_t{1} << 62;

template <typename T>
T load(std::string_view data, std::size_t off) {
    T v{};
    std::memcpy(&v, data.data() + off, sizeof v);
    return v;
}

template <typename T>
void store(std::string& out, std::size_t off, T v) {
    std::memcpy(out.data() + off, &v, sizeof v);
}

class Reader {
public:
    Reader(std::string_view data, std::size_t base, const std::string& what)
        : data_(data), base_(base), what_(what) {}

    [[noreturn]] void bad(const std::string& why) const {
        throw Error(Errc::runtime, what_ + " is not a usable ld.so cache: " + why,
                    "run ldconfig to rebuild it");
    }
    void need(std::size_t off, std::size_t len, const char* part) const {
        if (off > data_.size() || len > data_.size() - off)
            bad(std::string(part) + " lies beyond the end of the file");
    }
    template <typename T>
    T at(std::size_t off) const {
        need(off, sizeof(T), "a field");
        return load<T>(data_, off);
    }
    // A NUL-terminated string at `off` from the new header.
    std::string string(std::uint32_t off) const {
        std::size_t start = base_ + off;
        need(start, 1, "a name");
        auto end = data_.find('\0', start);
        if (end == std::string_view::npos) bad("a name is not terminated");
        return std::string(data_.substr(start, end - start));
    }

private:
    std::string_view data_;
    std::size_t base_;
    const std::string& what_;
};

std::vector<std::string> read_hwcaps(const Reader& r, std::size_t base, std::uint32_t ext_off) {
    std::vector<std::string> names;
    if (ext_off == 0) return names;
    std::size_t ext = base + ext_off;
    if (ext % 4 != 0) r.bad("the extension directory is misaligned");
    if (r.at<std::uint32_t>(ext) != kExtensionMagic) return names;  // none, as older glibc reads it
    auto count = r.at<std::uint32_t>(ext + 4);
    r.need(ext + 8, std::size_t{count} * 16, "the extension directory");
    for (std::uint32_t i = 0; i < count; ++i) {
        std::size_t s = ext + 8 + std::size_t{i} * 16;
        if (r.at<std::uint32_t>(s) != kTagGlibcHwcaps) continue;
        auto off = r.at<std::uint32_t>(s + 8), size = r.at<std::uint32_t>(s + 12);
        if (size % 4 != 0) r.bad("the glibc-hwcaps section has a partial entry");
        r.need(base + off, size, "the glibc-hwcaps section");
        for (std::uint32_t k = 0; k < size / 4; ++k)
            names.push_back(r.string(r.at<std::uint32_t>(base + off + std::size_t{k} * 4)));
    }
    return names;
}

// Sort order of ldconfig's save_cache: "a comes before b".
bool before(const LdCacheEntry& a, const LdCacheEntry& b, const std::vector<std::string>& hwcaps) {
    if (int c = ld_cache_name_compare(a.name, b.name); c != 0) return c > 0;
    if (a.flags != b.flags) return a.flags > b.flags;
    bool ax = (a.hwcap & kHwcapExtension) != 0, bx = (b.hwcap & kHwcapExtension) != 0;
    if (ax != bx) return ax;  // ld.so stops at the first entry that is not a glibc-hwcaps one
    if (ax) {
        auto name = [&](const LdCacheEntry& e) -> std::string_view {
            auto i = static_cast<std::uint32_t>(e.hwcap);
            return i < hwcaps.size() ? std::string_view(hwcaps[i]) : std::string_view();
        };
        if (name(a) != name(b)) return name(a) < name(b);
    }
    if (a.hwcap != b.hwcap) return a.hwcap > b.hwcap;
    return a.osversion > b.osversion;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

int ld_cache_name_compare(std::string_view a, std::string_view b) noexcept {
    std::size_t i = 0, j = 0;
    while (i < a.size()) {
        if (is_digit(a[i])) {
            if (j >= b.size() || !is_digit(b[j])) return 1;
            // Numbers compare by value: skip leading zeros, then the longer run is larger.
            std::size_t si = i, sj = j;
            while (i < a.size() && is_digit(a[i]))
                ++i;
            while (j < b.size() && is_digit(b[j]))
                ++j;
            auto na = a.substr(si, i - si), nb = b.substr(sj, j - sj);
            while (na.size() > 1 && na.front() == '0')
                na.remove_prefix(1);
            while (nb.size() > 1 && nb.front() == '0')
                nb.remove_prefix(1);
            if (na.size() != nb.size()) return na.size() < nb.size() ? -1 : 1;
            if (int c = na.compare(nb); c != 0) return c;
            continue;
        }
        if (j < b.size() && is_digit(b[j])) return -1;
        if (j >= b.size()) return 1;
        if (a[i] != b[j])
            return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]) ? -1 : 1;
        ++i;
        ++j;
    }
    return j < b.size() ? -1 : 0;
}

LdCache parse_ld_cache(std::string_view data, const std::string& what) {
    std::size_t base = 0;
    if (data.substr(0, kOldMagic.size()) == kOldMagic) {
        Reader old(data, 0, what);
        auto nlibs = old.at<std::uint32_t>(12);
        old.need(kOldHeader, std::size_t{nlibs} * kOldEntry, "the old-format table");
        base = (kOldHeader + std::size_t{nlibs} * kOldEntry + 7) & ~std::size_t{7};
        // The padding can reach past the end of a file that has nothing after the old table.
        if (base > data.size() || data.substr(base, kNewMagic.size()) != kNewMagic)
            old.bad("it has only the format of glibc before 2.2, which is not read");
    } else if (data.substr(0, kNewMagic.size()) != kNewMagic) {
        Reader(data, 0, what).bad("the file does not start with an ld.so cache header");
    }
    Reader r(data, base, what);
    auto nlibs = r.at<std::uint32_t>(base + 20);
    auto endian = r.at<std::uint8_t>(base + 28);
    constexpr bool little = std::endian::native == std::endian::little;
    if ((endian == kEndianLittle && !little) || (endian == kEndianBig && little))
        r.bad("it was written for a machine of the other byte order");
    r.need(base + kNewHeader, std::size_t{nlibs} * kNewEntry, "the entry table");

    LdCache cache;
    cache.glibc_hwcaps = read_hwcaps(r, base, r.at<std::uint32_t>(base + 32));
    cache.entries.reserve(nlibs);
    for (std::uint32_t i = 0; i < nlibs; ++i) {
        std::size_t e = base + kNewHeader + std::size_t{i} * kNewEntry;
        LdCacheEntry entry;
        entry.flags = r.at<std::int32_t>(e);
        entry.name = r.string(r.at<std::uint32_t>(e + 4));
        entry.path = r.string(r.at<std::uint32_t>(e + 8));
        entry.osversion = r.at<std::uint32_t>(e + 12);
        entry.hwcap = r.at<std::uint64_t>(e + 16);
        if ((entry.hwcap & kHwcapExtension) &&
            static_cast<std::uint32_t>(entry.hwcap) >= cache.glibc_hwcaps.size())
            r.bad("an entry names a glibc-hwcaps subdirectory the cache does not list");
        cache.entries.push_back(std::move(entry));
    }
    return cache;
}

std::string write_ld_cache(const LdCache& cache, std::string_view generator) {
    std::vector<const LdCacheEntry*> order;
    order.reserve(cache.entries.size());
    for (const auto& e : cache.entries)
        order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [&](const auto* a, const auto* b) {
        return before(*a, *b, cache.glibc_hwcaps);
    });

    std::size_t strings_at = kNewHeader + order.size() * kNewEntry;
    std::string strings;
    std::map<std::string, std::uint32_t, std::less<>> offsets;
    auto intern = [&](const std::string& s) {
        auto [it, fresh] = offsets.try_emplace(s, 0);
        if (fresh) {
            it->second = static_cast<std::uint32_t>(strings_at + strings.size());
            strings.append(s);
            strings.push_back('\0');
        }
        return it->second;
    };

    std::string out(strings_at, '\0');
    out.replace(0, kNewMagic.size(), kNewMagic);
    store<std::uint32_t>(out, 20, static_cast<std::uint32_t>(order.size()));
    out[28] =
        static_cast<char>(std::endian::native == std::endian::little ? kEndianLittle : kEndianBig);
    for (std::size_t i = 0; i < order.size(); ++i) {
        const auto& e = *order[i];
        std::size_t at = kNewHeader + i * kNewEntry;
        store<std::int32_t>(out, at, e.flags);
        store<std::uint32_t>(out, at + 4, intern(e.name));
        store<std::uint32_t>(out, at + 8, intern(e.path));
        store<std::uint32_t>(out, at + 12, e.osversion);
        store<std::uint64_t>(out, at + 16, e.hwcap);
    }
    std::vector<std::uint32_t> hwcap_names;
    for (const auto& name : cache.glibc_hwcaps)
        hwcap_names.push_back(intern(name));
    store<std::uint32_t>(out, 24, static_cast<std::uint32_t>(strings.size()));
    out += strings;

    // The extension directory: the generator, and the glibc-hwcaps names when there are any.
    out.resize((out.size() + 3) & ~std::size_t{3}, '\0');
    std::size_t ext = out.size();
    std::uint32_t sections = hwcap_names.empty() ? 1 : 2;
    std::size_t data_at = ext + 8 + std::size_t{sections} * 16;
    out.resize(data_at, '\0');
    store<std::uint32_t>(out, 32, static_cast<std::uint32_t>(ext));
    store<std::uint32_t>(out, ext, kExtensionMagic);
    store<std::uint32_t>(out, ext + 4, sections);
    auto section = [&](std::uint32_t index, std::uint32_t tag, std::string_view bytes) {
        std::size_t s = ext + 8 + std::size_t{index} * 16;
        store<std::uint32_t>(out, s, tag);
        store<std::uint32_t>(out, s + 8, static_cast<std::uint32_t>(out.size()));
        store<std::uint32_t>(out, s + 12, static_cast<std::uint32_t>(bytes.size()));
        out.append(bytes);
        out.resize((out.size() + 3) & ~std::size_t{3}, '\0');
    };
    if (!hwcap_names.empty())
        section(1, kTagGlibcHwcaps,
                std::string_view(reinterpret_cast<const char*>(hwcap_names.data()),
                                 hwcap_names.size() * sizeof(std::uint32_t)));
    section(0, kTagGenerator, generator);
    return out;
}

void ld_cache_put(LdCache& cache, const std::vector<LdCacheEntry>& added) {
    auto replaced = [&](const LdCacheEntry& e) {
        return std::any_of(added.begin(), added.end(), [&](const LdCacheEntry& a) {
            return a.name == e.name && a.flags == e.flags;
        });
    };
    std::erase_if(cache.entries, replaced);
    cache.entries.insert(cache.entries.end(), added.begin(), added.end());
}

std::int32_t ld_cache_native_flags() noexcept {
#if defined(__x86_64__) && !defined(__ILP32__)
    return 0x0303;
#elif defined(__aarch64__)
    return 0x0a03;
#elif defined(__powerpc64__)
    return 0x0503;
#elif defined(__s390x__)
    return 0x0403;
#elif defined(__i386__)
    return 0x0003;
#else
    return 0;  // the caller takes the flags of libc.so.6 in the host's cache
#endif
}

std::int32_t ld_cache_compat_flags() noexcept {
#if defined(__x86_64__) && !defined(__ILP32__)
    return 0x0003;
#else
    return 0;
#endif
}

}  // namespace karapace::sandbox
