#!/usr/bin/env bash
# The OCI backend end to end: a busybox environment with `backend = "oci"` built from the local
# fixture (packages are installed by the namespace sandbox; there are none here), then entered
# through runc: output, exit statuses, stdin, identities, --env, writes to the writable layer and
# diff, frozen read-only root, a running session in inspect/list, stop. As the invoking user, then
# (as root) again as the unprivileged test user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: oci_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

runtime=${KARAPACE_OCI_RUNTIME:-runc}
command -v "$runtime" >/dev/null || kp_skip "$runtime is not installed (apt install runc)"

oci_checks() {
  local work=$1 tarball=$2
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  mkdir -p "$work/proj"
  cat > "$work/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[runtime]
backend = "oci"
TOML
  cd "$work/proj"

  out=$(k --json doctor)
  echo "$out" | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["checks"] if c["name"] == "oci_runtime"][0]
sys.exit(0 if c["status"] == "pass" else "doctor: " + c["message"])' || kp_fail "doctor does not say the OCI backend works"
  kp_ok "doctor runs a probe container and says the OCI backend works"

  k build --name bb >/dev/null
  k --json inspect bb | grep -q '"oci"' || grep -q 'backend = "oci"' karapace.lock ||
    kp_fail "the lock does not record the oci backend"
  [ "$(k exec bb -- echo hello)" = hello ] || kp_fail "exec did not print hello"
  # runc, not our own sandbox, set the container up: its init is the command (PID 1) and the
  # runtime's default masks are in place.
  [ "$(k exec bb -- sh -c 'echo $$')" = 1 ] || kp_fail "the command is not PID 1 of the container"
  k exec bb -- sh -c 'mount | grep -q " /sys/firmware "' || kp_fail "/sys/firmware is not masked as OCI runtimes do"
  kp_ok "an oci environment builds and exec runs through the OCI runtime"

  set +e
  k exec bb -- sh -c 'exit 7'; s=$?
  k exec bb -- no-such-command 2>/dev/null; n=$?
  k exec bb -- /etc/passwd 2>/dev/null; x=$?
  k exec nonexistent-env -- true 2>/dev/null; m=$?
  set -e
  [ $s = 7 ] || kp_fail "exit status 7 came back as $s"
  [ $n = 127 ] || kp_fail "a missing command gave $n, not 127"
  [ $x = 126 ] || kp_fail "a file that is not executable gave $x, not 126"
  [ $m = 125 ] || kp_fail "an unknown environment gave $m, not 125"
  kp_ok "exec returns the command's status, 127, 126 and 125"

  [ "$(echo piped | k exec bb -- cat)" = piped ] || kp_fail "stdin did not reach the command"
  [ "$(k exec bb -- id -u)" = "$(id -u)" ] || kp_fail "exec does not keep the caller's uid"
  [ "$(k exec --root bb -- id -u)" = 0 ] || kp_fail "exec --root is not uid 0"
  [ "$(k exec --env KP_OCI=yes bb -- sh -c 'echo $KP_OCI')" = yes ] || kp_fail "--env did not pass"
  [ "$(k exec bb -- sh -c 'echo $HOME')" = "$HOME" ] || kp_fail "HOME is not the caller's"
  k exec bb -- test -d "$HOME" || kp_fail "the home directory is not shared"
  kp_ok "stdin passes through; keep-id and --root identities; --env; the home directory"

  k exec --root bb -- sh -c 'echo drift > /etc/added; rm /etc/os-release'
  out=$(k --json diff bb)
  kp_contains "$out" '"etc/added"'
  kp_contains "$out" '"etc/os-release"'
  [ "$(k exec bb -- cat /etc/added)" = drift ] || kp_fail "the write did not persist"
  kp_ok "writes land in the writable layer and diff shows them"

  sessions() { k --json inspect bb | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["session_list"]))'; }
  k exec bb -- sleep 3141 >"$work/bg.log" 2>&1 &
  bg=$!
  trap 'kill ${bg:-} 2>/dev/null || true' EXIT
  for _ in $(seq 100); do [ "$(sessions)" = 1 ] && break; sleep 0.1; done
  [ "$(sessions)" = 1 ] || kp_fail "a running exec is not a session: $(cat "$work/bg.log")"
  k --json list | grep -q '"running"' || kp_fail "a running exec does not show as running"
  # A second run beside it works, on its own view of the writable layer.
  err=$(k exec bb -- echo beside 2>&1)
  kp_contains "$err" beside
  kp_contains "$err" "running already"
  pid=$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_list"][0]["pid"])')
  [ "$(tr '\0' ' ' < /proc/$pid/cmdline)" = "sleep 3141 " ] || kp_fail "the session is not the container's init"
  k stop bb --timeout 1 >/dev/null
  set +e
  wait $bg; b=$?
  set -e
  [ $b = 137 ] || kp_fail "the stopped exec returned $b, not 137: $(cat "$work/bg.log")"
  k --json list | grep -q '"running"' && kp_fail "still running after stop"
  [ "$(sessions)" = 0 ] || kp_fail "sessions are left after stop"
  pgrep -u "$(id -u)" -f '^sleep 3141' >/dev/null && kp_fail "a process of the stopped environment survived"
  # (runc runs as root of the user namespace: a sub-id on the host, so any owner counts.)
  pgrep -f '^/[^ ]*(runc|crun) --root /tmp/karapace-oci[.]' >/dev/null && kp_fail "the OCI runtime survived stop"
  ls -d "$store"/env/*/work.* 2>/dev/null && kp_fail "a private work directory was left behind"
  kp_ok "a running exec is a session in inspect and list; stop ends it and leaves no process"

  k freeze bb >/dev/null
  if k exec --root bb -- sh -c 'echo x > /etc/frozen' 2>/dev/null; then
    kp_fail "a frozen environment accepted a write"
  fi
  [ "$(k exec bb -- cat /etc/added)" = drift ] || kp_fail "a frozen environment cannot be read"
  kp_ok "a frozen environment is read-only"
  k destroy bb >/dev/null
  ls /tmp | grep -q "^karapace-oci\." && ls -ld /tmp/karapace-oci.* | grep -q " $(id -un) " &&
    kp_fail "a bundle directory was left in /tmp"
  kp_ok "no bundle directory is left behind"
}

fixtures=$(mktemp -d /tmp/karapace-oci-test.XXXXXX)
chmod 755 "$fixtures"
trap 'rm -rf "$fixtures" 2>/dev/null || true' EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

echo "# as $(id -un)"
( oci_checks "$fixtures/self" "$tarball" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f oci_checks kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; oci_checks $fixtures/user $tarball"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "oci backend: all checks passed"
