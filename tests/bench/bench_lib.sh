# What the benchmarks share. Source it after setting `here` (this directory).

# bench_need TOOL...: exits 77 (skipped) with a reason unless every TOOL is installed.
bench_need() {
  local tool
  for tool in "$@"; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
  done
}

# bench_debian_tarball CACHE: prints the cached Debian bookworm minbase rootfs tar (made by
# mmdebstrap the first time); where there is none and none can be made, says so on stderr and
# fails with 77. Call it as `tarball=$(bench_debian_tarball "$cache") || exit 77`.
bench_debian_tarball() {
  sh "$here/../fixtures/make-debian-rootfs.sh" "$1" 2>/dev/null ||
    { echo "SKIP: no cached Debian rootfs and mmdebstrap could not build one" >&2; return 77; }
}

# bench_workdir NAME: a fresh directory /tmp/NAME.XXXXXX (mode 755, so that other users' runs can
# read it) in W, removed at exit together with the registry whose pid is in `registry` and the
# load in `load_pids`, when the bench started them.
bench_workdir() {
  W=$(mktemp -d "/tmp/$1.XXXXXX")
  chmod 755 "$W"
  registry=
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local p
  for p in "${load_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  bench_stop "$registry"
  rm -rf "$W"
}

# bench_stop PID: ends a process the bench started (a registry), if any, and waits for it.
bench_stop() {
  [ -n "${1:-}" ] || return 0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# CPU-bound load beside a benchmark: `start_cpu_load DIR` when LOAD=1. It sets load_pids (the
# caller's cleanup kills them) and loadname (what ran, for the report): stress-ng --cpu 2, or two
# busy shell loops where stress-ng is not installed.
load_pids=()
loadname=""
start_cpu_load() {
  [ "${LOAD:-0}" = 1 ] || return 0
  if command -v stress-ng >/dev/null; then
    stress-ng --cpu 2 --quiet --temp-path "$1" & load_pids+=($!)
    loadname="stress-ng --cpu 2"
  else
    (while :; do :; done) & load_pids+=($!)
    (while :; do :; done) & load_pids+=($!)
    loadname="two busy shell loops"
  fi
  sleep 2
}
