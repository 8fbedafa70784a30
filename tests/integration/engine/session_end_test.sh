#!/usr/bin/env bash
# How a run ends, as root and as the unprivileged test user: `exec` returns the command's status
# once everything in the sandbox has ended (a background process left by the command is gone
# the moment exec returns), without waiting for the kernel to tear the namespaces down; the
# session's record becomes ".ending-<pid>" and the next run that mounts the writable layer waits
# until that process has exited, so two overlay mounts of one writable layer never overlap (no
# "upperdir is in-use" from the kernel over many back-to-back runs); records are symbolic links,
# and a record in the older regular-file form is still read.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: session_end_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

# Every run here builds a sandbox of its own and ends it: how that ends is what is tested
# (linger_test.sh tests a sandbox that stays for the next run).
export KARAPACE_LINGER=0

work=$(mktemp -d /tmp/karapace-session-end.XXXXXX)
chmod 755 "$work"
holders=()
cleanup() {
  local p
  for p in "${holders[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  chattr -i "$work"/self/store/env/*/sessions 2>/dev/null || true
  for s in "$work"/self/store "$work"/user/store "$work"/ov/store; do
    if [ -d "$s" ]; then "$kp" --store "$s" stop bb >/dev/null 2>&1 || true; fi
    if [ -d "$s" ]; then "$kp" --store "$s" stop ov >/dev/null 2>&1 || true; fi
  done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img")
chmod -R a+rX "$work/img"

scenario() {
  local base=$1 tarball=$2
  mkdir -p "$base/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$base/proj/karapace.toml"
  k() { (cd "$base/proj" && "$kp" --store "$base/store" "$@"); }
  k build --name bb >/dev/null

  # The status comes back, and nothing the command left running survives the return.
  set +e
  k exec bb -- sh -c 'exit 7'
  rc=$?
  set -e
  [ "$rc" = 7 ] || kp_fail "exit status 7 came back as $rc"
  sessions=$(echo "$base"/store/env/*/sessions)
  k exec bb -- sh -c "sleep 2347 & sleep 2347 & echo started" | grep -q started
  if pgrep -x -f "sleep 2347" >/dev/null; then
    kp_fail "a background process of the sandbox outlived exec's return: $(pgrep -a -x -f 'sleep 2347')"
  fi
  kp_ok "exit status passed on; background processes ended before exec returned"

  # The record of the run going on (waited for up to 5 s), or nothing.
  running_record() {
    local rec=
    for _ in $(seq 100); do
      rec=$(find "$sessions" -maxdepth 1 -name '[0-9]*' | head -n1)
      [ -n "$rec" ] && break
      sleep 0.05
    done
    echo "$rec"
  }

  # While a run is going, its record is a symbolic link naming its start time and mapping.
  k exec bb -- sleep 2 &
  runner=$!
  rec=$(running_record)
  [ -n "$rec" ] || kp_fail "no session record while the run was going"
  [ -L "$rec" ] || kp_fail "the session record $rec is not a symbolic link"
  text=$(readlink "$rec")
  case "$text" in
    [0-9]*" keep-id" | [0-9]*" keep-id "[0-9a-f]*) ;;
    *) kp_fail "unexpected session record: $text" ;;
  esac
  # Init is the exec process's own child, also in the kept user namespace of an unprivileged
  # user: the helper that entered it is gone.
  init=${rec##*/}
  parent=$(awk '/^PPid:/ {print $2}' "/proc/$init/status")
  grand=$(awk '/^PPid:/ {print $2}' "/proc/$parent/status")
  comm=$(basename "$kp" | cut -c1-15)
  [ "$(cat "/proc/$parent/comm")" = "$comm" ] || kp_fail "init's parent is $(cat "/proc/$parent/comm"), not $comm"
  [ "$(cat "/proc/$grand/comm")" != "$comm" ] ||
    kp_fail "a helper process stands between exec and init (pids $grand > $parent > $init)"
  # Both stay the caller's to inspect (the kernel makes a process undumpable, its /proc files
  # root's, when memory it shares with a process gaining ids or capabilities changes hands).
  for pid in "$parent" "$init"; do
    [ "$(stat -c %u "/proc/$pid/environ")" = "$(id -u)" ] ||
      kp_fail "/proc/$pid/environ ($(cat "/proc/$pid/comm")) is not the caller's: the process became undumpable"
  done
  wait "$runner"
  # Also when the command becomes container root (exec --root): init stays the caller's, so
  # another run can join the session.
  k exec --root bb -- sleep 2 &
  runner=$!
  rec=$(running_record)
  [ -n "$rec" ] || kp_fail "no session record while the --root run was going"
  sleep 0.3
  init=${rec##*/}
  [ "$(stat -c %u "/proc/$init/environ")" = "$(id -u)" ] ||
    kp_fail "the init of an exec --root became undumpable: another run could not join it"
  k exec --root bb -- true
  wait "$runner"
  kp_ok "session record is a symbolic link: $text"

  # A session marked ending whose process is still there: the next run waits for it to exit
  # before it mounts the writable layer, then removes the record.
  sleep 3 &
  holder=$!
  start=$(cut -d' ' -f22 "/proc/$holder/stat")
  ln -s "$start keep-id" "$sessions/.ending-$holder"
  k exec bb -- true
  if kill -0 "$holder" 2>/dev/null; then
    kp_fail "exec mounted the writable layer while an ending session ($holder) was still there"
  fi
  wait "$holder" || true
  [ ! -e "$sessions/.ending-$holder" ] && [ ! -L "$sessions/.ending-$holder" ] ||
    kp_fail "the ending record of $holder was left behind"
  kp_ok "a run waits for an ending session before mounting the writable layer"

  # An ending record of a process that is gone is removed without waiting.
  ln -s "1 keep-id" "$sessions/.ending-999999"
  k exec bb -- true
  [ ! -L "$sessions/.ending-999999" ] || kp_fail "a stale ending record was left behind"

  # A record in the older form (a regular file "<start> <mapping>\n") still counts: a live
  # process recorded that way shows as a running session.
  sleep 30 &
  holder=$!
  start=$(cut -d' ' -f22 "/proc/$holder/stat")
  printf '%s keep-id\n' "$start" > "$sessions/$holder"
  k inspect bb | grep -Eiq "running|session" || kp_fail "inspect does not show the recorded session"
  k list --json | grep -q '"running"' || kp_fail "a session recorded as a regular file was not read: $(k list --json)"
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  k exec bb -- true
  [ ! -e "$sessions/$holder" ] || kp_fail "the record of the ended process $holder was not removed"
  kp_ok "records in the regular-file form are read"

  # A run whose session cannot be recorded ends with status 125 and says why, and leaves the
  # writable layer as it was: the volatile marker the last run left is still there, since the
  # child clears it only once the record exists (which is written beside the child's first
  # steps). The directory is made immutable, which only root can do: an unprivileged caller
  # writes the record from its kept user namespace, where it holds every capability over its
  # own files, so no mode keeps it out.
  marker="$(echo "$base"/store/env/*/work)/work/incompat/volatile"
  if [ "$(id -u)" != 0 ]; then
    echo "# SKIP the unrecorded session as $(id -un): only root can make the directory immutable"
  elif ! { k exec bb -- true && [ -e "$marker" ]; }; then
    kp_fail "no volatile marker after a run: the check below would prove nothing"
  elif chattr +i "$sessions" 2>/dev/null; then
    set +e
    out=$(k exec bb -- true 2>&1)
    rc=$?
    set -e
    chattr -i "$sessions"
    [ "$rc" = 125 ] || kp_fail "a run that could not record its session ended with $rc: $out"
    kp_contains "$out" "cannot record the session in $sessions"
    [ -e "$marker" ] || kp_fail "a run that could not record its session cleared the volatile marker"
    k exec bb -- true
    kp_ok "a session that cannot be recorded: 125, the reason, the writable layer untouched"
  else
    echo "# SKIP the unrecorded session: chattr +i is refused on $sessions's file system"
  fi

  # A frozen run mounts no writable layer: it does not wait for an ending session, and it
  # clears only the records of those already gone.
  k freeze bb >/dev/null
  sleep 3 &
  holder=$!
  start=$(cut -d' ' -f22 "/proc/$holder/stat")
  ln -s "$start keep-id" "$sessions/.ending-$holder"
  ln -s "1 keep-id" "$sessions/.ending-999999"
  k exec bb -- true
  kill -0 "$holder" 2>/dev/null || kp_fail "a frozen run waited for an ending session"
  [ -L "$sessions/.ending-$holder" ] || kp_fail "a frozen run removed the record of a live ending session"
  [ ! -L "$sessions/.ending-999999" ] || kp_fail "a frozen run left a stale ending record behind"
  kill "$holder"
  wait "$holder" 2>/dev/null || true
  kp_ok "a frozen run does not wait, and clears stale ending records"
}

kp_scenario_both "$work" "$tarball"

# Back-to-back runs of one writable environment: the kernel never sees two overlay mounts of
# the same writable layer (it says so in its log when it does). Needs the kernel log.
if dmesg >/dev/null 2>&1; then
  mkdir -p "$work/ov/proj"
  cp "$work/self/proj/karapace.toml" "$work/ov/proj/"
  (cd "$work/ov/proj" && "$kp" --store "$work/ov/store" build --name ov >/dev/null)
  before=$(dmesg | grep -c "upperdir is in-use" || true)
  for _ in $(seq 30); do "$kp" --store "$work/ov/store" exec ov -- sh -c 'echo x > /written'; done
  after=$(dmesg | grep -c "upperdir is in-use" || true)
  [ "$before" = "$after" ] ||
    kp_fail "overlay mounts of one writable layer overlapped: $((after - before)) kernel warnings in 30 runs"
  kp_ok "30 back-to-back runs, no overlapping overlay mounts"
else
  echo "# SKIP the overlap check: the kernel log is not readable here"
fi
echo "PASS"
