#!/usr/bin/env bash
# The daily workflow on busybox environments, as root and as the unprivileged test user: a run
# leaves the writable layer untouched (the sandbox's mount points never land in it, so diff,
# commit and push see only what the user changed), and diff reads what sub-ids own.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: workflow_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -x /bin/busybox ] || kp_skip "busybox-static is not installed"

work=$(mktemp -d /tmp/karapace-workflow.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT
sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img" >/dev/null
mkdir -p "$work/data"
echo shared > "$work/data/file"
chmod -R a+rX "$work"

scenario() {
  local dir=$1 work=$2
  k() { "$kp" --store "$dir/store" "$@"; }
  mkdir -p "$dir/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[mounts]\ndata = "%s:/data:ro"\n' \
    "$work/img/busybox-rootfs.tar.xz" "$work/data" > "$dir/proj/karapace.toml"
  cd "$dir/proj"
  k build --name bb >/dev/null

  # 1. A run changes nothing: no mount point (/data, /run, /etc/hosts, the home directory, ...)
  # is made in the writable layer.
  [ "$(k exec bb -- cat /data/file)" = shared ] || kp_fail "the manifest mount is not there"
  k exec bb -- sh -c 'test -d /run && test -f /etc/hosts && test -d "$HOME"' ||
    kp_fail "a mount point is missing inside"
  k exec --root bb -- true
  out=$(k diff bb)
  [ "$out" = "no changes in bb" ] || kp_fail "diff of an untouched environment is not empty: $out"
  id=$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  left=$(find "$dir/store/env/$id/upper" -mindepth 1 | head -5)
  [ -z "$left" ] || kp_fail "a plain run left files in the writable layer: $left"
  kp_ok "exec and exec --root leave the writable layer empty; diff says no changes"

  # A real change shows, and only it.
  k exec bb -- sh -c 'echo hi > /tmp/mine'
  out=$(k diff bb)
  kp_contains "$out" "+ tmp/mine"
  [ "$(echo "$out" | grep -c '^ *[-+~] ')" = 1 ] || kp_fail "diff lists more than the one change: $out"
  kp_ok "diff lists the user's change and nothing of the sandbox's"

  # 2. Directories only sub-ids may read (apt's partial/ is _apt's, mode 0700) are diffed too.
  k exec --root bb -- sh -c 'mkdir -p /var/cache/x/partial && touch /var/cache/x/partial/f &&
    chown -R 100:100 /var/cache/x/partial && chmod 700 /var/cache/x/partial'
  out=$(k diff bb) || kp_fail "diff failed on a directory a sub-id owns"
  kp_contains "$out" "+ var/cache/x/partial/f"
  kp_ok "diff reads directories owned by other ids inside"
}

echo "# as $(id -un)"
( scenario "$work/self" "$work" )
if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$work/user" && chown "$user" "$work/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; scenario $work/user $work"
else
  echo "# skipped the unprivileged run: not root or no test user"
fi
echo "workflow: all checks passed"
