#!/usr/bin/env bash
# One copy of each layer: disk, build, push and verify-store of the same environments with two
# `karapace` binaries side by side in one run — one that keeps every packages layer twice (tar
# object + unpacked tree) and one that keeps it once (the unpacked tree, the tar packed again on
# demand). Cached Debian bookworm minbase image (tests/fixtures/make-debian-rootfs.sh), packages
# from the host's Debian mirror. Not a timed test: it prints markdown for docs/performance.md.
#
#   quickstart: packages = ["hello"]; bigger: packages = ["build-essential"]
#   each is built by BEFORE (a new lock) and then by AFTER from the same lock (--locked), so both
#   stores hold the same layer digests; disk is `du` of the store and of its parts
#   push: the bigger environment to a docker-registry on 127.0.0.1, a new repository each run
#   (every blob is sent), runs interleaved BEFORE/AFTER
#   verify-store: the store holding both environments, runs interleaved
#
# Usage: tests/bench/layer_once_bench.sh <karapace before> <karapace after> [runs]
set -euo pipefail
B=$(realpath "${1:?usage: layer_once_bench.sh <karapace before> <karapace after> [runs]}")
A=$(realpath "${2:?usage: layer_once_bench.sh <karapace before> <karapace after> [runs]}")
RUNS=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
. "$here/../integration/lib.sh"  # kp_start_registry
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}
bench_need docker-registry curl python3 mmdebstrap
tarball=$(bench_debian_tarball "$cache") || exit 77
bench_workdir kp-layer-once-bench

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.2f}')"; }
mb() { du -sb "$@" 2>/dev/null | awk '{s += $1} END {printf "%.1f MB", s / 1e6}'; }

# build WHICH KP NAME PACKAGES [--locked]: builds into store $W/s-WHICH; prints the seconds.
build() {
  local which=$1 kp=$2 name=$3 pkgs=$4 locked=${5:-} t0 t1
  mkdir -p "$W/$which/$name"
  if [ -n "$locked" ]; then
    cp "$W/before/$name/karapace.toml" "$W/before/$name/karapace.lock" "$W/$which/$name/"
  else
    printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[system]\npackages = [%s]\n' \
      "$tarball" "$pkgs" > "$W/$which/$name/karapace.toml"
  fi
  t0=$(now)
  (cd "$W/$which/$name" && "$kp" --store "$W/s-$which" build $locked --name "$name" >/dev/null)
  t1=$(now)
  elapsed "$t0" "$t1"
}

declare -A secs
# The image is fetched into each store before the timed builds.
for which in before after; do
  kp=$B; [ "$which" = after ] && kp=$A
  mkdir -p "$W/$which/base"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$W/$which/base/karapace.toml"
  (cd "$W/$which/base" && "$kp" --store "$W/s-$which" build --name base >/dev/null)
done
for name in quickstart bigger; do
  pkgs='"hello"'; [ "$name" = bigger ] && pkgs='"build-essential"'
  secs[before-$name]=$(build before "$B" "$name" "$pkgs")
  secs[after-$name]=$(build after "$A" "$name" "$pkgs" --locked)
done

layer_of() {  # STORE ENV -> digest of its packages layer
  "$A" --store "$1" --json inspect "$2" | python3 -c '
import json, sys
print([x for x in json.load(sys.stdin)["layers"] if x["kind"] == "packages"][0]["digest"][7:])'
}
echo "### Disk: the packages layer and the whole store (du -sb)"
echo
echo "| environment | layer (tar bytes) | before: tar object + unpacked tree | after: unpacked tree | before: build | after: build (same lock) |"
echo "|---|---:|---:|---:|---:|---:|"
for name in quickstart bigger; do
  hb=$(layer_of "$W/s-before" "$name")
  ha=$(layer_of "$W/s-after" "$name")
  [ "$hb" = "$ha" ] || { echo "the two builds of $name gave different layers: $hb $ha" >&2; exit 1; }
  size=$("$A" --store "$W/s-after" --json inspect "$name" | python3 -c '
import json, sys
print([x for x in json.load(sys.stdin)["layers"] if x["kind"] == "packages"][0]["size"])')
  echo "| $name (${hb:0:12}) | $(python3 -c "print(f'{$size / 1e6:.1f} MB')") | $(mb "$W/s-before/objects/sha256/$hb" "$W/s-before/layers-unpacked/$hb") | $(mb "$W/s-after/layers-unpacked/$ha") | ${secs[before-$name]} s | ${secs[after-$name]} s |"
done
echo
echo "| store (base image + quickstart + bigger) | before | after |"
echo "|---|---:|---:|"
echo "| whole store | $(mb "$W/s-before") | $(mb "$W/s-after") |"
echo "| objects/ | $(mb "$W/s-before/objects") | $(mb "$W/s-after/objects") |"
echo "| layers-unpacked/ | $(mb "$W/s-before/layers-unpacked") | $(mb "$W/s-after/layers-unpacked") |"
echo "| images/ | $(mb "$W/s-before/images") | $(mb "$W/s-after/images") |"
echo

port=$(kp_start_registry "$W/reg")
registry=$(cat "$W/reg/pid")

push_b=() push_a=() verify_b=() verify_a=()
for i in $(seq "$RUNS"); do
  for which in before after; do
    kp=$B; [ "$which" = after ] && kp=$A
    t0=$(now)
    "$kp" --store "$W/s-$which" push bigger --remote "http://127.0.0.1:$port" \
      --tag "bench/$which$i:v1" >/dev/null
    t1=$(now)
    "$kp" --store "$W/s-$which" verify-store >/dev/null
    t2=$(now)
    if [ "$which" = before ]; then
      push_b+=("$(elapsed "$t0" "$t1")"); verify_b+=("$(elapsed "$t1" "$t2")")
    else
      push_a+=("$(elapsed "$t0" "$t1")"); verify_a+=("$(elapsed "$t1" "$t2")")
    fi
  done
done
echo "### push (bigger environment, new repository each run) and verify-store (whole store), interleaved"
echo
python3 - "${push_b[*]}" "${push_a[*]}" "${verify_b[*]}" "${verify_a[*]}" <<'PY'
import statistics, sys
def cell(s):
    t = sorted(float(x) for x in s.split())
    return f"{statistics.median(t):.2f} s (min {t[0]:.2f}, max {t[-1]:.2f}, {len(t)} runs)"
print("| operation | before | after |")
print("|---|---:|---:|")
print(f"| push | {cell(sys.argv[1])} | {cell(sys.argv[2])} |")
print(f"| verify-store | {cell(sys.argv[3])} | {cell(sys.argv[4])} |")
PY
echo
echo "load average (1, 5, 15 min) at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
