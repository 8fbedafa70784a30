#!/usr/bin/env bash
# `scripts/install --user` as the unprivileged test user in a fresh HOME: the files land where the
# shell, the session bus, the systemd user manager and man read them; the installed `karapace`
# runs the quickstart job (examples/quickstart.toml: Debian bootstrapped, `hello` installed by
# apt); a call on a private session bus that reads the user's ~/.local/share/dbus-1/services
# activates the installed ~/.local/libexec/karapace-dbus, which lists that environment;
# systemd-analyze verify accepts the installed user unit with the installed man pages; and
# `--uninstall` leaves no file of the install behind.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
build=${KARAPACE_BUILD_ROOT:?KARAPACE_BUILD_ROOT names the build directory}

kp_have_test_user || kp_skip "needs root and the unprivileged test user (KARAPACE_TEST_USER)"
command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed"
command -v dbus-daemon >/dev/null && command -v busctl >/dev/null ||
  kp_skip "dbus-daemon and busctl are not installed"
[ -x "$build/src/dbus/karapace-dbus" ] || kp_skip "this build has no karapace-dbus (-Ddbus=disabled)"
user=${KARAPACE_TEST_USER:-kptest}

work=$(mktemp -d /tmp/karapace-install.XXXXXX)
chmod 755 "$work"
home=$work/home
mkdir -p "$home" "$work/quick" "$work/run"
chmod 700 "$work/run"
chown "$user" "$home" "$work/quick" "$work/run"
daemon_pid=""
cleanup() {
  local pid
  # The bus (runuser does not pass SIGTERM on to it), the activated service and anything else of
  # this HOME, then the user's namespace keeper if one is still waiting out its idle time.
  for pid in $(pgrep -u "$user" -f "$work/bus.conf|$home/" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null || true; fi
  as_user karapace stop quickstart >/dev/null 2>&1 || true
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
# The user's session as a login gives it: a fresh HOME, nothing of ours on PATH.
as_user() {
  runuser -u "$user" -- env -i HOME="$home" USER="$user" LOGNAME="$user" XDG_RUNTIME_DIR="$work/run" \
    KARAPACE_KEEPER_IDLE="${KARAPACE_KEEPER_IDLE:-2}" KARAPACE_LINGER="${KARAPACE_LINGER:-2}" \
    PATH="$home/.local/bin:/usr/local/bin:/usr/bin:/bin" TMPDIR=/tmp "$@"
}

# 1. Install.
out=$(as_user bash "$src/scripts/install" --user --build-dir "$build") || kp_fail "scripts/install --user failed: $out"
kp_contains "$out" "installed"
record=$home/.local/state/karapace/installed-files
for f in .local/bin/karapace .local/libexec/karapace-init .local/libexec/karapace-dbus \
  .local/share/dbus-1/services/org.karapace.Manager1.service \
  .local/share/dbus-1/interfaces/org.karapace.Manager1.xml .config/systemd/user/karapace-dbus.service \
  .local/share/bash-completion/completions/karapace .local/share/zsh/site-functions/_karapace \
  .config/fish/completions/karapace.fish .local/share/man/man1/karapace.1 \
  .local/share/man/man1/karapace-exec.1; do
  [ -f "$home/$f" ] || kp_fail "scripts/install did not write ~/$f"
  grep -qx "file $home/$f" "$record" || kp_fail "~/$f is not in the install record"
done
grep -qx "Exec=$home/.local/libexec/karapace-dbus" "$home/.local/share/dbus-1/services/org.karapace.Manager1.service" ||
  kp_fail "the D-Bus service file does not name the installed service: $(cat "$home/.local/share/dbus-1/services/org.karapace.Manager1.service")"
[ "$(as_user sh -c 'command -v karapace')" = "$home/.local/bin/karapace" ] || kp_fail "karapace on PATH is not the installed one"
if [ -x "$build/src/cli/karapace-full" ]; then
  [ -x "$home/.local/libexec/karapace-full" ] && grep -qx "file $home/.local/libexec/karapace-full" "$record" ||
    kp_fail "scripts/install did not write and record ~/.local/libexec/karapace-full"
fi
[ "$(find "$home" -user root | wc -l)" = 0 ] || kp_fail "the install left root-owned files: $(find "$home" -user root)"
kp_ok "scripts/install --user writes the CLI, the service, its bus and unit files, completions and man pages, all recorded"

# 2. The installed unit, with the installed man pages on MANPATH as man-db derives it from PATH.
if command -v systemd-analyze >/dev/null; then
  out=$(as_user systemd-analyze --user verify "$home/.config/systemd/user/karapace-dbus.service" 2>&1) ||
    kp_fail "systemd-analyze verify of the installed unit: $out"
  [ -z "$out" ] || kp_fail "systemd-analyze verify warned: $out"
  kp_ok "systemd-analyze --user verify accepts the installed karapace-dbus.service"
else
  echo "# SKIP systemd-analyze verify: systemd-analyze is not installed"
fi
as_user sh -c 'man -w karapace-export' >/dev/null 2>&1 || kp_fail "man does not find the installed karapace-export(1)"
kp_ok "man finds the installed pages"

# 3. The quickstart job with the installed binary (its sandboxes' init is the installed
#    ~/.local/libexec/karapace-init: nothing in this environment names another).
cp "$src/examples/quickstart.toml" "$work/quick/karapace.toml"
chown "$user" "$work/quick/karapace.toml"
out=$(cd "$work/quick" && as_user karapace build --name quickstart 2>&1) || kp_fail "karapace build of the quickstart failed: $(echo "$out" | tail -5)"
hello=$(cd "$work/quick" && as_user karapace exec quickstart -- hello 2>&1) || kp_fail "karapace exec quickstart -- hello: $hello"
[ "$hello" = "Hello, world!" ] || kp_fail "hello printed: $hello"
kp_ok "the installed karapace builds the quickstart environment and runs hello: $hello"
# A wrapper names the installed karapace, also where export runs in ~/.local/libexec/karapace-full
# (run here with a PATH that does not lead to it).
as_user env PATH=/usr/bin:/bin "$home/.local/bin/karapace" export quickstart --bin hello \
  --bin-dir "$work/quick/wrappers" >/dev/null ||
  kp_fail "export --bin hello with the installed karapace failed"
grep -q "$home/.local/bin/karapace" "$work/quick/wrappers/hello" ||
  kp_fail "the wrapper does not run the installed karapace: $(cat "$work/quick/wrappers/hello")"
[ "$(as_user "$work/quick/wrappers/hello")" = "Hello, world!" ] || kp_fail "the exported wrapper did not run hello"
as_user karapace unexport quickstart --all >/dev/null
kp_ok "a wrapper exported by the installed karapace runs it from ~/.local/bin"

# 4. D-Bus activation of the installed service on a private session bus with the standard
#    session service directories (the user's XDG data home among them).
cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <standard_session_servicedirs/>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
chmod 644 "$work/bus.conf"
chmod 777 "$work"
# dbus-daemon finds the home directory in the password database, not in $HOME: name the fresh
# one's data directory, as a session that moved its data home would.
as_user env XDG_DATA_HOME="$home/.local/share" dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=1 >"$work/address" 2>"$work/daemon.log" &
daemon_pid=$!
for _ in $(seq 100); do [ -s "$work/address" ] && break; sleep 0.05; done
[ -s "$work/address" ] || kp_fail "dbus-daemon did not start: $(cat "$work/daemon.log")"
addr=$(head -n 1 "$work/address")
out=$(as_user busctl --address="$addr" --timeout=60 call org.karapace.Manager1 /org/karapace/Manager1 \
  org.karapace.Manager1 ListEnvironments 2>&1) || kp_fail "ListEnvironments through activation: $out $(tail -5 "$work/daemon.log")"
kp_contains "$out" '"quickstart"'
pid=$(as_user busctl --address="$addr" status org.karapace.Manager1 | sed -n 's/^PID=//p')
[ "$(readlink "/proc/$pid/exe")" = "$home/.local/libexec/karapace-dbus" ] ||
  kp_fail "org.karapace.Manager1 is served by $(readlink "/proc/$pid/exe"), not the installed service"
kp_ok "a call activates ~/.local/libexec/karapace-dbus (pid $pid), which lists the quickstart environment"
kill "$pid" 2>/dev/null || true
pkill -u "$user" -f "$work/bus.conf" 2>/dev/null || true
wait "$daemon_pid" 2>/dev/null || true
daemon_pid=""

# 5. Uninstall: every file of the install goes, and the directories it made (the sandbox the
#    quickstart run left lingering ends first, while the installed karapace is there to end it).
as_user karapace stop quickstart >/dev/null 2>&1 || true
out=$(as_user bash "$src/scripts/install" --user --uninstall) || kp_fail "--uninstall failed: $out"
left=$(cd "$home" && find . -not -path './.local/share/karapace*' -not -path './.cache*' \
  -not -path . -not -path ./.local -not -path ./.local/share | sort)
[ -z "$left" ] || kp_fail "--uninstall left: $left"
kp_ok "--uninstall removes every file and directory of the install (the store stays): $out"
