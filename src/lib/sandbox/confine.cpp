// Step: the command's last confinement before execve. The sandbox's root has every capability in
// its user namespace; with CAP_SYS_ADMIN it could unmount the masks over /proc or remount a
// read-only bind read-write (flags set inside a user namespace are not locked against its own
// root). Keeping only a container's usual capabilities closes that: without CAP_SYS_ADMIN nothing
// can be mounted, and a nested user namespace gets every mount locked. The seccomp filter is a
// classic BPF program written here (no libseccomp): it checks the architecture, then the call.
// karapace-init applies both in the command (init_start.hpp: keep_capabilities, install_filter).
#include "karapace/sandbox/confine.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "karapace/util/fd.hpp"

namespace karapace::sandbox {

const std::vector<Capability>& container_capabilities() {
    // What Docker and Podman give a container's root by default: enough to manage files and
    // processes it owns and to install packages, nothing that reaches the host or the mounts.
    static const std::vector<Capability> caps{
        {CAP_CHOWN, "CAP_CHOWN"},
        {CAP_DAC_OVERRIDE, "CAP_DAC_OVERRIDE"},
        {CAP_FSETID, "CAP_FSETID"},
        {CAP_FOWNER, "CAP_FOWNER"},
        {CAP_MKNOD, "CAP_MKNOD"},
        {CAP_NET_RAW, "CAP_NET_RAW"},
        {CAP_SETGID, "CAP_SETGID"},
        {CAP_SETUID, "CAP_SETUID"},
        {CAP_SETFCAP, "CAP_SETFCAP"},
        {CAP_SETPCAP, "CAP_SETPCAP"},
        {CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE"},
        {CAP_SYS_CHROOT, "CAP_SYS_CHROOT"},
        {CAP_KILL, "CAP_KILL"},
        {CAP_AUDIT_WRITE, "CAP_AUDIT_WRITE"},
    };
    return caps;
}

int last_capability() {
    UniqueFd fd(::open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC));
    if (!fd) return -1;
    char buf[16] = {};
    if (::read(fd.get(), buf, sizeof buf - 1) <= 0) return -1;
    char* end = nullptr;
    long last = std::strtol(buf, &end, 10);
    if (end == buf || last < 0 || last > 63) return -1;
    return static_cast<int>(last);
}

std::uint64_t container_capability_mask() {
    std::uint64_t keep = 0;
    for (const auto& c : container_capabilities())
        keep |= std::uint64_t{1} << c.value;
    return keep;
}

const std::vector<SeccompRule>& seccomp_rules() {
    static const std::vector<SeccompRule> rules{
        // Pushing bytes into a terminal's input queue: what the command pushes, the caller's
        // shell would run after karapace exits.
        {"ioctl", TIOCSTI, EPERM},
        // Also able to push input (the console's selection paste).
        {"ioctl", TIOCLINUX, EPERM},
        // The kernel keyring is not namespaced: keys of the host session would be reachable.
        {"add_key", 0, ENOSYS},
        {"keyctl", 0, ENOSYS},
        {"request_key", 0, ENOSYS},
    };
    return rules;
}

namespace {

// The numbers of the calls the filter looks at, per architecture a process may call with.
struct ArchCalls {
    std::uint32_t arch;
    std::uint32_t ioctl, add_key, keyctl, request_key;
    bool x32;  // x86-64: calls with the x32 bit set are refused outright
};

std::vector<ArchCalls> arch_calls() {
    std::vector<ArchCalls> out;
#if defined(__x86_64__)
    out.push_back(
        {AUDIT_ARCH_X86_64, __NR_ioctl, __NR_add_key, __NR_keyctl, __NR_request_key, true});
    out.push_back({AUDIT_ARCH_I386, 54, 286, 288, 287, false});  // 32-bit programs
#elif defined(__aarch64__)
    out.push_back(
        {AUDIT_ARCH_AARCH64, __NR_ioctl, __NR_add_key, __NR_keyctl, __NR_request_key, false});
    out.push_back({AUDIT_ARCH_ARM, 54, 309, 311, 310, false});  // 32-bit programs
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    out.push_back(
        {AUDIT_ARCH_PPC64LE, __NR_ioctl, __NR_add_key, __NR_keyctl, __NR_request_key, false});
#elif defined(__s390x__)
    out.push_back(
        {AUDIT_ARCH_S390X, __NR_ioctl, __NR_add_key, __NR_keyctl, __NR_request_key, false});
#elif defined(__riscv) && __riscv_xlen == 64
    out.push_back(
        {AUDIT_ARCH_RISCV64, __NR_ioctl, __NR_add_key, __NR_keyctl, __NR_request_key, false});
#endif
    return out;
}

constexpr std::uint32_t kX32Bit = 0x40000000;

sock_filter stmt(std::uint16_t code, std::uint32_t k) { return BPF_STMT(code, k); }
sock_filter jump(std::uint16_t code, std::uint32_t k, std::uint8_t jt, std::uint8_t jf) {
    return BPF_JUMP(code, k, jt, jf);
}

std::uint32_t errno_of(int e) {
    return SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(e) & SECCOMP_RET_DATA);
}

// The checks for one architecture; run when seccomp_data.arch matches.
std::vector<sock_filter> arch_body(const ArchCalls& a) {
    // The low half of args[1], the ioctl request: the kernel reads it as an unsigned int, so
    // setting the high half must not slip past the filter.
    constexpr std::uint32_t request_low =
        offsetof(seccomp_data, args) + sizeof(std::uint64_t) +
        (std::endian::native == std::endian::little ? 0 : sizeof(std::uint32_t));
    std::vector<sock_filter> b;
    b.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    if (a.x32) {
        b.push_back(jump(BPF_JMP | BPF_JSET | BPF_K, kX32Bit, 0, 1));
        b.push_back(stmt(BPF_RET | BPF_K, errno_of(ENOSYS)));
    }
    b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.ioctl, 0, 5));
    b.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, request_low));
    b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCSTI, 2, 0));
    b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, TIOCLINUX, 1, 0));
    b.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    b.push_back(stmt(BPF_RET | BPF_K, errno_of(EPERM)));
    b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.add_key, 3, 0));
    b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.keyctl, 2, 0));
    b.push_back(jump(BPF_JMP | BPF_JEQ | BPF_K, a.request_key, 1, 0));
    b.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    b.push_back(stmt(BPF_RET | BPF_K, errno_of(ENOSYS)));
    return b;
}

}  // namespace

std::vector<sock_filter> seccomp_program() {
    std::vector<sock_filter> prog;
    prog.push_back(stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
    for (const auto& a : arch_calls()) {
        auto body = arch_body(a);
        prog.push_back(
            jump(BPF_JMP | BPF_JEQ | BPF_K, a.arch, 0, static_cast<std::uint8_t>(body.size())));
        prog.insert(prog.end(), body.begin(), body.end());
    }
    prog.push_back(stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    return prog;
}

}  // namespace karapace::sandbox
