#!/usr/bin/env bash
# What a command inside cannot reach, each an attack that worked before: the caller's secrets in
# PID 1's environment and arguments (also during a build, from a package manager's scripts), the
# host's kernel settings through /proc/sys for a root caller, read-only binds remounted
# read-write, keystrokes pushed into the caller's terminal with TIOCSTI, and an image whose
# /etc/resolv.conf is a dangling symlink (systemd-resolved images) breaking every run. Namespace
# and OCI backends; as root and as the unprivileged test user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: hardening_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -x /bin/busybox ] || kp_skip "busybox-static is not installed"
command -v cc >/dev/null || kp_skip "no C compiler for the TIOCSTI probe"
command -v script >/dev/null || kp_skip "script (bsdutils) is not installed"

work=$(mktemp -d /tmp/karapace-hardening.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT

# ---- fixtures --------------------------------------------------------------------------------
sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img" >/dev/null
mkdir -p "$work/root"
tar -xJf "$work/img/busybox-rootfs.tar.xz" -C "$work/root"
# A package manager that writes what it can see of the build's secrets into the layer: its own
# environment, and PID 1's environment and arguments.
mkdir -p "$work/root/sbin" "$work/root/var/lib/fake-apk"
cat > "$work/root/sbin/apk" <<'SH'
#!/bin/sh
state=/var/lib/fake-apk/installed
case "$*" in
  *update*) exit 0 ;;
  *add*)
    { env; cat /proc/1/environ; cat /proc/1/cmdline; } 2>&1 | tr '\0' '\n' > /leak.txt
    touch "$state" ;;
  *list*) [ -e "$state" ] && echo "x-1.0-r0 x86_64 {x} (MIT) [installed]" ;;
esac
exit 0
SH
chmod 755 "$work/root/sbin/apk"
tar --numeric-owner -cJf "$work/apk.tar.xz" -C "$work/root" .
# The layout of systemd-resolved images: resolv.conf leads into /run, empty until the daemon runs.
ln -sf ../run/systemd/resolve/stub-resolv.conf "$work/root/etc/resolv.conf"
tar --numeric-owner -cJf "$work/resolved.tar.xz" -C "$work/root" .

# Pushes its argument into the terminal on stdin, byte by byte, as an attacker would.
mkdir -p "$work/tools" "$work/data"
cat > "$work/tools/tiocsti.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
int main(int argc, char** argv) {
    for (const char* p = argv[1]; *p; ++p)
        if (ioctl(0, TIOCSTI, p) != 0) { printf("TIOCSTI refused: %s\n", strerror(errno)); return 1; }
    printf("TIOCSTI pushed %zu bytes\n", strlen(argv[1]));
    return 0;
}
C
cc -static -O2 -o "$work/tools/tiocsti" "$work/tools/tiocsti.c"
echo original > "$work/data/file"
chmod -R a+rX "$work"
chmod 777 "$work/data"

# The kernel must let TIOCSTI through outside at all, or the attempt inside proves nothing.
baseline=$(cd "$work" && script -qec "$work/tools/tiocsti 'true
'" /dev/null 2>&1 || true)
case "$baseline" in
  *"pushed"*) tiocsti_works=1 ;;
  *) tiocsti_works=0; echo "# TIOCSTI is refused on this host outside any sandbox ($baseline): its check is skipped" ;;
esac

canaries=(AWS_SECRET_ACCESS_KEY=canary-aws GITHUB_TOKEN=canary-github VAULT_TOKEN=canary-vault
  DB_PASSWORD=canary-password)

scenario() {
  local dir=$1 work=$2 tiocsti_works=$3
  shift 3
  local canaries=("$@")
  k() { "$kp" --store "$dir/store" "$@"; }
  manifest() {  # manifest DIR IMAGE [extra TOML]
    mkdir -p "$1"
    printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n%s' "$2" "${3:-}" > "$1/karapace.toml"
  }

  # 1. Secrets: neither a build's package manager nor a command sees them in PID 1.
  manifest "$dir/apk" "$work/apk.tar.xz" $'[system]\npackages = ["x"]\n'
  (cd "$dir/apk" && env "${canaries[@]}" "$kp" --store "$dir/store" build --name apk >/dev/null)
  leak=$(k exec apk -- cat /leak.txt)
  kp_contains "$leak" "container=karapace"  # the fake package manager did run and write
  case "$leak" in *canary*) kp_fail "the build's package manager saw a secret: $(echo "$leak" | grep canary)" ;; esac
  for mode in "" --root; do
    out=$(env "${canaries[@]}" "$kp" --store "$dir/store" exec $mode --env EXPLICIT_TOKEN=canary-explicit apk -- \
      sh -c 'cat /proc/1/environ /proc/1/cmdline 2>&1 | tr "\0" "\n"; for p in /proc/[0-9]*; do cat $p/cmdline; done 2>/dev/null | tr "\0" "\n"')
    case "$out" in *canary-aws* | *canary-github* | *canary-vault* | *canary-password* | *canary-explicit*)
      kp_fail "a secret is visible in PID 1 (exec $mode): $(echo "$out" | grep canary)" ;; esac
  done
  [ "$(k exec --root apk -- cat /proc/1/cmdline | tr -d '\0')" = karapace-init ] ||
    kp_fail "PID 1's command line is not karapace-init"
  kp_ok "no secret of the caller is in PID 1's environment or arguments, in builds or runs"

  # 2. Kernel settings and read-only host files are out of reach, also for root inside.
  manifest "$dir/bb" "$work/img/busybox-rootfs.tar.xz" "[mounts]
