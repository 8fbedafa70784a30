// A fake NVIDIA host below a temporary directory, for the GPU tests: the files a driver install
// leaves (libraries, programs, loader manifests, /dev and /proc entries), an ld.so.cache that
// lists the libraries, and tiny ELF shared objects with a chosen soname.
#pragma once

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "karapace/sandbox/ld_cache.hpp"
#include "karapace/util/fd.hpp"
#include "karapace/util/process.hpp"

namespace karapace::testing {

inline Elf64_Half native_machine() {
#if defined(__aarch64__)
    return EM_AARCH64;
#else
    return EM_X86_64;
#endif
}

// The smallest ELF shared object ld.so-reading tools accept: one PT_LOAD over the whole file, a
// PT_DYNAMIC with DT_STRTAB and DT_SONAME.
template <typename Ehdr, typename Phdr, typename Dyn>
std::string tiny_elf_of(const std::string& soname, unsigned char elf_class, Elf64_Half machine) {
    std::string strtab = std::string(1, '\0') + soname + '\0';
    Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = elf_class;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_DYN;
    eh.e_machine = machine;
    eh.e_version = EV_CURRENT;
    eh.e_phoff = sizeof eh;
    eh.e_ehsize = sizeof eh;
    eh.e_phentsize = sizeof(Phdr);
    eh.e_phnum = 2;
    std::size_t dyn_off = sizeof eh + 2 * sizeof(Phdr);
    std::size_t str_off = dyn_off + 3 * sizeof(Dyn);
    Phdr load{}, dyn{};
    load.p_type = PT_LOAD;
    load.p_filesz = load.p_memsz = static_cast<decltype(load.p_filesz)>(str_off + strtab.size());
    dyn.p_type = PT_DYNAMIC;
    dyn.p_offset = dyn.p_vaddr = static_cast<decltype(dyn.p_offset)>(dyn_off);
    dyn.p_filesz = dyn.p_memsz = 3 * sizeof(Dyn);
    Dyn d[3]{};
    d[0].d_tag = DT_STRTAB;
    d[0].d_un.d_ptr = static_cast<decltype(d[0].d_un.d_ptr)>(str_off);
    d[1].d_tag = DT_SONAME;
    d[1].d_un.d_val = 1;
    d[2].d_tag = DT_NULL;
    std::string out;
    out.append(reinterpret_cast<const char*>(&eh), sizeof eh);
    out.append(reinterpret_cast<const char*>(&load), sizeof load);
    out.append(reinterpret_cast<const char*>(&dyn), sizeof dyn);
    out.append(reinterpret_cast<const char*>(d), sizeof d);
    return out + strtab;
}

// This machine's own (64-bit) or, with is64 false, an i386 library.
inline std::string tiny_elf(const std::string& soname, bool is64 = true) {
    return is64 ? tiny_elf_of<Elf64_Ehdr, Elf64_Phdr, Elf64_Dyn>(soname, ELFCLASS64,
                                                                 native_machine())
                : tiny_elf_of<Elf32_Ehdr, Elf32_Phdr, Elf32_Dyn>(soname, ELFCLASS32, EM_386);
}

class FakeDriverRoot {
public:
    FakeDriverRoot() {
        char tmpl[] = "/tmp/karapace-fake-driver.XXXXXX";
        root_ = ::mkdtemp(tmpl);
    }
    ~FakeDriverRoot() { run_process({"rm", "-rf", root_}); }
    FakeDriverRoot(const FakeDriverRoot&) = delete;
    FakeDriverRoot& operator=(const FakeDriverRoot&) = delete;

    const std::string& root() const { return root_; }
    std::string at(const std::string& path) const { return root_ + path; }

    void mkdirs(const std::string& path) const {
        std::string cur = root_;
        std::size_t pos = 1;
        while (pos <= path.size()) {
            auto slash = path.find('/', pos);
            if (slash == std::string::npos) slash = path.size();
            cur += "/" + path.substr(pos, slash - pos);
            ::mkdir(cur.c_str(), 0755);
            pos = slash + 1;
        }
    }
    void file(const std::string& path, const std::string& content, mode_t mode = 0644) const {
        mkdirs(path.substr(0, path.rfind('/')));
        UniqueFd fd(::open(at(path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
        write_all(fd.get(), content, path);
        ::fchmod(fd.get(), mode);
    }
    void link(const std::string& path, const std::string& target) const {
        mkdirs(path.substr(0, path.rfind('/')));
        ::symlink(target.c_str(), at(path).c_str());
    }
    // A library file with its soname link, listed in the root's ld.so.cache.
    void library(const std::string& dir, const std::string& soname, const std::string& version,
                 std::int32_t flags = sandbox::ld_cache_native_flags()) {
        std::string real = soname.substr(0, soname.find(".so") + 3) + "." + version;
        file(dir + "/" + real, tiny_elf(soname, flags == sandbox::ld_cache_native_flags()));
        link(dir + "/" + soname, real);
        cache_.entries.push_back({flags, soname, dir + "/" + soname, 0, 0});
    }
    void cache_entry(const sandbox::LdCacheEntry& e) { cache_.entries.push_back(e); }
    void write_cache() const {
        file("/etc/ld.so.cache", sandbox::write_ld_cache(cache_, "fake driver"));
    }
    // /proc/driver/nvidia with `gpus` (uuid per minor, in bus order) and the version line.
    void driver(const std::string& version, const std::vector<std::string>& uuids) const {
        file("/proc/driver/nvidia/version",
             "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  " + version +
                 "  Release Build  (builder@host)  Mon Jan  1 00:00:00 UTC 2026\n"
                 "GCC version:  gcc version 12.2.0 (Debian 12.2.0-14)\n");
        for (std::size_t i = 0; i < uuids.size(); ++i) {
            std::string bus = "0000:0" + std::to_string(i + 1) + ":00.0";
            file("/proc/driver/nvidia/gpus/" + bus + "/information",
                 "Model: \t\t NVIDIA Fake\nIRQ:   \t\t 42\nGPU UUID: \t " + uuids[i] +
                     "\nDevice Minor: \t " + std::to_string(i) + "\n");
            file("/dev/nvidia" + std::to_string(i), "");
        }
        file("/dev/nvidiactl", "");
        file("/dev/nvidia-uvm", "");
    }

private:
    std::string root_;
    sandbox::LdCache cache_;
};

}  // namespace karapace::testing
