#!/usr/bin/env bash
# The manifest's [env] and [hooks] through the CLI on a busybox environment: variables in exec and
# enter (exec --env overrides them), post_build hooks in the layer and in the identity, a failing
# hook that leaves nothing behind, on_enter at enter only, a changed [env] taking effect without
# a rebuild, and bad keys refused with key and line. Runs as the invoking user, then (as root)
# again as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: env_hooks_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

env_and_hooks() {
  local work=$1 tarball=$2
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  mkdir -p "$work/proj"
  cd "$work/proj"
  write_manifest() {
    cat > karapace.toml <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[env]
GREETING = "$1 \${USER}"
PATH = "/opt/tool/bin:\$PATH"
PRICE = "\$\$5"
[hooks]
post_build = [
    "mkdir -p /opt/tool/bin && printf '#!/bin/sh\\\\necho tool-ran\\\\n' > /opt/tool/bin/tool",
    "chmod 755 /opt/tool/bin/tool; echo $2 > /etc/hook-file",
]
on_enter = ["echo on-enter-ran as \$(id -u) \$GREETING", "read line && echo stole-\$line", "exit 3"]
TOML
  }
  local user
  user=$(id -un)

  write_manifest hello first
  out=$(k --json build --name eh)
  kp_contains "$out" '"status": "built"'
  grep -q '^\[hooks\]' karapace.lock || kp_fail "the lock has no [hooks] table: $(cat karapace.lock)"
  grep -q 'echo first > /etc/hook-file' karapace.lock || kp_fail "the lock does not record the hook"
  id1=$(sed -n 's/^env_id = "\(.*\)"/\1/p' karapace.lock)
  kp_ok "a manifest with [env] and [hooks] builds; the lock records post_build"

  out=$(k exec eh -- sh -c 'echo "$GREETING|$PATH|$PRICE"')
  [ "$out" = "hello $user|/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|\$5" ] ||
    kp_fail "exec sees [env] as '$out'"
  [ "$(k exec --env GREETING=over eh -- sh -c 'echo $GREETING')" = over ] ||
    kp_fail "exec --env does not override [env]"
  [ "$(k exec --root eh -- sh -c 'echo $GREETING')" = "hello root" ] ||
    kp_fail "\${USER} in [env] is not the session's user under --root"
  kp_ok "exec sees [env] with references expanded and \$\$ literal; exec --env overrides it"

  [ "$(k exec eh -- tool)" = tool-ran ] || kp_fail "the post_build hook's program is not in the environment"
  [ "$(k exec eh -- cat /etc/hook-file)" = first ] || kp_fail "the post_build hook's file is missing"
  k --json diff eh | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert not [p for p in d["added"] + d["modified"] if p.startswith(("etc", "opt"))], d' ||
    kp_fail "the hook's files are in the writable layer, not the built one"
  layer=$(k --json inspect eh | python3 -c 'import json,sys; l=json.load(sys.stdin)["layers"]; print(l[-1]["digest"].split(":")[1] if l else "")')
  [ -n "$layer" ] || kp_fail "an environment with only post_build hooks has no layer"
  # The layer is stored once, as its unpacked tree (docs/storage-format.md).
  [ -f "$store/layers-unpacked/$layer/etc/hook-file" ] && [ -f "$store/layers-unpacked/$layer/opt/tool/bin/tool" ] ||
    kp_fail "the layer lacks the hook's files"
  kp_ok "post_build ran before packing: its files are in the layer, not in the writable layer"

  # Exported command wrappers run through exec: they get [env], and a name is found on its PATH.
  k export eh --bin tool --bin sh --bin-dir "$work/bin" >/dev/null
  [ "$("$work/bin/tool")" = tool-ran ] || kp_fail "the wrapper of a command on [env]'s PATH does not run it"
  [ "$("$work/bin/sh" -c 'echo $GREETING')" = "hello $user" ] || kp_fail "an exported wrapper does not get [env]"
  kp_ok "export finds commands on [env]'s PATH; its wrappers get [env]"

  out=$(k exec eh -- sh -c 'echo exec-ran' 2>&1)
  [ "$out" = exec-ran ] || kp_fail "exec ran on_enter hooks or printed more: $out"
  out=$(k enter eh 2>"$work/enter.err" <<'SH'
echo "shell: $GREETING"
echo "shell-path: $PATH"
exit 0
SH
)
  kp_contains "$out" "on-enter-ran as $(id -u) hello $user"
  kp_contains "$out" "shell: hello $user"
  # The login shell reads profiles (~/.profile may add to PATH), after [env].
  kp_contains "$out" "/opt/tool/bin:/usr/local/sbin"
  case "$out" in *stole-*) kp_fail "an on_enter hook read the shell's input: $out" ;; esac
  kp_contains "$(cat "$work/enter.err")" "warning: on_enter hook 3 (exit 3) exited with status 3; starting the shell anyway"
  kp_ok "enter runs on_enter as the user before the shell; a failing one warns and the shell starts; exec does not run them"

  write_manifest changed first
  out=$(k --json build --name eh)
  kp_contains "$out" '"status": "unchanged"'
  kp_contains "$out" '"session_updated": true'
  [ "$(sed -n 's/^env_id = "\(.*\)"/\1/p' karapace.lock)" = "$id1" ] || kp_fail "a changed [env] changed the env_id"
  [ "$(k exec eh -- sh -c 'echo $GREETING')" = "changed $user" ] || kp_fail "the changed [env] is not in effect"
  out=$(k --json inspect eh)
  kp_contains "$out" '"GREETING": "changed ${USER}"'
  kp_contains "$out" '"on_enter": ['
  kp_contains "$(k inspect eh)" 'GREETING=changed ${USER}'
  kp_ok "a changed [env] takes effect after a build that rebuilds nothing; inspect shows the variables and hooks"

  if [ -n "${KP_REGISTRY:-}" ]; then
    k push eh --remote "$KP_REGISTRY" --tag "$user/eh:v1" >/dev/null 2>"$work/push.log"
    "$kp" --store "$work/store2" pull "${KP_REGISTRY#http://}/$user/eh:v1" --remote "$KP_REGISTRY" --name eh2 >/dev/null
    [ "$("$kp" --store "$work/store2" exec eh2 -- sh -c 'echo $GREETING')" = "changed $user" ] ||
      kp_fail "the pulled environment lacks the [env] it was pushed with"
    kp_contains "$("$kp" --store "$work/store2" --json inspect eh2)" '"on_enter": ['
    kp_ok "push carries [env] and on_enter (as last built), pull records them"
  else
    echo "# skipped push and pull: docker-registry is not installed (scripts/setup installs it)"
  fi

  write_manifest changed second
  k rebuild >/dev/null
  id2=$(sed -n 's/^env_id = "\(.*\)"/\1/p' karapace.lock)
  [ "$id2" != "$id1" ] || kp_fail "a changed post_build hook kept the env_id"
  [ "$(k exec eh -- cat /etc/hook-file)" = second ] || kp_fail "the rebuilt environment lacks the changed hook's file"
  kp_ok "a changed post_build hook gives a new env_id"

  # A failing hook: the build fails naming it, with its status and output, and leaves nothing.
  mkdir -p "$work/bad" && cd "$work/bad"
  cat > karapace.toml <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[hooks]
