#!/bin/bash
# A caller's files never take the service down: a manifest or a lock file nested thousands of
# levels deep (toml11 parses nesting by recursion) fails its job with InvalidManifest naming file,
# line and column, while the service (the same process) and a build already running carry on.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/bus_env.sh"
. "$(dirname "$0")/fixtures.sh"

# 20,000 levels: ten times what used to overflow a worker thread's stack.
deep() { python3 -c 'import sys; n = 20000; sys.stdout.write(sys.argv[1] + "[" * n + "]" * n + "\n")' "$1"; }

# A build that is still running while the deep manifests arrive.
url=$(kp_serve_busybox 4)
slow=$(kp_busybox_manifest "$KP_TMP/slow" "$url")
running=$(kp_call Build sa{sv} "$slow" 0 | kp_path_of)
pid=$(kp_service_pid)
[ -n "$pid" ] || kp_fail "no service pid after the first call"

mkdir -p "$KP_TMP/deep"
deep $'manifest_version = 1\n[base]\nimage = "file:///nonexistent.tar"\na = ' > "$KP_TMP/deep/karapace.toml"
for method in Build Rebuild; do
  job=$(kp_call "$method" sa{sv} "$KP_TMP/deep/karapace.toml" 0 | kp_path_of)
  status=$(kp_wait_job "$job" 60)
  [ "$status" = failed ] || kp_fail "$method of a deeply nested manifest ended $status"
  [ "$(kp_get Error "$job" org.karapace.Job1)" = 's "org.karapace.Error.InvalidManifest"' ] ||
    kp_fail "$method of a deeply nested manifest: $(kp_job_error "$job")"
  kp_contains "$(kp_get ErrorMessage "$job" org.karapace.Job1)" \
    "$KP_TMP/deep/karapace.toml:4:68: nested more than 64 levels deep"
done
kp_ok "Build and Rebuild of a manifest nested 20,000 levels deep fail with InvalidManifest and the position"

mkdir -p "$KP_TMP/deeplock"
kp_busybox_manifest "$KP_TMP/deeplock" >/dev/null
deep $'lock_version = 3\npackages = ' > "$KP_TMP/deeplock/karapace.lock"
job=$(kp_call Build sa{sv} "$KP_TMP/deeplock/karapace.toml" 1 locked b true | kp_path_of)
[ "$(kp_wait_job "$job" 60)" = failed ] || kp_fail "a locked build with a deeply nested lock did not fail"
[ "$(kp_get Error "$job" org.karapace.Job1)" = 's "org.karapace.Error.InvalidManifest"' ] ||
  kp_fail "a deeply nested lock: $(kp_job_error "$job")"
kp_contains "$(kp_get ErrorMessage "$job" org.karapace.Job1)" \
  "$KP_TMP/deeplock/karapace.lock:2:76: nested more than 64 levels deep"
kp_ok "a locked Build with a lock file nested 20,000 levels deep fails with InvalidManifest and the position"

[ "$(kp_service_pid)" = "$pid" ] || kp_fail "the service was restarted (pid $pid, now $(kp_service_pid))"
status=$(kp_wait_job "$running" 120)
[ "$status" = succeeded ] || kp_fail "the build running alongside ended $status: $(kp_job_error "$running")"
kp_ok "the service stayed up, and the build that was running finished"