data = \"$work/data:/data:ro\"
"
  (cd "$dir/bb" && k build --name bb >/dev/null)
  # Harmless attempts, should they succeed: the current value written back, a write of nothing.
  # Each in a sandbox of its own and beside a running session (which mounts a /proc of its own
  # over the session's).
  before=$(cat /proc/sys/kernel/core_pattern)
  for mode in "" --root; do
    for beside in "" "beside a running session"; do
      holder=
      if [ -n "$beside" ]; then
        "$kp" --store "$dir/store" exec $mode bb -- sleep 60 >/dev/null 2>&1 &
        holder=$!
        trap 'kill "$holder" 2>/dev/null || true' EXIT
        for _ in $(seq 50); do
          [ -n "$(ls "$dir/store/env/"*/sessions/ 2>/dev/null)" ] && break
          sleep 0.1
        done
      fi
      k exec $mode bb -- sh -c 'v=$(cat /proc/sys/kernel/core_pattern) && echo "$v" > /proc/sys/kernel/core_pattern' 2>/dev/null &&
        kp_fail "exec $mode $beside could write kernel.core_pattern"
      k exec $mode bb -- sh -c ': > /proc/sysrq-trigger' 2>/dev/null &&
        kp_fail "exec $mode $beside could open /proc/sysrq-trigger for writing"
      k exec $mode bb -- sh -c 'mount -o remount,rw /sys || mount -o remount,rw,bind /etc/resolv.conf' 2>/dev/null &&
        kp_fail "exec $mode $beside remounted a read-only host mount"
      k exec $mode bb -- sh -c 'test -s /proc/timer_list' 2>/dev/null &&
        kp_fail "exec $mode $beside sees /proc/timer_list, which is hidden"
      if [ -n "$holder" ]; then
        kill "$holder" 2>/dev/null || true
        wait "$holder" 2>/dev/null || true
        trap - EXIT
      fi
    done
  done
  [ "$(cat /proc/sys/kernel/core_pattern)" = "$before" ] || kp_fail "kernel.core_pattern changed"
  k exec --root bb -- sh -c 'grep -q "^CapBnd:.*0000000000000000$" /proc/self/status' &&
    kp_fail "the bounding set was emptied: root inside lost what package managers need"
  k exec --root bb -- sh -c 'grep "^CapEff" /proc/self/status' | grep -qv 'ffffffff' ||
    kp_fail "root inside keeps every capability"
  kp_ok "/proc/sys, /proc/sysrq-trigger and read-only host mounts resist root inside"

  # 3. A :ro manifest mount stays read-only: no remount, not even from a nested user namespace.
  for attempt in 'mount -o remount,rw,bind /data && echo changed > /data/file' \
    'unshare -Urm sh -c "mount -o remount,rw,bind /data && echo changed > /data/file"' \
    'echo changed > /data/file'; do
    k exec --root bb -- sh -c "$attempt" >/dev/null 2>&1 || true
    k exec bb -- sh -c "$attempt" >/dev/null 2>&1 || true
  done
  [ "$(cat "$work/data/file")" = original ] || kp_fail "a :ro mount's host file was written"
  kp_ok "a :ro mount cannot be remounted read-write, also from a nested user namespace"

  # 4. Nothing pushed into the caller's terminal runs after karapace exits.
  if [ "$tiocsti_works" = 1 ]; then
    manifest "$dir/tty" "$work/img/busybox-rootfs.tar.xz" "[mounts]
