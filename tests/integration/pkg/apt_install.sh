#!/usr/bin/env bash
# Real apt run of the argv the pkg layer builds: on a Debian bookworm minbase rootfs made by
# mmdebstrap, refresh, install `hello`, query it, reinstall it from a lock entry, and check that a
# bogus locked version and an unknown package fail with apt's own `E:` lines. The commands run
# through chroot, which only this test uses (the product runs them in its own sandbox).
#
# Usage: apt_install.sh PKG_ARGV_TOOL
# Needs root, mmdebstrap and a reachable Debian mirror; skips (exit 77) with a reason otherwise.
# The rootfs tarball is cached in ${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}.
. "$(dirname "$0")/../lib.sh"

tool=${1:?usage: apt_install.sh PKG_ARGV_TOOL}
[ "$(id -u)" -eq 0 ] || kp_skip "needs root for chroot"
command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed (apt-get install mmdebstrap)"
command -v chroot >/dev/null || kp_skip "chroot is not installed"

cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}
tarball=$cache/debian-bookworm-minbase.tar
mkdir -p "$cache"
if [ ! -f "$tarball" ]; then
  echo "# building $tarball with mmdebstrap (once)"
  # mmdebstrap picks the output format from the name: keep the .tar suffix on the temporary.
  partial=$cache/.partial-$$.tar
  if ! mmdebstrap --variant=minbase bookworm "$partial" >"$cache/mmdebstrap.log" 2>&1; then
    rm -rf "$partial"
    tail -5 "$cache/mmdebstrap.log"
    kp_skip "mmdebstrap failed (Debian mirror unreachable?); see $cache/mmdebstrap.log"
  fi
  mv "$partial" "$tarball"
fi

work=$(mktemp -d /tmp/karapace-apt-test.XXXXXX)
root=$work/root
cleanup() {
  for m in "$root/proc" "$root/dev"; do
    if mountpoint -q "$m" 2>/dev/null; then umount "$m" || umount -l "$m"; fi
  done
  # Never delete through a mount that could not be removed.
  if ! grep -q " $work/" /proc/mounts; then rm -rf --one-file-system "$work"; fi
}
trap cleanup EXIT
mkdir -p "$root"
tar -xf "$tarball" -C "$root" --numeric-owner
# The tarball may come from make-debian-rootfs.sh, which leaves /dev out (its users refuse nodes).
mkdir -p "$root/proc" "$root/dev"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"

# Reads a NUL-separated list printed by the tool into the named array.
read_list() { mapfile -d '' -t "$1" < <("$tool" "${@:2}"); }

read_list env_list apt env
# Runs the given argv inside the rootfs with exactly the environment the pkg layer asks for.
in_root() { env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "${env_list[@]}" chroot "$root" "$@"; }

# --- refresh (with the single-uid option, which must be accepted by apt-get as a plain option)
read_list argv --single-uid apt refresh
[ "${#argv[@]}" -gt 0 ] || kp_fail "empty refresh argv"
if ! out=$(in_root "${argv[@]}" 2>&1); then
  echo "$out" | tail -5
  kp_skip "apt-get update failed inside the rootfs (mirror unreachable?)"
fi
kp_ok "refresh: ${argv[*]}"

# --- install hello
read_list argv apt install hello
out=$(in_root "${argv[@]}" 2>&1) || { echo "$out" | tail -20; kp_fail "installing hello failed"; }
kp_ok "install: ${argv[*]}"

# --- query: parse_versions on the real dpkg-query output gives hello's real version
read_list argv apt query hello karapace-no-such-package
query_out=$(in_root "${argv[@]}" 2>/dev/null || true)
parsed=$(printf '%s' "$query_out" | "$tool" apt parse hello karapace-no-such-package)
real_version=$(in_root dpkg -s hello | sed -n 's/^Version: //p')
real_arch=$(in_root dpkg -s hello | sed -n 's/^Architecture: //p')
[ -n "$real_version" ] || kp_fail "dpkg -s hello shows no version"
expected=$(printf 'hello\t%s\t%s\nmissing\tkarapace-no-such-package' "$real_version" "$real_arch")
[ "$parsed" = "$expected" ] || kp_fail "parse_versions gave '$parsed', expected '$expected'"
kp_ok "query: hello $real_version ($real_arch), unknown package reported missing"

# --- exact install from the lock entry, after removing hello again
in_root apt-get remove -y -q hello >/dev/null 2>&1 || kp_fail "removing hello failed"
read_list exact apt install-exact hello "$real_version" "$real_arch"
out=$(in_root "${exact[@]}" 2>&1) || { echo "$out" | tail -20; kp_fail "exact install of hello failed"; }
read_list argv apt query hello
mismatch=$(in_root "${argv[@]}" 2>/dev/null | "$tool" apt missing hello "$real_version" "$real_arch")
[ -z "$mismatch" ] || kp_fail "after an exact install: $mismatch"
kp_ok "exact install: ${exact[*]} -> hello $real_version installed again"

# --- a locked version that does not exist fails with apt's own E: line
read_list argv apt install-exact hello 9.9.9-karapace-bogus "$real_arch"
if out=$(in_root "${argv[@]}" 2>&1); then kp_fail "installing a bogus version succeeded"; fi
errors=$(printf '%s' "$out" | "$tool" apt errors)
kp_contains "$errors" "E: Version '9.9.9-karapace-bogus' for 'hello"
kp_contains "$errors" "was not found"
case "$errors" in *Reading*) kp_fail "error lines include apt's progress: $errors" ;; esac
kp_ok "bogus version refused: $errors"

# --- and so does a package that does not exist
read_list argv apt install karapace-no-such-package
if out=$(in_root "${argv[@]}" 2>&1); then kp_fail "installing an unknown package succeeded"; fi
errors=$(printf '%s' "$out" | "$tool" apt errors)
[ "$errors" = "E: Unable to locate package karapace-no-such-package" ] ||
  kp_fail "unexpected error lines: $errors"
kp_ok "unknown package refused: $errors"

# --- detection on the real rootfs
[ "$("$tool" detect "$root")" = apt ] || kp_fail "detect did not find apt in the Debian rootfs"
kp_ok "detect: apt"
