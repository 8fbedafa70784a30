#!/bin/bash
# meson install into a DESTDIR gives man pages (karapace.1 and one per command) and a user unit
# that `systemd-analyze verify` accepts: its ExecStart exists and its Documentation=
# man:karapace(1) resolves. The check runs in a mount namespace where the DESTDIR's prefix is
# bound over the real one, as if installed.
. "$(dirname "$0")/../lib.sh"
command -v systemd-analyze >/dev/null || kp_skip "systemd-analyze is missing (apt install systemd)"
command -v man >/dev/null || kp_skip "man is missing (apt install man-db)"
command -v unshare >/dev/null || kp_skip "unshare is missing (apt install util-linux)"
[ -n "${KARAPACE_BUILD_ROOT:-}" ] && [ -n "${KARAPACE_PREFIX:-}" ] && [ -n "${KARAPACE_USER_UNIT_DIR:-}" ] ||
  kp_fail "KARAPACE_BUILD_ROOT, KARAPACE_PREFIX and KARAPACE_USER_UNIT_DIR come from meson"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kp-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
DESTDIR=$dest meson install -C "$KARAPACE_BUILD_ROOT" --no-rebuild >"$tmp/install.log" 2>&1 ||
  kp_fail "meson install failed: $(tail -n 20 "$tmp/install.log")"
man1=$(find "$dest" -path '*/man1/karapace.1' | head -n 1)
[ -n "$man1" ] || kp_fail "meson install wrote no karapace.1: $(tail -n 5 "$tmp/install.log")"
[ -s "$(dirname "$man1")/karapace-build.1" ] || kp_fail "no karapace-build.1 beside $man1"
kp_ok "meson install writes the man pages ($(ls "$(dirname "$man1")" | wc -l) in $(dirname "${man1#"$dest"}"))"

unit=$dest$KARAPACE_USER_UNIT_DIR/karapace-dbus.service
[ -f "$unit" ] || kp_fail "no user unit at $unit"
grep -q '^Documentation=man:karapace(1)$' "$unit" || kp_fail "the unit does not point at man:karapace(1)"
prefix=$KARAPACE_PREFIX
mkdir -p "$prefix" 2>/dev/null || kp_skip "the prefix $prefix cannot be created to bind the install over"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(--map-root-user)
# shellcheck disable=SC2016
out=$(unshare --mount "${as_root[@]}" sh -c 'mount --bind "$1" "$2" && systemd-analyze verify "$3" 2>&1' \
  sh "$dest$prefix" "$prefix" "$unit") || kp_fail "systemd-analyze verify failed: $out"
[ -z "$out" ] || kp_fail "systemd-analyze verify complained: $out"
kp_ok "systemd-analyze verify accepts the installed user unit"
