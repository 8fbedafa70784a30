#!/bin/bash
# A build through the service reports how far the whole job is: on the busybox image served
# slowly, and on a Debian image with a package installed by apt, at least ten distinct Progress
# values, each higher than the one before, reach a watching client before Finished (for Debian,
# apt's install moves it too); when the job ends Step is cleared and Progress is 100.
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

# The job's Step and Progress changes in the order the client saw them, up to Finished:
# "S:<step>" and "P:<percent>" lines.
job_changes() {
  sed -n "\|^$1: org.karapace.Job1.Finished|q; \|^$1: .*PropertiesChanged|p" "$KP_TMP/signals" |
    grep -o "'Step': <'[^']*'>\|'Progress': <-\?[0-9]*>" |
    sed "s/^'Step': <'\(.*\)'>\$/S:\1/; s/^'Progress': <\(.*\)>\$/P:\1/" || true
}
# Fails unless job $1 showed at least ten distinct, strictly increasing Progress values.
check_increasing() {
  local values distinct prev=-2 v
  values=$(job_changes "$1" | sed -n 's/^P://p')
  echo "# Progress values: $(echo $values)"
  distinct=$(echo "$values" | grep -v '^-1$' | sort -un | wc -l)
  [ "$distinct" -ge 10 ] || kp_fail "only $distinct distinct Progress values before Finished: $(echo $values)"
  for v in $values; do
    [ "$v" -gt "$prev" ] || kp_fail "Progress went from $prev to $v: $(echo $values)"
    prev=$v
  done
}

check_increasing "$job"
distinct=$(job_changes "$job" | sed -n 's/^P://p' | sort -un | wc -l)
kp_ok "a slow build sends $distinct increasing Progress values before Finished"

[ "$(kp_get Step "$job" org.karapace.Job1)" = 's ""' ] || kp_fail "Step after the job: $(kp_get Step "$job" org.karapace.Job1)"
[ "$(kp_get Progress "$job" org.karapace.Job1)" = "i 100" ] || kp_fail "Progress after the job: $(kp_get Progress "$job" org.karapace.Job1)"
kp_ok "a finished job has an empty Step and Progress 100"

# --- Debian, with apt installing a package ---------------------------------------------------
debian=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}/debian-bookworm-minbase.tar
if [ ! -f "$debian" ]; then
  echo "# SKIP the Debian half: no $debian (the pkg-apt-install test builds it with mmdebstrap)"
  exit 0
fi
mkdir -p "$KP_TMP/debian"
cat > "$KP_TMP/debian/karapace.toml" <<TOML
manifest_version = 1

[base]
image = "file://$debian"

[system]
packages = ["hello"]
TOML
job=$(kp_call Build sa{sv} "$KP_TMP/debian/karapace.toml" 1 name s deb | kp_path_of)
status=$(kp_wait_job "$job" 600)
if [ "$status" != succeeded ]; then
  error=$(kp_job_error "$job")
  case "$error" in
    *"refreshing package lists"*) echo "# SKIP the Debian half: the Debian mirror is unreachable: $error"; exit 0 ;;
  esac
  kp_fail "Debian build $status: $error"
fi
kp_wait_line "^$job: org.karapace.Job1.Finished" "$KP_TMP/signals" || kp_fail "no Finished signal for $job"
check_increasing "$job"
during_install=$(job_changes "$job" | awk '/^S:/ {inside = ($0 == "S:installing packages")} inside && /^P:/' | sort -u | wc -l)
[ "$during_install" -ge 2 ] || kp_fail "Progress did not move while apt installed: $(job_changes "$job" | tr '\n' ' ')"
kp_ok "a Debian build with apt sends increasing Progress values, $during_install of them while apt installs"
