// What the command keeps of the sandbox root's power: the capabilities Docker and Podman give a
// container's root (no CAP_SYS_ADMIN, so no mount, remount or unmount inside, and read-only
// mounts stay read-only), and a seccomp filter that refuses pushing input into a terminal
// (TIOCSTI, TIOCLINUX) and the kernel keyring, which is not namespaced. Shared by both backends:
// the OCI config names the same capabilities and the same rules.
#pragma once

#include <linux/filter.h>

#include <cstdint>
#include <string>
#include <vector>

namespace karapace::sandbox {

struct Capability {
    int value;         // CAP_CHOWN, ...
    const char* name;  // "CAP_CHOWN", as the OCI runtime spec writes it
};

// The capabilities a command may keep; every other one leaves its bounding set.
const std::vector<Capability>& container_capabilities();

// container_capabilities() as a bit mask (bit N: capability N), as karapace-init gets it; it keeps
// only these (init_start::keep_capabilities).
std::uint64_t container_capability_mask();

// The highest capability number this kernel knows (/proc/sys/kernel/cap_last_cap), or -1 when
// that cannot be read.
int last_capability();

// What the filter refuses, for the OCI config and the docs: a system call name with, for ioctl,
// the request it matches (compared on its low 32 bits, which is what the kernel reads), and the
// errno the caller gets.
struct SeccompRule {
    const char* syscall;
    unsigned long request;  // ioctl request; 0 for a rule on the whole call
    int errno_value;
};
const std::vector<SeccompRule>& seccomp_rules();

// The filter as a classic BPF program, as karapace-init gets it (hexadecimal) and installs it
// (init_start::install_filter).
std::vector<sock_filter> seccomp_program();

}  // namespace karapace::sandbox
