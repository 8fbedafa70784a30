# Shared helpers for the shell integration tests. Source it: `. "$(dirname "$0")/../lib.sh"`.
# Exit status 77 tells meson the test was skipped; the reason is printed first.
set -euo pipefail

kp_skip() { echo "SKIP: $*"; exit 77; }
kp_fail() { echo "FAIL: $*" >&2; exit 1; }
kp_ok() { echo "ok - $*"; }

# Runs a command as the unprivileged test user (created by scripts/test), keeping PATH.
kp_as_user() {
  local user=${KARAPACE_TEST_USER:-kptest}
  runuser -u "$user" -- env PATH="$PATH" HOME="$(getent passwd "$user" | cut -d: -f6)" "$@"
}

kp_have_test_user() {
  [ "$(id -u)" -eq 0 ] && id "${KARAPACE_TEST_USER:-kptest}" >/dev/null 2>&1
}

# Ends the given processes and every process below them. A shell function run in the background
# is a subshell: killing it alone leaves its children (karapace, the sandbox) running.
kp_kill_tree() {
  local pid child
  for pid in "$@"; do
    [ -n "$pid" ] || continue
    for child in $(pgrep -P "$pid" 2>/dev/null); do kp_kill_tree "$child"; done
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# For a test's EXIT trap: ends the given processes and their children (kp_kill_tree), then every
# session and lingering sandbox of every environment in STORE (a run a lingering sandbox serves
# is not below the karapace that asked for it).
kp_end_runs() {  # kp_end_runs KARAPACE STORE [PID]...
  local bin=$1 store=$2 id
  shift 2
  kp_kill_tree "$@"
  [ -d "$store" ] || return 0
  for id in $("$bin" --store "$store" --json list 2>/dev/null |
    python3 -c 'import json, sys; [print(e["env_id"]) for e in json.load(sys.stdin)]' 2>/dev/null); do
    "$bin" --store "$store" stop "$id" --timeout 1 >/dev/null 2>&1 || true
  done
}

# Fails unless "$1" contains "$2".
kp_contains() { case "$1" in *"$2"*) return 0 ;; *) kp_fail "expected to find '$2' in: $1" ;; esac; }

# A busy machine for a check: a busy loop per processor (their pids in kp_busy_pids) until
# kp_end_busy. Each loop carries this test's tag on its command line, so that a trap can end the
# loops a failed check left (kp_end_all_busy) without ending another suite's running beside.
export KP_BUSY_TAG=${KP_BUSY_TAG:-karapace-busy-$$}
kp_start_busy() {
  local i
  kp_busy_pids=""
  for i in $(seq "$(nproc)"); do
    sh -c 'while :; do :; done' "$KP_BUSY_TAG" &
    kp_busy_pids="$kp_busy_pids $!"
  done
}
kp_end_busy() {
  [ -n "${kp_busy_pids:-}" ] || return 0
  kill $kp_busy_pids 2>/dev/null || true
  wait $kp_busy_pids 2>/dev/null || true
  kp_busy_pids=""
}
kp_end_all_busy() { pkill -x -f "sh -c while :; do :; done $KP_BUSY_TAG" 2>/dev/null || true; }

# Whether "$1", the processors of a sandbox's command and then of its init (each a
# Cpus_allowed_list followed by a space), has the command on "$2" and init on one processor.
kp_init_on_one_cpu() {
  case "$1" in "$2 "[0-9]" " | "$2 "[0-9][0-9]" " | "$2 "[0-9][0-9][0-9]" ") return 0 ;; esac
  return 1
}

# Runs the shell function `scenario` as the caller with BASE/self as its first argument, then as
# the test user with BASE/user (made and given to that user), each time followed by the other
# arguments. Without a test user that half is skipped, and the reason printed. Uses $kp.
kp_scenario_both() {
  local base=$1
  shift
  echo "# as $(id -un)"
  ( scenario "$base/self" "$@" )
  if kp_have_test_user; then
    local user=${KARAPACE_TEST_USER:-kptest} args
    args=$(printf ' %q' "$@")
    mkdir -p "$base/user" && chown "$user" "$base/user"
    echo "# as $user"
    kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains kp_start_busy kp_end_busy kp_init_on_one_cpu); set -euo pipefail; kp=$(printf %q "$kp"); scenario $(printf %q "$base/user")$args"
  else
    echo "# SKIP the unprivileged half: no test user (run as root with KARAPACE_TEST_USER)"
  fi
}

kp_free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Starts Debian's docker-registry on a free port of 127.0.0.1 with its storage under DIR; prints
# the port, writes the process id to DIR/pid. $2: an htpasswd file for Basic auth. $3: the umask
# it runs with (000 when an unprivileged half of a test tampers with its blobs too).
kp_start_registry() {
  local dir=$1 auth=${2:-} mask=${3:-022} port
  port=$(kp_free_port)
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: error}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    [ -n "$auth" ] && echo "auth: {htpasswd: {realm: karapace-test, path: $auth}}"
  } > "$dir/config.yml"
  ( umask "$mask"; exec docker-registry serve "$dir/config.yml" ) >"$dir/log" 2>&1 &
  echo $! > "$dir/pid"
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && { echo "$port"; return; }
    sleep 0.1
  done
  cat "$dir/log" >&2
  kp_fail "docker-registry did not start"
}
