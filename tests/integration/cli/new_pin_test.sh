#!/usr/bin/env bash
# `new` writes a manifest that `pin --check` reads; invalid manifests give exit 2 with a location.
set -euo pipefail
. "$(dirname "$0")/common.sh"

run_kp new demo --template minimal
check new-exit-0 test "$status" -eq 0
check new-wrote-file test -s karapace.toml
check new-says-what contains "$out" "wrote ./karapace.toml for 'demo'"
check new-names-env grep -q "demo" karapace.toml
check new-keeps-comments grep -q "^#" karapace.toml

run_kp pin --check
check pin-check-unpinned-exit-1 test "$status" -eq 1
check pin-check-unpinned-says-so contains "$out" "is not pinned"
run_kp --json pin --check
if is_json "$out" && [[ $(json_get "$out" "d['pinned']") == False ]] &&
  [[ $(json_get "$out" "d['manifest']") == ./karapace.toml ]]; then
  ok pin-check-json-unpinned
else
  fail pin-check-json-unpinned "$out"
fi

# Overwriting needs --force when stdin is not a terminal.
echo "# mine" >karapace.toml
run_kp new demo --template dev
check new-refuses-overwrite test "$status" -eq 1
check new-refuses-overwrite-says-force contains "$err" "--force"
check new-left-file-alone test "$(cat karapace.toml)" = "# mine"
run_kp new demo --template dev --force
check new-force-overwrites test "$status" -eq 0
check new-force-wrote-template test "$(cat karapace.toml)" != "# mine"

# Every template gives a manifest pin --check accepts as valid (exit 0 or 1, never 2).
for t in minimal dev gui-dev rust-dev ubuntu-dev debian-dev; do
  rm -f karapace.toml
  run_kp new "env-$t" --template "$t"
  s1=$status
  run_kp pin --check
  if [[ $s1 -eq 0 && ($status -eq 0 || $status -eq 1) ]]; then ok "template-$t-valid"; else fail "template-$t-valid" "$err"; fi
done

run_kp new demo --template nope --force
check unknown-template-exit-64 test "$status" -eq 64
check unknown-template-lists-known contains "$err" "minimal"

rm -f karapace.toml
run_kp new demo
check new-without-template-needs-tty test "$status" -eq 64
check new-without-template-wrote-nothing test ! -e karapace.toml

run_kp new 'bad name!' --template minimal
check new-bad-name-exit-64 test "$status" -eq 64

# A pinned image.
mkdir pinned
cat >pinned/karapace.toml <<'TOML'
manifest_version = 1

[base]
image = "https://images.example.org/debian/rootfs.tar.xz#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
TOML
run_kp pin --check pinned/karapace.toml
check pin-check-pinned-exit-0 test "$status" -eq 0
run_kp --json pin --check pinned/karapace.toml
if is_json "$out" && [[ $(json_get "$out" "d['pinned']") == True ]]; then ok pin-check-json-pinned; else fail pin-check-json-pinned "$out"; fi

# An unknown key: exit 2, naming the key, the line and the column.
mkdir bad
cat >bad/karapace.toml <<'TOML'
manifest_version = 1

[base]
image = "debian/bookworm"
colour = "blue"
TOML
run_kp pin --check bad/karapace.toml
check unknown-key-exit-2 test "$status" -eq 2
check unknown-key-named contains "$err" "colour"
check unknown-key-line-column contains "$err" "5:1"
run_kp --json pin --check bad/karapace.toml
if is_json "$out" && [[ $(json_get "$out" "d['error']['category']") == manifest ]]; then ok unknown-key-json; else fail unknown-key-json "$out"; fi

run_kp pin --check does-not-exist.toml
check missing-manifest-exit-2 test "$status" -eq 2

run_kp pin --check --write-lock pinned/karapace.toml
check check-with-write-lock-is-usage test "$status" -eq 64

# On a terminal, `new` without a template asks; `script` provides the terminal.
if command -v script >/dev/null; then
  mkdir tty && cd tty
  printf 'debian/bookworm\ngit curl\n~/src:/workspace\ny\n' |
    script -qec "$KARAPACE new asked" /dev/null >/dev/null 2>&1 || true
  check tty-new-wrote-manifest test -s karapace.toml
  check tty-new-packages grep -q '"git", "curl"' karapace.toml
  check tty-new-mount grep -q '~/src:/workspace' karapace.toml
  check tty-new-network grep -q 'network_isolation = true' karapace.toml
  run_kp pin --check
  check tty-new-manifest-valid test "$status" -eq 1
  # Declining the overwrite question keeps the file.
  cp karapace.toml before.toml
  printf 'n\n' | script -qec "$KARAPACE new again --template dev" /dev/null >answer.txt 2>&1 || true
  check tty-new-asks-before-overwriting grep -q 'overwrite ./karapace.toml?' answer.txt
  check tty-new-decline-says-unchanged grep -q 'left unchanged' answer.txt
  check tty-new-decline-keeps-file cmp -s karapace.toml before.toml
  cd ..
else
  echo "skip tty-new: util-linux script is not installed"
fi

finish
