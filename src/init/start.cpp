// How karapace-init starts, and how it starts the command: without libc on x86-64 (sys.hpp), its
// own entry point and a clone that runs a function on a stack of its own; elsewhere libc's.
#include "init/sys.hpp"

#include <sched.h>
#include <signal.h>

#if KARAPACE_INIT_NOLIBC

#include <elf.h>

#include <cstddef>

extern "C" {

// The compiler may call these for copies and clearing, also without libc.
void* memcpy(void* to, const void* from, std::size_t n) {
    auto* d = static_cast<unsigned char*>(to);
    const auto* s = static_cast<const unsigned char*>(from);
    while (n--)
        *d++ = *s++;
    return to;
}
void* memmove(void* to, const void* from, std::size_t n) {
    auto* d = static_cast<unsigned char*>(to);
    const auto* s = static_cast<const unsigned char*>(from);
    if (d < s) {
        while (n--)
            *d++ = *s++;
    } else {
        while (n--)
            d[n] = s[n];
    }
    return to;
}
void* memset(void* to, int c, std::size_t n) {
    auto* d = static_cast<unsigned char*>(to);
    while (n--)
        *d++ = static_cast<unsigned char>(c);
    return to;
}
int memcmp(const void* a, const void* b, std::size_t n) {
    const auto* x = static_cast<const unsigned char*>(a);
    const auto* y = static_cast<const unsigned char*>(b);
    for (; n--; ++x, ++y)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}

// Defined by the linker: this program's ELF header (its load address) and dynamic section.
extern const Elf64_Ehdr __ehdr_start;
extern Elf64_Dyn _DYNAMIC[];

// A position-independent program without a dynamic loader relocates itself: only relative
// relocations can be there (nothing is imported).
[[gnu::used]] [[noreturn]] void karapace_init_entry(long* stack) {
    auto base = reinterpret_cast<Elf64_Addr>(&__ehdr_start);
    const Elf64_Rela* rela = nullptr;
    std::size_t size = 0;
    for (const Elf64_Dyn* d = _DYNAMIC; d->d_tag != DT_NULL; ++d) {
        if (d->d_tag == DT_RELA) rela = reinterpret_cast<const Elf64_Rela*>(base + d->d_un.d_ptr);
        if (d->d_tag == DT_RELASZ) size = d->d_un.d_val;
    }
    for (std::size_t i = 0; rela && i < size / sizeof *rela; ++i)
        if (ELF64_R_TYPE(rela[i].r_info) == R_X86_64_RELATIVE)
            *reinterpret_cast<Elf64_Addr*>(base + rela[i].r_offset) = base + rela[i].r_addend;
    int argc = static_cast<int>(stack[0]);
    char** argv = reinterpret_cast<char**>(stack + 1);
    karapace_init::exit_now(karapace_init_main(argc, argv, argv + argc + 1));
}

}  // extern "C"

// The entry point: the stack holds argc, argv, NULL, envp, NULL, auxv.
asm(R"(
    .text
    .globl _start
    .type _start, @function
_start:
    xor %ebp, %ebp
    mov %rsp, %rdi
    and $-16, %rsp
    call karapace_init_entry
    hlt

    .globl karapace_init_clone_vm
    .type karapace_init_clone_vm, @function
karapace_init_clone_vm:
    and $-16, %rdx
    sub $16, %rdx
    mov %rdi, 0(%rdx)
    mov %rsi, 8(%rdx)
    mov $0x4111, %edi
    mov %rdx, %rsi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    mov $56, %eax
    syscall
    test %rax, %rax
    jnz 1f
    pop %rax
    pop %rdi
    call *%rax
    mov %eax, %edi
    mov $231, %eax
    syscall
    hlt
1:
    ret
)");

// clone(CLONE_VM | CLONE_VFORK | SIGCHLD) with `stack_top` as the child's stack, which finds
// `fn` and `arg` there, calls it and exits with what it returns.
extern "C" long karapace_init_clone_vm(int (*fn)(void*), void* arg, char* stack_top);

long karapace_init::start_sharing_memory(int (*fn)(void*), void* arg, char* stack_top) {
    static_assert((CLONE_VM | CLONE_VFORK | SIGCHLD) == 0x4111);
    return karapace_init_clone_vm(fn, arg, stack_top);
}

#else

int main(int argc, char** argv, char** envp) { return karapace_init_main(argc, argv, envp); }

long karapace_init::start_sharing_memory(int (*fn)(void*), void* arg, char* stack_top) {
    int pid = ::clone(fn, stack_top, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
    return pid < 0 ? -errno : pid;
}

#endif
