# Shared set-up for the D-Bus integration tests. Source it after ../lib.sh.
# Starts a private session dbus-daemon whose service directory holds an activation file for the
# karapace-dbus under test (with a temporary --store), so the first call really activates it.
#
# Inputs: KARAPACE_DBUS (the binary, from meson), KP_IDLE_TIMEOUT (default 60), KP_BUS_ANY_USER
# (set: any uid may connect, like a bus shared between users; by default only the owner).
# Sets: KP_TMP, KP_STORE, KP_ADDR, KP_DAEMON_LOG (dbus-daemon and service stderr).

command -v dbus-daemon >/dev/null || kp_skip "dbus-daemon is not installed (apt install dbus-daemon)"
command -v busctl >/dev/null || kp_skip "busctl is not installed (apt install systemd)"
command -v gdbus >/dev/null || kp_skip "gdbus is not installed (apt install libglib2.0-bin)"
[ -x "${KARAPACE_DBUS:-}" ] || kp_fail "KARAPACE_DBUS does not name the karapace-dbus binary"

KP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kp-dbus.XXXXXX")
KP_STORE=$KP_TMP/store
KP_DAEMON_LOG=$KP_TMP/dbus-daemon.log
KP_BG_PIDS=""
mkdir -p "$KP_TMP/services"
chmod 755 "$KP_TMP"

kp_dbus_cleanup() {
  local rc=$?
  for pid in $KP_BG_PIDS $(cat "$KP_TMP/bg.pids" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  if [ -n "${KP_DAEMON_PID:-}" ]; then kill "$KP_DAEMON_PID" 2>/dev/null || true; fi
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$KP_DAEMON_LOG" ]; then
    echo "--- dbus-daemon and karapace-dbus log:" >&2
    tail -n 60 "$KP_DAEMON_LOG" >&2
  fi
  # An unprivileged user's image files belong to sub-ids that only karapace may remove.
  if [ "$(id -u)" != 0 ] && [ -x "${KARAPACE_CLI:-}" ] && [ -d "$KP_STORE/metadata" ]; then
    for record in "$KP_STORE"/metadata/*.json; do
      [ -e "$record" ] || continue
      "$KARAPACE_CLI" --store "$KP_STORE" destroy "$(basename "$record" .json)" --force \
        >/dev/null 2>&1 || true
    done
    "$KARAPACE_CLI" --store "$KP_STORE" gc --grace 0 >/dev/null 2>&1 || true
  fi
  rm -rf "$KP_TMP" 2>/dev/null || true
}
trap kp_dbus_cleanup EXIT

# Remembers a background pid to kill at exit. Also in a file: a helper that starts a server is
# often called in a command substitution, a subshell whose variables the exit trap never sees.
kp_bg() {
  KP_BG_PIDS="$KP_BG_PIDS $1"
  echo "$1" >> "$KP_TMP/bg.pids"
}

cat > "$KP_TMP/services/org.karapace.Manager1.service" <<SERVICE
[D-BUS Service]
Name=org.karapace.Manager1
Exec=$KARAPACE_DBUS --store $KP_STORE --idle-timeout ${KP_IDLE_TIMEOUT:-60}
SERVICE

KP_ALLOW_USERS=""
[ -n "${KP_BUS_ANY_USER:-}" ] && KP_ALLOW_USERS='<allow user="*"/>'
cat > "$KP_TMP/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$KP_TMP/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$KP_TMP/services</servicedir>
  <policy context="default">
    $KP_ALLOW_USERS
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF

# The service inherits this environment from the daemon that activates it.
KARAPACE_LOG=${KARAPACE_LOG:-info} dbus-daemon --config-file="$KP_TMP/bus.conf" --nofork \
  --print-address=1 >"$KP_TMP/address" 2>"$KP_DAEMON_LOG" &
KP_DAEMON_PID=$!
for _ in $(seq 1 100); do [ -s "$KP_TMP/address" ] && break; sleep 0.05; done
[ -s "$KP_TMP/address" ] || kp_fail "dbus-daemon did not start: $(cat "$KP_DAEMON_LOG")"
KP_ADDR=$(head -n 1 "$KP_TMP/address")
export DBUS_SESSION_BUS_ADDRESS=$KP_ADDR

KP_DEST=org.karapace.Manager1
KP_PATH=/org/karapace/Manager1
KP_IFACE=org.karapace.Manager1

# busctl against the private bus; long timeout because the first call activates the service.
kp_busctl() { busctl --address="$KP_ADDR" --timeout=120 "$@"; }
# Calls a Manager1 method: kp_call Method SIGNATURE args...
# "--" ends busctl's options, so that arguments like "-c" reach the method.
kp_call() { local m=$1; shift; kp_busctl call -- "$KP_DEST" "$KP_PATH" "$KP_IFACE" "$m" "$@"; }
# Same, JSON output (busctl --json=short).
kp_call_json() { local m=$1; shift; kp_busctl --json=short call -- "$KP_DEST" "$KP_PATH" "$KP_IFACE" "$m" "$@"; }
kp_get() { kp_busctl get-property "$KP_DEST" "${2:-$KP_PATH}" "${3:-$KP_IFACE}" "$1"; }
kp_get_json() { kp_busctl --json=short get-property "$KP_DEST" "${2:-$KP_PATH}" "${3:-$KP_IFACE}" "$1"; }

# A call expected to fail: prints the D-Bus error name (gdbus shows it, busctl does not).
# kp_call_error Method gvariant-args...
kp_call_error() {
  local m=$1; shift
  local out
  if out=$(gdbus call --address "$KP_ADDR" --dest "$KP_DEST" --object-path "$KP_PATH" \
      --method "$KP_IFACE.$m" "$@" 2>&1); then
    kp_fail "$m $* succeeded but should have failed: $out"
  fi
  printf '%s\n' "$out" | sed -n 's/.*GDBus\.Error:\([A-Za-z0-9_.]*\):.*/\1/p' | head -n 1
}

kp_name_has_owner() {
  [ "$(kp_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
      NameHasOwner s "$KP_DEST")" = "b true" ]
}

# Pid of the running service, or nothing.
kp_service_pid() {
  kp_busctl call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
    GetConnectionUnixProcessID s "$KP_DEST" 2>/dev/null | awk '{print $2}'
}

# Waits until job PATH leaves "running" (at most $2 seconds, default 300); prints its Status.
kp_wait_job() {
  local job=$1 limit=${2:-300} status=""
  for _ in $(seq 1 $((limit * 10))); do
    status=$(kp_busctl get-property "$KP_DEST" "$job" org.karapace.Job1 Status | awk '{print $2}' | tr -d '"')
    [ "$status" != "running" ] && { echo "$status"; return 0; }
    sleep 0.1
  done
  kp_fail "job $job still running after ${limit}s"
}

# Prints the job's Error and ErrorMessage, for failure messages.
kp_job_error() {
  echo "$(kp_busctl get-property "$KP_DEST" "$1" org.karapace.Job1 Error) $(kp_busctl get-property "$KP_DEST" "$1" org.karapace.Job1 ErrorMessage)"
}

# Object path out of busctl's "o \"/org/karapace/Job1/1\"".
# Waits up to 10 s for a line matching the grep pattern $1 in the file $2: a monitor process
# writes signals a moment after the state a test polled for is already visible.
kp_wait_line() {
  local i
  for i in $(seq 100); do
    grep -q -- "$1" "$2" && return 0
    sleep 0.1
  done
  return 1
}

kp_path_of() { awk '{print $2}' | tr -d '"'; }
