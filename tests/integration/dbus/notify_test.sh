#!/bin/bash
# Desktop notifications: with a notification server on the bus (a Python stand-in), every job
# that ends sends one notification naming the environment (and, for a failure, the error's
# first line); a job started with notify=false sends none; without a server jobs still finish.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
/usr/bin/python3 -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' 2>/dev/null ||
  kp_skip "python3-dbus and python3-gi are not installed (scripts/setup installs them)"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"

manifest=$(kp_busybox_manifest "$KP_TMP/project")

# No notification server yet: a job still succeeds, and nothing is activated for it.
job=$(kp_call Build sa{sv} "$manifest" 1 name s first | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "build without a notification server: $(kp_job_error "$job")"
kp_ok "without a notification server on the bus, jobs finish as usual"

log=$KP_TMP/notifications.jsonl
: > "$log"
/usr/bin/python3 "$(dirname "$0")/notification_server.py" "$KP_ADDR" "$log" "$KP_TMP/notify.ready" \
  >"$KP_TMP/notify.log" 2>&1 &
kp_bg $!
for _ in $(seq 100); do [ -s "$KP_TMP/notify.ready" ] && break; sleep 0.1; done
[ -s "$KP_TMP/notify.ready" ] || kp_fail "the notification stand-in did not start: $(cat "$KP_TMP/notify.log")"

wait_count() {  # N: waits until the log has N lines
  for _ in $(seq 100); do [ "$(wc -l < "$log")" -ge "$1" ] && break; sleep 0.1; done
  sleep 0.5
  [ "$(wc -l < "$log")" -eq "$1" ] || kp_fail "expected $1 notifications, got: $(cat "$log")"
}

job=$(kp_call Build sa{sv} "$manifest" 1 name s web | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "build: $(kp_job_error "$job")"
wait_count 1
[ "$(jq -r .summary < "$log")" = "Karapace: build of web finished" ] || kp_fail "notification: $(cat "$log")"
[ "$(jq -r .app < "$log")" = Karapace ] || kp_fail "app name: $(cat "$log")"
kp_ok "a finished build sends one notification that names the environment"

job=$(kp_call Commit s nosuchenv | kp_path_of)
[ "$(kp_wait_job "$job")" = failed ] || kp_fail "commit of an unknown environment did not fail"
wait_count 2
line=$(tail -n 1 "$log")
[ "$(echo "$line" | jq -r .summary)" = "Karapace: commit of nosuchenv failed" ] || kp_fail "failure notification: $line"
body=$(echo "$line" | jq -r .body)
kp_contains "$body" nosuchenv
[ "$(printf '%s' "$body" | wc -l)" -eq 0 ] || kp_fail "the body is more than the error's first line: $body"
message=$(kp_get_json ErrorMessage "$job" org.karapace.Job1 | jq -r .data)
kp_contains "$message" "$body"
kp_ok "a failed job sends one notification with the error's first line"

job=$(kp_call Build sa{sv} "$manifest" 2 name s quiet notify b false | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "build with notify=false: $(kp_job_error "$job")"
sleep 1
wait_count 2
[ "$(kp_call_error Build "$manifest" "{'notify': <'yes'>}")" = org.karapace.Error.InvalidArgs ] ||
  kp_fail "a notify option that is not a boolean was accepted"
kp_ok "notify=false switches the notification off; a notify that is not a boolean is InvalidArgs"