post_build = ["echo fine > /etc/fine", "echo about to fail; echo on-stderr >&2; exit 4", "echo never > /etc/never"]
TOML
  before=$(k --json list)
  set +e
  err=$(k build --name bad 2>&1); rc=$?
  set -e
  [ $rc = 1 ] || kp_fail "a failing post_build hook gave status $rc, not 1: $err"
  kp_contains "$err" "post_build hook 2 of 3 (echo about to fail; echo on-stderr >&2; exit 4) failed with status 4"
  kp_contains "$err" "about to fail"
  kp_contains "$err" "on-stderr"
  [ "$(k --json list)" = "$before" ] || kp_fail "a failed build left an environment: $(k list)"
  [ ! -e karapace.lock ] || kp_fail "a failed build wrote karapace.lock"
  [ -z "$(ls -A "$store/staging" 2>/dev/null)" ] || kp_fail "a failed build left staging: $(ls "$store/staging")"
  kp_ok "a failing post_build hook fails the build with the hook, status and output, and leaves nothing"

  # Bad keys and values are manifest errors (exit 2) naming the key and the line.
  cat > karapace.toml <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[env]
HOME = "/elsewhere"
TOML
  set +e
  err=$(k build 2>&1); rc=$?
  set -e
  [ $rc = 2 ] || kp_fail "[env] HOME gave status $rc, not 2"
  kp_contains "$err" "karapace.toml:5:1: key 'env.HOME' cannot be set"
  sed -i 's/^\[env\]/[hooks]/; s/^HOME = .*/post_build = "make"/' karapace.toml
  set +e
  err=$(k build 2>&1); rc=$?
  set -e
  [ $rc = 2 ] || kp_fail "a hook list as a string gave status $rc, not 2"
  kp_contains "$err" "karapace.toml:5:14: key 'hooks.post_build' must be an array of strings"
  kp_ok "bad [env] and [hooks] entries are refused with key and line"

  k destroy eh >/dev/null
  k gc >/dev/null
}

fixtures=$(mktemp -d /tmp/karapace-engine-env.XXXXXX)
chmod 755 "$fixtures"
registry_pid=
cleanup() {
  [ -z "$registry_pid" ] || { kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; } || true
  rm -rf "$fixtures" 2>/dev/null || true
}
trap cleanup EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

# A registry on 127.0.0.1 for push and pull, when docker-registry is installed.
if command -v docker-registry >/dev/null; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p "$fixtures/registry/data"
  printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
    "$fixtures/registry/data" "$port" > "$fixtures/registry/config.yml"
  docker-registry serve "$fixtures/registry/config.yml" >"$fixtures/registry/log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
  curl -s -o /dev/null "http://127.0.0.1:$port/v2/" || kp_fail "docker-registry did not start: $(cat "$fixtures/registry/log")"
  export KP_REGISTRY="http://127.0.0.1:$port"
fi

echo "# as $(id -un)"
( env_and_hooks "$fixtures/self" "$tarball" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user env KP_REGISTRY="${KP_REGISTRY:-}" bash -c "$(declare -f env_and_hooks kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; env_and_hooks $fixtures/user $tarball"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "env and hooks: all checks passed"
