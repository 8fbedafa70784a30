#!/bin/bash
# A build through the service reports how far the whole job is: on the busybox image served
# slowly, at least ten distinct Progress values, each higher than the one before, reach a
# watching client before Finished; when the job ends Step is cleared and Progress is 100.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"

# About 860 KiB at 128 KiB/s: seven seconds of download.
url=$(kp_serve_busybox 0 131072)
manifest=$(kp_busybox_manifest "$KP_TMP/project" "$url")

gdbus monitor --address "$KP_ADDR" --dest "$KP_DEST" >"$KP_TMP/signals" 2>&1 &
kp_bg $!
kp_call ListJobs >/dev/null  # activates the service, so that the monitor follows its name
sleep 1

job=$(kp_call Build sa{sv} "$manifest" 1 name s slow | kp_path_of)
status=$(kp_wait_job "$job" 120)
[ "$status" = succeeded ] || kp_fail "build $status: $(kp_job_error "$job")"
kp_wait_line "^$job: org.karapace.Job1.Finished" "$KP_TMP/signals" ||
  kp_fail "no Finished signal for $job: $(cat "$KP_TMP/signals")"

# Progress values in the order the client saw them, up to Finished.
values=$(sed -n "\|^$job: org.karapace.Job1.Finished|q; \|^$job: .*PropertiesChanged|p" "$KP_TMP/signals" |
  grep -o "'Progress': <-\?[0-9]*>" | grep -o -- '-\?[0-9]*' || true)
echo "# Progress values: $(echo $values)"
distinct=$(echo "$values" | grep -v '^-1$' | sort -un | wc -l)
[ "$distinct" -ge 10 ] || kp_fail "only $distinct distinct Progress values before Finished: $(echo $values)"
prev=-2
for v in $values; do
  [ "$v" -gt "$prev" ] || kp_fail "Progress went from $prev to $v: $(echo $values)"
  prev=$v
done
kp_ok "a slow build sends $distinct increasing Progress values before Finished"

[ "$(kp_get Step "$job" org.karapace.Job1)" = 's ""' ] || kp_fail "Step after the job: $(kp_get Step "$job" org.karapace.Job1)"
[ "$(kp_get Progress "$job" org.karapace.Job1)" = "i 100" ] || kp_fail "Progress after the job: $(kp_get Progress "$job" org.karapace.Job1)"
kp_ok "a finished job has an empty Step and Progress 100"
