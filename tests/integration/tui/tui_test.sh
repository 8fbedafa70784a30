#!/usr/bin/env bash
# `karapace tui` in a real terminal: tmux runs it on a store with three busybox environments and
# the test types keys (send-keys) and reads the screen (capture-pane). Checks the list, search,
# sort, details, destroy with its question, freeze, an environment built by the CLI in another
# window showing up, a shell entered from the TUI, resizing, and the terminal given back after q
# and after SIGTERM. Runs as the invoking user, then (as root) again as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=$(realpath "${1:?usage: tui_test.sh KARAPACE}")
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
command -v tmux >/dev/null || kp_skip "tmux is not installed (scripts/setup installs it)"

scenario() {
  local work=$1 tarball=$2 sock=$3
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  T() { tmux -L "$sock" "$@"; }
  screen() { T capture-pane -p -t tui:0; }
  # Waits (up to $2 seconds, default 10) until the screen shows $1.
  wait_for() {
    local i
    for i in $(seq 1 $((${2:-10} * 20))); do
      screen | grep -qF -- "$1" && return 0
      sleep 0.05
    done
    echo "--- the screen:"; screen
    kp_fail "the screen did not show '$1' within ${2:-10} s"
  }
  # The row of the list that shows environment $1.
  row() { screen | grep -E "^[> ] $1 " || true; }

  mkdir -p "$work/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" >"$work/proj/karapace.toml"
  for n in alpha beta gamma; do (cd "$work/proj" && k build --name "$n" >/dev/null); done

  # A plain shell in an 80x24 window; the TUI starts from it so the test can see the prompt after.
  T new-session -d -s tui -x 80 -y 24 "env -u TMUX PS1='ready> ' bash --norc --noprofile"
  T set-option -t tui remain-on-exit on >/dev/null
  wait_for "ready>"
  T send-keys -t tui:0 "stty -g > $work/stty.before; $kp --store $store tui; echo tui-exit=\$?" Enter

  wait_for "3 of 3 environments"
  for n in alpha beta gamma; do [ -n "$(row $n)" ] || kp_fail "the list does not show $n"; done
  kp_ok "the list shows the three environments"

  T send-keys -t tui:0 / b e t
  wait_for "1 of 3 environments"
  [ -n "$(row beta)" ] && [ -z "$(row alpha)" ] && [ -z "$(row gamma)" ] ||
    kp_fail "the filter 'bet' shows more than beta: $(screen)"
  T send-keys -t tui:0 Enter
  wait_for "filter 'bet': 1 match(es)"
  T send-keys -t tui:0 Escape
  wait_for "3 of 3 environments"
  kp_ok "/ filters the list as one types; Esc clears the filter"

  T send-keys -t tui:0 S
  wait_for "sort: name ↓"
  order=$(screen | grep -oE '^[> ] (alpha|beta|gamma) ' | tr -d '> ' | tr '\n' ' ')
  [ "$order" = "gamma beta alpha " ] || kp_fail "reversed name order is '$order'"
  T send-keys -t tui:0 S s
  wait_for "sort: state ↑"
  T send-keys -t tui:0 s s s
  wait_for "sort: name ↑"
  order=$(screen | grep -oE '^[> ] (alpha|beta|gamma) ' | tr -d '> ' | tr '\n' ' ')
  [ "$order" = "alpha beta gamma " ] || kp_fail "name order is '$order'"
  kp_ok "s cycles the sort column, S reverses the order"

  beta_id=$(k --json inspect beta | sed -n 's/.*"env_id": "\([0-9a-f]*\)".*/\1/p' | head -1)
  T send-keys -t tui:0 g j Enter
  wait_for "env_id:       $beta_id"
  screen | grep -q "beta  (built)" || kp_fail "the detail view is not about beta: $(screen)"
  # The details are longer than the screen; G goes to their end.
  wait_for "lines 1-20 of"
  T send-keys -t tui:0 G
  wait_for "Sessions (0 running)"
  wait_for "Snapshots"
  wait_for "Drift (karapace diff): 0 added, 0 modified, 0 removed"
  T send-keys -t tui:0 q
  wait_for "3 of 3 environments"
  kp_ok "Enter shows the details: id, state, snapshots, drift; q goes back"

  T send-keys -t tui:0 G d
  wait_for "destroy environment 'gamma'? (y/n)"
  T send-keys -t tui:0 n
  wait_for "cancelled"
  k list | grep -q gamma || kp_fail "n destroyed gamma"
  [ -n "$(row gamma)" ] || kp_fail "gamma left the list after n"
  T send-keys -t tui:0 d
  wait_for "destroy environment 'gamma'? (y/n)"
  T send-keys -t tui:0 y
  wait_for "destroyed environment gamma"
  wait_for "2 of 2 environments"
  if k list | grep -q gamma; then kp_fail "y did not destroy gamma"; fi
  kp_ok "destroy asks; n keeps the environment, y removes it"

  T send-keys -t tui:0 g f
  wait_for "froze environment alpha (read-only from now on)"
  case "$(row alpha)" in *frozen*) ;; *) kp_fail "alpha's row does not say frozen: $(row alpha)" ;; esac
  case "$(k list)" in *alpha*frozen*) ;; *) kp_fail "the store does not say alpha is frozen" ;; esac
  kp_ok "f freezes; the row shows the new state"

  # Another window builds an environment with the CLI; the list follows within 2 s.
  T new-window -d -t tui:1 "cd $work/proj && $kp --store $store build --name delta >$work/delta.log 2>&1; tmux -L $sock wait-for -S built"
  T wait-for built
  built_at=$(date +%s%N)
  wait_for "3 of 3 environments" 2
  [ -n "$(row delta)" ] || kp_fail "delta is not in the list: $(screen)"
  ms=$(( ($(date +%s%N) - built_at) / 1000000 ))
  kp_ok "an environment built by the CLI in another window shows up (after $ms ms)"

  # A shell from the TUI: the terminal is the shell's, and the TUI comes back when it exits.
  T send-keys -t tui:0 g j
  wait_for "> beta "
  T send-keys -t tui:0 e
  wait_for "exit it to come back to the TUI"
  sleep 0.5
  T send-keys -t tui:0 'echo inside-$((6 * 7))' Enter
  wait_for "inside-42"
  T send-keys -t tui:0 'exit' Enter
  wait_for "the shell in beta exited with status 0"
  wait_for "3 of 3 environments"
  [ -n "$(row alpha)" ] && [ -n "$(row delta)" ] || kp_fail "the list is not back intact: $(screen)"
  kp_ok "e enters a shell in the environment; the TUI comes back intact when it exits"

  T resize-window -t tui:0 -x 100 -y 30
  for i in $(seq 1 100); do
    [ "$(screen | head -1 | wc -L)" -gt 90 ] && [ "$(screen | wc -l)" -eq 30 ] && break
    sleep 0.05
  done
  [ "$(screen | head -1 | wc -L)" -gt 90 ] || kp_fail "no redraw at 100 columns: $(screen | head -1)"
  T resize-window -t tui:0 -x 80 -y 24
  for i in $(seq 1 100); do
    [ "$(screen | head -1 | wc -L)" -le 80 ] && screen | grep -q "sort: name" && break
    sleep 0.05
  done
  [ "$(screen | head -1 | wc -L)" -le 80 ] || kp_fail "no redraw back at 80 columns"
  [ -n "$(row alpha)" ] && [ -n "$(row beta)" ] || kp_fail "the list is gone after resizing: $(screen)"
  kp_ok "resizing redraws the screen at the new size"

  T send-keys -t tui:0 q
  wait_for "tui-exit=0"
  T send-keys -t tui:0 "stty -g > $work/stty.after; echo after-\$((40 + 2))" Enter
  wait_for "after-42"
  cmp -s "$work/stty.before" "$work/stty.after" || kp_fail "the terminal settings differ after q"
  kp_ok "q restores the terminal: the prompt works and the settings are as before"

  # SIGTERM while the TUI runs: it leaves through the same door.
  T send-keys -t tui:0 "clear; $kp --store $store tui; echo tui-exit=\$?" Enter
  wait_for "of 3 environments"
  shell_pid=$(T display-message -p -t tui:0 '#{pane_pid}')
  # karapace-full where the static karapace handed the TUI to it (docs/cli.md).
  tui_pid=$(pgrep -P "$shell_pid" -x 'karapace(-full)?' || true)
  [ -n "$tui_pid" ] || kp_fail "no karapace process under the pane's shell $shell_pid"
  kill -TERM "$tui_pid"
  wait_for "tui-exit=143"
  T send-keys -t tui:0 "stty -g > $work/stty.after; echo after-\$((50 + 2))" Enter
  wait_for "after-52"
  cmp -s "$work/stty.before" "$work/stty.after" || kp_fail "the terminal settings differ after SIGTERM"
  kp_ok "SIGTERM ends the TUI with status 143 and the terminal restored"

  T kill-server || true
}

