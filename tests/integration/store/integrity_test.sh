#!/usr/bin/env bash
# Store integrity through the real `karapace` binary, as root and as the unprivileged test user:
# verify-store recomputes the digest of a cached image's files and catches a flipped byte, a
# changed mode and an edited image.json; exec then refuses the damaged image until a build fetches
# it again; a name index entry pointing outside the store is reported (and gc removes it); restore
# refuses a snapshot whose layer record is corrupt and leaves the environment as it was.
# Usage: integrity_test.sh KARAPACE
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: integrity_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

integrity() {
  local work=$1 tarball=$2
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  mkdir -p "$work/proj"
  cat > "$work/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
TOML
  cd "$work/proj"
  k build --name bb >/dev/null
  local img
  img="$store/images/$(sha256sum "$tarball" | cut -d' ' -f1)"
  [ -d "$img/rootfs" ] || kp_fail "no cached image at $img"
  # The first line only: enter and exec add the caller's own entry for an unprivileged user.
  local passwd
  passwd=$(head -n 1 "$img/rootfs/etc/passwd")
  out=$(k verify-store) || kp_fail "a freshly built store does not verify: $out"
  kp_contains "$out" "store OK"
  kp_ok "a fresh store verifies, image trees included"

  # After a change under images/: verify-store exits 3 naming the image, exec refuses with what
  # to do, and a build fetches the image again, after which everything works.
  damaged() {
    local what=$1 expect=$2 out err v e
    set +e
    out=$(k verify-store 2>&1); v=$?
    err=$(k exec bb -- true 2>&1); e=$?
    set -e
    [ $v = 3 ] || kp_fail "verify-store after $what exited $v, not 3: $out"
    kp_contains "$out" "FAIL image $img: "
    kp_contains "$out" "$expect"
    [ $e = 125 ] || kp_fail "exec on a damaged image ($what) exited $e, not 125: $err"
    kp_contains "$err" "base image of environment bb"
    kp_contains "$err" "is damaged"
    kp_contains "$err" "karapace build $work/proj/karapace.toml"
    out=$(k build --name bb 2>&1) || kp_fail "build did not fetch the damaged image again: $out"
    out=$(k verify-store) || kp_fail "verify-store fails after the image was fetched again ($what): $out"
    [ "$(k exec bb -- head -n 1 /etc/passwd)" = "$passwd" ] || kp_fail "exec after the re-fetch ($what)"
    [ ! -e "$img/damaged" ] || kp_fail "the damage mark survived the re-fetch ($what)"
    kp_ok "$what: verify-store exits 3, exec refuses, build fetches the image again"
  }

  # The image's files are root's inside: for an unprivileged user, a sub-id's on the host, so
  # the tampering runs in a user namespace that maps the sub-ids (util-linux's unshare).
  as_owner() { if [ "$(id -u)" = 0 ]; then "$@"; else unshare --user --map-auto --map-root-user "$@"; fi; }

  # One flipped byte (r -> R) in the image's /etc/passwd.
  printf 'R' | as_owner dd of="$img/rootfs/etc/passwd" bs=1 seek=0 conv=notrunc status=none
  damaged "a flipped byte under rootfs/" "its root filesystem changed since it was unpacked"

  as_owner chmod 0600 "$img/rootfs/etc/os-release"
  damaged "a changed mode alone" "a file's contents, mode, owner or link target differs"

  sed -i 's/"source": "url"/"source": "lxc"/' "$img/image.json"
  damaged "an edited image.json" "checksum mismatch"

  ln -s /etc "$store/names/evil"
  set +e
  out=$(k verify-store 2>&1); v=$?
  k exec evil -- true >/dev/null 2>&1; e=$?
  set -e
  [ $v = 3 ] || kp_fail "verify-store with names/evil -> /etc exited $v: $out"
  kp_contains "$out" "FAIL name $store/names/evil: points outside the store: /etc"
  [ $e = 125 ] || kp_fail "exec evil resolved through the outward link (status $e)"
  k gc >/dev/null
  [ ! -L "$store/names/evil" ] || kp_fail "gc kept the outward name index entry"
  out=$(k verify-store) || kp_fail "verify-store after gc: $out"
  [ "$(k exec bb -- echo named)" = named ] || kp_fail "the environment's own name stopped working"
  kp_ok "a name index entry pointing outside is reported, never followed, and gc removes it"

  k exec --root bb -- sh -c 'echo snap > /etc/snapfile'
  local snap
  snap=$(k --json commit bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  k exec --root bb -- sh -c 'rm /etc/snapfile; echo later > /etc/later'
  sed -i 's/"kind": "snapshot"/"kind": "snapshoT"/' "$store/layers/$snap.json"
  set +e
  err=$(k restore bb "${snap:0:12}" 2>&1); r=$?
  set -e
  [ $r = 3 ] || kp_fail "restore with a corrupt layer record exited $r, not 3: $err"
  kp_contains "$err" "cannot restore snapshot ${snap:0:12} of environment bb"
  kp_contains "$err" "$store/layers/$snap.json"
  kp_contains "$err" "checksum mismatch"
  kp_contains "$err" "verify-store"
  [ "$(k exec bb -- cat /etc/later)" = later ] || kp_fail "the refused restore changed the writable layer"
  if k exec bb -- test -e /etc/snapfile; then kp_fail "the refused restore brought the snapshot back"; fi
  [ -z "$(ls -A "$store/staging")" ] || kp_fail "the refused restore left staging behind: $(ls -A "$store/staging")"
  set +e
  out=$(k verify-store 2>&1); v=$?
  set -e
  [ $v = 3 ] || kp_fail "verify-store with a corrupt layer record exited $v"
  kp_contains "$out" "FAIL layer $store/layers/$snap.json"
  kp_ok "restore refuses a corrupt layer record, names it and leaves the environment as it was"
}

fixtures=$(mktemp -d /tmp/karapace-integrity.XXXXXX)
chmod 755 "$fixtures"
trap 'rm -rf "$fixtures" 2>/dev/null || true' EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

echo "# as $(id -un)"
( integrity "$fixtures/self" "$tarball" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f integrity kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; integrity $fixtures/user $tarball"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "store integrity: all checks passed"
