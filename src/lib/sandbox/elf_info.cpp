#include "sandbox/elf_info.hpp"

#include <elf.h>
#include <unistd.h>

#include <bit>
#include <cstring>
#include <vector>

namespace karapace::sandbox {

namespace {

bool read_at(int fd, void* buf, std::size_t len, std::uint64_t off) {
    auto n = ::pread(fd, buf, len, static_cast<off_t>(off));
    return n == static_cast<ssize_t>(len);
}

// The same walk for both word sizes: program headers -> PT_DYNAMIC -> DT_STRTAB + DT_SONAME,
// the string table's address turned into a file offset through the PT_LOAD that maps it.
template <typename Ehdr, typename Phdr, typename Dyn>
std::optional<ElfInfo> read_elf(int fd, ElfInfo info) {
    Ehdr eh{};
    if (!read_at(fd, &eh, sizeof eh, 0)) return std::nullopt;
    info.machine = eh.e_machine;
    info.shared_object = eh.e_type == ET_DYN;
    if (eh.e_phentsize != sizeof(Phdr) || eh.e_phnum == 0 || eh.e_phnum > 512) return info;
    std::vector<Phdr> ph(eh.e_phnum);
    if (!read_at(fd, ph.data(), ph.size() * sizeof(Phdr), eh.e_phoff)) return info;
    const Phdr* dynamic = nullptr;
    for (const auto& p : ph)
        if (p.p_type == PT_DYNAMIC) dynamic = &p;
    if (dynamic == nullptr || dynamic->p_filesz > (1u << 20)) return info;
    std::vector<Dyn> dyn(dynamic->p_filesz / sizeof(Dyn));
    if (dyn.empty() || !read_at(fd, dyn.data(), dyn.size() * sizeof(Dyn), dynamic->p_offset))
        return info;
    std::uint64_t strtab = 0, soname = 0;
    bool has_soname = false;
    for (const auto& d : dyn) {
        if (d.d_tag == DT_NULL) break;
        if (d.d_tag == DT_STRTAB) strtab = d.d_un.d_ptr;
        if (d.d_tag == DT_SONAME) {
            soname = d.d_un.d_val;
            has_soname = true;
        }
    }
    if (!has_soname || strtab == 0) return info;
    for (const auto& p : ph) {
        if (p.p_type != PT_LOAD || strtab < p.p_vaddr || strtab - p.p_vaddr >= p.p_filesz) continue;
        char name[256] = {};
        std::uint64_t off = strtab - p.p_vaddr + p.p_offset + soname;
        auto n = ::pread(fd, name, sizeof name - 1, static_cast<off_t>(off));
        if (n > 0) info.soname.assign(name, ::strnlen(name, static_cast<std::size_t>(n)));
        break;
    }
    return info;
}

}  // namespace

std::optional<ElfInfo> read_elf_info(int fd) {
    unsigned char ident[EI_NIDENT] = {};
    if (!read_at(fd, ident, sizeof ident, 0) || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
        return std::nullopt;
    bool little = std::endian::native == std::endian::little;
    if (ident[EI_DATA] != (little ? ELFDATA2LSB : ELFDATA2MSB)) return std::nullopt;
    ElfInfo info;
    if (ident[EI_CLASS] == ELFCLASS64) {
        info.is64 = true;
        return read_elf<Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn>(fd, info);
    }
    if (ident[EI_CLASS] == ELFCLASS32) return read_elf<Elf32_Ehdr, Elf32_Phdr, Elf32_Dyn>(fd, info);
    return std::nullopt;
}

std::int32_t ld_flags_for(const ElfInfo& elf) noexcept {
    constexpr std::int32_t libc6 = 0x0003;
    switch (elf.machine) {
    case EM_X86_64: return elf.is64 ? libc6 | 0x0300 : libc6 | 0x0800;  // x32: FLAG_X8664_LIBX32
    case EM_386: return libc6;
    case EM_AARCH64: return libc6 | 0x0a00;
    case EM_PPC64: return libc6 | 0x0500;
    case EM_S390: return elf.is64 ? libc6 | 0x0400 : libc6;
    default: return 0;
    }
}

}  // namespace karapace::sandbox
