#!/usr/bin/env bash
# --help, help COMMAND, COMMAND --help and --version.
set -euo pipefail
. "$(dirname "$0")/common.sh"

all_commands="new build rebuild pin list inspect rename destroy enter exec stop freeze archive
diff commit snapshots restore gc verify-store images migrate push pull login logout doctor completions
man-pages help"

run_kp --help
check help-exit-0 test "$status" -eq 0
missing=""
for c in $all_commands; do
  grep -Eq "^  $c +[A-Z]" <<<"$out" || missing="$missing $c"
done
if [[ -z "$missing" ]]; then ok help-lists-every-command; else fail help-lists-every-command "missing:$missing"; fi
check help-on-stdout-only test -z "$err"

run_kp help build
check help-build-exit-0 test "$status" -eq 0
for flag in --name --locked --offline --require-pinned-image --store --json; do
  check "help-build-shows-$flag" contains "$out" "$flag"
done
check help-build-usage contains "$out" "Usage: karapace build [OPTIONS] [MANIFEST]"

run_kp build --help
help_flag_out=$out
run_kp help build
check build-help-equals-help-build test "$help_flag_out" = "$out"

run_kp exec --help
check exec-help-without-args test "$status" -eq 0
check exec-help-shows-env contains "$out" "--env K=V"

run_kp help nonsense
check help-unknown-command-is-usage test "$status" -eq 64

run_kp --version
check version-exit-0 test "$status" -eq 0
if [[ "$out" =~ ^karapace\ [0-9]+\.[0-9]+\.[0-9]+ ]]; then ok version-format; else fail version-format "$out"; fi

run_kp
check no-command-is-usage test "$status" -eq 64
check no-command-hint contains "$err" "karapace --help"

finish
