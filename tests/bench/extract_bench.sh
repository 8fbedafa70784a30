#!/usr/bin/env bash
# Image extraction through the real `karapace` binary next to `xz -dc | tar -x` on the same
# .tar.xz, interleaved (one run of each command in turn, RUNS rounds) so that a busy machine
# weighs on every row alike. Not a timed test: it prints a markdown table for docs/performance.md.
#
#   tarball: the Debian bookworm minbase rootfs (tests/fixtures/make-debian-rootfs.sh), or the
#   tar given as the third argument, compressed once with `xz -T2 -6` (several blocks, as `xz -T`
#   writes them) and once with plain `xz -6` (one block: no decoder can use a second thread)
#   karapace: `build` of a manifest on `file://<tarball>` into an empty store (copy into the
#   image cache, sha256 check, hardened extraction, tree digest, records)
#
# Usage: tests/bench/extract_bench.sh <karapace binary> [rounds] [tar]
set -euo pipefail
KP=$(realpath "${1:?usage: extract_bench.sh <karapace binary> [rounds] [tar]}")
RUNS=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}
for tool in xz tar python3; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
tar=${3:-}
if [ -z "$tar" ]; then
  tar=$(sh "$here/../fixtures/make-debian-rootfs.sh" "$cache" 2>/dev/null) ||
    { echo "SKIP: no cached Debian rootfs and mmdebstrap could not build one"; exit 77; }
fi
W=$(mktemp -d /tmp/kp-extract-bench.XXXXXX)
chmod 755 "$W"
trap 'rm -rf "$W"' EXIT
# Compressed once and kept beside the tar (compressing takes minutes on two cores).
for kind in blocks single; do
  threads=2; [ "$kind" = single ] && threads=1
  keep="${tar%.tar}.$kind.tar.xz"
  if [ ! -s "$keep" ]; then
    xz "-T$threads" -6 -c "$tar" > "$keep.tmp.$$" && mv "$keep.tmp.$$" "$keep" ||
      { rm -f "$keep.tmp.$$"; keep="$W/$kind.tar.xz"; xz "-T$threads" -6 -c "$tar" > "$keep"; }
  fi
  ln -s "$keep" "$W/$kind.tar.xz"
done

# ms CMD...: runs CMD, prints its wall time in milliseconds.
ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
kp_build() {  # kp_build TARBALL
  rm -rf "$W/s" "$W/p"; mkdir -p "$W/p"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$1" > "$W/p/karapace.toml"
  (cd "$W/p" && "$KP" --store "$W/s" build >/dev/null)
}
xz_tar() {  # xz_tar THREADS TARBALL
  rm -rf "$W/x"; mkdir -p "$W/x"
  xz "-T$1" -dc "$2" | tar -C "$W/x" -xf -
}
xz_only() { xz "-T$1" -dc "$2" >/dev/null; }

names=("karapace build" "xz -T2 -dc | tar -x" "xz -dc | tar -x" "xz -T2 -dc > /dev/null")
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for kind in blocks single; do
  f=$W/$kind.tar.xz
  : > "$W/$kind.times"
  for _ in $(seq "$RUNS"); do
    a=$(ms kp_build "$f"); rm -rf "$W/s"
    b=$(ms xz_tar 2 "$f"); rm -rf "$W/x"
    c=$(ms xz_tar 1 "$f"); rm -rf "$W/x"
    d=$(ms xz_only 2 "$f")
    echo "$a $b $c $d" >> "$W/$kind.times"
  done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$W" "$(du -m "$tar" | cut -f1)" "$(du -m "$W/blocks.tar.xz" | cut -f1)" "${names[@]}" <<'PY'
import statistics, sys
w, tar_mb, xz_mb, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
for kind, what in (("blocks", "several blocks (xz -T2)"), ("single", "one block (xz -T1)")):
    rows = [list(map(int, l.split())) for l in open(f"{w}/{kind}.times")]
    cols = list(zip(*rows))
    anchor = statistics.median(cols[1])
    print(f"\n### {tar_mb} MB tar, {xz_mb} MB .tar.xz, {what}, {len(rows)} interleaved rounds\n")
    print("| command | median | min | max | vs `xz -T2 -dc \\| tar -x` (median) |")
    print("|---|---:|---:|---:|---:|")
    for name, col in zip(names, cols):
        med = statistics.median(col)
        print(f"| {name} | {med:.0f} ms | {min(col)} ms | {max(col)} ms | {med / anchor:.2f}× |")
PY
echo
echo "load average (1, 5, 15 min): before and after in stderr; after: $load_after"
