#!/usr/bin/env bash
# Image extraction through the real `karapace` binary next to `xz -dc | tar -x` on the same
# .tar.xz, interleaved (one run of each command in turn, RUNS rounds) so that a busy machine
# weighs on every row alike. Not a timed test: it prints a markdown table for docs/performance.md.
#
#   tarball: the Debian bookworm minbase rootfs (tests/fixtures/make-debian-rootfs.sh), or the
#   tar given as the third argument, compressed once with `xz -T2 -6` (several blocks, as `xz -T`
#   writes them) and once with plain `xz -6` (one block: no decoder can use a second thread)
#   karapace: `build` of a manifest on `file://<tarball>` into an empty store (copy into the
#   image cache, sha256 check, hardened extraction, tree digest, records); with a fourth argument,
#   the same with that other karapace binary (an older build) as one more row of the same run,
#   named OTHER_NAME
#   KINDS: which compressions to run, "blocks single" unless set (single-block compression of a
#   large tar takes many minutes on two cores); WARMUP: untimed rounds first, 1 unless set
#   Every timed run starts with the previous output removed and `sync`ed, so no run pays for
#   writing back the one before.
#   LOAD=1: the whole run beside `stress-ng --cpu 2` (or two busy shell loops), as start_bench.sh.
#
# Usage: [LOAD=1] tests/bench/extract_bench.sh <karapace binary> [rounds] [tar] [other karapace]
set -euo pipefail
KP=$(realpath "${1:?usage: extract_bench.sh <karapace binary> [rounds] [tar] [other karapace]}")
RUNS=${2:-5}
OTHER=${4:+$(realpath "$4")}
KINDS=${KINDS:-blocks single}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}
bench_need xz tar python3
tar=${3:-}
if [ -z "$tar" ]; then
  tar=$(bench_debian_tarball "$cache") || exit 77
fi
W=$(mktemp -d /tmp/kp-extract-bench.XXXXXX)
chmod 755 "$W"
cleanup() {
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$W"
}
trap cleanup EXIT
# Compressed once and kept beside the tar (compressing takes minutes on two cores).
for kind in $KINDS; do
  threads=2; [ "$kind" = single ] && threads=1
  keep="${tar%.tar}.$kind.tar.xz"
  if [ ! -s "$keep" ]; then
    xz "-T$threads" -6 -c "$tar" > "$keep.tmp.$$" && mv "$keep.tmp.$$" "$keep" ||
      { rm -f "$keep.tmp.$$"; keep="$W/$kind.tar.xz"; xz "-T$threads" -6 -c "$tar" > "$keep"; }
  fi
  ln -s "$keep" "$W/$kind.tar.xz"
done

# The commands, as scripts the interleaving driver (start_bench.py) runs; each writes into an
# empty directory, emptied again (untimed) before every run.
cat > "$W/kp_build.sh" <<SH
#!/bin/sh
mkdir -p $W/p && cd $W/p && printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "\$2" > karapace.toml
exec "\$1" --store $W/s build
SH
cat > "$W/xz_tar.sh" <<SH
#!/bin/sh
mkdir -p $W/x && xz -T\$1 -dc "\$2" | tar -C $W/x -xf -
SH
cat > "$W/xz_only.sh" <<SH
#!/bin/sh
xz -T\$1 -dc "\$2" > /dev/null
SH
chmod +x "$W"/*.sh
export BENCH_PREPARE="rm -rf $W/s $W/x $W/p; sync"

start_cpu_load "$W"
echo "beside: ${loadname:-no added load}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for kind in $KINDS; do
  f=$W/$kind.tar.xz
  what="several blocks (xz -T2)"; [ "$kind" = single ] && what="one block (xz -T1)"
  echo
  echo "### $(du -mL "$tar" | cut -f1) MB tar, $(du -mL "$f" | cut -f1) MB .tar.xz, $what"
  echo
  other=()
  [ -n "$OTHER" ] && other=("karapace build, ${OTHER_NAME:-the other binary}" "$W/kp_build.sh $OTHER $f")
  python3 "$here/start_bench.py" "$RUNS" "${WARMUP:-1}" 1 \
    "karapace build (copy + sha256 + extract + tree digest)" "$W/kp_build.sh $KP $f" \
    "xz -T2 -dc \\| tar -x" "$W/xz_tar.sh 2 $f" \
    "xz -dc \\| tar -x" "$W/xz_tar.sh 1 $f" \
    "xz -T2 -dc > /dev/null" "$W/xz_only.sh 2 $f" \
    "${other[@]}"
done
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
