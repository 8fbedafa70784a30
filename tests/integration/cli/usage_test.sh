#!/usr/bin/env bash
# Usage errors: exit 64, a message, a hint naming the help and a suggestion for typos.
set -euo pipefail
. "$(dirname "$0")/common.sh"

run_kp build --nmae web
check unknown-option-exit-64 test "$status" -eq 64
check unknown-option-message contains "$err" "unknown option '--nmae'"
check unknown-option-suggestion contains "$err" "did you mean --name?"
check unknown-option-help-hint contains "$err" "karapace help build"

run_kp biuld
check unknown-command-exit-64 test "$status" -eq 64
check unknown-command-suggestion contains "$err" "did you mean \`build\`?"

run_kp rename web
check missing-argument-exit-64 test "$status" -eq 64
check missing-argument-named contains "$err" "NEW_NAME"

run_kp exec web ls
check exec-needs-separator test "$status" -eq 64

run_kp --json list --bogus
check json-usage-exit-64 test "$status" -eq 64
if is_json "$out" && [[ $(json_get "$out" "d['error']['category']") == usage ]]; then
  ok json-usage-error-object
else
  fail json-usage-error-object "$out"
fi

# Global options after the command reach the parser like before it.
run_kp pin --check missing.toml --store "$work/s" --json -v
check globals-after-command test "$status" -eq 2
check globals-after-command-json is_json "$out"

finish
