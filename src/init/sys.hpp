// karapace-init's access to the kernel. On x86-64 it has no libc: glibc's static start-up alone
// (its tunables, CPU feature probes, TLS and IRELATIVE set-up, 28 page faults) cost more than
// everything init itself does; a program without it starts with one page fault. Elsewhere the
// same calls go through libc's syscall(2) and clone(2).
#pragma once

#include <sys/syscall.h>

#include <cerrno>

#include "sandbox/init_start.hpp"

#if defined(__x86_64__) && !defined(KARAPACE_INIT_WITH_LIBC)
#define KARAPACE_INIT_NOLIBC 1
#endif

// What init does: src/init/karapace_init.cpp.
extern "C" int karapace_init_main(int argc, char** argv, char** envp);

namespace karapace_init {

using karapace::sandbox::init_start::as_argument;

#if KARAPACE_INIT_NOLIBC

// A system call: the kernel's answer, a negative errno on failure.
inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                        long f = 0) {
    register long r10 asm("r10") = d;
    register long r8 asm("r8") = e;
    register long r9 asm("r9") = f;
    long ret;
    asm volatile("syscall"
                 : "=a"(ret)
                 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                 : "rcx", "r11", "memory");
    return ret;
}

#else

inline long raw_syscall(long n, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0,
                        long f = 0) {
    long r = ::syscall(n, a, b, c, d, e, f);
    return r < 0 ? -errno : r;
}

#endif

struct Sys {
    template <typename... A>
    long operator()(long number, A... arguments) const {
        return raw_syscall(number, as_argument(arguments)...);
    }
};
inline constexpr Sys sys{};

// Starts `fn(arg)` in a child that shares our memory until it executes or exits, on `stack_top`
// (CLONE_VM | CLONE_VFORK | SIGCHLD: we wait meanwhile). The child's pid, or a negative errno.
long start_sharing_memory(int (*fn)(void*), void* arg, char* stack_top);

[[noreturn]] inline void exit_now(int status) {
    for (;;)
        sys(SYS_exit_group, status);
}

}  // namespace karapace_init
