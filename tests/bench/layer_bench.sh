#!/usr/bin/env bash
# Size of the packages layer and push time, through the real `karapace` binary on the cached
# Debian bookworm minbase image (tests/fixtures/make-debian-rootfs.sh) with packages from the
# host's Debian mirror. Not a timed test: it prints a markdown table for docs/performance.md.
#
#   quickstart: packages = ["hello"]; build-essential: packages = ["build-essential"]
#   for each: packages-layer size, file count, and the digest of a second `build --locked` of
#   the same lock in another store (same digest = reproducible layer)
#   push: `karapace push` of the quickstart environment (base + packages layer) to a
#   docker-registry on 127.0.0.1, a new repository each run, so every blob is sent
#
# Usage: tests/bench/layer_bench.sh <karapace binary> [push runs]
set -euo pipefail
KP=$(realpath "${1:?usage: layer_bench.sh <karapace binary> [push runs]}")
RUNS=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
. "$here/../integration/lib.sh"  # kp_start_registry
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}
bench_need docker-registry curl python3 mmdebstrap
tarball=$(bench_debian_tarball "$cache") || exit 77
bench_workdir kp-layer-bench

# packages_layer STORE ENV: "size files digest" of the environment's packages layer.
packages_layer() {
  "$KP" --store "$1" --json inspect "$2" | python3 -c '
import json, sys
d = json.load(sys.stdin)
l = [x for x in d["layers"] if x["kind"] == "packages"][0]
print(l["size"], l["digest"])'
}

row() {  # row NAME PACKAGES
  local name=$1 pkgs=$2 size digest size2 digest2 secs
  mkdir -p "$W/$name" "$W/$name-again"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[system]\npackages = [%s]\n' \
    "$tarball" "$pkgs" > "$W/$name/karapace.toml"
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$W/$name" && "$KP" --store "$W/s-$name" build --name "$name" >/dev/null)
  t1=$(date +%s.%N)
  read -r size digest < <(packages_layer "$W/s-$name" "$name")
  cp "$W/$name/karapace.toml" "$W/$name/karapace.lock" "$W/$name-again/"
  (cd "$W/$name-again" && "$KP" --store "$W/s-$name-again" build --locked --name "$name" >/dev/null)
  read -r size2 digest2 < <(packages_layer "$W/s-$name-again" "$name")
  secs=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
  local same=no
  [ "$digest" = "$digest2" ] && same=yes
  echo "| $name | $size | ${digest:7:12} | ${digest2:7:12} | $same | $secs s |"
}

echo "### packages layer (image: $(basename "$tarball"), $(du -h "$tarball" | cut -f1))"
echo
echo "| packages | layer bytes | layer digest | digest of a --locked build elsewhere | same | first build |"
echo "|---|---:|---|---|---|---:|"
row quickstart '"hello"'
row build-essential '"build-essential"'
echo

port=$(kp_start_registry "$W/reg")
registry=$(cat "$W/reg/pid")
times=()
for i in $(seq "$RUNS"); do
  t0=$(date +%s.%N)
  "$KP" --store "$W/s-quickstart" push quickstart --remote "http://127.0.0.1:$port" \
    --tag "bench/run$i:v1" >/dev/null
  t1=$(date +%s.%N)
  times+=("$(python3 -c "print($t1 - $t0)")")
done
echo "### push of the quickstart environment (base + packages layer, new repository each run)"
echo
python3 - "${times[@]}" <<'PY'
import statistics, sys
t = sorted(float(x) for x in sys.argv[1:])
print("| runs | median | min | max |")
print("|---:|---:|---:|---:|")
print(f"| {len(t)} | {statistics.median(t):.2f} s | {t[0]:.2f} s | {t[-1]:.2f} s |")
PY
