#!/usr/bin/env bash
# Generated man pages: one per command plus karapace.1, rendering without groff warnings.
set -euo pipefail
. "$(dirname "$0")/common.sh"

run_kp man-pages pages
check man-pages-exit-0 test "$status" -eq 0
check man-pages-main test -s pages/karapace.1
check man-pages-build test -s pages/karapace-build.1
run_kp --help
commands=$(sed '/^Global options/,$d' <<<"$out" | grep -Ec '^  [a-z-]+ +[A-Z]')
pages=$(find pages -name '*.1' | wc -l)
check man-pages-one-per-command test "$pages" -eq $((commands + 1))

if command -v groff >/dev/null; then
  bad=""
  for page in pages/*.1; do
    warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1 >/dev/null)
    [[ -z "$warnings" ]] || bad="$bad $page: $warnings"
  done
  if [[ -z "$bad" ]]; then ok man-pages-render-cleanly; else fail man-pages-render-cleanly "$bad"; fi
  check man-page-text contains "$(groff -man -Tutf8 pages/karapace-build.1 2>/dev/null | sed 's/.\x08//g')" "--require-pinned-image"
else
  fail man-pages-render-cleanly "groff is not installed"
fi

(mkdir default && cd default && "$KARAPACE" man-pages >/dev/null)
check man-pages-default-dir test -s default/man/karapace.1

finish
