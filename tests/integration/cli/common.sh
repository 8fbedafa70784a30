# Helpers for the CLI integration scripts. Source it after `set -euo pipefail`.
# $KARAPACE is the karapace binary under test; every script works in its own temp directory.
: "${KARAPACE:?set KARAPACE to the karapace binary}"
KARAPACE=$(realpath "$KARAPACE")
failures=0
work=$(mktemp -d "${TMPDIR:-/tmp}/karapace-cli-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work"
export KARAPACE_STORE="$work/store"
unset KARAPACE_LOG NO_COLOR

ok() { echo "ok $1"; }
fail() {
  echo "FAIL $1${2:+: $2}"
  failures=$((failures + 1))
}
# check NAME COMMAND...: ok when the command succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else fail "$name"; fi
}
# run_kp ARGS...: runs karapace, leaving stdout in $out, stderr in $err, status in $status.
run_kp() {
  status=0
  "$KARAPACE" "$@" >"$work/.out" 2>"$work/.err" </dev/null || status=$?
  out=$(cat "$work/.out")
  err=$(cat "$work/.err")
}
contains() { [[ "$1" == *"$2"* ]]; }
is_json() { printf '%s' "$1" | python3 -m json.tool >/dev/null 2>&1; }
# json_get JSON EXPR: evaluates a Python expression over `d`, the parsed document.
json_get() { printf '%s' "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }
finish() {
  if ((failures > 0)); then
    echo "$failures check(s) failed"
    exit 1
  fi
}
