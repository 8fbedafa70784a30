#!/usr/bin/env bash
# Every --json output is one parseable JSON document on stdout, success or failure.
set -euo pipefail
. "$(dirname "$0")/common.sh"

expect_json() {
  local name=$1
  shift
  run_kp "$@"
  if is_json "$out"; then ok "$name"; else fail "$name" "stdout: $out"; fi
}

expect_json version --json --version
expect_json new --json new demo --template minimal
check new-json-fields test "$(json_get "$out" "d['name'], d['template'], d['status']")" = "demo minimal written"
expect_json pin-check --json pin --check
expect_json completions completions bash --json
check completions-json-has-script contains "$(json_get "$out" "d['script']")" "complete -F"
expect_json man-pages --json man-pages pages
check man-pages-json-lists-pages contains "$(json_get "$out" "d['pages']")" "karapace-build.1"
expect_json unavailable --json list
expect_json usage --json list --bogus
expect_json manifest-error --json pin --check missing.toml
check error-has-hint-key test "$(json_get "$out" "'hint' in d['error']")" = True
# `--json` as the value of another option asks for no JSON: the error is on stderr only.
run_kp exec no-such-env --env --json -- true
check json-as-a-value-gives-no-json test -z "$out"
check json-as-a-value-error-on-stderr contains "$err" "error: no environment matching 'no-such-env'"

finish
