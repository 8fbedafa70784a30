#!/bin/bash
# A build through the service reports how far the whole job is: on the busybox image served
# slowly, and on Debian bootstrapped by mmdebstrap with a package installed by apt, at least ten
# distinct Progress values, each higher than the one before, reach a watching client before
# Finished (for Debian, mmdebstrap's stages and apt's install move it); when the job ends Step is
# cleared and Progress is 100.
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

# --- Debian bootstrapped by mmdebstrap, then apt installing a package ------------------------
# The image is bootstrapped in the build itself (bootstrap:debian/bookworm): mmdebstrap's stages
# move Progress, then apt's. A host whose mirror cannot be reached skips this half, saying so.
src=${KARAPACE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}
if ! command -v mmdebstrap >/dev/null; then
  echo "# SKIP the Debian half: mmdebstrap is not installed"
  exit 0
fi
mkdir -p "$KP_TMP/debian"
cp "$src/examples/quickstart.toml" "$KP_TMP/debian/karapace.toml"
job=$(kp_call Build sa{sv} "$KP_TMP/debian/karapace.toml" 1 name s deb | kp_path_of)
status=$(kp_wait_job "$job" 900)
if [ "$status" != succeeded ]; then
  error=$(kp_job_error "$job")
  case "$error" in
    *"refreshing package lists"* | *"mmdebstrap failed"*)
      echo "# SKIP the Debian half: the Debian mirror is unreachable: $error"
      exit 0 ;;
  esac
  kp_fail "Debian build $status: $error"
fi
kp_wait_line "^$job: org.karapace.Job1.Finished" "$KP_TMP/signals" || kp_fail "no Finished signal for $job"
check_increasing "$job"
steps=$(job_changes "$job" | sed -n 's/^S://p' | uniq | tr '\n' '|')
echo "# steps: $steps"
during() {
  job_changes "$job" | awk -v step="S:$1" '/^S:/ {inside = ($0 == step)} inside && /^P:/' | sort -u | wc -l
}
bootstrap_moves=$(job_changes "$job" | awk '/^S:/ {inside = ($0 ~ /bootstrap|mmdebstrap|debian/)} inside && /^P:/' | sort -u | wc -l)
[ "$bootstrap_moves" -ge 2 ] || kp_fail "Progress did not move while the image was bootstrapped: $(job_changes "$job" | tr '\n' ' ')"
during_install=$(during "installing packages")
[ "$during_install" -ge 2 ] || kp_fail "Progress did not move while apt installed: $(job_changes "$job" | tr '\n' ' ')"
kp_ok "a bootstrap:debian build sends increasing Progress values: $bootstrap_moves while bootstrapping, $during_install while apt installs"
