#!/usr/bin/env bash
# The units `karapace export --service` writes, run by a real systemd user manager, as root and as
# the unprivileged test user: a Type=notify unit is started only once READY=1 came from inside the
# environment and stops cleanly; a .socket unit hands its socket to a server inside; ExecStart keeps
# every argument as given (spaces, quotes, '$', '%', ';', empty); systemd-analyze verify accepts
# every unit; rename, rebuild, unexport and destroy keep units and their enablement links in step,
# and destroy refuses while a unit runs unless --force, which stops it.
#
# The manager runs in a mount namespace of its own where /run/systemd/system exists (its check
# that systemd is the init), in a cgroup made for it on both hierarchies, with a private
# XDG_RUNTIME_DIR and HOME; the test removes all of it at the end.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: units_test.sh KARAPACE NOTIFIER}
notifier=${2:?usage: units_test.sh KARAPACE NOTIFIER}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -x /bin/busybox ] || kp_skip "busybox-static is not installed"
command -v python3 >/dev/null || kp_skip "python3 is not installed"
[ "$(id -u)" -eq 0 ] || kp_skip "starting a systemd user manager outside a systemd boot needs root (cgroup and /run/systemd set-up)"
manager_bin=/lib/systemd/systemd
[ -x "$manager_bin" ] && command -v systemctl >/dev/null && command -v systemd-analyze >/dev/null ||
  kp_skip "systemd is not installed (systemd, systemctl, systemd-analyze)"
cgroup_dirs=()
for h in systemd unified; do
  [ -d "/sys/fs/cgroup/$h" ] && cgroup_dirs+=("/sys/fs/cgroup/$h")
