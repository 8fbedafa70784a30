#!/usr/bin/env bash
# Generated completion scripts are valid for their shell, and bash's really completes.
set -euo pipefail
. "$(dirname "$0")/common.sh"

for shell in bash zsh fish; do
  run_kp completions "$shell"
  check "completions-$shell-exit-0" test "$status" -eq 0
  printf '%s\n' "$out" >"karapace.$shell"
done
check bash-syntax bash -n karapace.bash
if command -v zsh >/dev/null; then check zsh-syntax zsh -n karapace.zsh; else fail zsh-syntax "zsh is not installed"; fi
if command -v fish >/dev/null; then check fish-syntax fish -n karapace.fish; else fail fish-syntax "fish is not installed"; fi

# Drive the bash function the way readline does.
complete_bash() {
  bash -c '. ./karapace.bash; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _karapace; printf "%s\n" "${COMPREPLY[@]}"' _ "$@"
}
check bash-completes-commands contains "$(complete_bash karapace bu)" "build"
check bash-completes-flags contains "$(complete_bash karapace build --re)" "--require-pinned-image"
check bash-completes-globals-after-command contains "$(complete_bash karapace list --st)" "--store"
check bash-completes-choice contains "$(complete_bash karapace completions z)" "zsh"
check bash-completes-templates contains "$(complete_bash karapace new demo --template gui)" "gui-dev"
check bash-skips-global-values contains "$(complete_bash karapace --store /tmp/s he)" "help"

if command -v fish >/dev/null; then
  got=$(fish -c "source karapace.fish; complete -C 'karapace verif'")
  check fish-completes-commands contains "$got" "verify-store"
fi

# Environment arguments complete from `karapace list`; a stand-in binary gives a known listing
# (and shows which store it was asked about).
mkdir fakebin
cat >fakebin/karapace <<'FAKE'
#!/bin/sh
echo "SHORT_ID      NAME              STATE     BASE IMAGE"
echo "0123456789ab  web               built     debian/bookworm"
echo "abcdef012345  -                 frozen    debian/bookworm"
case "$*" in *"--store /elsewhere"*) echo "999999999999  other             built     x" ;; esac
FAKE
chmod +x fakebin/karapace
envs=$(PATH="$work/fakebin:$PATH" complete_bash karapace destroy "")
check bash-completes-env-names contains "$envs" "web"
check bash-completes-env-ids contains "$envs" "abcdef012345"
if grep -qx -- "-" <<<"$envs"; then fail bash-skips-missing-names; else ok bash-skips-missing-names; fi
check bash-env-completion-uses-store contains "$(PATH="$work/fakebin:$PATH" complete_bash karapace --store /elsewhere destroy "")" "other"
if command -v fish >/dev/null; then
  got=$(PATH="$work/fakebin:$PATH" fish -c "source karapace.fish; complete -C 'karapace destroy '")
  check fish-completes-env-names contains "$got" "web"
fi
if command -v zsh >/dev/null; then
  check zsh-defines-env-completion grep -q '_karapace_envs' karapace.zsh
fi

run_kp completions tcsh
check unknown-shell-exit-64 test "$status" -eq 64

finish
