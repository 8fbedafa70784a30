#!/bin/bash
# ListEnvironments answers from a cache that the service keeps between calls. Whatever changes
# the store behind the service's back — the CLI adding, renaming, freezing, running, stopping,
# damaging or destroying environments, a session's process killed outright, the kernel dropping
# watch events, the metadata directory replaced — shows in the very next call, with no wait. The
# summaries outlive the service: the next one reads only the records that changed meanwhile.
export KARAPACE_LOG=debug  # the service says how many summaries it took from its last run
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"
[ -x "${KARAPACE_CLI:-}" ] || kp_skip "the karapace CLI is not built (KARAPACE_CLI unset)"
cd "$KP_TMP"
cli() { "$KARAPACE_CLI" --store "$KP_STORE" "$@"; }

# The rows of ListEnvironments as "name state sessions", sorted by name.
rows() {
  kp_call_json ListEnvironments |
    jq -r '.data[0][] | "\(if .[2] == "" then .[1] else .[2] end) \(.[3]) \(.[7])"' | sort
}
# Fails unless the next call's rows are exactly $1 (lines); $2 says what happened just before.
expect_rows() {
  local got
  got=$(rows)
  [ "$got" = "$1" ] || kp_fail "after $2, ListEnvironments shows:
$got
expected:
$1"
}
# The CLI's own view, the reference the service must agree with.
cli_rows() {
  cli --json list | jq -r '.[] | "\(if .name == "" then .short_id else .name end) \(.state) \(.sessions)"' | sort
}

manifest=$(kp_busybox_manifest "$KP_TMP/project")
cli build --name first "$manifest" >"$KP_TMP/build.log" 2>&1 || kp_fail "CLI build: $(cat "$KP_TMP/build.log")"
expect_rows "first built 0" "the first call"
pid=$(kp_service_pid)
[ -n "$pid" ] || kp_fail "the service is not running after a call"

# --- the CLI changes the store while the service runs ------------------------------------------
cli build --name second "$manifest" >"$KP_TMP/build.log" 2>&1 || kp_fail "CLI build: $(cat "$KP_TMP/build.log")"
expect_rows "first built 0
second built 0" "a CLI build of a second environment"
cli rename first renamed >/dev/null || kp_fail "CLI rename failed"
expect_rows "renamed built 0
second built 0" "a CLI rename"
cli freeze second >/dev/null || kp_fail "CLI freeze failed"
expect_rows "renamed built 0
second frozen 0" "a CLI freeze"
kp_ok "a build, a rename and a freeze by the CLI show in the next ListEnvironments"

# A session: running while the CLI's exec runs, built again once stop ended it.
cli exec renamed -- sleep 300 >"$KP_TMP/exec.log" 2>&1 &
exec_pid=$!
kp_bg $exec_pid
for _ in $(seq 100); do [ "$(cli_rows | head -n 1)" = "renamed running 1" ] && break; sleep 0.1; done
[ "$(cli_rows | head -n 1)" = "renamed running 1" ] || kp_fail "the CLI's exec did not start: $(cat "$KP_TMP/exec.log")"
expect_rows "renamed running 1
second frozen 0" "a CLI exec started"
cli stop renamed >/dev/null || kp_fail "CLI stop failed"
wait "$exec_pid" 2>/dev/null || true
expect_rows "renamed built 0
second frozen 0" "a CLI stop"
kp_ok "a session started and stopped by the CLI shows in the next ListEnvironments"

# A session's processes killed outright (SIGKILL): no exit handler removes the record.
cli exec renamed -- sleep 300 >"$KP_TMP/exec.log" 2>&1 &
exec_pid=$!
kp_bg $exec_pid
sessions_dir=$KP_STORE/env/$(cli --json inspect renamed | jq -r .env_id)/sessions
for _ in $(seq 100); do [ "$(cli_rows | head -n 1)" = "renamed running 1" ] && break; sleep 0.1; done
expect_rows "renamed running 1
second frozen 0" "a second CLI exec started"
init_pid=$(ls "$sessions_dir" | grep -E '^[0-9]+$' | head -n 1)
[ -n "$init_pid" ] || kp_fail "no session record in $sessions_dir"
kill -9 "$exec_pid" 2>/dev/null || true
kill -9 "$init_pid" 2>/dev/null || true
for _ in $(seq 100); do kill -0 "$init_pid" 2>/dev/null || break; sleep 0.05; done
wait "$exec_pid" 2>/dev/null || true
expect_rows "renamed built 0
second frozen 0" "the session's processes were killed (SIGKILL)"
kp_ok "a session whose processes were killed outright is gone from the next ListEnvironments"

