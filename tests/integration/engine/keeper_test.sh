#!/usr/bin/env bash
# The user-namespace keeper, as the unprivileged test user (root writes its id maps directly and
# keeps none): a second exec joins the first one's user namespace (same /proc/self/ns/user inode,
# its own pid namespace); the keeper exits after its idle time (KARAPACE_KEEPER_IDLE); after
# kill -9 the next exec still works and starts a new one; a record that names another user's
# namespace, or a live process that is not a keeper, is never joined; root's runs never share the
# user's; `stop` ends the sessions and the keeper; `inspect` and `doctor` show it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: keeper_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

kp_have_test_user || kp_skip "needs root and the test user (KARAPACE_TEST_USER, made by scripts/test)"
user=${KARAPACE_TEST_USER:-kptest}
grep -q "^$user:" /etc/subuid || kp_skip "$user has no sub-id range: keepers are for sub-id maps"

work=$(mktemp -d /tmp/karapace-keeper.XXXXXX)
chmod 755 "$work"
run=$work/run  # the test user's XDG_RUNTIME_DIR, so no other test's keeper is seen
mkdir -p "$run" "$work/u"
chmod 700 "$run"
chown "$user" "$run" "$work/u"
planted= sl= bg=
cleanup() {
  local f pid
  for f in "$run"/karapace/userns-keep-id "$run"/karapace/userns-container-root; do
    [ -f "$f" ] || continue
    pid=$(cut -d' ' -f1 "$f")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = karapace-keeper ]; then kill -9 "$pid" 2>/dev/null || true; fi
  done
  [ -z "$bg" ] || u stop bb >/dev/null 2>&1 || true
  for pid in $planted $sl $bg; do kill -9 "$pid" 2>/dev/null || true; done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img")
chmod -R a+rX "$work/img"
mkdir -p "$work/u/proj"
printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$work/u/proj/karapace.toml"
chown -R "$user" "$work/u"

