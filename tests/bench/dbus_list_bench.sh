#!/usr/bin/env bash
# D-Bus ListEnvironments with many environments in one store, side by side with the bus daemon's
# own ListNames, called by the same client (busctl) on the same private bus in one interleaved
# run (start_bench.py: one call of each command per round). Not a timed test: it prints markdown
# tables and the load average around the run.
#
# Warm calls go to a service that has answered before; cold calls go to a service started 0.3 s
# before (activated by a property read, so the activation itself is not timed; this build reads
# the store ahead meanwhile); activating calls find the service stopped and start it, a
# ListEnvironments beside a property read. With BEFORE_DBUS=<another karapace-dbus> (e.g. a build of
# an earlier commit) a second private bus serves a copy of the store with that binary, and its
# rows join the same run.
#
# The store comes from many_envs_lib.sh (real builds of the busybox fixture, about a minute for
# 1,000 environments).
# Usage: tests/bench/dbus_list_bench.sh <karapace> <karapace-dbus> [environments] [rounds]
set -euo pipefail
usage="usage: dbus_list_bench.sh <karapace> <karapace-dbus> [environments] [rounds]"
KP=$(realpath "${1:?$usage}")
DBUS=$(realpath "${2:?$usage}")
COUNT=${3:-1000}
ROUNDS=${4:-50}
BEFORE=${BEFORE_DBUS:+$(realpath "$BEFORE_DBUS")}
here=$(cd "$(dirname "$0")" && pwd)
for tool in dbus-daemon busctl python3 xz sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
W=$(mktemp -d /tmp/kp-dbus-list-bench.XXXXXX)
daemons=""
cleanup() {
  for addr in "${addr_after:-}" "${addr_before:-}"; do
    if [ -n "$addr" ]; then stop_service "$addr"; fi
  done
  for pid in $daemons; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
S=$W/store

# start_bus NAME BINARY STORE: a private session bus whose service directory activates BINARY on
# STORE; prints its address.
start_bus() {
  local name=$1 binary=$2 store=$3
  mkdir -p "$W/$name/services"
  printf '[D-BUS Service]\nName=org.karapace.Manager1\nExec=%s --store %s --idle-timeout 3600\n' \
    "$binary" "$store" >"$W/$name/services/org.karapace.Manager1.service"
  cat >"$W/$name/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$W/$name/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$W/$name/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
  KARAPACE_LOG=warn dbus-daemon --config-file="$W/$name/bus.conf" --nofork --print-address=1 \
    >"$W/$name/address" 2>"$W/$name/daemon.log" &
  echo $! >"$W/$name/daemon.pid"
  for _ in $(seq 1 100); do [ -s "$W/$name/address" ] && break; sleep 0.05; done
  head -n 1 "$W/$name/address"
}

# The service's pid, or nothing when it is not running (not a failure, also under pipefail).
service_pid() {
  { busctl --address="$1" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    GetConnectionUnixProcessID s org.karapace.Manager1 2>/dev/null || true; } | awk '{print $2}'
}

stop_service() {
  local pid
  pid=$(service_pid "$1")
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
}

# The service, stopped and activated again: its next ListEnvironments is its first. The pause
# lets the start's own work end before the next timed command, whichever it is.
restart_service() {
  stop_service "$1"
  busctl --address="$1" get-property org.karapace.Manager1 /org/karapace/Manager1 \
    org.karapace.Manager1 Version >/dev/null
  sleep 0.3
}

. "$here/many_envs_lib.sh"
# Builds warn that the (made-up) applications of [gui] apps are not there: expected, not shown.
make_many_envs "$KP" "$W" "$COUNT" 2> >(grep -v "^karapace: warning: not exported" >&2)

addr_after=$(start_bus after "$DBUS" "$S")
daemons="$daemons $(cat "$W/after/daemon.pid")"
if [ -n "$BEFORE" ]; then
  # A copy of the store of its own: the services keep their summaries in the store
  # (store/list-cache.json), and another build may keep them in another format.
  cp -a "$S" "$W/store-before"
  addr_before=$(start_bus before "$BEFORE" "$W/store-before")
  daemons="$daemons $(cat "$W/before/daemon.pid")"
fi

list_call() {
  echo "busctl --address=$1 call org.karapace.Manager1 /org/karapace/Manager1 org.karapace.Manager1 ListEnvironments"
}
version_call() {
  echo "busctl --address=$1 get-property org.karapace.Manager1 /org/karapace/Manager1 org.karapace.Manager1 Version"
}
names_call() {
  echo "busctl --address=$1 call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ListNames"
}

# The answers must agree before their times mean anything.
n=$($(list_call "$addr_after") | awk '{print $2}')
[ "$n" = "$COUNT" ] || { echo "ListEnvironments listed $n environments, expected $COUNT" >&2; exit 1; }
if [ -n "$BEFORE" ]; then
  cmp <($(list_call "$addr_after")) <($(list_call "$addr_before")) >/dev/null ||
    { echo "the two services answer ListEnvironments differently" >&2; exit 1; }
fi

warm=("ListEnvironments (this build)" "$(list_call "$addr_after")"
  "ListNames (same bus)" "$(names_call "$addr_after")")
[ -n "$BEFORE" ] && warm+=("ListEnvironments (BEFORE_DBUS)" "$(list_call "$addr_before")"
  "ListNames (BEFORE_DBUS's bus)" "$(names_call "$addr_before")")

# run_table TITLE ROUNDS WARMUP ANCHOR NAME CMD...: one start_bench.py table (BENCH_PREPARE as the
# caller set it), with the load average around it.
run_table() {
  local title=$1 rounds=$2 warmup=$3 anchor=$4
  shift 4
  echo "$title; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  python3 "$here/start_bench.py" "$rounds" "$warmup" "$anchor" "$@"
  echo
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
}
# each_address_script FILE FUNCTION: a script that runs FUNCTION on each bus address it is given.
each_address_script() {
  { declare -f service_pid stop_service restart_service
    echo "for addr in \"\$@\"; do $2 \"\$addr\"; done"; } >"$1"
}
addresses="$addr_after${BEFORE:+ $addr_before}"

echo "## D-Bus ListEnvironments with $COUNT environments in the store"
echo
run_table "warm: the service has answered before" "$ROUNDS" 3 1 "${warm[@]}"

# Cold: each timed call is the first ListEnvironments of a service started just before it.
cold_rounds=$(( ROUNDS < 10 ? ROUNDS : 10 ))
each_address_script "$W/restart.sh" restart_service
cold=("first ListEnvironments (this build)" "$(list_call "$addr_after")"
  "ListNames (same bus)" "$(names_call "$addr_after")")
[ -n "$BEFORE" ] && cold+=("first ListEnvironments (BEFORE_DBUS)" "$(list_call "$addr_before")")
BENCH_PREPARE="bash $W/restart.sh $addresses" \
  run_table "cold: a service started before each call" "$cold_rounds" 1 1 "${cold[@]}"

# Activating: each timed call finds the service stopped and starts it (D-Bus activation), as a
# desktop's first look at the environments does; a property read that starts it is the anchor.
each_address_script "$W/stop.sh" stop_service
act=("Version read that starts the service (this build)" "$(version_call "$addr_after")"
  "ListEnvironments that starts the service (this build)" "$(list_call "$addr_after")")
[ -n "$BEFORE" ] && act+=("Version read that starts the service (BEFORE_DBUS)" "$(version_call "$addr_before")"
  "ListEnvironments that starts the service (BEFORE_DBUS)" "$(list_call "$addr_before")")
BENCH_PREPARE="bash $W/stop.sh $addresses" \
  run_table "activating: the service stopped before each call" "$cold_rounds" 1 0 "${act[@]}"
