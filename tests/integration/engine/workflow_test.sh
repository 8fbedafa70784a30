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

  # 3. Several environments from one lock: a second project builds its own under another name;
  # the first keeps its name, its writable layer and its project's mounts.
  for p in one two; do
    mkdir -p "$dir/$p/files"
    echo "$p" > "$dir/$p/files/which"
    printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[mounts]\nfiles = "files:/files"\n' \
      "$work/img/busybox-rootfs.tar.xz" > "$dir/$p/karapace.toml"
  done
  (cd "$dir/one" && k build --name first >/dev/null)
  cp "$dir/one/karapace.lock" "$dir/two/"
  out=$(cd "$dir/two" && k build --name second)
  kp_contains "$out" "built environment 'second'"
  kp_contains "$out" "another environment of the lock"
  first=$(k --json inspect first | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  second=$(k --json inspect second | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["env_id"], d["instance_of"])')
  [ "${second#* }" = "$first" ] || kp_fail "second is not recorded as another environment of first's lock: $second"
  [ "${second% *}" != "$first" ] || kp_fail "second shares first's id"
  [ "$(k exec first -- cat /files/which)" = one ] || kp_fail "first lost its project's mount"
  [ "$(k exec second -- cat /files/which)" = two ] || kp_fail "second does not see its own project's mount"
  k exec --root first -- sh -c 'echo first-only > /var/mark'
  k exec second -- test -e /var/mark && kp_fail "second sees a file written in first's writable layer"
  out=$(cd "$dir/two" && k build --name second)
  kp_contains "$out" "is already built"
  out=$(cd "$dir/one" && k build)
  kp_contains "$out" "'first'"
  (cd "$dir/two" && k rebuild >/dev/null)
  [ "$(k exec first -- cat /var/mark)" = first-only ] || kp_fail "rebuilding second touched first"
  [ "$(k exec second -- cat /files/which)" = two ] || kp_fail "second is gone after its rebuild"
  kp_ok "two environments from one lock: own names, writable layers and mounts; rebuild keeps them apart"

  # An archived environment is not "built" again: the build says so and what to do.
  k archive first >/dev/null
  set +e
  out=$(cd "$dir/one" && k build 2>&1); s=$?
  set -e
  [ $s != 0 ] || kp_fail "building an archived environment's lock succeeded: $out"
  kp_contains "$out" "is archived"
  kp_contains "$out" "karapace rebuild"
  kp_ok "building the lock of an archived environment says it is archived and how to go on"
}

kp_scenario_both "$work" "$work"
echo "workflow: all checks passed"
