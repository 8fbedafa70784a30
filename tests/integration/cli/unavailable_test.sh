#!/usr/bin/env bash
# Commands whose engine is not in this build say so honestly, with exit 1 and a JSON error.
set -euo pipefail
. "$(dirname "$0")/common.sh"

while read -r name args; do
  # shellcheck disable=SC2086
  run_kp $name $args
  if [[ $status -eq 1 ]] && contains "$err" "error: \`karapace $name\`: not available in this build yet"; then
    ok "$name-not-available"
  else
    fail "$name-not-available" "status $status: $err"
  fi
  check "$name-nothing-on-stdout" test -z "$out"
  # shellcheck disable=SC2086
  run_kp --json $name $args
  if [[ $status -eq 1 ]] && is_json "$out" && [[ $(json_get "$out" "d['error']['category']") == unavailable ]]; then
    ok "$name-json-error"
  else
    fail "$name-json-error" "status $status: $out"
  fi
done <<'LIST'
push web
pull web
LIST

finish
