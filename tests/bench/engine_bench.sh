#!/usr/bin/env bash
# Throughput and latency of the store, image and engine paths through the real `karapace` binary,
# side by side with the standard tools on the same data, in one run. Not a timed test: it prints
# markdown tables for docs/performance.md.
#
#   store: pack+hash of a ~200 MB, ~2,000-file layer (`karapace commit`) vs
#          `tar -c . | openssl dgst -sha256`; unpack (`karapace restore`) vs `tar -x`;
#          `verify-store` vs `cat <objects> | openssl dgst -sha256`
#   image: extracting a .tar.xz rootfs into the cache vs `tar -xJf`; a cached image resolving
#   engine: second `build` of an unchanged manifest, `list`, `inspect`, `exec -- /bin/true`
#
# Usage: tests/bench/engine_bench.sh <karapace binary> [runs]
set -euo pipefail
KP=$(realpath "${1:?usage: engine_bench.sh <karapace binary> [runs]}")
RUNS=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
for tool in hyperfine openssl python3 xz; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
W=$(mktemp -d /tmp/kp-engine-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
S=$W/store
k() { "$KP" --store "$S" "$@"; }

tarball=$(sh "$here/../fixtures/make-busybox-rootfs.sh" "$W/img")
mkdir -p "$W/p"
printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$W/p/karapace.toml"
cd "$W/p"
k build --name bench >/dev/null

# A ~200 MB tree of 2,000 files in the writable layer.
k exec --root bench -- sh -c 'mkdir -p /data && i=0; while [ $i -lt 2000 ]; do
  dd if=/dev/urandom of=/data/f$i bs=100k count=1 2>/dev/null; i=$((i+1)); done'
upper=$(ls -d "$S"/env/*/upper)
echo "## store (tree: $(du -sh "$upper/data" | cut -f1), $(find "$upper/data" -type f | wc -l) files)"
echo
hyperfine -N --warmup 1 -r 5 --export-markdown "$W/pack.md" \
  -n "karapace commit (pack + sha256 + store)" "$KP --store $S commit bench" \
  -n "tar -c | openssl dgst -sha256" "sh -c 'tar -C $upper -c . | openssl dgst -sha256'" >/dev/null
cat "$W/pack.md"; echo
snap=$(k --json snapshots bench | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
tar -C "$upper" -cf "$W/tree.tar" .
hyperfine -N --warmup 1 -r 5 --export-markdown "$W/unpack.md" \
  --prepare "rm -rf $W/x" \
  -n "karapace restore (verified unpack + swap)" "$KP --store $S restore bench $snap" \
  -n "tar -x" "sh -c 'mkdir -p $W/x && tar -C $W/x -xf $W/tree.tar'" >/dev/null
cat "$W/unpack.md"; echo
hyperfine -N --warmup 1 -r 5 --export-markdown "$W/verify.md" \
  -n "karapace verify-store" "$KP --store $S verify-store" \
  -n "cat objects | openssl dgst -sha256" "sh -c 'cat $S/objects/sha256/* | openssl dgst -sha256'" >/dev/null
cat "$W/verify.md"; echo

echo "## image extraction ($(du -h "$tarball" | cut -f1) .tar.xz)"
echo
hyperfine -N --warmup 1 -r 5 --export-markdown "$W/image.md" \
  --prepare "rm -rf $W/s2 $W/y" \
  -n "karapace build (download + verify + extract)" "sh -c 'cd $W/p && $KP --store $W/s2 build >/dev/null'" \
  -n "tar -xJf" "sh -c 'mkdir -p $W/y && tar -C $W/y -xJf $tarball'" >/dev/null
cat "$W/image.md"; echo

echo "## engine latency"
echo
hyperfine -N --warmup 3 -r "$RUNS" --export-markdown "$W/engine.md" \
  -n "build (unchanged manifest)" "$KP --store $S build" \
  -n "list" "$KP --store $S list" \
  -n "inspect" "$KP --store $S inspect bench" \
  -n "exec -- /bin/true" "$KP --store $S exec bench -- /bin/true" \
  -n "karapace --version" "$KP --version" >/dev/null
cat "$W/engine.md"
echo
echo "load average during the run: $(cut -d' ' -f1-3 /proc/loadavg)"
