// What the GPU step needs to know of a shared library it binds from a CDI spec: its word size and
// machine (which cache flags and which of lib64/lib), and the soname ld.so will look it up by.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace karapace::sandbox {

struct ElfInfo {
    bool is64 = false;
    std::uint16_t machine = 0;   // e_machine: EM_X86_64, EM_386, EM_AARCH64, ...
    bool shared_object = false;  // ET_DYN
    std::string soname;          // DT_SONAME; empty when it has none
};

// Reads the ELF header, program headers and dynamic section of the file open on `fd`. nullopt
// when it is not a little- or big-endian ELF file of this machine's byte order.
std::optional<ElfInfo> read_elf_info(int fd);

// The ld.so.cache flags for libraries of `machine` and word size (0 when unknown here).
std::int32_t ld_flags_for(const ElfInfo& elf) noexcept;

}  // namespace karapace::sandbox