# Nothing at all may tell the store that a session ended (here something else removed the record
# once its processes were gone, which the watch sees): a record for a process of the test's own,
# written as the sandbox writes one ("<start time> <mapping>", the form every version reads),
# then the process killed.
sleep 300 &
sleeper=$!
kp_bg $sleeper
start=$(awk '{print $22}' "/proc/$sleeper/stat")
printf '%s root\n' "$start" >"$sessions_dir/$sleeper"
expect_rows "renamed running 1
second frozen 0" "a session record was written for a live process"
kill -9 "$sleeper"
wait "$sleeper" 2>/dev/null || true
[ -e "$sessions_dir/$sleeper" ] || kp_fail "something removed the session record of $sleeper: the check would prove nothing"
expect_rows "renamed built 0
second frozen 0" "a session's process died and its record stayed"
kp_ok "a session whose process died without a trace in the store is gone from the next ListEnvironments"

# --- a damaged record is reported, and listed again once repaired ------------------------------
second_id=$(cli --json inspect second | jq -r .env_id)
record=$KP_STORE/metadata/$second_id.json
cp "$record" "$KP_TMP/record.good"
sed -i 's/"frozen"/"frozeN"/' "$record"
cmp -s "$record" "$KP_TMP/record.good" && kp_fail "the test did not change $record"
expect_rows "renamed built 0" "a record damaged in place"
kp_wait_line "skipping unreadable environment record $record" "$KP_DAEMON_LOG" ||
  kp_fail "the service did not report the damaged record: $(tail -n 5 "$KP_DAEMON_LOG")"
cp "$KP_TMP/record.good" "$record"
expect_rows "renamed built 0
second frozen 0" "the damaged record was put back"
kp_ok "a record damaged behind the service's back is reported and left out, and listed once repaired"

# --- destroy --------------------------------------------------------------------------------
cli destroy renamed >/dev/null || kp_fail "CLI destroy failed"
expect_rows "second frozen 0" "a CLI destroy"
kp_ok "an environment destroyed by the CLI is gone from the next ListEnvironments"

# --- the service's own changes --------------------------------------------------------------
kp_call Rename ss second via-bus >/dev/null || kp_fail "D-Bus Rename failed"
expect_rows "via-bus frozen 0" "a D-Bus Rename"
kp_ok "the service's own rename shows in its next ListEnvironments"

# --- the metadata directory replaced ----------------------------------------------------------
# A copy takes its place: the watch on the old directory sees nothing of what happens next.
cp -a "$KP_STORE/metadata" "$KP_STORE/metadata.new"
mv "$KP_STORE/metadata" "$KP_TMP/metadata.old"
mv "$KP_STORE/metadata.new" "$KP_STORE/metadata"
cli rename via-bus replaced >/dev/null || kp_fail "CLI rename in the new metadata directory failed"
expect_rows "replaced frozen 0" "the metadata directory was replaced and a record renamed in it"
kp_ok "a replaced metadata directory is watched afresh and its records read again"

# --- events the kernel dropped ------------------------------------------------------------------
# Stopped, the service reads no events; more of them than the kernel queues for one watcher (files
# the store ignores: temporary names), then a rename whose event has no room left.
max_events=$(cat /proc/sys/fs/inotify/max_queued_events 2>/dev/null || echo 0)
if [ "$max_events" -gt 0 ] && [ "$max_events" -le 200000 ]; then
  [ "$(kp_service_pid)" = "$pid" ] || kp_fail "the service restarted during the test (was $pid)"
  kill -STOP "$pid"
  (cd "$KP_STORE/metadata" && seq -f '.tmp-flood-%.0f' 1 "$max_events" | xargs touch &&
    seq -f '.tmp-flood-%.0f' 1 "$max_events" | xargs rm -f)
  cli rename replaced overflowed >/dev/null || { kill -CONT "$pid"; kp_fail "CLI rename failed"; }
  kill -CONT "$pid"
  expect_rows "overflowed frozen 0" "a rename whose event the kernel dropped (queue overflow)"
  kp_ok "after the kernel's event queue overflowed, the next ListEnvironments reads every record"