tools = \"$work/tools:/opt/tools:ro\"
"
    (cd "$dir/tty" && k build --name tty >/dev/null)
    for mode in "" --root; do
      marker=$dir/injected$mode
      # The shell after karapace: it reads and runs the next line of its terminal (script's own
      # input stays open meanwhile, or the end of it would reach the terminal first).
      out=$(cd "$dir" && sleep 2 | script -qec "$kp --store $dir/store exec $mode tty -- /opt/tools/tiocsti 'touch $marker
'; read -t 1 line; eval \"\$line\"" /dev/null 2>&1 || true)
      kp_contains "$out" "TIOCSTI refused"
      [ ! -e "$marker" ] || kp_fail "keystrokes pushed from inside ran in the caller's shell (exec $mode)"
    done
    kp_ok "TIOCSTI is refused inside"
  fi

  # 4b. Run from a terminal with none of its stdio on it (also where the kernel itself refuses
  # TIOCSTI), the command gets no controlling terminal and a process group of its own, but stays
  # in its caller's session, and so, with autogroup scheduling, in its caller's scheduling group:
  # in a new sandbox, in one that starts lingering, and in a run the lingering one serves. All
  # three runs in one terminal session.
  cat > "$dir/in-terminal.sh" <<EOF
cat /proc/self/autogroup 2>/dev/null || echo no-autogroup
for linger in 0 60 60; do
  KARAPACE_LINGER=\$linger "$kp" --store "$dir/store" exec bb -- sh -c 'read -r pid _ _ _ pgrp _ tty _ < /proc/self/stat
    echo "pid=\$pid own-group=\$((pgrp == pid)) tty=\$tty \$(cat /proc/self/autogroup 2>/dev/null || echo no-autogroup)"
    if : > /dev/tty; then echo opened; fi' </dev/null 2>/dev/null | cat
done
EOF
  out=$(script -qec "sh $dir/in-terminal.sh" /dev/null 2>&1 | tr -d '\r' || true)
  k stop bb >/dev/null 2>&1 || true
  local group runs
  group=$(echo "$out" | head -n1)
  runs=$(echo "$out" | tail -n +2)
  case "$out" in *opened*) kp_fail "a command with no terminal on its stdio could open /dev/tty: $out" ;; esac
  [ "$(echo "$runs" | grep -c "own-group=1 tty=0 $group\$")" = 3 ] ||
    kp_fail "not every command had a group of its own, no terminal and its caller's scheduling group ($group): $runs"
  [ "$(echo "$runs" | sed -n '3s/^pid=\([0-9]*\) .*/\1/p')" -gt 2 ] ||
    kp_fail "the third run was not served by the lingering sandbox: $runs"
  if [ "$group" = no-autogroup ]; then
    echo "# autogroup scheduling is not in this kernel: the scheduling group was not compared"
  fi
  kp_ok "a command without a terminal gets none and a process group of its own, in its caller's session and scheduling group"

  # 5. A dangling symlink at a mount target: the run works, DNS is the host's, nothing is left.
  manifest "$dir/res" "$work/resolved.tar.xz"
  (cd "$dir/res" && k build --name res >/dev/null)
  out=$(k exec res -- cat /etc/resolv.conf) || kp_fail "an image with a dangling /etc/resolv.conf does not run"
  [ "$out" = "$(cat /etc/resolv.conf)" ] || kp_fail "/etc/resolv.conf inside is not the host's"
  k diff res | grep -q resolv.conf && kp_fail "diff shows the sandbox's /etc/resolv.conf"
  kp_ok "an image whose /etc/resolv.conf is a dangling symlink runs with the host's DNS settings"

  # The OCI backend: the same seccomp rules and masks through the runtime.
  if command -v runc >/dev/null; then
    manifest "$dir/oci" "$work/img/busybox-rootfs.tar.xz" $'[runtime]\nbackend = "oci"\n'
    (cd "$dir/oci" && k build --name oci >/dev/null)
    k exec --root oci -- sh -c 'echo x > /proc/sys/kernel/core_pattern' 2>/dev/null &&
      kp_fail "the OCI backend let root write kernel.core_pattern"
    if [ "$tiocsti_works" = 1 ]; then
      # runc gives a command without a terminal of its own none at all; the seccomp rule is the
      # second line of defence there.
      k exec oci -- sh -c 'cat > /tmp/t && chmod +x /tmp/t' < "$work/tools/tiocsti"
      out=$(cd "$dir" && sleep 2 | script -qec "$kp --store $dir/store exec oci -- /tmp/t 'touch $dir/oci-injected
'; read -t 1 line; eval \"\$line\"" /dev/null 2>&1 || true)
      kp_contains "$out" "TIOCSTI refused"
      [ ! -e "$dir/oci-injected" ] || kp_fail "the OCI backend let keystrokes through"
    fi
    kp_ok "the OCI backend refuses the same"
  fi
}

echo "# as $(id -un)"
( scenario "$work/self" "$work" "$tiocsti_works" "${canaries[@]}" )
if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$work/user" && chown "$user" "$work/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; scenario $work/user $work $tiocsti_works ${canaries[*]}"
else
  echo "# skipped the unprivileged run: not root or no test user"
fi
echo "hardening: all checks passed"
