#!/usr/bin/env bash
# The sandbox of an exec lingers after its command (KARAPACE_LINGER), as root and as the
# unprivileged test user: it is no session (`list` says built), the next run of the environment
# joins it (a file left in the sandbox's own /run tmpfs is there): its init starts the command
# itself (pids grow from run to run), which sees no process but init and its own, gets the
# caller's streams, environment, working directory and exit status, and whose background
# processes still end with it; a caller whose process context differs (umask, limits, an
# ignored signal) or that starts while a run is going joins with a helper and a pid namespace
# of its own instead; stop during such a run ends the command and the sandbox, kill -9 of the
# lingering init is reported and the next run builds a new one; the caller's output pipe is not
# held;
# commit, freeze, destroy and stop end it first; a run that needs another sandbox (another
# mapping) ends it instead of joining; each run that joins starts its time again, and it exits
# when the time is up; /proc/sys stays read-only in a run that joined it; a bound host directory
# made again gets a new sandbox; a run that leads its terminal's session leaves the sandbox
# lingering as it exits; the work directory a new sandbox's overlay replaced stays open in its
# init until it exits; the run's own processes (the lingering init among them) have the shortest
# time slice and the command its caller's slice and scheduling policy; a new sandbox's init runs
# on its caller's processor, the command and a lingering init on the caller's processors.
# KARAPACE_LINGER=0 turns it off.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: linger_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -x /bin/busybox ] || kp_skip "busybox-static is not installed"

