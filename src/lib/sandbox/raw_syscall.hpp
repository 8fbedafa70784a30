// System calls that leave errno alone, for code that runs while another process uses the same
// memory and thread pointer: the process making the network namespace beside the sandbox's child
// (net.cpp), and the session record written while the child takes its first steps (session.cpp).
// libc's wrappers would write errno, which is the other process's too. They return the kernel's
// answer, a negative errno on failure. Where this build has none (KARAPACE_RAW_SYSCALLS is 0),
// libc's syscall(2) stands in, and such code must not run beside another process.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#if defined(__x86_64__) || defined(__aarch64__)
#define KARAPACE_RAW_SYSCALLS 1
#else
#define KARAPACE_RAW_SYSCALLS 0
#endif

namespace karapace::sandbox {

inline long raw_syscall(long number, long a = 0, long b = 0, long c = 0) {
#if defined(__x86_64__)
    long ret;
    asm volatile("syscall"
                 : "=a"(ret)
                 : "a"(number), "D"(a), "S"(b), "d"(c)
                 : "rcx", "r11", "memory");
    return ret;
#elif defined(__aarch64__)
    register long x8 asm("x8") = number;
    register long x0 asm("x0") = a;
    register long x1 asm("x1") = b;
    register long x2 asm("x2") = c;
    asm volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
    return x0;
#else
    long ret = ::syscall(number, a, b, c);
    return ret < 0 ? -errno : ret;
#endif
}

}  // namespace karapace::sandbox
