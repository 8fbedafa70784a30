#!/bin/bash
# The CLI and the D-Bus service share one store and one store lock: operations started through
# both at the same moment serialise, and the store stays consistent.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"
command -v jq >/dev/null || kp_skip "jq is not installed (apt install jq)"
[ -x "${KARAPACE_CLI:-}" ] || kp_skip "the karapace CLI is not built (KARAPACE_CLI unset)"
cd "$KP_TMP"
cli() { "$KARAPACE_CLI" --store "$KP_STORE" "$@"; }
for command in build list rename verify-store; do
  if out=$(cli "$command" --help 2>&1; cli "$command" 2>&1); [[ $out == *"not available in this build"* ]]; then
    kp_skip "the CLI has no '$command' yet"
  fi
done

# Two copies of one manifest in two directories (each gets its own karapace.lock): both resolve
# to the same environment id, so the two builds race for the very same store objects.
tarball=$(kp_busybox_tarball)
m_cli=$(kp_busybox_manifest "$KP_TMP/via-cli" "file://$tarball")
m_bus=$(kp_busybox_manifest "$KP_TMP/via-dbus" "file://$tarball")
kp_get Version >/dev/null   # activate first, so both builds start together

cli build "$m_cli" >"$KP_TMP/cli-build.log" 2>&1 &
cli_pid=$!
kp_bg $cli_pid
job=$(kp_call Build sa{sv} "$m_bus" 0 | kp_path_of)
wait "$cli_pid" || kp_fail "CLI build failed while D-Bus built too: $(cat "$KP_TMP/cli-build.log")"
status=$(kp_wait_job "$job")
[ "$status" = succeeded ] || kp_fail "D-Bus build $status while the CLI built too: $(kp_job_error "$job")"
env_id=$(kp_get_json Result "$job" org.karapace.Job1 | jq -r '.data.env_id.data')

list=$(kp_call_json ListEnvironments)
[ "$(echo "$list" | jq '.data[0] | length')" = 1 ] || kp_fail "identical builds made more than one environment: $list"
[ "$(echo "$list" | jq -r '.data[0][0][0]')" = "$env_id" ] || kp_fail "listed id differs: $list"
cli list --json >"$KP_TMP/cli-list.json" || kp_fail "karapace list failed"
grep -q "$env_id" "$KP_TMP/cli-list.json" || kp_fail "CLI does not list $env_id: $(cat "$KP_TMP/cli-list.json")"
cli verify-store >"$KP_TMP/verify.log" 2>&1 || kp_fail "store inconsistent after concurrent builds: $(cat "$KP_TMP/verify.log")"
kp_ok "a CLI build and a D-Bus build of the same manifest at once give one sound environment"

# Changes through D-Bus and the CLI interleave: the CLI renames while D-Bus commits and gcs.
kp_call Exec sasas "$env_id" 3 sh -c 'echo drift > /tmp/kp-drift' 0 >/dev/null
commit=$(kp_call Commit s "$env_id" | kp_path_of)
gc=$(kp_call Gc b false | kp_path_of)
cli rename "$env_id" renamed >"$KP_TMP/rename.log" 2>&1 || kp_fail "CLI rename failed: $(cat "$KP_TMP/rename.log")"
[ "$(kp_wait_job "$commit")" = succeeded ] || kp_fail "commit failed: $(kp_job_error "$commit")"
[ "$(kp_wait_job "$gc")" = succeeded ] || kp_fail "gc failed: $(kp_job_error "$gc")"
[ "$(kp_call_json GetEnvironment s renamed | jq -r '.data[0].env_id.data')" = "$env_id" ] ||
  kp_fail "the CLI's rename is not visible over D-Bus"
[ "$(kp_call_json ListSnapshots s renamed | jq '.data[0] | length')" = 1 ] || kp_fail "snapshot lost by gc"
cli verify-store >"$KP_TMP/verify.log" 2>&1 || kp_fail "store inconsistent: $(cat "$KP_TMP/verify.log")"
kp_ok "commit and gc over D-Bus interleaved with a CLI rename keep the store sound"

# D-Bus destroys while the CLI lists, then the CLI sees the removal.
kp_call Destroy sb renamed false >/dev/null &
destroy_pid=$!
kp_bg $destroy_pid
cli list >/dev/null 2>&1 || kp_fail "CLI list failed while D-Bus destroyed"
wait "$destroy_pid" || kp_fail "D-Bus Destroy failed while the CLI listed"
cli list --json >"$KP_TMP/cli-list.json" || kp_fail "karapace list failed"
grep -q "$env_id" "$KP_TMP/cli-list.json" && kp_fail "CLI still lists the destroyed environment"
kp_ok "a D-Bus destroy is seen by the CLI"
