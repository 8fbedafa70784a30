#!/usr/bin/env bash
# Format 3 -> 4 through the real binary. An unprivileged user's format 3 store gave container root
# the user's own id; `migrate --apply` swaps those owners in place so every file inside keeps its
# owner, mode and set-id bits, continues after being killed half-way, and leaves a store that
# verify-store accepts. A store root wrote becomes format 4 on the next open, unchanged.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: migrate_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -x /bin/busybox ] || kp_skip "busybox-static is not installed"
kp_have_test_user || kp_skip "needs root and the test user ${KARAPACE_TEST_USER:-kptest}"
user=${KARAPACE_TEST_USER:-kptest}
uid=$(id -u "$user")
gid=$(id -g "$user")
subuid=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subuid)
subgid=$(awk -F: -v u="$user" '$1 == u { print $2; exit }' /etc/subgid)
[ -n "$subuid" ] && [ -n "$subgid" ] || kp_skip "$user has no sub-ids in /etc/subuid and /etc/subgid"
command -v python3 >/dev/null || kp_skip "python3 is not installed"

work=$(mktemp -d /tmp/karapace-migrate.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT
sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img" >/dev/null
mkdir -p "$work/proj" "$work/user"
printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$work/img/busybox-rootfs.tar.xz" \
  > "$work/proj/karapace.toml"
chown "$user" "$work/user" "$work/proj"
chmod -R a+rX "$work"

store=$work/user/store
ku() { (cd "$work/proj" && kp_as_user "$kp" --store "$store" "$@"); }

# Every owner, mode and path of the trees a migration touches, as the host sees them.
listing() {
  (cd "$store" && find images/*/rootfs env/*/upper layers-unpacked -mindepth 1 \
    -printf '%U:%G %m %p\n' 2>/dev/null | sort)
}
# What the environment shows.
inside() { ku exec bb -- sh -c 'ls -ln /bin/busybox /etc/rootfile /opt/x/f; stat -c "%u:%g %a" /opt/x /'; }

# A format 4 store with files of root, of the user and of another id, and a set-id file.
ku build --name bb >/dev/null
ku exec --root bb -- sh -c 'echo hi > /etc/rootfile; mkdir -p /opt/x; chown 1234:1234 /opt/x;
  echo u > /opt/x/f; chown '"$uid:$gid"' /opt/x/f; chmod 6755 /opt/x/f'
before_inside=$(inside)
kp_contains "$before_inside" "-rwsr-sr-x"
before=$(listing)

# The same store as format 3 wrote it: container root was the user's id, and the user the sub-id
# that container root is now. The swap is its own inverse, done here as host root.
root_uid=$((subuid + uid - 1))
root_gid=$((subgid + gid - 1))
python3 - "$store" "$uid" "$root_uid" "$gid" "$root_gid" <<'PY'
import os, stat, sys, glob
store, u, ru, g, rg = sys.argv[1], *map(int, sys.argv[2:])
swap_u = {u: ru, ru: u}
swap_g = {g: rg, rg: g}
def fix(path):
    st = os.lstat(path)
    nu, ng = swap_u.get(st.st_uid, st.st_uid), swap_g.get(st.st_gid, st.st_gid)
    if (nu, ng) == (st.st_uid, st.st_gid):
        return
    os.lchown(path, nu, ng)
    if not stat.S_ISLNK(st.st_mode) and st.st_mode & (stat.S_ISUID | stat.S_ISGID):
        os.chmod(path, stat.S_IMODE(st.st_mode))
tops = [(p, True) for p in glob.glob(store + "/images/*/rootfs")]
tops += [(p, False) for p in glob.glob(store + "/env/*/upper") + glob.glob(store + "/env/*/work")]
tops += [(p, False) for p in glob.glob(store + "/layers-unpacked/*")]
for top, with_top in tops:
    if with_top:
        fix(top)
    for dirpath, dirs, files in os.walk(top):
        for n in dirs + files:
            fix(os.path.join(dirpath, n))
PY
printf '{\n  "format_version": 3\n}\n' > "$store/store/version"
[ "$(stat -c %u "$(echo "$store"/images/*/rootfs)/bin/busybox")" = "$uid" ] ||
  kp_fail "the format 3 store does not give container root's files the user's id"
kp_ok "made a format 3 store: root's files are uid $uid on the host"

if out=$(ku list 2>&1); then kp_fail "a format 3 store opened without migration: $out"; fi
kp_contains "$out" "karapace migrate --apply"
out=$(ku migrate)
kp_contains "$out" "format 3 store"
[ "$(listing)" != "$before" ] || kp_fail "migrate without --apply changed the store"
kp_ok "a format 3 store is refused with a pointer to migrate; migrate alone changes nothing"

# Killed in the middle of the second step (root's files -> the user's), then run again.
if KARAPACE_FAULT=migrate-owners.step-2.after-a-tree ku migrate --apply >/dev/null 2>&1; then
  kp_fail "the fault point was not reached"
fi
grep -q '"format_version": 3' "$store/store/version" || kp_fail "a half-done migration changed the version"
[ -e "$store/store/migrate-owners.json" ] || kp_fail "no journal after an interrupted migration"
out=$(ku migrate --apply)
kp_contains "$out" "step 2 of 3"
case "$out" in *"step 1 of 3"*) kp_fail "the rerun started over: $out" ;; esac
grep -q '"format_version": 4' "$store/store/version" || kp_fail "the version is not 4 after migrate"
[ ! -e "$store/store/migrate-owners.json" ] || kp_fail "the journal is left behind"
kp_ok "an interrupted migration continues at its step and finishes"

after=$(listing)
[ "$after" = "$before" ] || kp_fail "owners or modes differ after the migration: $(diff <(echo "$before") <(echo "$after") | head -10)"
after_inside=$(inside)
[ "$after_inside" = "$before_inside" ] ||
  kp_fail "the environment shows other owners: $(diff <(echo "$before_inside") <(echo "$after_inside"))"
ku verify-store >/dev/null || kp_fail "verify-store rejects the migrated store"
[ "$(ku exec --root bb -- id -u)" = 0 ] || kp_fail "exec --root is not root after the migration"
kp_ok "every file keeps its owner, mode and set-id bits; verify-store accepts the store"

# Root's store: nothing to change but the version.
rstore=$work/root-store
(cd "$work/proj" && "$kp" --store "$rstore" build --name bb >/dev/null)
rbefore=$(cd "$rstore" && find images env -printf '%U:%G %m %p\n' | sort)
printf '{\n  "format_version": 3\n}\n' > "$rstore/store/version"
(cd "$work/proj" && "$kp" --store "$rstore" list >/dev/null) || kp_fail "root's format 3 store does not open"
grep -q '"format_version": 4' "$rstore/store/version" || kp_fail "root's store was not moved to format 4"
[ "$(cd "$rstore" && find images env -printf '%U:%G %m %p\n' | sort)" = "$rbefore" ] ||
  kp_fail "opening root's store changed its files"
kp_ok "a format 3 store root wrote opens as format 4 without changes"
