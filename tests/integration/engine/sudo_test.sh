#!/usr/bin/env bash
# sudo inside a Debian environment, as root and as the unprivileged test user: password-less sudo
# makes the command container root (a sub-id on the host, never host root), apt installs a package
# with it, diff lists the package's files, a plain run leaves the writable layer empty (the sudo
# rule is a mount, not a file in the layer, even below a package's opaque /etc/sudoers.d), and
# `[runtime] no_new_privileges = true` turns sudo off.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: sudo_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}

command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed"
command -v dpkg-deb >/dev/null || kp_skip "dpkg-deb is not installed"
[ "$(id -u)" = 0 ] || [ -w "$cache" ] || kp_skip "cannot write the rootfs cache $cache"
mkdir -p "$cache"
tarball=$(sh "$src/tests/fixtures/make-debian-rootfs.sh" "$cache" 2>"$cache/mmdebstrap.log") ||
  kp_skip "mmdebstrap could not build the rootfs (no mirror?): $(tail -3 "$cache/mmdebstrap.log")"
chmod a+r "$tarball"
work=$(mktemp -d /tmp/karapace-sudo.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT

# A package apt installs from a file: no repository needed.
pkg=$work/pkg
mkdir -p "$pkg/DEBIAN" "$pkg/usr/bin"
printf 'Package: kp-demo\nVersion: 1.0\nArchitecture: all\nMaintainer: Karapace tests <tests@karapace.invalid>\nDescription: prints its version\n' > "$pkg/DEBIAN/control"
printf '#!/bin/sh\necho "kp-demo 1.0"\n' > "$pkg/usr/bin/kp-demo"
chmod 755 "$pkg/usr/bin/kp-demo"
dpkg-deb --root-owner-group -b "$pkg" "$work/kp-demo_1.0_all.deb" >/dev/null
chmod -R a+rX "$work"

scenario() {
  local dir=$1 deb=$2 tarball=$3
  k() { "$kp" --store "$dir/store" "$@"; }
  mkdir -p "$dir/proj" "$dir/data"
  cp "$deb" "$dir/data/"
  cat > "$dir/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[system]
packages = ["sudo"]
[mounts]
data = "$dir/data:/data"
TOML
  cd "$dir/proj"
  k build --name deb >/dev/null
  me=$(id -u)

  # A plain run leaves nothing behind, the sudo rule included.
  [ "$(k exec deb -- id -u)" = "$me" ] || kp_fail "the command does not run as the caller"
  out=$(k diff deb)
  [ "$out" = "no changes in deb" ] || kp_fail "diff after a plain run is not empty: $out"
  kp_ok "a run as $(id -un) leaves the writable layer empty"

  [ "$(k exec deb -- sudo -n id -u)" = 0 ] || kp_fail "sudo -n id -u is not 0"
  k exec deb -- sudo -n apt-get install -y /data/kp-demo_1.0_all.deb >"$dir/apt.log" 2>&1 ||
    kp_fail "sudo apt-get install failed: $(tail -5 "$dir/apt.log")"
  [ "$(k exec deb -- kp-demo)" = "kp-demo 1.0" ] || kp_fail "kp-demo is not installed"
  out=$(k diff deb)
  kp_contains "$out" "usr/bin/kp-demo"
  kp_contains "$out" "var/lib/dpkg/info/kp-demo.list"
  kp_ok "sudo apt-get install works inside; diff lists the package's files"

  # Root inside is not host root, and the user's files stay the user's.
  k exec deb -- sudo -n touch /data/by-root
  k exec deb -- touch /data/by-me
  [ "$(stat -c %u "$dir/data/by-me")" = "$me" ] || kp_fail "a file the user made is not the user's"
  if [ "$me" != 0 ]; then
    owner=$(stat -c %u "$dir/data/by-root")
    [ "$owner" != 0 ] && [ "$owner" != "$me" ] ||
      kp_fail "a file root made inside belongs to host uid $owner"
    kp_ok "root inside owns its files as sub-id $owner on the host"

    printf '[runtime]\nno_new_privileges = true\n' >> karapace.toml
    k build >/dev/null
    if err=$(k exec deb -- sudo -n true 2>&1); then
      kp_fail "sudo still works with no_new_privileges = true"
    fi
    kp_contains "$err" "no new privileges"
    kp_ok "[runtime] no_new_privileges = true turns sudo off"
  fi
}

kp_scenario_both "$work" "$work/kp-demo_1.0_all.deb" "$tarball"
