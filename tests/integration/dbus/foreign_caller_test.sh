#!/bin/bash
# On a bus that another user can reach (here one that admits any uid, as a shared bus would),
# that user gets nothing from the service: method calls and property reads (Get and GetAll) of
# the manager and of a job are PermissionDenied, while the owner reads them as before.
. "$(dirname "$0")/../lib.sh"
kp_have_test_user || kp_skip "needs root and the test user (scripts/test creates it)"
KP_BUS_ANY_USER=1
. "$(dirname "$0")/bus_env.sh"

other() { kp_as_user "$@"; }
# The D-Bus error name of a call the other user makes with gdbus (which must fail).
other_error() {
  local out
  if out=$(other gdbus call --address "$KP_ADDR" --dest "$KP_DEST" "$@" 2>&1); then
    kp_fail "the test user's call $* succeeded: $out"
  fi
  printf '%s\n' "$out" | sed -n 's/.*GDBus\.Error:\([A-Za-z0-9_.]*\):.*/\1/p' | head -n 1
}
denied() {  # description gdbus-args...
  local what=$1; shift
  local got
  got=$(other_error "$@")
  [ "$got" = org.karapace.Error.PermissionDenied ] || kp_fail "$what by another uid gave '$got'"
}

# The owner activates the service and runs a job.
version=$(kp_get Version)
job=$(kp_call Gc b true | kp_path_of)
[ "$(kp_wait_job "$job" 60)" = succeeded ] || kp_fail "the owner's gc job failed: $(kp_job_error "$job")"

other busctl --address="$KP_ADDR" call org.freedesktop.DBus /org/freedesktop/DBus \
  org.freedesktop.DBus GetId >/dev/null || kp_fail "the test user cannot reach the bus at all"

denied "ListJobs" --object-path "$KP_PATH" --method "$KP_IFACE.ListJobs"
kp_ok "a method call of another uid is PermissionDenied"

props=org.freedesktop.DBus.Properties
for prop in Version ApiVersion StorePath; do
  denied "Get $prop" --object-path "$KP_PATH" --method "$props.Get" "$KP_IFACE" "$prop"
done
denied "GetAll of the manager" --object-path "$KP_PATH" --method "$props.GetAll" "$KP_IFACE"
for prop in Kind Description Status Error Result; do
  denied "Get $prop of a job" --object-path "$job" --method "$props.Get" org.karapace.Job1 "$prop"
done
denied "GetAll of a job" --object-path "$job" --method "$props.GetAll" org.karapace.Job1
kp_ok "Get and GetAll of another uid are PermissionDenied, on the manager and on jobs"

[ "$(kp_get Version)" = "$version" ] || kp_fail "the owner can no longer read Version"
[ "$(kp_get Status "$job" org.karapace.Job1)" = 's "succeeded"' ] || kp_fail "the owner can no longer read a job"
kp_busctl --json=short get-property "$KP_DEST" "$job" org.karapace.Job1 Result >/dev/null ||
  kp_fail "the owner can no longer read a job's Result"
gdbus call --address "$KP_ADDR" --dest "$KP_DEST" --object-path "$KP_PATH" \
  --method "$props.GetAll" "$KP_IFACE" >/dev/null || kp_fail "the owner's GetAll failed"
kp_ok "the owner still reads every property"

# Whose call it is, the service asks the bus daemon (GetConnectionUnixUser: the credentials of
# the caller's socket, which no later process can take over), never /proc by process id, and once
# per connection: a client that calls three times (two calls and a property read) costs one
# question, another connection one more. Watched with dbus-monitor on the private bus.
command -v dbus-monitor >/dev/null || kp_skip "dbus-monitor is not installed (apt install dbus-bin)"
monitor_log=$KP_TMP/monitor.log
dbus-monitor --address "$KP_ADDR" \
  "type='method_call',interface='org.freedesktop.DBus',member='GetConnectionUnixUser'" \
  "type='method_call',interface='org.freedesktop.DBus',member='GetConnectionUnixProcessID'" \
  "type='method_call',interface='org.freedesktop.DBus',member='GetConnectionCredentials'" \
  >"$monitor_log" 2>&1 &
kp_bg $!
# A monitor loses its unique name once it monitors: from then on it sees every call.
for _ in $(seq 1 100); do grep -q "member=NameLost" "$monitor_log" 2>/dev/null && break; sleep 0.05; done
grep -q "member=NameLost" "$monitor_log" || kp_fail "dbus-monitor did not start: $(cat "$monitor_log")"
asked() { grep -c "member=$1" "$monitor_log" || true; }
before_user=$(asked GetConnectionUnixUser)
/usr/bin/python3 - "$KP_ADDR" <<'PY' || kp_fail "one connection's three calls failed"
import sys
import dbus
bus = dbus.bus.BusConnection(sys.argv[1])
manager = bus.get_object("org.karapace.Manager1", "/org/karapace/Manager1")
calls = dbus.Interface(manager, "org.karapace.Manager1")
calls.ListEnvironments()
calls.ListJobs()
dbus.Interface(manager, "org.freedesktop.DBus.Properties").Get("org.karapace.Manager1", "Version")
PY
kp_call ListEnvironments >/dev/null || kp_fail "a ListEnvironments from another connection failed"
sleep 0.3  # what dbus-monitor saw reaches its log
got=$(($(asked GetConnectionUnixUser) - before_user))
[ "$got" -eq 2 ] || kp_fail "expected 2 questions to the bus daemon (one per connection), saw $got: $(cat "$monitor_log")"
[ "$(asked GetConnectionUnixProcessID)" -eq 0 ] && [ "$(asked GetConnectionCredentials)" -eq 0 ] ||
  kp_fail "the service asked the bus daemon for process ids: $(cat "$monitor_log")"
kp_ok "a caller's uid comes from the bus daemon, asked once per connection"