work=$(mktemp -d /tmp/karapace-linger.XXXXXX)
chmod 755 "$work"
cleanup() {
  local s
  pkill -x -f "sleep 2391" 2>/dev/null || true
  kp_end_all_busy
  for s in "$work"/self/store "$work"/user/store; do
    if [ -d "$s" ]; then "$kp" --store "$s" stop bb >/dev/null 2>&1 || true; fi
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
  export KARAPACE_LINGER=60
  k build --name bb >/dev/null
  idle_pid() { ls -a "$base"/store/env/*/sessions 2>/dev/null | sed -n 's/^\.idle-//p' | head -n1; }
  alive() { [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status"; }
  # The sandbox's /run is a tmpfs of its own: a run that joins sees what the last one left
  # there, a new sandbox starts with it empty. (Namespace inode numbers are reused once freed.)
  local mark_script='n=$(cat /run/mark 2>/dev/null || echo 0); echo $((n + 1)) > /run/mark; cat /run/mark'
  mark() { k exec "$@" -- sh -c "$mark_script"; }
  # The time slice /proc/<pid>/sched shows, in nanoseconds; with_slice NS COMMAND... runs the
  # command with a slice of its own.
  slice_of() { sed -n 's/^se\.slice[[:space:]]*:[[:space:]]*//p' "$1" 2>/dev/null; }
  with_slice() {
    python3 -c '
import ctypes, os, struct, sys
number = {"x86_64": 314, "aarch64": 274, "riscv64": 274, "ppc64le": 355, "s390x": 345}[os.uname().machine]
attr = ctypes.create_string_buffer(struct.pack("=IIQiIQQQ", 48, 0, 0, os.getpriority(os.PRIO_PROCESS, 0), 0, int(sys.argv[1]), 0, 0))
libc = ctypes.CDLL(None, use_errno=True)
if libc.syscall(number, 0, attr, 0) != 0:
    sys.exit("sched_setattr: " + os.strerror(ctypes.get_errno()))
os.execvp(sys.argv[2], sys.argv[2:])' "$@"
  }

  # 1. The sandbox stays after the command, and is no session.
  local pid
  [ "$(mark bb)" = 1 ] || kp_fail "the first run found a mark in /run"
  pid=$(idle_pid)
  [ -n "$pid" ] || kp_fail "no lingering sandbox after exec: $(ls -a "$base"/store/env/*/sessions)"
  alive "$pid" || kp_fail "the lingering sandbox's init $pid is not running"
  [ "$(k list | awk '$2 == "bb" {print $3}')" = built ] ||
    kp_fail "list calls the environment running while only a sandbox lingers: $(k list)"
  kp_contains "$(k inspect bb)" "lingering:    pid $pid, ready for the next run"
  kp_contains "$(k inspect bb)" "sessions:     0"
  k --json inspect bb | python3 -c 'import json, sys
d = json.load(sys.stdin)
sys.exit(0 if [s["pid"] for s in d["lingering"]] == [int(sys.argv[1])] and not d["session_list"] else 1)' "$pid" ||
    kp_fail "inspect --json does not list the lingering sandbox $pid alone: $(k --json inspect bb)"
  kp_ok "exec leaves its sandbox lingering (init $pid, in inspect), and the environment is not running"

  # 2. The next runs join it: its init starts their command, which sees only init and its own
  # processes; what they leave running ends with them.
  [ "$(mark bb)" = 2 ] || kp_fail "the second run did not join the lingering sandbox"
  [ "$(idle_pid)" = "$pid" ] || kp_fail "the lingering sandbox changed from $pid to $(idle_pid)"
  local seen first second
  seen=$(k exec bb -- sh -c 'echo $$ /proc/[0-9]*' </dev/null)
  first=${seen%% *}
  [ "$seen" = "$first /proc/1 /proc/$first" ] || kp_fail "a run that joined sees other processes: $seen"
  [ "$first" -gt 2 ] || kp_fail "the lingering init did not start the command itself (pid $first)"
  second=$(k exec bb -- sh -c 'echo $$' </dev/null)
  [ "$second" -gt "$first" ] || kp_fail "the next run was not started by the same init ($first, then $second)"
  [ -S "$(echo "$base"/store/env/*/sessions)/.serve-$pid" ] || kp_fail "no socket of the lingering sandbox $pid"
  k exec bb -- sh -c 'sleep 2391 & echo started' | grep -q started
  if pgrep -x -f "sleep 2391" >/dev/null; then
    kp_fail "a background process of a run that joined outlived it: $(pgrep -a -x -f "sleep 2391")"
  fi
  alive "$pid" || kp_fail "the lingering sandbox ended with a run that joined it"
  kp_ok "the next runs join it, its init starts them, and what they leave running ends with them"

  # 2b. A run the lingering init starts gets the caller's streams, environment, working
  # directory and status, and the error of a command that cannot start.
  local out rc
  out=$(printf 'in\n' | k exec -e KP_V=val bb -- sh -c 'read l; echo "$l $KP_V $(pwd) $$"; echo to-err >&2; exit 3' 2>"$base/err") && rc=0 || rc=$?
  [ "$rc" = 3 ] || kp_fail "the exit status of a started run is $rc, not 3"
  [ "${out% *}" = "in val $( (umask 077; k exec bb -- pwd) )" ] || kp_fail "a started run got other streams, environment or directory: $out"
  [ "${out##* }" -gt 2 ] || kp_fail "the run with streams was not started by the lingering init: $out"
  [ "$(cat "$base/err")" = to-err ] || kp_fail "a started run's stderr is lost: $(cat "$base/err")"
  k exec bb -- no-such-command 2>"$base/err" && rc=0 || rc=$?
  [ "$rc" = 127 ] || kp_fail "a missing command in a started run gave status $rc, not 127"
  kp_contains "$(cat "$base/err")" "no-such-command: command not found"
  [ "$(k exec bb -- grep SigIgn /proc/self/status)" = "SigIgn:	0000000000000000" ] ||
    kp_fail "the command ignores signals its caller does not: $(k exec bb -- grep SigIgn /proc/self/status)"
  alive "$pid" || kp_fail "the lingering sandbox ended with a failed command"
  # A request it cannot read (no descriptors, another format, half a request) or that asks for
  # other confinement than the sandbox's (none at all, here) gets no reply, and the sandbox still
  # takes the next run.
  python3 - "$(echo "$base"/store/env/*/sessions)" ".serve-$pid" <<'PY' || kp_fail "the lingering init answered a bad request"
import os, socket, struct, sys
os.chdir(sys.argv.pop(1))  # the socket's path is longer than an address holds
command = b"/bin/true\0"
for request, text in [(b"garbage", b""), (struct.pack("<5I", 0x6B707231, 4, 0, 1, 0), b""),
                      (struct.pack("<5I", 0x6B707231, len(command), 0, 1, 0), command)]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("3i", 0, 1, 2))])
    if text:
        s.send(text)
    s.settimeout(10)
    if s.recv(16) != b"":
        sys.exit(1)
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.send(struct.pack("<5I", 0x6B707231, 4, 0, 1, 0))
s.settimeout(10)
sys.exit(0 if s.recv(16) == b"" else 1)
PY
  [ "$(k exec bb -- sh -c 'echo $$')" -gt "$first" ] || kp_fail "the lingering init took no run after bad requests"
  alive "$pid" || kp_fail "bad requests ended the lingering sandbox"
  kp_ok "a started run gets the caller's streams, environment, directory and status; bad requests change nothing"

  # 2c. A caller whose context differs joins with a helper and a pid namespace of its own, and
  # its command starts as the caller would start it.
  [ "$( (umask 077; k exec bb -- sh -c 'echo $$ $(umask)') )" = "2 0077" ] ||
    kp_fail "a caller with another umask did not join with a pid namespace of its own"
  [ "$( (ulimit -n 100; k exec bb -- sh -c 'ulimit -n') )" = 100 ] ||
    kp_fail "a caller's lower limit on open files did not reach its command"
  [ "$( (trap '' PIPE; k exec bb -- grep SigIgn /proc/self/status) )" = "SigIgn:	0000000000001000" ] ||
    kp_fail "a caller's ignored SIGPIPE did not reach its command"
  [ "$(idle_pid)" = "$pid" ] || kp_fail "the lingering sandbox changed from $pid to $(idle_pid)"
  # Two at once: the one that starts while the other runs gets a pid namespace of its own.
  k exec bb -- sh -c 'echo $$ > /run/long; sleep 2' </dev/null &
  local long=$! j
  for j in $(seq 50); do
    [ "$(k list | awk '$2 == "bb" {print $3}')" = running ] && break
    sleep 0.1
  done
  [ "$(k list | awk '$2 == "bb" {print $3}')" = running ] || kp_fail "list does not call the environment running during a started run"
  [ "$(k exec bb -- sh -c 'echo $$')" = 2 ] || kp_fail "a run beside a started one shares its pid namespace"
  wait "$long" || kp_fail "the long started run failed"
  [ "$(idle_pid)" = "$pid" ] || kp_fail "the sandbox $pid does not linger again after a started run"
  kp_ok "callers of another context, and runs beside a started one, get a pid namespace of their own"

  # 2d. The run's own processes ask for the shortest time slice (0.1 ms), the lingering init
  # among them, also while a command it started runs; the command gets the caller's back: the
  # kernel's default, or one of the caller's own (which is another context: it joins with a pid
  # namespace of its own), in a new sandbox too; a caller's scheduling policy is its command's;
  # KARAPACE_SHORT_SLICE=0 leaves the slice alone.
  local mine
  mine=$(slice_of /proc/self/sched)
  if [ -z "$mine" ] || [ "$mine" = 0 ]; then
    echo "# skipped the time slice checks: /proc/<pid>/sched shows none (a kernel before 6.12, or one without CONFIG_SCHED_DEBUG)"
  else
    local show='echo $$ $(sed -n "s/^se\.slice[[:space:]]*:[[:space:]]*//p" /proc/self/sched)'
    [ "$(slice_of "/proc/$pid/sched")" = 100000 ] ||
      kp_fail "the lingering init's time slice is $(slice_of "/proc/$pid/sched") ns, not 0.1 ms"
    out=$(k exec bb -- sh -c "$show")
    [ "${out#* }" = "$mine" ] && [ "${out% *}" -gt 2 ] ||
      kp_fail "the command the lingering init started has the slice ${out#* }, not its caller's $mine"
    [ "$(cd "$base/proj" && with_slice 3000000 "$kp" --store "$base/store" exec bb -- sh -c "$show")" = "2 3000000" ] ||
      kp_fail "a caller's own time slice did not reach its command, or it did not join with a pid namespace of its own"
    # A caller of another policy (SCHED_BATCH) is another context too, and its command keeps it.
    [ "$(cd "$base/proj" && chrt -b 0 "$kp" --store "$base/store" exec bb -- sh -c 'echo $$ $(sed -n "s/^policy[[:space:]]*:[[:space:]]*//p" /proc/self/sched)')" = "2 3" ] ||
      kp_fail "a caller's SCHED_BATCH did not reach its command, or it did not join with a pid namespace of its own"
    [ "$(cd "$base/proj" && with_slice 3000000 env KARAPACE_LINGER=0 "$kp" --store "$base/store" exec bb -- sh -c "$show")" = "2 3000000" ] ||
      kp_fail "a caller's own time slice did not reach its command in a new sandbox"
    [ "$(KARAPACE_LINGER=0 k exec bb -- sh -c "$show")" = "2 $mine" ] ||
      kp_fail "the command in a new sandbox did not get its caller's time slice"
    # Init holds the command's slice until the command has executed, then takes its own back.
    local init_slice='sleep 1; sed -n "s/^se\.slice[[:space:]]*:[[:space:]]*//p" /proc/1/sched'
    [ "$(KARAPACE_LINGER=0 k exec bb -- sh -c "$init_slice")" = 100000 ] ||
      kp_fail "init in a new sandbox did not take its short time slice back while the command runs"
    [ "$(k exec bb -- sh -c "$init_slice")" = 100000 ] ||
      kp_fail "the lingering init did not take its short time slice back while a command it started runs"
    [ "$(cd "$base/proj" && with_slice 3000000 env KARAPACE_LINGER=0 KARAPACE_SHORT_SLICE=0 "$kp" --store "$base/store" exec bb -- sh -c 'sed -n "s/^se\.slice[[:space:]]*:[[:space:]]*//p" /proc/1/sched')" = 3000000 ] ||
      kp_fail "KARAPACE_SHORT_SLICE=0 did not leave init with its caller's time slice"
    k exec bb -- true
    pid=$(idle_pid)
    kp_ok "the run's own processes have a short time slice, the command its caller's slice and policy"
  fi

  # 2e. A new sandbox's own processes stay on their caller's processor (cpus.hpp): its init runs
  # on one while the command runs, the command gets the caller's processors, a lingering init
  # takes them back, and a caller's own (taskset) reach its command; KARAPACE_SAME_CPU=0 leaves
  # them alone, and so does a busy machine unless KARAPACE_SAME_CPU=1 (set for the checks that
  # other suites running beside would otherwise make busy).
  local cpus_of='sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status /proc/1/status'
  local all first last out
  all=$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
  first=$(python3 -c 'import os; print(min(os.sched_getaffinity(0)))')
  last=$(python3 -c 'import os; print(max(os.sched_getaffinity(0)))')
  if [ "$first" = "$last" ]; then
    echo "# skipped the processor checks: this test may use one processor only ($all)"
  else
    export KARAPACE_SAME_CPU=1
    out=$(KARAPACE_LINGER=0 k exec bb -- sh -c "$cpus_of" | tr '\n' ' ')
    kp_init_on_one_cpu "$out" "$all" ||
      kp_fail "in a new sandbox the command and init run on '$out', not on '$all' and on one processor"
    # A busy loop per processor: without KARAPACE_SAME_CPU nothing is narrowed.
    kp_start_busy
    out=$(env -u KARAPACE_SAME_CPU KARAPACE_LINGER=0 "$kp" --store "$base/store" exec bb -- sh -c "$cpus_of" 2>&1 | tr '\n' ' ')
    kp_end_busy
    [ "$out" = "$all $all " ] || kp_fail "on a busy machine a new sandbox's init ran on '$out', not on '$all'"
    [ "$(KARAPACE_LINGER=0 KARAPACE_SAME_CPU=0 k exec bb -- sh -c "$cpus_of" | tr '\n' ' ')" = "$all $all " ] ||
      kp_fail "KARAPACE_SAME_CPU=0 did not leave the new sandbox's init on the caller's processors"
    [ "$(cd "$base/proj" && KARAPACE_LINGER=0 taskset -c "$last" "$kp" --store "$base/store" exec bb -- sh -c "$cpus_of" | tr '\n' ' ')" = "$last $last " ] ||
      kp_fail "a caller's one processor ($last) did not reach its command"
    local two
    two=$(taskset -c "$first,$last" sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status)
    out=$(cd "$base/proj" && KARAPACE_LINGER=0 taskset -c "$first,$last" "$kp" --store "$base/store" exec bb -- sh -c "$cpus_of" | tr '\n' ' ')
    case "$out" in
      "$two $first "|"$two $last ") ;;
      *) kp_fail "a caller on processors $two: its command and init ran on '$out'" ;;
    esac
    # A new lingering sandbox (the runs above ended the last one); the next run is started by
    # its init, which the caller's context (its processors among it) must match.
    k exec bb -- true
    pid=$(idle_pid)
    [ "$(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$pid/status")" = "$all" ] ||
      kp_fail "the lingering init stayed on $(sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' "/proc/$pid/status"), not the caller's $all"
    out=$(k exec bb -- sh -c 'echo $$; sed -n "s/^Cpus_allowed_list:[[:space:]]*//p" /proc/self/status' | tr '\n' ' ')
    [ "${out#* }" = "$all " ] && [ "${out%% *}" -gt 2 ] ||
      kp_fail "the lingering init did not start the next run on the caller's processors ($out)"
    [ "$(idle_pid)" = "$pid" ] || kp_fail "the lingering sandbox changed from $pid to $(idle_pid)"
    unset KARAPACE_SAME_CPU
    kp_ok "a new sandbox's init runs on its caller's processor, the command and a lingering init on the caller's processors"
  fi

  # 2f. stop during a started run ends the command and the sandbox; kill -9 of the lingering
  # init during one is reported, and the next run builds a new sandbox.
  k exec bb -- sh -c 'trap "echo got-term; exit 7" TERM; sleep 30 & wait' >"$base/out" </dev/null &
  long=$!
  for j in $(seq 50); do
    [ "$(k list | awk '$2 == "bb" {print $3}')" = running ] && break
    sleep 0.1
  done
  k stop bb >/dev/null || kp_fail "stop during a started run failed"
  wait "$long" && rc=0 || rc=$?
  [ "$rc" = 7 ] && [ "$(cat "$base/out")" = got-term ] || kp_fail "stop did not end the started run's command ($rc, $(cat "$base/out"))"
  alive "$pid" && kp_fail "stop left the sandbox $pid of a started run"
  ls -a "$base"/store/env/*/sessions | grep -q '^\.serve-' && kp_fail "stop left a socket: $(ls -a "$base"/store/env/*/sessions)"
  k exec bb -- true
  pid=$(idle_pid)
  k exec bb -- sleep 30 </dev/null 2>"$base/err" &
  long=$!
  for j in $(seq 50); do
    pgrep -x -f "sleep 30" >/dev/null && break
    sleep 0.1
  done
  kill -9 "$pid"
  wait "$long" && rc=0 || rc=$?
  [ "$rc" = 125 ] || kp_fail "a started run whose init was killed gave status $rc, not 125"
  kp_contains "$(cat "$base/err")" "ended before it reported the command's status"
  [ "$(mark bb)" = 1 ] || kp_fail "the run after kill -9 of the lingering init found its sandbox"
  kp_ok "stop ends a started run and its sandbox; kill -9 of its init is reported and replaced"

  # 3. /proc/sys stays read-only in a run that joined (a root caller's root inside is host root).
  k exec --root bb -- true
  k exec --root bb -- sh -c 'v=$(cat /proc/sys/kernel/core_pattern) && echo "$v" > /proc/sys/kernel/core_pattern' 2>/dev/null &&
    kp_fail "a run that joined a lingering sandbox could write kernel.core_pattern"
  kp_ok "kernel settings stay read-only in a run that joined"

  # 4. Operations that change the writable layer end it first; so does stop.
  k exec bb -- sh -c 'echo kept > /tmp/f'
  pid=$(idle_pid)
  [ -n "$pid" ] || kp_fail "no lingering sandbox before commit"
  k commit bb >/dev/null || kp_fail "commit right after exec failed"
  alive "$pid" && kp_fail "commit left the lingering sandbox $pid running"
  [ -z "$(idle_pid)" ] || kp_fail "commit left the record of the lingering sandbox"
  [ "$(k exec bb -- cat /tmp/f)" = kept ] || kp_fail "the committed change is lost"
  pid=$(idle_pid)
  if k stop bb >/dev/null 2>&1; then kp_fail "stop called the environment running"; fi
  alive "$pid" && kp_fail "stop left the lingering sandbox $pid running"
  k exec bb -- true
  pid=$(idle_pid)
  k freeze bb >/dev/null || kp_fail "freeze right after exec failed"
  alive "$pid" && kp_fail "freeze left the lingering sandbox $pid running"
  [ "$(k exec bb -- cat /tmp/f)" = kept ] || kp_fail "the frozen environment lost its change"
  kp_ok "commit, stop and freeze end the lingering sandbox first"
  k rebuild >/dev/null 2>&1 || kp_fail "rebuild failed: $(k rebuild 2>&1)"

  # 5. A run that needs another sandbox ends the lingering one instead of joining it.
  [ "$(mark bb)" = 1 ] || kp_fail "the run after rebuild found an old sandbox"
  pid=$(idle_pid)
  [ "$(mark --root bb)" = 1 ] || kp_fail "a container-root run joined the user's sandbox"
  alive "$pid" && kp_fail "the lingering sandbox $pid of another mapping is still there"
  [ "$(mark --root bb)" = 2 ] || kp_fail "the second container-root run did not join the first"
  kp_ok "a run of another mapping builds its own sandbox and ends the one that lingered"

  # 6. The caller's output pipe is not held by a lingering init: a reader sees the end.
  k stop bb >/dev/null 2>&1 || true
  (k exec bb -- echo piped | cat > "$base/piped") &
  local reader=$! i
  for i in $(seq 150); do
    kill -0 "$reader" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$reader" 2>/dev/null; then
    kill "$reader" 2>/dev/null || true
    kp_fail "the lingering sandbox holds the caller's output pipe"
  fi
  [ "$(cat "$base/piped")" = piped ] || kp_fail "the piped output is lost"
  [ -n "$(idle_pid)" ] || kp_fail "no lingering sandbox after a piped exec"
  kp_ok "the caller's output ends with the command"

  # 7. The time is up unless runs join: every second for 4 s with 2 s keeps one sandbox;
  # then it exits.
  k stop bb >/dev/null 2>&1 || true
  export KARAPACE_LINGER=2
  [ "$(mark bb)" = 1 ] || kp_fail "the run after stop found an old sandbox"
  pid=$(idle_pid)
  # The work directory the last overlay left, which this mount replaced, is released when the
  # sandbox's init exits, not as it starts (freeing blocks can wait for the device).
  if [ -r "/proc/$pid/fd" ]; then
    ls -l "/proc/$pid/fd" | grep -q '/work/work (deleted)$' ||
      kp_fail "the lingering init does not hold the replaced work directory: $(ls -l "/proc/$pid/fd")"
  else
    echo "# skipped the replaced work directory check: /proc/$pid/fd is not readable as $(id -un)"
  fi
  for i in 2 3 4 5; do
    sleep 1
    [ "$(mark bb)" = $i ] || kp_fail "the sandbox did not stay while runs joined it every second"
  done
  for i in $(seq 100); do
    alive "$pid" || break
    sleep 0.1
  done
  alive "$pid" && kp_fail "the lingering sandbox $pid did not exit once its time was up"
  [ "$(mark bb)" = 1 ] || kp_fail "a run after the time was up found the old sandbox"
  kp_ok "runs that join keep it; it exits when its time is up"

  # 8. Off.
  k stop bb >/dev/null 2>&1 || true
  export KARAPACE_LINGER=0
  [ "$(mark bb)" = 1 ] && [ "$(mark bb)" = 1 ] || kp_fail "KARAPACE_LINGER=0 still shared a sandbox"
  [ -z "$(idle_pid)" ] || kp_fail "KARAPACE_LINGER=0 left a lingering sandbox"
  kp_ok "KARAPACE_LINGER=0 builds a sandbox for every run"

  # 9. A host directory bound in and made again (a new directory at the same path) is a new
  # sandbox's: the lingering one still holds the old directory.
  k destroy bb >/dev/null
  mkdir -p "$base/data"
  echo old > "$base/data/file"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[mounts]\ndata = "%s:/data"\n' \
    "$tarball" "$base/data" > "$base/proj/karapace.toml"
  k build --name bb >/dev/null
  export KARAPACE_LINGER=60
  [ "$(mark bb)" = 1 ] || kp_fail "the run with a mount found an old sandbox"
  [ "$(mark bb)" = 2 ] || kp_fail "the second run with a mount did not join"
  rm -rf "$base/data"
  mkdir -p "$base/data"
  echo new > "$base/data/file"
  [ "$(mark bb)" = 1 ] || kp_fail "a run joined a sandbox that holds the old $base/data"
  [ "$(k exec bb -- cat /data/file)" = new ] || kp_fail "the run does not see the new $base/data"
  kp_ok "a host directory made again gets a new sandbox"

  # 9b. Runs whose karapace leads a session of its own on a terminal (a terminal emulator or
  # ssh -t starting it with no shell between): the kernel hangs up the terminal's foreground
  # group as such a caller exits, which must not end the sandbox it leaves lingering. Both runs
  # on one terminal, which is bound into their sandbox.
  local tty_out
  tty_out=$(cd "$base/proj" && python3 - "$kp" "$base/store" "$mark_script" <<'PY'
import os, sys
kp, store, script = sys.argv[1], sys.argv[2], sys.argv[3]
master, slave = os.openpty()
path = os.ttyname(slave)
os.close(slave)
for _ in range(2):
    pid = os.posix_spawnp(kp, [kp, "--store", store, "exec", "bb", "--", "sh", "-c", script],
                          dict(os.environ), setsid=True, file_actions=[
                              (os.POSIX_SPAWN_CLOSE, 0), (os.POSIX_SPAWN_OPEN, 0, path, os.O_RDWR, 0),
                              (os.POSIX_SPAWN_DUP2, 0, 1), (os.POSIX_SPAWN_DUP2, 0, 2)])
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"the run on a terminal exited with {os.waitstatus_to_exitcode(status)}")
    os.set_blocking(master, False)
    try:
        print(os.read(master, 4096).decode().strip())
    except OSError:
        print("no output")
PY
  ) || kp_fail "runs on a terminal failed: $tty_out"
  [ "$(echo $tty_out)" = "1 2" ] ||
    kp_fail "the second run leading its terminal's session did not join the first's sandbox (marks: $(echo $tty_out))"
  pid=$(idle_pid)
  alive "$pid" || kp_fail "the sandbox a run leading its terminal's session left did not linger"
  kp_ok "a run that leads its terminal's session leaves the sandbox lingering, and the next one joins it"

  # 10. destroy ends it.
  export KARAPACE_LINGER=60
  k exec bb -- true
  pid=$(idle_pid)
  k destroy bb >/dev/null || kp_fail "destroy right after exec failed"
  alive "$pid" && kp_fail "destroy left the lingering sandbox $pid running"
  kp_ok "destroy ends the lingering sandbox"
}

kp_scenario_both "$work" "$tarball"
echo "linger: all checks passed"
