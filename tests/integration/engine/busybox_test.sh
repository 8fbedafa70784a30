#!/usr/bin/env bash
# The whole lifecycle of a busybox environment through the CLI: build (lock written, fast no-op
# the second time), exec with exit codes, drift, commit/restore, freeze, archive, stop, destroy,
# gc and verify-store. Runs as the invoking user, then (as root) again as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: busybox_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

lifecycle() {
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

  out=$(k --json build --name bb)
  kp_contains "$out" '"status": "built"'
  [ -f karapace.lock ] || kp_fail "build wrote no karapace.lock"
  grep -q '#sha256=' karapace.lock || kp_fail "the lock does not pin the image digest"
  kp_ok "build writes a lock with the pinned image"

  out=$(k build --name bb)
  kp_contains "$out" "already built"
  kp_ok "building an unchanged manifest is a no-op"

  [ "$(k exec bb -- echo hello)" = hello ] || kp_fail "exec did not print hello"
  set +e
  k exec bb -- sh -c 'exit 7'; s=$?
  k exec bb -- no-such-command 2>/dev/null; n=$?
  k exec nonexistent-env -- true 2>/dev/null; m=$?
  set -e
  [ $s = 7 ] || kp_fail "exit status 7 came back as $s"
  [ $n = 127 ] || kp_fail "a missing command gave $n, not 127"
  [ $m = 125 ] || kp_fail "an unknown environment gave $m, not 125"
  kp_ok "exec returns the command's status, 127 and 125"

  id=$(sed -n 's/^env_id = "\(.*\)"/\1/p' karapace.lock)
  [ "$(k exec "$id" -- echo full)" = full ] || kp_fail "exec by the full id failed"
  [ "$(k exec "${id:0:12}" -- echo prefix)" = prefix ] || kp_fail "exec by an id prefix failed"
  k rename bb bb2 >/dev/null
  [ "$(k exec bb2 -- echo renamed)" = renamed ] || kp_fail "exec by the new name failed"
  set +e
  k exec bb -- true 2>/dev/null; o=$?
  set -e
  [ $o = 125 ] || kp_fail "the old name still resolved after rename (status $o)"
  k rename bb2 bb >/dev/null
  [ "$(k inspect bb | sed -n 's/^name: *//p')" = bb ] || kp_fail "inspect by name after renaming back"
  kp_ok "exec finds an environment by full id, id prefix and its current name only"

  # References try names first: a name of 4+ hex digits would take over an id prefix.
  set +e
  err=$(k rename bb "${id:0:12}" 2>&1); r1=$?
  err2=$(k rename bb C0FFEE 2>&1); r2=$?
  set -e
  [ $r1 = 64 ] && [ $r2 = 64 ] || kp_fail "renames to id-like names gave $r1 and $r2, not 64"
  kp_contains "$err" "'${id:0:12}': it could be read as an environment id"
  kp_contains "$err2" "could be read as an environment id"
  [ "$(k exec "${id:0:12}" -- echo prefix)" = prefix ] || kp_fail "the id prefix no longer reaches the environment"
  [ "$(k inspect bb | sed -n 's/^name: *//p')" = bb ] || kp_fail "a refused rename changed the name"
  kp_ok "rename refuses a name that reads as an id, saying why; id prefix and name still work"

  [ "$(echo piped | k exec bb -- cat)" = piped ] || kp_fail "stdin did not reach the command"
  [ "$(k exec bb -- id -u)" = "$(id -u)" ] || kp_fail "exec does not keep the caller's uid"
  [ "$(k exec --root bb -- id -u)" = 0 ] || kp_fail "exec --root is not uid 0"
  kp_ok "stdin passes through; keep-id and --root identities"

  if command -v script >/dev/null; then
    # On a terminal, the command's terminal is reachable by name (tty, GPG_TTY=$(tty)).
    out=$(script -qc "$kp --store $store exec bb -- tty" /dev/null </dev/null | tr -d '\r')
    [ "$out" = /dev/console ] || kp_fail "tty inside a terminal session printed '$out'"
    [ "$(k exec bb -- tty </dev/null 2>&1)" = "not a tty" ] || kp_fail "tty without a terminal found one"
    kp_ok "the caller's terminal is /dev/console inside; without one there is none"
  fi

  k exec --root bb -- sh -c 'echo drift > /etc/added; rm /etc/os-release'
  out=$(k --json diff bb)
  kp_contains "$out" '"etc/added"'
  kp_contains "$out" '"etc/os-release"'
  kp_ok "diff reports added and removed files"

  # File names come from inside the environment: escape sequences and newlines in them reach the
  # terminal as text; --json keeps them exact.
  k exec --root bb -- sh -c 'printf x > "/etc/evil$(printf "\033[2J\nline")"'
  out=$(k diff bb)
  printf '%s' "$out" | grep -q "$(printf '\033')" && kp_fail "diff printed a raw escape character: $out"
  kp_contains "$out" '+ etc/evil\x1b[2J\nline'
  k --json diff bb | python3 -c 'import json,sys; assert "etc/evil\x1b[2J\nline" in json.load(sys.stdin)["added"]' ||
    kp_fail "diff --json does not carry the exact file name"
  k exec --root bb -- sh -c 'rm /etc/evil*'
  kp_ok "diff escapes control characters in file names; --json keeps them exact"

  snap=$(k --json commit bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
  k exec --root bb -- sh -c 'rm /etc/added; echo later > /etc/later'
  k restore bb "${snap:0:12}" >/dev/null
  [ "$(k exec bb -- cat /etc/added)" = drift ] || kp_fail "restore did not bring /etc/added back"
  if k exec bb -- test -e /etc/later; then kp_fail "restore kept a file made after the snapshot"; fi
  if k exec bb -- test -e /etc/os-release; then kp_fail "restore lost the whiteout of os-release"; fi
  out=$(k --json snapshots bb)
  kp_contains "$out" "$snap"
  kp_ok "commit, snapshots and restore round-trip, whiteouts included"

  sessions() { k --json inspect bb | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["session_list"]))'; }
  # Background sessions write to files, not to the test's stdout, and are killed if the test
  # stops early, so a failure can never leave the test runner waiting on an open pipe.
  # Both started at once: the second joins the first's root instead of mounting the writable
  # layer a second time.
  k exec bb -- sleep 2718 >"$work/bg1.log" 2>&1 &
  bg=$!
  trap "kp_end_runs \"\$kp\" '$store' \${bg:-} \${bg2:-}" EXIT
  k exec bb -- sh -c 'sleep 2718; echo never' >"$work/bg2.log" 2>&1 &
  bg2=$!
  for _ in $(seq 100); do [ "$(sessions)" = 2 ] && break; sleep 0.1; done
  [ "$(sessions)" = 2 ] || kp_fail "two concurrent execs are not two sessions: $(cat "$work"/bg*.log)"
  k --json list | grep -q '"running"' || kp_fail "a running exec does not show as running"
  set +e
  k destroy bb 2>/dev/null; d=$?
  set -e
  [ $d != 0 ] || kp_fail "destroy of a running environment was not refused"
  k stop bb --timeout 2 >/dev/null
  wait $bg || true
  wait $bg2 || true
  k --json list | grep -q '"running"' && kp_fail "still running after stop"
  # The kernel ends the rest of the pid namespace when its init dies; give it a moment.
  for _ in $(seq 30); do pgrep -u "$(id -u)" -f '^sleep 2718' >/dev/null || break; sleep 0.1; done
  pgrep -u "$(id -u)" -f '^sleep 2718' >/dev/null && kp_fail "a process of the stopped environment survived"
  kp_ok "two execs at once are two sessions; destroy is refused while running; stop ends both"

  # One session copies up an image file after a second one joined it (a second overlay mount
  # would have reset the work directory under the first), and each sees the other's writes.
  k exec --root bb -- sh -c 'sleep 1; echo joined >> /etc/shadow; cat /tmp/from-second' >"$work/bg3.log" 2>&1 &
  bg3=$!
  sleep 0.3
  k exec --root bb -- sh -c 'echo second > /tmp/from-second; sleep 1.5; tail -n 1 /etc/shadow' >"$work/bg4.log" 2>&1
  wait $bg3 || kp_fail "a copy-up beside a running session failed: $(cat "$work/bg3.log")"
  [ "$(cat "$work/bg3.log")" = second ] || kp_fail "the first session did not see the second's file: $(cat "$work/bg3.log")"
  [ "$(cat "$work/bg4.log")" = joined ] || kp_fail "the second session did not see the first's change: $(cat "$work/bg4.log")"
  [ "$(k exec --root bb -- tail -n 1 /etc/shadow)" = joined ] || kp_fail "the copy-up beside a session was lost"
  kp_ok "sessions side by side share one writable layer; copy-ups beside a joined session work"

  k freeze bb >/dev/null
  if k exec --root bb -- sh -c 'echo x > /etc/frozen' 2>/dev/null; then
    kp_fail "a frozen environment accepted a write"
  fi
  [ "$(k exec bb -- cat /etc/added)" = drift ] || kp_fail "a frozen environment cannot be read"
  # Beside a running session of the frozen environment, a run as another identity gets a
  # sandbox of its own: read-only too.
  k exec bb -- sleep 2718 >"$work/bg5.log" 2>&1 &
  bg=$!
  for _ in $(seq 100); do [ "$(sessions)" = 1 ] && break; sleep 0.1; done
  [ "$(sessions)" = 1 ] || kp_fail "the frozen environment's session did not start: $(cat "$work/bg5.log")"
  if k exec --root bb -- sh -c 'echo x > /etc/frozen' 2>/dev/null; then
    kp_fail "a frozen environment with a running session accepted a write"
  fi
  k stop bb --timeout 2 >/dev/null
  wait $bg || true
  if k exec bb -- test -e /etc/frozen; then kp_fail "a write reached the frozen environment"; fi
  k archive bb >/dev/null
  set +e
  err=$(k exec bb -- true 2>&1); a=$?
  set -e
  [ $a = 125 ] || kp_fail "exec in an archived environment gave $a"
  kp_contains "$err" "archived"
  kp_ok "freeze makes it read-only, also beside a running session; archive refuses entry with a reason"

  k rebuild >/dev/null
  [ "$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = built ] ||
    kp_fail "rebuild did not make the archived environment usable"
  kp_ok "rebuild revives an archived environment under its name"

  k destroy bb >/dev/null
  [ "$(k --json list)" = "[]" ] || kp_fail "list is not empty after destroy"
  k --json gc --dry-run >/dev/null
  k gc >/dev/null
  k verify-store >/dev/null || kp_fail "verify-store failed after gc"
  kp_ok "destroy, gc and verify-store leave a clean store"

  sed -i 's/^\[base\]/[system]\npackages = ["x"]\n[base]/' karapace.toml
  set +e
  k build --locked >/dev/null 2>&1; l=$?
  set -e
  [ $l = 2 ] || kp_fail "build --locked with a drifted manifest gave $l, not 2"
  kp_ok "build --locked refuses a manifest that drifted from the lock"

  # Manifest mounts: a relative source resolves against the manifest's directory; a source
  # outside the allowlist is refused at build.
  mkdir -p "$work/mnt/data" && echo shared > "$work/mnt/data/file"
  cat > "$work/mnt/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[mounts]
data = "./data:/data:ro"
TOML
  cd "$work/mnt"
  k build --name mnt >/dev/null
  cd /
  [ "$(k exec mnt -- cat /data/file)" = shared ] || kp_fail "the relative mount is not visible"
  if k exec mnt -- sh -c 'echo x > /data/new' 2>/dev/null; then kp_fail "a :ro mount was writable"; fi
  cd "$work/mnt"
  sed -i 's|^data = .*|data = "/etc:/hostetc"|' karapace.toml
  set +e
  err=$(k build --name mnt2 2>&1); p=$?
  set -e
  [ $p != 0 ] || kp_fail "a mount of /etc was accepted"
  kp_contains "$err" "/etc"
  kp_ok "mounts resolve against the manifest, :ro holds, /etc is refused by the policy"
}

fixtures=$(mktemp -d /tmp/karapace-engine-bb.XXXXXX)
chmod 755 "$fixtures"
trap 'rm -rf "$fixtures" 2>/dev/null || true' EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

echo "# as $(id -un)"
( lifecycle "$fixtures/self" "$tarball" )

# karapace-init is no command of its own: run by hand it says so and does nothing.
init=${KARAPACE_INIT:-$(dirname "$kp")/karapace-init}
set +e
out=$("$init" 2>&1); status=$?
set -e
[ $status = 125 ] || kp_fail "karapace-init run by hand exited $status"
kp_contains "$out" "karapace-init: no command after '--'"
kp_ok "karapace-init run by hand says it needs a command line from karapace (exit 125)"

# A karapace without its init program beside it (nor in ../libexec, nor where the build put
# libexecdir) says what is missing and what to do; the environment is untouched.
mkdir -p "$fixtures/lone/bin"
cp "$kp" "$fixtures/lone/bin/karapace"
# With the program the static karapace hands doctor to, where this build has one.
if [ -x "$(dirname "$kp")/karapace-full" ]; then cp "$(dirname "$kp")/karapace-full" "$fixtures/lone/bin/"; fi
set +e
err=$(env -u KARAPACE_INIT "$fixtures/lone/bin/karapace" --store "$fixtures/self/store" exec mnt -- true 2>&1)
status=$?
set -e
if [ $status = 0 ]; then
  echo "# SKIP the missing-init check: an installed karapace-init was found ($("$fixtures/lone/bin/karapace" --version))"
else
  kp_contains "$err" "karapace-init is missing"
  kp_contains "$err" "KARAPACE_INIT"
  [ "$("$kp" --store "$fixtures/self/store" exec mnt -- echo still)" = still ] || kp_fail "the environment did not run after the failed start"
  doctor=$(env -u KARAPACE_INIT "$fixtures/lone/bin/karapace" doctor 2>&1 || true)
  kp_contains "$doctor" "karapace-init is missing"
  kp_contains "$("$kp" doctor 2>&1 || true)" "the sandboxes' init is "
  kp_ok "without karapace-init, exec says what is missing and what to do (exit $status), and so does doctor"
fi

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f lifecycle kp_fail kp_ok kp_contains kp_kill_tree kp_end_runs); set -euo pipefail; kp=$kp; lifecycle $fixtures/user $tarball"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "busybox lifecycle: all checks passed"
