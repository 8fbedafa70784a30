#!/usr/bin/env bash
# `karapace tui` with many environments in the store (the store of many_envs_bench.sh): the time
# from starting it to its first full screen, and from a key press to the end of the redraw,
# measured from outside on a pseudo-terminal (tui_latency.py). Not a timed test: it prints a
# markdown table and the load average around the run.
#
# Usage: tests/bench/tui_bench.sh <karapace binary> [environments] [runs]
set -euo pipefail
KP=$(realpath "${1:?usage: tui_bench.sh <karapace binary> [environments] [runs]}")
COUNT=${2:-1000}
RUNS=${3:-20}
here=$(cd "$(dirname "$0")" && pwd)
for tool in python3 xz sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
W=$(mktemp -d /tmp/kp-tui-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

. "$here/many_envs_lib.sh"
make_many_envs "$KP" "$W" "$COUNT"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "## karapace tui with $COUNT environments in the store"
echo
python3 "$here/tui_latency.py" "$KP" "$W/store" "$RUNS" 80 24
echo
python3 "$here/tui_latency.py" "$KP" "$W/store" "$RUNS" 200 60
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "load average (1, 5, 15 min): $load_before before, $load_after after"