done
if [ ${#cgroup_dirs[@]} -eq 0 ] && [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cgroup_dirs=(/sys/fs/cgroup)
fi
[ ${#cgroup_dirs[@]} -gt 0 ] || kp_skip "no cgroup hierarchy for a user manager"

work=$(mktemp -d /tmp/karapace-units.XXXXXX)
chmod 755 "$work"
managers=()
cgroups=()
cleanup() {
  local pid cg
  for pid in "${managers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  sleep 0.5
  for cg in "${cgroups[@]}"; do
    # Everything the manager started, then the cgroups it made, deepest first.
    find "$cg" -name cgroup.procs 2>/dev/null | while read -r f; do
      while read -r pid; do kill -KILL "$pid" 2>/dev/null || true; done < "$f"
    done
  done
  sleep 0.3
  for cg in "${cgroups[@]}"; do
    find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null || true
  done
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img" >/dev/null
mkdir -p "$work/tools"
cp "$notifier" "$work/tools/notifier"
chmod -R a+rX "$work"

# start_manager USER DIR: a user manager for USER with XDG_RUNTIME_DIR DIR/run and HOME DIR/home.
start_manager() {
  local user=$1 dir=$2 uid cg
  uid=$(id -u "$user")
  mkdir -p "$dir/run" "$dir/home"
  chmod 700 "$dir/run"
  chown "$user" "$dir" "$dir/run" "$dir/home"
  for h in "${cgroup_dirs[@]}"; do
    cg="$h/karapace-units-test-$uid-$$"
    mkdir -p "$cg"
    chown -R "$user" "$cg"
    cgroups+=("$cg")
  done
  local enter=""
  for cg in "${cgroups[@]}"; do
    case "$cg" in *"-$uid-$$") enter+="echo \$\$ > $cg/cgroup.procs; " ;; esac
  done
  unshare -m --propagation private sh -c "
    mount -t tmpfs tmpfs /run/systemd 2>/dev/null || { mkdir -p /run/systemd && mount -t tmpfs tmpfs /run/systemd; }
    mkdir -p /run/systemd/system
    $enter
    exec runuser -u $user -- env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=$dir/home \
      USER=$user LOGNAME=$user XDG_RUNTIME_DIR=$dir/run $manager_bin --user" \
    > "$dir/manager.log" 2>&1 &
  managers+=($!)
  for _ in $(seq 100); do
    [ -S "$dir/run/systemd/private" ] && break
    sleep 0.1
  done
  [ -S "$dir/run/systemd/private" ] || kp_fail "the user manager for $user did not start: $(tail -5 "$dir/manager.log")"
}

scenario() {
  local dir=$1 work=$2 kp=$3
  export HOME=$dir/home XDG_RUNTIME_DIR=$dir/run XDG_CONFIG_HOME=$dir/home/.config
  local units=$XDG_CONFIG_HOME/systemd/user
  k() { "$kp" --store "$dir/store" "$@"; }
  sc() { systemctl --user "$@"; }
  mkdir -p "$dir/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[mounts]\ntools = "%s:/tools:ro"\n' \
    "$work/img/busybox-rootfs.tar.xz" "$work/tools" > "$dir/proj/karapace.toml"
  cp "$dir/proj/karapace.toml" "$dir/proj/base.toml"
  printf '[services]\ndecl = { command = ["sleep", "7915"], restart = "no" }\n' >> "$dir/proj/karapace.toml"
  cd "$dir/proj"
  k build --name bb >/dev/null
  local id
  id=$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')

  # 0. [services] in the manifest: build writes the unit; a change to it alone rewrites the unit
  #    without a new environment.
  local decl=$units/karapace-bb-decl.service
  [ -f "$decl" ] || kp_fail "build did not write the unit of [services] decl"
  grep -q "^ExecStart=.* exec $id -- sleep 7915\$" "$decl" || kp_fail "decl runs something else: $(grep ExecStart "$decl")"
  grep -q "^Restart=no\$" "$decl" || kp_fail "decl's restart policy is not no"
  { cat "$dir/proj/base.toml"; printf '[services]\ndecl = { command = "sleep 7915", restart = "always" }\n'; } > karapace.toml
  local out
  out=$(k build)
  kp_contains "$out" "[services] are updated"
  grep -q "^Restart=always\$" "$decl" || kp_fail "a build did not rewrite decl's unit"
  [ "$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')" = "$id" ] ||
    kp_fail "a change of [services] made a new environment"
  kp_ok "[services] entries become units at build; changing one rewrites its unit, same environment"

  # 1. Type=notify: start returns once READY=1 came from inside, two seconds in.
  k export bb --service ready --notify -- sh -c 'sleep 2; /tools/notifier READY=1; exec sleep 7914' >/dev/null
  local unit=$units/karapace-bb-ready.service
  [ -f "$unit" ] || kp_fail "export --service wrote no $unit"
  grep -q "^X-Karapace-Env=$id\$" "$unit" || kp_fail "the unit does not name environment $id: $(cat "$unit")"
  grep -q "^Type=notify\$" "$unit" || kp_fail "the unit is not Type=notify"
  sc daemon-reload
  local start=$SECONDS
  sc start karapace-bb-ready.service
  [ $((SECONDS - start)) -ge 2 ] || kp_fail "systemctl start returned before READY=1 ($((SECONDS - start)) s)"
  [ "$(sc show -P ActiveState karapace-bb-ready.service)" = active ] ||
    kp_fail "the notify unit is not active: $(sc status --no-pager karapace-bb-ready.service 2>&1 | tail -5)"
  pgrep -f "^sleep 7914$" -u "$(id -u)" >/dev/null || kp_fail "the service's command is not running"
  kp_ok "a Type=notify unit becomes active when READY=1 comes from inside ($((SECONDS - start)) s)"
  sc stop karapace-bb-ready.service
  [ "$(sc show -P Result karapace-bb-ready.service)" = success ] ||
    kp_fail "stopping the unit was not clean: $(sc show -P Result karapace-bb-ready.service)"
  sleep 0.2
  if pgrep -f "^sleep 7914$" -u "$(id -u)" >/dev/null; then kp_fail "sleep 7914 survived the stop"; fi
  kp_ok "systemctl stop ends the command; the unit's result is success (exit 143 is a clean stop)"

  # 2. Arguments reach the command as given.
  k export bb --service args --restart no -- sh -c 'for a; do echo "[$a]"; done > "$HOME/args.out"' \
    argv0 'two words' '$HOME' '%h' 'back\slash' 'quo"te' ';' '' 'tab	x' >/dev/null
  sc daemon-reload
  sc start karapace-bb-args.service
  for _ in $(seq 50); do [ -s "$HOME/args.out" ] && break; sleep 0.1; done
  local want
  want=$(printf '[%s]\n' 'two words' '$HOME' '%h' 'back\slash' 'quo"te' ';' '' 'tab	x')
  [ "$(cat "$HOME/args.out" 2>/dev/null)" = "$want" ] ||
    kp_fail "ExecStart changed the arguments: $(cat "$HOME/args.out" 2>/dev/null) from $(grep ^ExecStart "$units/karapace-bb-args.service")"
  kp_ok "ExecStart passes spaces, quotes, \$, %, ;, an empty argument and a tab unchanged"

  # 3. A socket unit hands its socket to a server inside.
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  k export bb --service web --socket "127.0.0.1:$port" -- /tools/notifier --serve >/dev/null
  [ -f "$units/karapace-bb-web.socket" ] || kp_fail "no socket unit written"
  sc daemon-reload
  sc start karapace-bb-web.socket
  local reply
  reply=$(python3 - "$port" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
c.settimeout(30)
print(c.makefile().readline().strip())
PY
)
  kp_contains "$reply" "served by pid 2 names karapace-bb-web.socket"
  kp_ok "karapace-bb-web.socket starts the service with its socket: $reply"
  sc stop karapace-bb-web.socket karapace-bb-web.service

  # 4. systemd-analyze accepts every unit written.
  out=$(systemd-analyze --user verify "$units"/karapace-bb-*.service "$units"/karapace-bb-*.socket 2>&1) ||
    kp_fail "systemd-analyze verify: $out"
  [ -z "$out" ] || kp_fail "systemd-analyze verify warned: $out"
  kp_ok "systemd-analyze --user verify accepts the units"

  # 5. rename moves the unit and keeps it enabled; rebuild re-points it.
  sc enable karapace-bb-ready.service 2>/dev/null
  [ -L "$units/default.target.wants/karapace-bb-ready.service" ] || kp_fail "systemctl enable made no link"
  k rename bb bx >/dev/null
  [ ! -e "$unit" ] || kp_fail "rename left $unit"
  unit=$units/karapace-bx-ready.service
  [ -f "$unit" ] || kp_fail "rename did not write $unit"
  [ "$(sc is-enabled karapace-bx-ready.service)" = enabled ] || kp_fail "the renamed unit is not enabled"
  [ ! -e "$units/default.target.wants/karapace-bb-ready.service" ] || kp_fail "rename left the old link"
  printf '[runtime]\nnetwork_isolation = true\n' >> karapace.toml
  k rebuild >/dev/null
  local new_id
  new_id=$(k --json inspect bx | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  [ "$new_id" != "$id" ] || kp_fail "the rebuild kept the environment id"
  grep -q "^X-Karapace-Env=$new_id\$" "$unit" || kp_fail "rebuild did not re-point the unit"
  grep -q "^ExecStart=.* exec $new_id -- " "$unit" || kp_fail "rebuild did not re-point ExecStart"
  [ "$(sc is-enabled karapace-bx-ready.service)" = enabled ] || kp_fail "the rebuilt unit is not enabled"
  sc daemon-reload
  sc start karapace-bx-ready.service
  kp_ok "rename and rebuild keep the unit enabled and pointed at the environment"

  # 6. destroy refuses while the unit runs; --force stops it and removes units and links.
  local s=0
  out=$(k destroy bx 2>&1) || s=$?
  [ $s -ne 0 ] || kp_fail "destroy removed an environment whose unit runs"
  kp_contains "$out" "runs as systemd service karapace-bx-ready.service"
  [ -f "$unit" ] || kp_fail "a refused destroy removed the unit"
  k unexport bx --service web >/dev/null
  [ ! -e "$units/karapace-bx-web.service" ] && [ ! -e "$units/karapace-bx-web.socket" ] ||
    kp_fail "unexport --service left units: $(ls "$units")"
  k destroy --force bx >/dev/null
  [ "$(sc show -P ActiveState karapace-bx-ready.service)" != active ] || kp_fail "destroy --force left the unit running"
  [ -z "$(ls "$units" | grep karapace-bx || true)" ] || kp_fail "destroy left units: $(ls "$units")"
  [ ! -e "$units/karapace-bb-decl.service" ] || kp_fail "the unit of [services] decl outlived rename and destroy"
  [ ! -e "$units/default.target.wants/karapace-bx-ready.service" ] || kp_fail "destroy left the link"
  if pgrep -f "^sleep 7914$" -u "$(id -u)" >/dev/null; then kp_fail "destroy --force left the command running"; fi
  kp_ok "destroy refuses while a unit runs; unexport and destroy --force remove units and links"
}

echo "# as $(id -un)"
start_manager root "$work/self"
( scenario "$work/self" "$work" "$kp" )
if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  echo "# as $user"
  start_manager "$user" "$work/user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; scenario $(printf %q "$work/user") $(printf %q "$work") $(printf %q "$kp")"
else
  echo "# SKIP the unprivileged half: no test user (run as root with KARAPACE_TEST_USER)"
fi
