#!/usr/bin/env bash
# The fuse-overlayfs fallback, forced with KARAPACE_OVERLAY=fuse: the root is a fuse-overlayfs
# mount, writes and deletions land in the same writable layer the kernel overlay uses (so both
# see the same tree), diff understands what fuse-overlayfs writes, a frozen environment stays
# read-only, and the fuse daemon does not outlive the sandbox. Where the user cannot open
# /dev/fuse, forcing it fails with a message that says so.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: fuse_overlay_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

command -v fuse-overlayfs >/dev/null || kp_skip "fuse-overlayfs is not installed"

fuse_checks() {
  local work=$1 tarball=$2
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  kf() { KARAPACE_OVERLAY=fuse "$kp" --store "$store" "$@"; }
  mkdir -p "$work/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$work/proj/karapace.toml"
  cd "$work/proj"
  k build --name bb >/dev/null 2>&1 || kp_fail "the busybox environment did not build"

  if [ ! -r /dev/fuse ] || [ ! -w /dev/fuse ]; then
    set +e
    err=$(kf exec bb -- true 2>&1); s=$?
    set -e
    [ $s = 125 ] || kp_fail "forcing fuse-overlayfs without /dev/fuse gave status $s, not 125"
    kp_contains "$err" "/dev/fuse"
    set +e
    doc=$(KARAPACE_OVERLAY=fuse "$kp" --store "$store" doctor 2>&1); s=$?
    set -e
    [ $s != 0 ] || kp_fail "doctor passed although no overlay can be mounted: $doc"
    kp_contains "$doc" "no overlay filesystem can be mounted"
    kp_ok "without access to /dev/fuse, KARAPACE_OVERLAY=fuse fails and names /dev/fuse; doctor fails"
    return 0
  fi

  root=$(kf exec bb -- sh -c 'grep " / " /proc/mounts')
  kp_contains "$root" "fuse-overlayfs"
  kp_contains "$(KARAPACE_OVERLAY=fuse "$kp" --store "$store" doctor 2>&1)" "mounted with fuse-overlayfs"
  kp_contains "$("$kp" --store "$store" doctor 2>&1)" "mounted with kernel overlayfs"
  kp_ok "KARAPACE_OVERLAY=fuse mounts the root with fuse-overlayfs; doctor says which overlay is used"

  kf exec --root bb -- sh -c 'echo via-fuse > /etc/fuse-added; rm /etc/os-release; mkdir -p /opt/d'
  [ "$(k exec bb -- cat /etc/fuse-added)" = via-fuse ] || kp_fail "the kernel overlay does not see a file written through fuse-overlayfs"
  if k exec bb -- test -e /etc/os-release; then kp_fail "the kernel overlay sees a file deleted through fuse-overlayfs"; fi
  kp_ok "changes made through fuse-overlayfs are the environment's changes under kernel overlayfs too"

  out=$(k --json diff bb)
  kp_contains "$out" '"etc/fuse-added"'
  kp_contains "$out" '"etc/os-release"'
  case "$out" in *'.wh.'*) kp_fail "diff lists fuse-overlayfs's whiteout markers: $out" ;; esac
  kp_ok "diff reports the changes without fuse-overlayfs's markers"

  # The daemon lives in the sandbox's pid namespace and ends with it.
  sleep 0.2
  if pgrep -f "fuse-overlayfs.*$work" >/dev/null || pgrep -u "$(id -u)" -x fuse-overlayfs >/dev/null; then
    kp_fail "a fuse-overlayfs daemon outlived the sandbox"
  fi
  kp_ok "no fuse-overlayfs process outlives the sandbox"

  k freeze bb >/dev/null
  set +e
  err=$(kf exec --root bb -- sh -c 'echo x > /etc/after-freeze' 2>&1); s=$?
  set -e
  [ $s != 0 ] || kp_fail "a frozen environment accepted a write through fuse-overlayfs"
  kp_contains "$err" "Read-only file system"
  [ "$(kf exec bb -- cat /etc/fuse-added)" = via-fuse ] || kp_fail "the frozen environment lost its changes under fuse-overlayfs"
  kp_ok "a frozen environment is read-only under fuse-overlayfs too"
}

fixtures=$(mktemp -d /tmp/karapace-fuse-test.XXXXXX)
chmod 755 "$fixtures"
trap 'rm -rf "$fixtures" 2>/dev/null || true' EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

( fuse_checks "$fixtures/self" "$tarball" )
if kp_have_test_user; then
  mkdir -p "$fixtures/user"
  chown "${KARAPACE_TEST_USER:-kptest}" "$fixtures/user"
  kp_as_user bash -c "$(declare -f fuse_checks kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; fuse_checks $fixtures/user $tarball"
else
  echo "note: not root or no test user; the unprivileged run was not done"
fi
echo "fuse-overlayfs fallback: all checks passed"
