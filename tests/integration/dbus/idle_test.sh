#!/bin/bash
# karapace-dbus exits after the idle timeout with nothing to do, every call restarts the idle
# period, and it never exits while a job runs.
. "$(dirname "$0")/../lib.sh"
KP_IDLE_TIMEOUT=2
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"

# Fixtures first: making them takes longer than the idle timeout.
url=$(kp_serve_busybox 6)
manifest=$(kp_busybox_manifest "$KP_TMP/slow" "$url")

kp_get Version >/dev/null
pid=$(kp_service_pid)
[ -n "$pid" ] || kp_fail "no service pid after activation"

# Calls every second keep it alive well past the 2 s timeout.
for _ in 1 2 3 4; do
  sleep 1
  kp_call ListJobs >/dev/null
done
[ "$(kp_service_pid)" = "$pid" ] || kp_fail "service exited although it was called every second"
kp_ok "each call restarts the idle period"

for _ in $(seq 1 60); do kp_name_has_owner || break; sleep 0.1; done
kp_name_has_owner && kp_fail "service still running 6 s after its last call (idle timeout 2 s)"
for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && kp_fail "service released its name but process $pid is still alive"
kp_ok "service exits after the idle timeout"

# The next call activates a new instance.
kp_get Version >/dev/null
pid2=$(kp_service_pid)
[ -n "$pid2" ] && [ "$pid2" != "$pid" ] || kp_fail "no fresh instance after idle exit ($pid -> $pid2)"
kp_ok "a call after an idle exit activates a new instance"

# A build whose image download stalls for 6 s: longer than the idle timeout.
job=$(kp_call Build sa{sv} "$manifest" 0 | kp_path_of)
kp_contains "$job" /org/karapace/Job1/
pid3=$(kp_service_pid)
sleep 4
[ "$(kp_service_pid)" = "$pid3" ] || kp_fail "service exited during a running job"
[ "$(kp_get Status "$job" org.karapace.Job1)" = 's "running"' ] ||
  kp_fail "job not running after 4 s: $(kp_get Status "$job" org.karapace.Job1)"
kp_ok "service stays up while a job runs past the idle timeout"

status=$(kp_wait_job "$job" 300)
[ "$status" = succeeded ] || kp_fail "slow build $status: $(kp_job_error "$job")"
# Finished jobs do not keep it alive: it exits about 2 s after the job ended.
for _ in $(seq 1 80); do kp_name_has_owner || break; sleep 0.1; done
kp_name_has_owner && kp_fail "service still running 8 s after its job finished"
kp_ok "service exits once the job has finished and the idle time has passed"
