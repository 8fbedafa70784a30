#!/bin/bash
# A whole environment lifecycle driven over D-Bus by outside clients (busctl, gdbus): list an
# empty store, build busybox through a job while watching its progress and Finished signal,
# exec, diff, commit, list snapshots, restore, rename, launch, stop, freeze, archive, gc,
# verify, destroy, cancel a job, and the error names for unknown environments.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"

manifest=$(kp_busybox_manifest "$KP_TMP/project")

# --- an empty store -------------------------------------------------------------------------
[ "$(kp_call ListEnvironments)" = "a(sssssssu) 0" ] ||
  kp_fail "empty store lists: $(kp_call ListEnvironments)"
kp_ok "ListEnvironments on an empty store is an empty array"

# Watch every signal the service sends from now on.
gdbus monitor --address "$KP_ADDR" --dest "$KP_DEST" >"$KP_TMP/signals" 2>&1 &
kp_bg $!
sleep 1

# --- build through a job --------------------------------------------------------------------
job=$(kp_call Build sa{sv} "$manifest" 1 name s busy | kp_path_of)
kp_contains "$job" /org/karapace/Job1/
[ "$(kp_get Kind "$job" org.karapace.Job1)" = 's "build"' ] || kp_fail "job kind: $(kp_get Kind "$job" org.karapace.Job1)"
kp_contains "$(kp_get Description "$job" org.karapace.Job1)" "$manifest"
kp_contains "$(kp_call ListJobs)" "$job"
status=$(kp_wait_job "$job")
[ "$status" = succeeded ] || kp_fail "build $status: $(kp_job_error "$job")"
env_id=$(kp_get_json Result "$job" org.karapace.Job1 | jq -r '.data.env_id.data')
[ ${#env_id} -eq 64 ] || kp_fail "build result has no 64-character env_id: $(kp_get_json Result "$job" org.karapace.Job1)"
[ "$(kp_get Progress "$job" org.karapace.Job1 | awk '{print $2}')" -ge -1 ] || kp_fail "bad Progress"
kp_ok "Build returns a job that succeeds with the environment id in its Result"

sleep 0.5
kp_wait_line "^$job: org.freedesktop.DBus.Properties.PropertiesChanged ('org.karapace.Job1', {.*'\(Step\|Progress\)'" "$KP_TMP/signals" ||
  kp_fail "no Step/Progress PropertiesChanged for $job: $(cat "$KP_TMP/signals")"
kp_wait_line "^$job: org.karapace.Job1.Finished ('succeeded', {.*'env_id': <'$env_id'>" "$KP_TMP/signals" ||
  kp_fail "no Finished('succeeded') signal for $job: $(cat "$KP_TMP/signals")"
kp_wait_line "org.karapace.Manager1.EnvironmentAdded ('$env_id',)" "$KP_TMP/signals" ||
  kp_fail "no EnvironmentAdded signal: $(cat "$KP_TMP/signals")"
kp_ok "the job's progress, its Finished signal and EnvironmentAdded reach a watching client"

list=$(kp_call_json ListEnvironments)
[ "$(echo "$list" | jq '.data[0] | length')" = 1 ] || kp_fail "expected one environment: $list"
[ "$(echo "$list" | jq -r '.data[0][0][0]')" = "$env_id" ] || kp_fail "listed id: $list"
[ "$(echo "$list" | jq -r '.data[0][0][2]')" = busy ] || kp_fail "listed name: $list"
details=$(kp_call_json GetEnvironment s busy)
[ "$(echo "$details" | jq -r '.data[0].env_id.data')" = "$env_id" ] || kp_fail "GetEnvironment: $details"
[ "$(echo "$details" | jq -r '.data[0].manifest_path.data')" = "$manifest" ] || kp_fail "GetEnvironment manifest_path: $details"
kp_ok "ListEnvironments and GetEnvironment (by name) show the new environment"

# --- exec -----------------------------------------------------------------------------------
bytes() { jq -r "$1 | implode"; }
out=$(kp_call_json Exec sasas busy 2 echo hello 0)
[ "$(echo "$out" | jq '.data[0]')" = 0 ] || kp_fail "echo exit status: $out"
[ "$(echo "$out" | bytes '.data[1]')" = hello ] || kp_fail "echo stdout: $out"
out=$(kp_call_json Exec sasas "${env_id:0:12}" 3 sh -c 'echo "$KP_X" >&2; exit 3' 1 KP_X=oops)
[ "$(echo "$out" | jq '.data[0]')" = 3 ] || kp_fail "exit status not propagated: $out"
[ "$(echo "$out" | bytes '.data[2]')" = oops ] || kp_fail "stderr or env var lost: $out"
out=$(kp_call_json Exec sasas busy 2 cat /proc/self/fd/0 0)
[ "$(echo "$out" | jq '.data[0]')" = 0 ] && [ "$(echo "$out" | jq '.data[1] | length')" = 0 ] ||
  kp_fail "stdin is not empty: $out"
kp_ok "Exec returns the exit status, stdout and stderr, passes env vars, and stdin is empty"

# --- drift, commit, snapshots, restore ------------------------------------------------------
out=$(kp_call_json Exec sasas busy 3 sh -c 'echo one > /tmp/kp-marker' 0)
[ "$(echo "$out" | jq '.data[0]')" = 0 ] || kp_fail "writing a file failed: $out"
diff=$(kp_call_json Diff s busy)
echo "$diff" | jq -e '.data[0] | map(select(test("kp-marker"))) | length == 1' >/dev/null ||
  kp_fail "Diff does not list the added file: $diff"
kp_ok "Diff lists a file added in the environment"

job=$(kp_call Commit s busy | kp_path_of)
status=$(kp_wait_job "$job")
[ "$status" = succeeded ] || kp_fail "commit $status: $(kp_job_error "$job")"
snapshot=$(kp_get_json Result "$job" org.karapace.Job1 | jq -r '.data.snapshot.data')
[ -n "$snapshot" ] && [ "$snapshot" != null ] || kp_fail "commit result has no snapshot"
snaps=$(kp_call_json ListSnapshots s busy)
echo "$snaps" | jq -e --arg s "$snapshot" '.data[0] | map(select(.[0] == $s)) | length == 1' >/dev/null ||
  kp_fail "ListSnapshots does not list $snapshot: $snaps"
kp_ok "Commit's job result names a snapshot that ListSnapshots lists"

kp_call Exec sasas busy 3 sh -c 'echo two > /tmp/kp-marker; echo x > /tmp/kp-extra' 0 >/dev/null
job=$(kp_call Restore ss busy "$snapshot" | kp_path_of)
status=$(kp_wait_job "$job")
[ "$status" = succeeded ] || kp_fail "restore $status: $(kp_job_error "$job")"
out=$(kp_call_json Exec sasas busy 3 sh -c 'cat /tmp/kp-marker; ls /tmp/kp-extra 2>/dev/null; true' 0)
[ "$(echo "$out" | bytes '.data[1]')" = one ] || kp_fail "restore did not bring back the snapshot: $out"
kp_ok "Restore returns the environment to the committed snapshot"

# --- rename, launch, stop, freeze, archive ---------------------------------------------------
kp_call Rename ss busy busy2 >/dev/null
[ "$(kp_call_json GetEnvironment s busy2 | jq -r '.data[0].name.data')" = busy2 ] || kp_fail "rename lost"
[ "$(kp_call_error GetEnvironment busy)" = org.karapace.Error.NotFound ] || kp_fail "old name still resolves"
kp_ok "Rename changes the name and the old name no longer resolves"

session=$(kp_call LaunchApp sas busy2 2 sleep 60 | awk '{print $2}' | tr -d '"')
[ -n "$session" ] || kp_fail "LaunchApp returned no session"
# The id LaunchApp returns is the one the sessions list shows, with the time the session started.
listed=$(kp_call_json GetEnvironment s busy2 | jq -c --arg s "$session" '.data[0].sessions.data | map(select((.[0] | tostring) == $s))')
[ "$(echo "$listed" | jq length)" = 1 ] ||
  kp_fail "session $session from LaunchApp is not in GetEnvironment's sessions: $(kp_call_json GetEnvironment s busy2 | jq -c '.data[0].sessions')"
started=$(echo "$listed" | jq -r '.[0][1]')
[ "$(date -u -d "$started" +%s 2>/dev/null || echo 0)" -gt $(( $(date -u +%s) - 120 )) ] ||
  kp_fail "session $session has no recent start time: '$started'"
stopped=$(kp_call Stop s busy2 | awk '{print $2}')
[ "$stopped" -ge 1 ] || kp_fail "Stop stopped $stopped sessions"
kp_ok "LaunchApp returns the id of the session GetEnvironment lists (started $started), and Stop ends it"

kp_call Freeze s busy2 >/dev/null
[ "$(kp_call_json GetEnvironment s busy2 | jq -r '.data[0].state.data')" = frozen ] || kp_fail "not frozen"
kp_call Archive s busy2 >/dev/null
[ "$(kp_call_json GetEnvironment s busy2 | jq -r '.data[0].state.data')" = archived ] || kp_fail "not archived"
[ "$(kp_call_error Exec busy2 "['true']" "@as []")" = org.karapace.Error.Conflict ] ||
  kp_fail "Exec in an archived environment is not Conflict"
kp_ok "Freeze and Archive change the state; an archived environment refuses Exec with Conflict"

kp_wait_line "org.karapace.Manager1.EnvironmentChanged ('$env_id',)" "$KP_TMP/signals" ||
  kp_fail "no EnvironmentChanged signal"
kp_ok "changes are announced with EnvironmentChanged"

# --- store maintenance ------------------------------------------------------------------------
job=$(kp_call Gc b true | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "gc --dry-run failed: $(kp_job_error "$job")"
[ "$(kp_get_json Result "$job" org.karapace.Job1 | jq '.data.dry_run.data')" = true ] || kp_fail "gc dry_run"
result=$(kp_get_json Result "$job" org.karapace.Job1)
[ "$(echo "$result" | jq '.data.grace_seconds.data')" = 900 ] || kp_fail "gc grace_seconds: $result"
[ "$(echo "$result" | jq '.data.kept_bytes.data | type')" = '"number"' ] || kp_fail "gc kept_bytes: $result"
[ "$(echo "$result" | jq '.data.kept.data | type')" = '"array"' ] || kp_fail "gc kept: $result"
job=$(kp_call VerifyStore | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "verify failed: $(kp_job_error "$job")"
[ "$(kp_get_json Result "$job" org.karapace.Job1 | jq '.data.ok.data')" = true ] ||
  kp_fail "store not ok: $(kp_get_json Result "$job" org.karapace.Job1)"
kp_ok "Gc (dry run) and VerifyStore run as jobs with typed results"

# --- destroy and unknown environments ---------------------------------------------------------
kp_call Destroy sb busy2 false >/dev/null
[ "$(kp_call ListEnvironments)" = "a(sssssssu) 0" ] || kp_fail "destroy left: $(kp_call ListEnvironments)"
sleep 0.3
kp_wait_line "org.karapace.Manager1.EnvironmentRemoved ('$env_id',)" "$KP_TMP/signals" ||
  kp_fail "no EnvironmentRemoved signal"
kp_ok "Destroy removes the environment and announces it"

for call in "GetEnvironment nosuchenv" "Destroy nosuchenv false" "Stop nosuchenv" \
    "Freeze nosuchenv" "Archive nosuchenv" "Rename nosuchenv x" "ListSnapshots nosuchenv" \
    "Diff nosuchenv"; do
  # shellcheck disable=SC2086
  got=$(kp_call_error $call)
  [ "$got" = org.karapace.Error.NotFound ] || kp_fail "$call gave '$got'"
done
[ "$(kp_call_error Exec nosuchenv "['true']" "@as []")" = org.karapace.Error.NotFound ] ||
  kp_fail "Exec on an unknown environment is not NotFound"
job=$(kp_call Commit s nosuchenv | kp_path_of)
[ "$(kp_wait_job "$job")" = failed ] || kp_fail "commit of an unknown environment did not fail"
[ "$(kp_get Error "$job" org.karapace.Job1)" = 's "org.karapace.Error.NotFound"' ] ||
  kp_fail "failed job Error: $(kp_get Error "$job" org.karapace.Job1)"
kp_wait_line "^$job: org.karapace.Job1.Finished ('failed', @a{sv} {}, 'org.karapace.Error.NotFound'" "$KP_TMP/signals" ||
  kp_fail "no Finished('failed') for $job"
kp_ok "unknown environments give org.karapace.Error.NotFound, for calls and for jobs"

# --- cancelling a job -------------------------------------------------------------------------
url=$(kp_serve_busybox 30)
slow=$(kp_busybox_manifest "$KP_TMP/slow" "$url")
job=$(kp_call Build sa{sv} "$slow" 0 | kp_path_of)
sleep 2
kp_busctl call "$KP_DEST" "$job" org.karapace.Job1 Cancel
status=$(kp_wait_job "$job" 25)
[ "$status" = cancelled ] || kp_fail "cancelled build ended $status: $(kp_job_error "$job")"
[ "$(kp_call ListEnvironments)" = "a(sssssssu) 0" ] || kp_fail "a cancelled build left an environment"
kp_ok "Cancel stops a running build, which finishes as cancelled and leaves nothing behind"

# --- the same as an unprivileged user -----------------------------------------------------------
# The service's real users are not root: run everything again as the test user, with that user's
# own bus, service instance and store.
if [ -z "${KP_DBUS_RERUN:-}" ] && kp_have_test_user; then
  echo "# again as ${KARAPACE_TEST_USER:-kptest}"
  kp_as_user env KP_DBUS_RERUN=1 KARAPACE_DBUS="$KARAPACE_DBUS" \
    KARAPACE_SOURCE_ROOT="$KP_FIXTURES/../.." TMPDIR=/tmp bash "$0" ||
    kp_fail "the lifecycle failed as ${KARAPACE_TEST_USER:-kptest} (output above)"
fi