else
  echo "# SKIP the overflow check: fs.inotify.max_queued_events is $max_events"
fi

[ "$(kp_service_pid)" = "$pid" ] || kp_fail "the service restarted during the test (was $pid), so no cache was tested"
[ "$(rows)" = "$(cli_rows)" ] || kp_fail "ListEnvironments and karapace list disagree: $(rows) / $(cli_rows)"
kp_ok "the same service answered every call, and agrees with karapace list"

# --- summaries kept across runs of the service ----------------------------------------------------
kept=$KP_STORE/store/list-cache.json
# stop_service PID: SIGTERM, as systemd or the session's end would send it.
stop_service() {
  kill -TERM "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done
  kp_fail "the service ($1) did not end on SIGTERM"
}
cli build --name kept-a "$manifest" >"$KP_TMP/build.log" 2>&1 || kp_fail "CLI build: $(cat "$KP_TMP/build.log")"
expect_rows "kept-a built 0
overflowed frozen 0" "a CLI build"
# Changed within the last two seconds, a record is not kept (its times could hide a second change).
sleep 2.2
stop_service "$pid"
expect_rows "kept-a built 0
overflowed frozen 0" "a restart of the service"
pid=$(kp_service_pid)
[ -s "$kept" ] || kp_fail "the service kept no summaries in $kept"
[ "$(jq '.environments | length' "$kept")" = 2 ] || kp_fail "kept summaries: $(cat "$kept")"
stop_service "$pid"
cli rename kept-a kept-b >/dev/null || kp_fail "CLI rename failed"
expect_rows "kept-b built 0
overflowed frozen 0" "a rename while no service ran"
kp_wait_line "ListEnvironments: 1 of 2 summaries kept from the service's last run" "$KP_DAEMON_LOG" ||
  kp_fail "the service did not take the unchanged summary from its last run: $(grep ListEnvironments "$KP_DAEMON_LOG" | tail -n 5)"
kp_ok "a new service takes the summaries its predecessor kept, and reads the records that changed since"
stop_service "$(kp_service_pid)"
printf 'not json' >"$kept"
expect_rows "kept-b built 0
overflowed frozen 0" "a damaged file of kept summaries"
[ "$(rows)" = "$(cli_rows)" ] || kp_fail "ListEnvironments and karapace list disagree: $(rows) / $(cli_rows)"
kp_ok "a damaged file of kept summaries is ignored"

# --- the store read ahead of the first call ------------------------------------------------------
# Started by another call (a property read), the service reads the store ahead; a change made after
# that comes through its watches, and the first ListEnvironments reads nothing in full again.
ahead_lines() { grep -c "read ahead of the first call" "$KP_DAEMON_LOG" || true; }
stop_service "$(kp_service_pid)"
before=$(ahead_lines)
kp_get Version >/dev/null || kp_fail "the Version property could not be read"
for _ in $(seq 100); do [ "$(ahead_lines)" -gt "$before" ] && break; sleep 0.05; done
[ "$(ahead_lines)" -gt "$before" ] || kp_fail "the service did not read the store ahead of the first call"
full=$(grep -c "reading every record" "$KP_DAEMON_LOG")
cli rename kept-b kept-c >/dev/null || kp_fail "CLI rename failed"
expect_rows "kept-c built 0
overflowed frozen 0" "a rename after the service read the store ahead"
[ "$(grep -c "reading every record" "$KP_DAEMON_LOG")" = "$full" ] ||
  kp_fail "the first ListEnvironments read every record again after the read ahead"
kp_ok "a service started by a property read reads the store ahead; a rename after that shows in its first ListEnvironments"

# --- the same as an unprivileged user -----------------------------------------------------------
if [ -z "${KP_DBUS_RERUN:-}" ] && kp_have_test_user; then
  echo "# again as ${KARAPACE_TEST_USER:-kptest}"
  kp_as_user env KP_DBUS_RERUN=1 KARAPACE_DBUS="$KARAPACE_DBUS" KARAPACE_CLI="$KARAPACE_CLI" \
    KARAPACE_SOURCE_ROOT="$KP_FIXTURES/../.." TMPDIR=/tmp bash "$0" ||
    kp_fail "the cache checks failed as ${KARAPACE_TEST_USER:-kptest} (output above)"
fi
