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

# A name that a reference would read as an id prefix (4+ hex digits) is refused before anything
# is built, pulled or written; `rename` is checked with a real environment (engine busybox test).
mkdir -p "$work/proj"
printf 'manifest_version = 1\n[base]\nimage = "file:///nonexistent.tar"\n' > "$work/proj/karapace.toml"
run_kp build --name cafe "$work/proj/karapace.toml"
check id-like-build-name-exit-64 test "$status" -eq 64
check id-like-build-name-reason contains "$err" "'cafe': it could be read as an environment id"
run_kp pull 127.0.0.1:9/x/y:z --name DEADBEEF
check id-like-pull-name-exit-64 test "$status" -eq 64
check id-like-pull-name-reason contains "$err" "could be read as an environment id"
run_kp new 0042 --template minimal
check id-like-new-name-exit-64 test "$status" -eq 64
check id-like-new-wrote-nothing test ! -e karapace.toml
run_kp build --name cafe-1 "$work/proj/karapace.toml"
if contains "$err" "could be read as an environment id"; then fail non-hex-name-passes "$err"; else ok non-hex-name-passes; fi

# Global options after the command reach the parser like before it.
run_kp pin --check missing.toml --store "$work/s" --json -v
check globals-after-command test "$status" -eq 2
check globals-after-command-json is_json "$out"

finish
