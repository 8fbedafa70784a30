#!/usr/bin/env bash
# What the kernel charges for a sandbox's root filesystem, one mount at a time: a read-only bind of
# the image (what `bwrap --ro-bind ROOT /` starts from), a read-only overlay (a frozen
# environment), the writable volatile overlay `karapace exec`/`enter` mount (upper and work
# directories on the store's filesystem, `userxattr`, `volatile`) and the same without `volatile`
# (as a build mounts it: its unmount syncs the upper filesystem). Each is mounted and unmounted in
# a user namespace of its own (as root too), one of each per round, in turn. For the writable ones
# the mount column includes what the sandbox does first (sandbox/overlay.cpp): the previous
# volatile mount's marker is removed, and its directories and the old work/work are held open so
# that their removal frees nothing yet; the unmount column includes closing them, since a
# sandbox's init releases them when it exits, after the caller has the command's status. Not a
# timed test: it prints a markdown table of medians and 90th percentiles (µs) and the load
# average around the run.
#
# The store's filesystem decides most of it: the writable overlay's mount checks what its upper
# filesystem supports (a temporary file, a whiteout made by rename, an xattr) and makes its work
# directory again, so run it where the store is (DIR, default /tmp).
# Usage: tests/bench/overlay_mount_bench.sh [rounds] [DIR]
set -euo pipefail
ROUNDS=${1:-300}
PARENT=${2:-/tmp}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
bench_need cc python3 xz busybox
W=$(mktemp -d "$PARENT/kp-overlay-bench.XXXXXX")
trap 'chmod -R u+rwx "$W" 2>/dev/null; rm -rf "$W"' EXIT

tarball=$(sh "$here/../fixtures/make-busybox-rootfs.sh" "$W/img")
mkdir "$W/lower"
# Ownership as the caller (tar as a user cannot chown): the kernel's work does not depend on it.
tar -xJf "$tarball" -C "$W/lower" --no-same-owner 2>/dev/null
cat >"$W/mounts.c" <<'C'
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { BIND, OVERLAY_RO, OVERLAY_VOLATILE, OVERLAY_DURABLE, KINDS };
static const char* names[KINDS] = {
    "read-only bind of the image (bwrap --ro-bind)",
    "overlay, read-only (a frozen environment)",
    "overlay, writable, volatile (karapace exec)",
    "overlay, writable, durable (a build)",
};

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static void die(const char* what) {
    fprintf(stderr, "overlay bench: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void write_file(const char* path, const char* text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
    close(fd);
}

static int by_value(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double quantile(double* v, int n, double q) {
    qsort(v, n, sizeof *v, by_value);
    return v[(int)(q * (n - 1) + 0.5)];
}

// What a sandbox does before a writable mount (sandbox/overlay.cpp): the previous volatile
// mount's marker goes (overlayfs refuses to mount while it is there), and its directories and the
// old work/work are held open, so that removing them (the mount removes work/work) frees nothing
// yet: their blocks are freed when the sandbox's init exits, here after the unmount.
static void hold(const char* dir, const char* rel, int* held, int* count) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    int fd = open(path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) held[(*count)++] = fd;
}

static int prepare_writable(const char* dir, int* held) {
    char path[4096];
    int count = 0;
    snprintf(path, sizeof path, "%s/work/work/incompat/volatile/dirty", dir);
    unlink(path);
    hold(dir, "work/work/incompat/volatile", held, &count);
    hold(dir, "work/work/incompat", held, &count);
    snprintf(path, sizeof path, "%s/work/work/incompat/volatile", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/work/work/incompat", dir);
    rmdir(path);
    hold(dir, "work/work", held, &count);
    return count;
}

int main(int argc, char** argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: mounts LOWER DIR ROUNDS\n");
        return 2;
    }
    const char *lower = argv[1], *dir = argv[2];
    int rounds = atoi(argv[3]);
    char text[64];
    uid_t uid = getuid();
    gid_t gid = getgid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0) die("unshare");
    write_file("/proc/self/setgroups", "deny");
    snprintf(text, sizeof text, "0 %u 1", (unsigned)uid);
    write_file("/proc/self/uid_map", text);
    snprintf(text, sizeof text, "0 %u 1", (unsigned)gid);
    write_file("/proc/self/gid_map", text);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("making mounts private");
    char upper[4096], work[4096], target[4096], ro[8192], rw[8192];
    snprintf(upper, sizeof upper, "%s/upper", dir);
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(target, sizeof target, "%s/root", dir);
    mkdir(upper, 0755);
    mkdir(work, 0755);
    mkdir(target, 0755);
    snprintf(ro, sizeof ro, "lowerdir=%s:%s,userxattr", upper, lower);
    snprintf(rw, sizeof rw, "lowerdir=%s,upperdir=%s,workdir=%s,userxattr", lower, upper, work);
    double* mount_us[KINDS];
    double* unmount_us[KINDS];
    for (int k = 0; k < KINDS; k++) {
        mount_us[k] = calloc(rounds, sizeof(double));
        unmount_us[k] = calloc(rounds, sizeof(double));
    }
    for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < KINDS; k++) {
            int held[3], count = 0;
            double t0 = now_us();
            if (k == OVERLAY_VOLATILE || k == OVERLAY_DURABLE) count = prepare_writable(dir, held);
            char opts[8300];
            snprintf(opts, sizeof opts, "%s%s", rw, k == OVERLAY_VOLATILE ? ",volatile" : "");
            int rc;
            if (k == BIND) {
                rc = mount(lower, target, NULL, MS_BIND | MS_REC, NULL);
                if (rc == 0)
                    rc = mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL);
            } else {
                rc = mount("overlay", target, "overlay", MS_NODEV, k == OVERLAY_RO ? ro : opts);
            }
            double t1 = now_us();
            if (rc != 0) die(names[k]);
            if (umount2(target, MNT_DETACH) != 0) die("unmounting");
            for (int i = 0; i < count; i++)
                close(held[i]);
            double t2 = now_us();
            mount_us[k][r] = t1 - t0;
            unmount_us[k][r] = t2 - t1;
        }
    }
    printf("| root filesystem (%d interleaved rounds) | mount, median | mount, p90 | "
           "unmount + release, median | unmount + release, p90 |\n|---|---:|---:|---:|---:|\n",
           rounds);
    for (int k = 0; k < KINDS; k++)
        printf("| %s | %.1f | %.1f | %.1f | %.1f |\n", names[k], quantile(mount_us[k], rounds, 0.5),
               quantile(mount_us[k], rounds, 0.9), quantile(unmount_us[k], rounds, 0.5),
               quantile(unmount_us[k], rounds, 0.9));
    return 0;
}
C
cc -O2 -o "$W/mounts" "$W/mounts.c"
echo "as $(id -un) (uid $(id -u)), in $PARENT ($(stat -f -c %T "$PARENT"), $(findmnt -n -o OPTIONS -T "$PARENT" 2>/dev/null || echo 'options unknown')); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
mkdir "$W/d"
"$W/mounts" "$W/lower" "$W/d" "$ROUNDS"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
