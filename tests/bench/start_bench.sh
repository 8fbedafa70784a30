#!/usr/bin/env bash
# Start latency of `/bin/true` in a busybox environment: `karapace exec` (writable and frozen, each
# joining the sandbox the previous run left lingering; writable with a new sandbox every run,
# KARAPACE_LINGER=0, also with the kernel's default time slice, KARAPACE_SHORT_SLICE=0, on every
# processor of the caller's instead of the one the run started on, KARAPACE_SAME_CPU=0, and with
# a network namespace of its own, network_isolation = true, as bwrap --unshare-all has; and for
# an unprivileged user with the namespace keeper off: KARAPACE_KEEPER_IDLE=0; writable again with
# stdin, stdout and stderr on a terminal, as typed at a shell, on an environment of its own: the
# terminal is bound into the sandbox, so runs with and without it are built differently and do
# not join each other's; and on another terminal whose session karapace leads, as a terminal
# emulator starts it) next to `bwrap --unshare-all` (also from a terminal, leading a terminal's
# session, and with the host's network, --share-net, as karapace's environments have by default)
# and `unshare` + chroot on the same rootfs, run interleaved (tests/bench/start_bench.py), with
# wall and CPU medians. Run it as root and as an unprivileged user with a sub-id range; LOAD=1
# runs it beside `stress-ng --cpu 2` (or two busy shell loops). KP_BEFORE adds another binary's
# runs (joining, and a new sandbox every run) beside. Not a timed test: it prints a markdown
# table and the load average around the run.
#
# Usage: [LOAD=1] [BENCH_ORDER=fixed] [KP_BEFORE=<karapace binary> KP_BEFORE_LABEL=<name>] \
#          tests/bench/start_bench.sh <karapace binary> [rounds]
set -euo pipefail
KP=$(realpath "${1:?usage: start_bench.sh <karapace binary> [rounds]}")
ROUNDS=${2:-100}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
bench_need bwrap unshare python3 xz busybox
W=$(mktemp -d /tmp/kp-start-bench.XXXXXX)
export XDG_RUNTIME_DIR=$W/run  # a keeper of this run's own
mkdir -m 700 "$W/run"
cleanup() {
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  # Destroyed and collected by karapace: an unprivileged user's image files belong to sub-ids
  # that only karapace (in the kept user namespace) may remove.
  for env in bench frozen cold iso before tty lead; do
    "$KP" --store "$W/s" destroy "$env" --force >/dev/null 2>&1 || true
  done
  "$KP" --store "$W/s" gc --grace 0 >/dev/null 2>&1 || true
  if [ -f "$W/run/karapace/userns-keep-id" ]; then
    kill "$(cut -d' ' -f1 "$W/run/karapace/userns-keep-id")" 2>/dev/null || true
  fi
  rm -rf "$W" 2>/dev/null || true
}
trap cleanup EXIT
tarball=$(sh "$here/../fixtures/make-busybox-rootfs.sh" "$W/img")
# cold: runs with KARAPACE_LINGER=0; before: the other binary's (it may not know lingering
# sandboxes, so it gets an environment of its own).
for env in bench frozen cold iso before tty lead; do
  mkdir -p "$W/$env"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[gui]\napps = ["%s"]\n' \
    "$tarball" "$env" > "$W/$env/karapace.toml"
  if [ "$env" = iso ]; then printf '[runtime]\nnetwork_isolation = true\n' >> "$W/$env/karapace.toml"; fi
  (cd "$W/$env" && "$KP" --store "$W/s" build --name "$env" >/dev/null)
done
"$KP" --store "$W/s" freeze frozen >/dev/null
# The image and the environments were just written: their writeback and the journal's commits
# would fall on the first rounds (a new sandbox writes to the store on every run), so they go
# to disk before timing starts.
sync
R=$(echo "$W"/s/images/*/rootfs)

start_cpu_load "$W"
args=(
  "karapace exec bench -- /bin/true (writable overlay)" "$KP --store $W/s exec bench -- /bin/true"
  "karapace exec frozen -- /bin/true (read-only overlay)" "$KP --store $W/s exec frozen -- /bin/true"
  "karapace exec cold -- /bin/true, a new sandbox every run (KARAPACE_LINGER=0)" "KARAPACE_LINGER=0 $KP --store $W/s exec cold -- /bin/true"
  "karapace exec cold, the kernel's default time slice (KARAPACE_SHORT_SLICE=0 KARAPACE_LINGER=0)" "KARAPACE_SHORT_SLICE=0 KARAPACE_LINGER=0 $KP --store $W/s exec cold -- /bin/true"
  "karapace exec cold, on every processor (KARAPACE_SAME_CPU=0 KARAPACE_LINGER=0)" "KARAPACE_SAME_CPU=0 KARAPACE_LINGER=0 $KP --store $W/s exec cold -- /bin/true"
  "karapace exec iso, network_isolation = true, a new sandbox every run (KARAPACE_LINGER=0)" "KARAPACE_LINGER=0 $KP --store $W/s exec iso -- /bin/true"
  "karapace exec tty -- /bin/true from a terminal (stdio a pty)" "BENCH_TTY=1 $KP --store $W/s exec tty -- /bin/true"
  "karapace exec lead -- /bin/true leading its terminal's session (no shell)" "BENCH_TTY=lead $KP --store $W/s exec lead -- /bin/true"
)
# KP_BEFORE=<another karapace binary>: its writable exec on the same store, beside this one.
if [ -n "${KP_BEFORE:-}" ]; then
  args+=("karapace exec before, ${KP_BEFORE_LABEL:-the other binary}" "$(realpath "$KP_BEFORE") --store $W/s exec before -- /bin/true"
    "karapace exec cold, a new sandbox every run, ${KP_BEFORE_LABEL:-the other binary}" "KARAPACE_LINGER=0 $(realpath "$KP_BEFORE") --store $W/s exec cold -- /bin/true")
fi
if [ "$(id -u)" != 0 ]; then
  args+=("karapace exec cold, keeper off (KARAPACE_KEEPER_IDLE=0 KARAPACE_LINGER=0)"
    "KARAPACE_KEEPER_IDLE=0 KARAPACE_LINGER=0 $KP --store $W/s exec cold -- /bin/true")
fi
args+=(
  "bwrap --unshare-all --share-net (the host's network, as karapace's default)" "bwrap --unshare-all --share-net --ro-bind $R / --proc /proc --dev /dev /bin/true"
  "bwrap, the same, from a terminal (stdio a pty)" "BENCH_TTY=1 bwrap --unshare-all --ro-bind $R / --proc /proc --dev /dev /bin/true"
  "bwrap, the same, leading its terminal's session" "BENCH_TTY=lead bwrap --unshare-all --ro-bind $R / --proc /proc --dev /dev /bin/true"
  "bwrap --unshare-all --ro-bind rootfs / --proc --dev" "bwrap --unshare-all --ro-bind $R / --proc /proc --dev /dev /bin/true"
  "unshare -Urmpf + chroot (no overlay)" "unshare -Urmpf chroot $R /bin/true"
)
anchor=$(( ${#args[@]} / 2 - 2 ))
# Each round in an order of its own: a command then does not always follow the same other one
# (whose caches it finds warm, or whose sandbox the kernel is still tearing down).
export BENCH_ORDER=${BENCH_ORDER:-shuffled}
echo "as $(id -un) (uid $(id -u)), ${loadname:-no added load}, rounds in $BENCH_ORDER order; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
python3 "$here/start_bench.py" "$ROUNDS" 5 "$anchor" "${args[@]}"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
