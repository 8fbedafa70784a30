#!/bin/bash
# Push and Pull over D-Bus: a busybox environment built and committed through jobs is pushed to
# Debian's docker-registry on 127.0.0.1, destroyed, pulled back through a Pull job and run.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"
command -v docker-registry >/dev/null || kp_skip "docker-registry is not installed (scripts/setup installs it)"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$KP_TMP/registry"
printf 'version: 0.1\nlog: {level: error}\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' \
  "$KP_TMP/registry" "$port" > "$KP_TMP/registry.yml"
docker-registry serve "$KP_TMP/registry.yml" >"$KP_TMP/registry.log" 2>&1 &
kp_bg $!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done

manifest=$(kp_busybox_manifest "$KP_TMP/project")
job=$(kp_call Build sa{sv} "$manifest" 1 name s shared | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "build failed: $(kp_job_error "$job")"
kp_call Exec sasas shared 3 sh -c 'echo over-dbus > /tmp/kp-remote' 0 >/dev/null
job=$(kp_call Commit s shared | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "commit failed: $(kp_job_error "$job")"

job=$(kp_call Push sa{sv} shared 2 remote s "http://127.0.0.1:$port" tag s v1 | kp_path_of)
[ "$(kp_get Kind "$job" org.karapace.Job1)" = 's "push"' ] || kp_fail "push job kind: $(kp_get Kind "$job" org.karapace.Job1)"
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "push failed: $(kp_job_error "$job")"
result=$(kp_get_json Result "$job" org.karapace.Job1)
[ "$(echo "$result" | jq -r '.data.reference.data')" = "127.0.0.1:$port/shared:v1" ] ||
  kp_fail "push result: $result"
[ "$(echo "$result" | jq -r '.data.layers_pushed.data')" = 2 ] || kp_fail "push result: $result"
kp_ok "a Push job publishes the environment and reports reference and counts"

kp_call Destroy sb shared false >/dev/null
job=$(kp_call Pull sa{sv} "127.0.0.1:$port/shared:v1" 0 | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "pull failed: $(kp_job_error "$job")"
result=$(kp_get_json Result "$job" org.karapace.Job1)
[ "$(echo "$result" | jq -r '.data.name.data')" = shared ] || kp_fail "pull result: $result"
out=$(kp_call_json Exec sasas shared 2 cat /tmp/kp-remote 0)
[ "$(echo "$out" | jq -r '.data[1] | implode')" = over-dbus ] || kp_fail "the pulled environment lacks the file: $out"
kp_ok "a Pull job brings the environment back, ready to Exec"

job=$(kp_call Pull sa{sv} "127.0.0.1:$port/shared:v1" 1 name s shared-again | kp_path_of)
[ "$(kp_wait_job "$job")" = succeeded ] || kp_fail "pull with a name failed: $(kp_job_error "$job")"
result=$(kp_get_json Result "$job" org.karapace.Job1)
[ "$(echo "$result" | jq -r '.data.renamed.data')" = true ] || kp_fail "pull with a name did not rename: $result"
[ "$(echo "$result" | jq -r '.data.previous_name.data')" = shared ] || kp_fail "pull result: $result"
out=$(kp_call_json Exec sasas shared-again 2 cat /tmp/kp-remote 0)
[ "$(echo "$out" | jq -r '.data[1] | implode')" = over-dbus ] || kp_fail "exec by the new name failed: $out"
kp_ok "a Pull job with a name renames the environment that is already here"

job=$(kp_call Pull sa{sv} "127.0.0.1:$port/shared:nope" 0 | kp_path_of)
[ "$(kp_wait_job "$job")" = failed ] || kp_fail "pull of a missing tag did not fail"
kp_contains "$(kp_job_error "$job")" "has no tag"
if kp_call Push sa{sv} shared 1 colour s red >/dev/null 2>&1; then kp_fail "an unknown Push option was accepted"; fi
kp_ok "a missing tag fails the job with the registry's answer; unknown options are refused"
echo "dbus remote: all checks passed"
