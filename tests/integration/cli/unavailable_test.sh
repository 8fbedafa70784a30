#!/usr/bin/env bash
# Commands whose engine is not in this build say so honestly, with exit 1 and a JSON error.
set -euo pipefail
. "$(dirname "$0")/common.sh"

run_kp build
check build-exit-1 test "$status" -eq 1
check build-message contains "$err" "error: \`karapace build\`: not available in this build yet"
check build-nothing-on-stdout test -z "$out"

run_kp --json build
check build-json-exit-1 test "$status" -eq 1
if is_json "$out" && [[ $(json_get "$out" "d['error']['category']") == unavailable ]]; then
  ok build-json-error
else
  fail build-json-error "$out"
fi

# Every other command that is not wired yet, with valid arguments.
while read -r name args; do
  # shellcheck disable=SC2086
  run_kp $name $args
  if [[ $status -eq 1 ]] && contains "$err" "\`karapace $name\`: not available in this build yet"; then
    ok "$name-not-available"
  else
    fail "$name-not-available" "status $status: $err"
  fi
done <<'LIST'
rebuild
enter web
exec web -- true
destroy web
stop web
freeze web
archive web
list
inspect web
diff web
snapshots web
commit web
restore web abc
gc --dry-run
verify-store
push web
pull web
rename web other
doctor
migrate
pin
images
images rm debian/bookworm
LIST

finish
