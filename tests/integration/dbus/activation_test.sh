#!/bin/bash
# The first call activates karapace-dbus on a private session bus; its properties and
# introspection data are typed; bad arguments give org.karapace.Error.* names before the engine
# is asked anything.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"

kp_name_has_owner && kp_fail "service already running before the first call"

# Reading a property is a call like any other: it activates the service.
version=$(kp_get Version)
kp_contains "$version" 's "'
kp_name_has_owner || kp_fail "service not running after the first call"
kp_ok "first call activates the service ($version)"

[ "$(kp_get StorePath)" = "s \"$KP_STORE\"" ] || kp_fail "StorePath is $(kp_get StorePath), not $KP_STORE"
[ "$(kp_get ApiVersion)" = "u 1" ] || kp_fail "ApiVersion is $(kp_get ApiVersion)"
kp_ok "Version, ApiVersion and StorePath are typed properties"

intro=$(kp_busctl introspect "$KP_DEST" "$KP_PATH" "$KP_IFACE")
for member in ListEnvironments GetEnvironment Build Rebuild Destroy Stop Freeze Archive Rename \
    Commit ListSnapshots Restore Push Pull Diff Gc VerifyStore Exec LaunchApp Export Unexport \
    ListExports ListJobs \
    EnvironmentAdded EnvironmentRemoved EnvironmentChanged; do
  kp_contains "$intro" ".$member "
done
kp_contains "$(printf '%s\n' "$intro" | grep '^\.ListEnvironments ')" "a(sssssssu)"
kp_contains "$(printf '%s\n' "$intro" | grep '^\.Exec ')" "sasas"
kp_contains "$(printf '%s\n' "$intro" | grep '^\.Exec ')" "iayayb"
kp_ok "introspection lists every method and signal with typed signatures"

manifest_dir=$KP_TMP/project
mkdir -p "$manifest_dir"
printf 'manifest_version = 1\n[base]\nimage = "file:///nonexistent.tar"\n' > "$manifest_dir/karapace.toml"

check_error() {  # expected-name method args...
  local want=$1; shift
  local got
  got=$(kp_call_error "$@")
  [ "$got" = "$want" ] || kp_fail "$* gave '$got', expected $want"
}
check_error org.karapace.Error.InvalidManifest Build "project/karapace.toml" "{}"
check_error org.karapace.Error.InvalidManifest Build "" "{}"
check_error org.karapace.Error.InvalidManifest Build "$manifest_dir/../project/karapace.toml" "{}"
check_error org.karapace.Error.InvalidManifest Build "$manifest_dir" "{}"
check_error org.karapace.Error.InvalidManifest Build "$manifest_dir/missing.toml" "{}"
check_error org.karapace.Error.InvalidManifest Rebuild "karapace.toml" "{}"
mkfifo "$manifest_dir/fifo.toml"
check_error org.karapace.Error.InvalidManifest Build "$manifest_dir/fifo.toml" "{}"
head -c 2000000 /dev/zero > "$manifest_dir/huge.toml"
check_error org.karapace.Error.InvalidManifest Build "$manifest_dir/huge.toml" "{}"
kp_ok "relative, dotted, missing, directory, FIFO and oversized manifest paths are InvalidManifest"

check_error org.karapace.Error.InvalidArgs Build "$manifest_dir/karapace.toml" "{'colour': <'red'>}"
check_error org.karapace.Error.InvalidArgs Build "$manifest_dir/karapace.toml" "{'name': <42>}"
check_error org.karapace.Error.InvalidArgs Exec "anything" "@as []" "@as []"
check_error org.karapace.Error.InvalidArgs LaunchApp "anything" "@as []"
check_error org.karapace.Error.InvalidArgs Build "$manifest_dir/karapace.toml" "{'name': <'cafe'>}"
check_error org.karapace.Error.InvalidArgs Rebuild "$manifest_dir/karapace.toml" "{'name': <'0042'>}"
check_error org.karapace.Error.InvalidArgs Pull "127.0.0.1:9/x/y:z" "{'name': <'DEADBEEF'>}"
kp_ok "unknown build options, mistyped options, names that read as ids and empty command lines are InvalidArgs"

# A wrongly typed call never reaches the service's code.
if out=$(kp_busctl call "$KP_DEST" "$KP_PATH" "$KP_IFACE" Destroy s x 2>&1); then
  kp_fail "Destroy with a missing argument succeeded: $out"
fi
kp_name_has_owner || kp_fail "service died on a malformed call"
kp_ok "malformed calls are refused and the service stays up"

[ "$(kp_call ListJobs)" = "ao 0" ] || kp_fail "refused calls left jobs behind: $(kp_call ListJobs)"
kp_ok "refused calls start no job"
