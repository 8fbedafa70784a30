#!/usr/bin/env python3
"""Runs a command where the kernel refuses new network namespaces, as on a host whose
user.max_net_namespaces is 0 or whose container manager filters them: a seccomp filter makes
unshare(2) and clone(2) with CLONE_NEWNET fail with EPERM (clone3's flags are in memory, so it
fails with ENOSYS, and callers fall back to clone). x86-64 only; exits 77 elsewhere.

Usage: no_netns.py COMMAND [ARG...]"""
import ctypes
import os
import platform
import struct
import sys

if platform.machine() != "x86_64":
    print(f"SKIP: the filter is written for x86-64, not {platform.machine()}")
    sys.exit(77)

AUDIT_ARCH_X86_64 = 0xC000003E
NR_CLONE, NR_UNSHARE, NR_CLONE3 = 56, 272, 435
CLONE_NEWNET = 0x40000000
EPERM, ENOSYS = 1, 38
# struct seccomp_data: nr (u32) at 0, arch (u32) at 4, args[6] (u64) from 16 (low word first).
LD_W_ABS, JEQ_K, JSET_K, RET_K = 0x20, 0x15, 0x45, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000


def insn(code, jt, jf, k):
    return struct.pack("HBBI", code, jt, jf, k)


program = b"".join([
    insn(LD_W_ABS, 0, 0, 4),                    # 0: arch
    insn(JEQ_K, 0, 7, AUDIT_ARCH_X86_64),       # 1: another -> 9 (allow)
    insn(LD_W_ABS, 0, 0, 0),                    # 2: nr
    insn(JEQ_K, 6, 0, NR_CLONE3),               # 3: clone3 -> 10 (ENOSYS)
    insn(JEQ_K, 1, 0, NR_UNSHARE),              # 4: unshare -> 6
    insn(JEQ_K, 0, 3, NR_CLONE),                # 5: neither -> 9 (allow)
    insn(LD_W_ABS, 0, 0, 16),                   # 6: flags (args[0], low word)
    insn(JSET_K, 0, 1, CLONE_NEWNET),           # 7: without CLONE_NEWNET -> 9 (allow)
    insn(RET_K, 0, 0, ERRNO | EPERM),           # 8
    insn(RET_K, 0, 0, ALLOW),                   # 9
    insn(RET_K, 0, 0, ERRNO | ENOSYS),          # 10
])
# Jumps count from the next instruction.

libc = ctypes.CDLL(None, use_errno=True)
libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
buf = ctypes.create_string_buffer(program)
fprog = struct.pack("HxxxxxxQ", len(program) // 8, ctypes.addressof(buf))
fprog_buf = ctypes.create_string_buffer(fprog)
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
    sys.exit(f"no_netns: PR_SET_NO_NEW_PRIVS: {os.strerror(ctypes.get_errno())}")
if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(fprog_buf), 0, 0) != 0:
    sys.exit(f"no_netns: installing the filter: {os.strerror(ctypes.get_errno())}")
os.execvp(sys.argv[1], sys.argv[1:])
