#!/usr/bin/env bash
# Engine latency with many environments in one store: `list`, `inspect` and `exec` by name and by
# id prefix, a second `build` of an unchanged manifest, and `build` of a new environment without
# packages from the cached image, through the real `karapace` binary. Not a timed test: it prints
# a markdown table and the load average around the run.
#
# The store comes from many_envs_lib.sh (real builds of the busybox fixture, about a minute for
# 1,000 environments).
# Usage: tests/bench/many_envs_bench.sh <karapace binary> [environments] [runs]
set -euo pipefail
KP=$(realpath "${1:?usage: many_envs_bench.sh <karapace binary> [environments] [runs]}")
COUNT=${2:-1000}
RUNS=${3:-30}
here=$(cd "$(dirname "$0")" && pwd)
for tool in hyperfine python3 xz sha256sum; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
W=$(mktemp -d /tmp/kp-many-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
S=$W/store

. "$here/many_envs_lib.sh"
make_many_envs "$KP" "$W" "$COUNT"

mid=$(seq -w 1 "$COUNT" | sed -n "$(( (COUNT + 1) / 2 ))p")
prefix=$(cd "$W/envs/$mid" && sed -n 's/^short_id = "\(.*\)"/\1/p' karapace.lock)
many_envs_manifest "$W/fresh" "bench-fresh"
cd "$W/envs/$mid"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine -N --warmup 3 -r "$RUNS" --export-json "$W/result.json" \
  -n "list" "$KP --store $S list" \
  -n "list --json" "$KP --store $S --json list" \
  -n "inspect by name" "$KP --store $S inspect env-$mid" \
  -n "inspect by id prefix (12 chars)" "$KP --store $S inspect $prefix" \
  -n "exec by name -- /bin/true" "$KP --store $S exec env-$mid -- /bin/true" \
  -n "build (unchanged manifest)" "$KP --store $S build" \
  -n "build a new environment (no packages, cached image)" \
  --prepare "sh -c '$KP --store $S destroy fresh >/dev/null 2>&1 || true'" \
  "$KP --store $S build --name fresh $W/fresh/karapace.toml" >&2
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo "## engine latency with $COUNT environments in the store"
echo
python3 - "$W/result.json" <<'PY'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
print("| command | median | min | mean ± σ |")
print("|---|---:|---:|---:|")
for r in res:
    print("| %s | %.1f ms | %.1f ms | %.1f ± %.1f ms |" % (
        r["command"], r["median"] * 1e3, r["min"] * 1e3, r["mean"] * 1e3, r["stddev"] * 1e3))
PY
echo
echo "load average (1, 5, 15 min): $load_before before, $load_after after"