# u [VAR=value...] ARGS...: karapace as the test user, in its project, with its runtime dir. No
# sandbox lingers after a run (KARAPACE_LINGER=0): each run starts one in the kept user namespace,
# which is what is tested here; linger_test.sh tests the lingering.
u() {
  local vars=()
  while [[ $# -gt 0 && $1 == *=* ]]; do vars+=("$1"); shift; done
  (cd "$work/u/proj" && kp_as_user env XDG_RUNTIME_DIR="$run" KARAPACE_KEEPER_IDLE=300 KARAPACE_LINGER=0 "${vars[@]}" "$kp" --store "$work/u/store" "$@")
}
record=$run/karapace/userns-keep-id
keeper_pid() { cut -d' ' -f1 "$record"; }
alive() { [ -d "/proc/$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = karapace-keeper ]; }
ns_of() { u "$@" exec bb -- readlink /proc/self/ns/user | tr -dc 0-9; }
# kill -9 of the recorded keeper, waiting until it is gone (a dying keeper can still be joined).
kill_keeper() {
  local pid
  pid=$(keeper_pid)
  kill -9 "$pid" 2>/dev/null || true
  while [ -d "/proc/$pid" ]; do sleep 0.05; done
}

u build --name bb >/dev/null

# 1. Joined: one user namespace for two runs, the keeper's; a pid namespace of each run's own.
a=$(ns_of)
[ -f "$record" ] || kp_fail "the first exec left no keeper record in $run/karapace"
k1=$(keeper_pid)
alive "$k1" || kp_fail "the recorded keeper $k1 is not running"
b=$(ns_of)
[ "$a" = "$b" ] || kp_fail "the second exec is in user namespace $b, not the kept $a"
[ "$(cut -d' ' -f3 "$record")" = "$a" ] || kp_fail "the record's namespace inode is not the runs' ($a)"
[ "$(stat -L -c %i "/proc/$k1/ns/user")" = "$a" ] || kp_fail "the keeper is not in the runs' user namespace"
# (Namespace inodes are reused once freed: a pid namespace of its own shows as pid 2, init's child.)
[ "$(u exec bb -- sh -c 'echo $$')" = 2 ] || kp_fail "the command is not pid 2 of a pid namespace of its own"
[ "$(u exec bb -- id -u)" = "$(id -u "$user")" ] || kp_fail "the command does not run as the user"
kp_ok "a second exec joins the kept user namespace ($a) with its own pid namespace"

# 2. inspect and doctor show it.
out=$(u inspect bb)
kp_contains "$out" "ns keeper:    pid $k1, user namespace $a"
out=$(u --json doctor || true)
kp_contains "$out" '"namespace_keeper"'
kp_contains "$out" "pid $k1"
kp_ok "inspect and doctor show the keeper (pid $k1)"

# 3. kill -9: the next exec still works, in a new kept namespace.
kill_keeper
[ "$(u exec bb -- echo after)" = after ] || kp_fail "exec after kill -9 of the keeper failed"
k2=$(keeper_pid)
[ "$k2" != "$k1" ] && alive "$k2" || kp_fail "no new keeper after kill -9 (record names $k2)"
c=$(ns_of)
[ "$c" = "$(cut -d' ' -f3 "$record")" ] || kp_fail "exec did not join the new keeper's namespace"
kp_ok "after kill -9 of the keeper, exec works and starts keeper $k2"

# 4. A record naming root's user namespace (a process root started in one) or a live process of
# the user's that is no keeper is never joined, and is replaced.
kill_keeper
unshare -U sleep 300 &
planted=$!
sleep 0.3
pns=$(stat -L -c %i "/proc/$planted/ns/user")
start=$(cut -d' ' -f22 "/proc/$planted/stat")
printf '%s %s %s 300\n' "$planted" "$start" "$pns" > "$record"
chown "$user" "$record"
d=$(ns_of)
[ "$d" != "$pns" ] || kp_fail "exec joined root's user namespace from a planted record"
[ "$(keeper_pid)" != "$planted" ] || kp_fail "the planted record was kept"
kill -9 "$planted"; wait "$planted" 2>/dev/null || true; planted=
kp_as_user sh -c "echo \$\$ > $work/u/sleep.pid; exec sleep 300" &
for _ in $(seq 100); do [ -s "$work/u/sleep.pid" ] && break; sleep 0.05; done
sl=$(cat "$work/u/sleep.pid")
kill_keeper
printf '%s %s %s 300\n' "$sl" "$(cut -d' ' -f22 "/proc/$sl/stat")" "$d" > "$record"
chown "$user" "$record"
e=$(ns_of)
[ "$e" != "$(stat -L -c %i /proc/self/ns/user)" ] || kp_fail "exec ran in the host's user namespace"
[ "$(keeper_pid)" != "$sl" ] || kp_fail "a record naming a plain process of the user was kept"
kill -9 "$sl" 2>/dev/null || true
wait 2>/dev/null || true
sl=
kp_ok "records naming another user's namespace or a process that is no keeper are replaced"

# 4b. A record that does not parse (a number missing, text where a number goes, a signed start
# time) is replaced by a new keeper's, and the run goes on.
prev=$e
for bad in "$(keeper_pid) 12 34" "$(keeper_pid) x 34 300" "$(keeper_pid) -5 $e 300"; do
  old_keeper=$(keeper_pid)
  printf '%s\n' "$bad" > "$record"
  chown "$user" "$record"
  f=$(ns_of)
  [ -n "$f" ] || kp_fail "exec failed after a record '$bad'"
  [ "$(cut -d' ' -f4 "$record")" = 300 ] || kp_fail "the record '$bad' was not replaced: $(cat "$record")"
  [ "$f" != "$prev" ] || kp_fail "the run with the record '$bad' joined the old keeper's namespace"
  kill -9 "$old_keeper" 2>/dev/null || true
  prev=$f
done
kp_ok "records that do not parse are replaced by a new keeper's"

# 5. Root keeps no namespace and never joins the user's.
mkdir -p "$work/r/proj"
cp "$work/u/proj/karapace.toml" "$work/r/proj/"
(cd "$work/r/proj" && "$kp" --store "$work/r/store" build --name bb >/dev/null)
r1=$(cd "$work/r/proj" && XDG_RUNTIME_DIR="$run" "$kp" --store "$work/r/store" exec bb -- readlink /proc/self/ns/user | tr -dc 0-9)
[ "$r1" != "$e" ] || kp_fail "root's run joined the user's kept namespace"
out=$(cd "$work/r/proj" && "$kp" --store "$work/r/store" inspect bb)
kp_contains "$out" "ns keeper:    not used: as root"
kp_ok "root's runs never share the user's namespace ($r1 vs $e)"

# 5b. A run marks the keeper in use by touching its record, but not again within five seconds of
# the last touch (the idle time here is 300 s): back-to-back runs write the record's inode once.
u exec bb -- true
kp_as_user touch -d '-20 seconds' "$record"
old=$(stat -c %.9Y "$record")
u exec bb -- true
new=$(stat -c %.9Y "$record")
awk -v o="$old" -v n="$new" -v now="$(date +%s.%N)" 'BEGIN { exit !(n > o + 19 && n <= now) }' ||
  kp_fail "a run did not mark a keeper last used 20 s ago in use: mtime $old -> $new"
kp_as_user touch "$record"
old=$(stat -c %.9Y "$record")
u exec bb -- true
new=$(stat -c %.9Y "$record")
[ "$old" = "$new" ] || kp_fail "a run touched a keeper record touched just before: mtime $old -> $new"
kp_ok "a run marks the keeper in use, once within five seconds"

# 6. Idle: a keeper started with KARAPACE_KEEPER_IDLE=2 is gone a few seconds after its last run.
kill_keeper
u KARAPACE_KEEPER_IDLE=2 exec bb -- true
k3=$(keeper_pid)
alive "$k3" || kp_fail "no keeper after an exec with KARAPACE_KEEPER_IDLE=2"
for _ in $(seq 60); do alive "$k3" || break; sleep 0.1; done
alive "$k3" && kp_fail "keeper $k3 still runs 6 s after its last use with a 2 s idle time"
[ -f "$record" ] && kp_fail "the idle keeper $k3 left its record: $(cat "$record"; ps -o pid,comm,lstart -p "$(keeper_pid)")"
out=$(u KARAPACE_KEEPER_IDLE=0 exec bb -- echo off)
[ "$out" = off ] || kp_fail "exec with keepers off failed"
[ -f "$record" ] && kp_fail "KARAPACE_KEEPER_IDLE=0 started a keeper"
kp_ok "the keeper exits after its idle time; KARAPACE_KEEPER_IDLE=0 starts none"

# 7. stop ends the sessions and the keeper.
u exec bb -- sleep 300 &
bg=$!
for _ in $(seq 100); do [ -f "$record" ] && [ -n "$(ls "$work/u/store/env/"*/sessions 2>/dev/null)" ] && break; sleep 0.05; done
k4=$(keeper_pid)
alive "$k4" || kp_fail "no keeper while a session runs"
u stop bb >/dev/null
wait "$bg" 2>/dev/null || true
bg=
for _ in $(seq 50); do alive "$k4" || break; sleep 0.1; done
alive "$k4" && kp_fail "keeper $k4 survived stop"
[ -z "$(ls "$work/u/store/env/"*/sessions/ 2>/dev/null)" ] || kp_fail "a session survived stop"
[ "$(u exec bb -- echo again)" = again ] || kp_fail "exec after stop failed"
kp_ok "stop ends the sessions and the keeper; the next exec starts a new one"
