#!/usr/bin/env bash
# `karapace upgrade` on a real Debian environment, as root and as the unprivileged test user: a
# local apt repository (dpkg-deb + dpkg-scanpackages, served over HTTP) first has kp-demo 1.0, the
# base image (an unpinned file:// URL) is a Debian minbase rootfs that uses only that repository.
# Then the repository gets kp-demo 2.0 and the image a second build at the same URL: `build`
# keeps the lock, `upgrade` shows both changes, replaces the environment and writes the new lock.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: upgrade_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}

[ "$(id -u)" = 0 ] || kp_skip "making the test image keeps file owners: needs root"
command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed"
command -v dpkg-scanpackages >/dev/null || kp_skip "dpkg-scanpackages (dpkg-dev) is not installed"
mkdir -p "$cache"
tarball=$(sh "$src/tests/fixtures/make-debian-rootfs.sh" "$cache" 2>"$cache/mmdebstrap.log") ||
  kp_skip "mmdebstrap could not build the rootfs (no mirror?): $(tail -3 "$cache/mmdebstrap.log")"

work=$(mktemp -d /tmp/karapace-upgrade.XXXXXX)
chmod 755 "$work"
server=
cleanup() {
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

# The repository, served on a free port.
mkdir -p "$work/repo"
python3 "$src/tests/fixtures/serve.py" "$work/repo" --port-file "$work/port" >"$work/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || kp_fail "the repository server did not start: $(cat "$work/serve.log")"
port=$(cat "$work/port")

publish() {  # publish VERSION: adds kp-demo VERSION to the repository
  local v=$1 pkg=$work/pkg-$1
  mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin"
  printf 'Package: kp-demo\nVersion: %s\nArchitecture: all\nMaintainer: Karapace tests <tests@karapace.invalid>\nDescription: prints its version\n' "$v" > "$pkg/DEBIAN/control"
  printf '#!/bin/sh\necho "kp-demo %s"\n' "$v" > "$pkg/usr/bin/kp-demo"
  chmod 755 "$pkg/usr/bin/kp-demo"
  dpkg-deb --root-owner-group -b "$pkg" "$work/repo/kp-demo_${v}_all.deb" >/dev/null
  (cd "$work/repo" && dpkg-scanpackages --multiversion . /dev/null 2>/dev/null > Packages)
}

image() {  # image BUILD: the base image at its one URL, with /etc/image-build = BUILD
  rm -rf "$work/root" && mkdir -p "$work/root"
  tar -xf "$tarball" -C "$work/root"
  echo "deb [trusted=yes] http://127.0.0.1:$port/ ./" > "$work/root/etc/apt/sources.list"
  rm -f "$work/root/etc/apt/sources.list.d/"*
  echo "$1" > "$work/root/etc/image-build"
  tar --numeric-owner -cf "$work/image.tar" -C "$work/root" .
  chmod a+r "$work/image.tar"
}

scenario() {
  local dir=$1 work=$2
  k() { "$kp" --store "$dir/store" "$@"; }
  mkdir -p "$dir/proj" && cd "$dir/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[system]\npackages = ["kp-demo"]\n' \
    "$work/image.tar" > karapace.toml
  k build --name demo >/dev/null
  [ "$(k exec demo -- kp-demo)" = "kp-demo 1.0" ] || kp_fail "kp-demo 1.0 is not installed"
  grep -A1 'name = "kp-demo"' karapace.lock | grep -q 'version = "1.0"' || kp_fail "the lock does not pin 1.0"
  touch "$dir/ready"
  while [ ! -e "$work/published-2" ]; do sleep 0.2; done
  k build >/dev/null
  [ "$(k exec demo -- kp-demo)" = "kp-demo 1.0" ] || kp_fail "build moved off the lock"
  old=$(k --json inspect demo | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  out=$(k upgrade demo)
  kp_contains "$out" "upgraded environment 'demo'"
  kp_contains "$out" "kp-demo 1.0 -> 2.0"
  kp_contains "$out" "base image"
  [ "$(k exec demo -- kp-demo)" = "kp-demo 2.0" ] || kp_fail "upgrade did not install kp-demo 2.0"
  [ "$(k exec demo -- cat /etc/image-build)" = 2 ] || kp_fail "upgrade did not take the image's second build"
  grep -A1 'name = "kp-demo"' karapace.lock | grep -q 'version = "2.0"' || kp_fail "the lock does not pin 2.0"
  k exec "$old" -- true 2>/dev/null && kp_fail "the old environment $old is still there"
  json=$(k --json upgrade demo)
  [ "$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')" = unchanged ] ||
    kp_fail "a second upgrade was not a no-op: $json"
  kp_ok "upgrade takes the image's new build and kp-demo 2.0, says so, and writes the new lock"
}

publish 1.0
image 1
chmod -R a+rX "$work"
run_both() {
  echo "# as $(id -un)"
  ( scenario "$work/self" "$work" ) &
  local me=$!
  local user_run=
  if kp_have_test_user; then
    user=${KARAPACE_TEST_USER:-kptest}
    mkdir -p "$work/user" && chown "$user" "$work/user"
    echo "# as $user"
    kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; scenario $work/user $work" &
    user_run=$!
  else
    echo "# skipped the unprivileged run: not root or no test user"
    mkdir -p "$work/user" && touch "$work/user/ready"
  fi
  # Both have built from the first versions: publish the second ones.
  for _ in $(seq 1200); do
    [ -e "$work/self/ready" ] && [ -e "$work/user/ready" ] && break
    kill -0 $me 2>/dev/null || break
    [ -z "$user_run" ] || kill -0 $user_run 2>/dev/null || break
    sleep 0.5
  done
  publish 2.0
  image 2
  chmod -R a+rX "$work"
  touch "$work/published-2"
  wait $me || kp_fail "the run as $(id -un) failed"
  [ -z "$user_run" ] || wait $user_run || kp_fail "the run as the test user failed"
}
run_both
echo "upgrade: all checks passed"