fixtures=$(mktemp -d /tmp/karapace-tui.XXXXXX)
chmod 755 "$fixtures"
# tmux keeps its sockets in tmux-<uid>/ below this, for each user: removed with the fixtures.
export TMUX_TMPDIR="$fixtures/tmux"
mkdir -m 1777 "$TMUX_TMPDIR"
sock=kp-tui-$$
user=${KARAPACE_TEST_USER:-kptest}
cleanup() {
  tmux -L "$sock" kill-server 2>/dev/null || true
  if kp_have_test_user; then kp_as_user tmux -L "$sock" kill-server 2>/dev/null || true; fi
  rm -rf "$fixtures" 2>/dev/null || true
}
trap cleanup EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

set +e
out=$("$kp" --store "$fixtures/nostore" tui </dev/null 2>&1); status=$?
set -e
[ $status = 1 ] || kp_fail "tui without a terminal exited with $status, not 1"
kp_contains "$out" "needs a terminal"
kp_contains "$out" "karapace list"
kp_ok "without a terminal, tui fails and points at karapace list"

echo "# as $(id -un)"
( scenario "$fixtures/self" "$tarball" "$sock" )

if kp_have_test_user; then
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; cd $fixtures/user; scenario $fixtures/user $tarball $sock"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "tui: all checks passed"
