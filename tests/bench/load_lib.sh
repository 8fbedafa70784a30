# CPU-bound load beside a benchmark: source it, then `start_cpu_load DIR` when LOAD=1. It sets
# load_pids (the caller's cleanup kills them) and loadname (what ran, for the report): stress-ng
# --cpu 2, or two busy shell loops where stress-ng is not installed.
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
