#!/usr/bin/env bash
# The OCI backend end to end: a busybox environment with `backend = "oci"` built from the local
# fixture (packages are installed by the namespace sandbox; there are none here), then entered
# through runc: doctor's probe (also with a runtime that cannot bind a directory), [mounts],
# resource limits, network isolation, output, exit statuses, stdin, identities, --env, writes to
# the writable layer and diff, frozen read-only root, a running session in inspect/list, stop. As
# the invoking user, then (as root) again as the unprivileged test user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: oci_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

runtime=${KARAPACE_OCI_RUNTIME:-runc}
command -v "$runtime" >/dev/null || kp_skip "$runtime is not installed (apt install runc)"

# [mounts] through the OCI backend: read, :ro refused (also a remount by root inside), writes
# through a read-write mount, a file mount, the working directory inside a mount, a frozen root
# beside a writable mount; and $XDG_RUNTIME_DIR belongs to the user, as with the namespace backend.
oci_mount_checks() {
  local work=$1 tarball=$2
  k() { "$kp" --store "$work/store" "$@"; }
  mkdir -p "$work/mnt" "$work/data" "$work/rw" "$work/xdg"
  chmod 700 "$work/xdg"
  echo from-host > "$work/data/file"
  echo one-file > "$work/single"
  cat > "$work/mnt/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[mounts]
data = "$work/data:/data:ro"
rw = "$work/rw:/rw"
single = "$work/single:/etc/single:ro"
[runtime]
backend = "oci"
TOML
  (cd "$work/mnt" && k build --name mnt >/dev/null)
  out=$(k exec mnt -- cat /data/file 2>&1) || kp_fail "exec with a [mounts] entry failed: $out"
  [ "$out" = from-host ] || kp_fail "the mounted file reads '$out'"
  [ "$(k exec mnt -- cat /etc/single)" = one-file ] || kp_fail "a mounted file does not read"
  kp_ok "an oci environment with [mounts] entries reads the mounted directory and file"

  set +e
  out=$(k exec mnt -- sh -c 'echo changed > /data/file' 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "writing to a :ro mount gave status $s, not 1: $out"
  kp_contains "$out" "Read-only file system"
  for attempt in 'mount -o remount,rw,bind /data' \
    'unshare -Urm sh -c "mount -o remount,rw,bind /data && echo changed > /data/file"'; do
    k exec --root mnt -- sh -c "$attempt && echo changed > /data/file" >/dev/null 2>&1 || true
  done
  [ "$(cat "$work/data/file")" = from-host ] || kp_fail "a :ro mount was written through"
  k exec mnt -- sh -c 'echo through > /rw/out'
  [ "$(cat "$work/rw/out")" = through ] || kp_fail "a write to a read-write mount did not reach the host"
  [ "$(stat -c %u "$work/rw/out")" = "$(id -u)" ] || kp_fail "a file written through a mount is not the caller's"
  kp_ok "a :ro mount cannot be written; a read-write one writes to the host as the caller"

  [ "$(cd "$work/data" && k exec mnt -- pwd)" = /data ] || kp_fail "a working directory in a mount is not translated"
  out=$(XDG_RUNTIME_DIR=$work/xdg k exec mnt -- sh -c \
    'touch "$XDG_RUNTIME_DIR/mine" && stat -c "%u %a" "$XDG_RUNTIME_DIR"' 2>&1) ||
    kp_fail "the runtime directory is not writable: $out"
  [ "$out" = "$(id -u) 700" ] || kp_fail "the runtime directory is '$out', not the caller's with mode 700"
  kp_ok "the working directory follows into a mount; \$XDG_RUNTIME_DIR is the caller's"

  k freeze mnt >/dev/null
  if k exec mnt -- sh -c 'echo x > /etc/frozen' 2>/dev/null; then kp_fail "a frozen root accepted a write"; fi
  k exec mnt -- sh -c 'echo frozen-ok > /rw/frozen' || kp_fail "a frozen environment cannot write to its read-write mount"
  [ "$(cat "$work/rw/frozen")" = frozen-ok ] || kp_fail "the write through the mount was lost"
  kp_ok "a frozen oci environment keeps its read-write mount writable"
  k destroy mnt >/dev/null
}

# [runtime.resource_limits] through the OCI backend: the mechanism `inspect` names is the one in
# force (a cgroup holds the container, as for the namespace backend; rlimits only where nothing
# better exists). Network isolation and the hostname as the namespace backend gives them.
oci_limit_checks() {
  local work=$1 tarball=$2
  k() { "$kp" --store "$work/store" "$@"; }
  mkdir -p "$work/lim" "$work/iso"
  cat > "$work/lim/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[runtime]
backend = "oci"
[runtime.resource_limits]
memory_limit_mb = 256
cpu_shares = 512
TOML
  (cd "$work/lim" && k build --name ocilim >/dev/null)
  local mech
  mech=$(k --json inspect ocilim | python3 -c 'import json,sys; print(json.load(sys.stdin)["limit_mechanism"])')
  # Every value of a knob over the container's cgroup and its parents, smallest first (the
  # host's /sys is bound read-only, its cgroup hierarchies included). $1 is the controller
  # ("" for cgroup v2), $2 the hierarchy's mount, $3 the file.
  local walk='p=$(awk -F: -v c="$1" "c == \"\" ? \$1 == 0 : (\",\" \$2 \",\") ~ (\",\" c \",\") { print \$3 }" /proc/self/cgroup)
    d=$2$p; while :; do cat "$d/$3" 2>/dev/null; [ "$d" = "$2" ] && break; d=${d%/*}; done'
  knob() { k exec ocilim -- sh -c "$walk" sh "$@" 2>/dev/null | grep -x '[0-9]*' | sort -n | tr '\n' ' '; }
  local mem base=/sys/fs/cgroup
  case $mech in
    cgroup-v1)
      mem=$(knob memory /sys/fs/cgroup/memory memory.limit_in_bytes)
      [ "${mem%% *}" = 268435456 ] || kp_fail "no cgroup holds the container to 256 MiB (limits: $mem)"
      kp_contains " $(knob cpu /sys/fs/cgroup/cpu cpu.shares)" " 512 " ;;
    cgroup|systemd-scope)
      [ -d /sys/fs/cgroup/unified ] && base=/sys/fs/cgroup/unified
      mem=$(knob "" $base memory.max)
      [ "${mem%% *}" = 268435456 ] || kp_fail "no cgroup holds the container to 256 MiB (limits: $mem)"
      kp_contains " $(knob "" $base cpu.weight)" " 20 " ;;
    rlimit)
      [ "$(k exec ocilim -- sh -c 'ulimit -v' 2>/dev/null)" = 262144 ] ||
        kp_fail "memory_limit_mb is not the address space limit" ;;
    *) kp_fail "inspect names no limit mechanism: $mech" ;;
  esac
  kp_ok "resource limits hold the oci container through $mech, as inspect says"
  k destroy ocilim >/dev/null

  cat > "$work/iso/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[runtime]
backend = "oci"
network_isolation = true
TOML
  (cd "$work/iso" && k build --name ociiso >/dev/null)
  out=$(k exec ociiso -- sh -c 'hostname; cat /etc/hostname; tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /sys/class/net/lo/flags')
  [ "$out" = "$(printf 'ociiso\nociiso\nlo\n0x9')" ] || kp_fail "network isolation or the hostname differ: $out"
  kp_ok "network_isolation leaves only lo, up; the hostname is the environment's name"
  k destroy ociiso >/dev/null
}

oci_checks() {
  local work=$1 tarball=$2 fake=$3
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  mkdir -p "$work/proj"
  cat > "$work/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[runtime]
backend = "oci"
TOML
  cd "$work/proj"

  out=$(k --json doctor)
  echo "$out" | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["checks"] if c["name"] == "oci_runtime"][0]
sys.exit(0 if c["status"] == "pass" else "doctor: " + c["message"])' || kp_fail "doctor does not say the OCI backend works"
  kp_ok "doctor runs a probe container and says the OCI backend works"

  # A runtime that cannot bind a host directory (as every template's [mounts] needs) fails the
  # probe, with the runtime's own message; one that leaves the directory out fails it too.
  oci_line() {
    KARAPACE_OCI_RUNTIME=$fake KP_FAKE_RUNTIME=$1 k --json doctor | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin)["checks"] if c["name"] == "oci_runtime"][0]
print(c["status"], c["message"])'
  }
  out=$(oci_line refuse)
  case "$out" in fail*) ;; *) kp_fail "doctor passes a runtime that cannot bind a directory: $out" ;; esac
  kp_contains "$out" "fake runtime: error mounting"
  out=$(oci_line drop)
  case "$out" in fail*) ;; *) kp_fail "doctor passes a runtime that leaves bind mounts out: $out" ;; esac
  kp_contains "$out" "could not read a host file through a bind mount"
  kp_ok "doctor's probe reads through a read-only bind mount and reports the runtime's failure"

  oci_mount_checks "$work" "$tarball"
  oci_limit_checks "$work" "$tarball"

  k build --name bb >/dev/null
  k --json inspect bb | grep -q '"oci"' || grep -q 'backend = "oci"' karapace.lock ||
    kp_fail "the lock does not record the oci backend"
  [ "$(k exec bb -- echo hello)" = hello ] || kp_fail "exec did not print hello"
  # runc, not our own sandbox, set the container up: its init is the command (PID 1) and the
  # runtime's default masks are in place.
  [ "$(k exec bb -- sh -c 'echo $$')" = 1 ] || kp_fail "the command is not PID 1 of the container"
  k exec bb -- sh -c 'mount | grep -q " /sys/firmware "' || kp_fail "/sys/firmware is not masked as OCI runtimes do"
  kp_ok "an oci environment builds and exec runs through the OCI runtime"

  set +e
  k exec bb -- sh -c 'exit 7'; s=$?
  k exec bb -- no-such-command 2>/dev/null; n=$?
  k exec bb -- /etc/passwd 2>/dev/null; x=$?
  k exec nonexistent-env -- true 2>/dev/null; m=$?
  set -e
  [ $s = 7 ] || kp_fail "exit status 7 came back as $s"
  [ $n = 127 ] || kp_fail "a missing command gave $n, not 127"
  [ $x = 126 ] || kp_fail "a file that is not executable gave $x, not 126"
  [ $m = 125 ] || kp_fail "an unknown environment gave $m, not 125"
  kp_ok "exec returns the command's status, 127, 126 and 125"

  [ "$(echo piped | k exec bb -- cat)" = piped ] || kp_fail "stdin did not reach the command"
  [ "$(k exec bb -- id -u)" = "$(id -u)" ] || kp_fail "exec does not keep the caller's uid"
  [ "$(k exec --root bb -- id -u)" = 0 ] || kp_fail "exec --root is not uid 0"
  [ "$(k exec --env KP_OCI=yes bb -- sh -c 'echo $KP_OCI')" = yes ] || kp_fail "--env did not pass"
  [ "$(k exec bb -- sh -c 'echo $HOME')" = "$HOME" ] || kp_fail "HOME is not the caller's"
  k exec bb -- test -d "$HOME" || kp_fail "the home directory is not shared"
  kp_ok "stdin passes through; keep-id and --root identities; --env; the home directory"

  if command -v script >/dev/null; then
    # runc relays streams through pipes unless it makes a terminal: exec on one must get one.
    out=$(script -qec "$kp --store $store exec bb -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo on-a-terminal'" /dev/null </dev/null 2>&1)
    kp_contains "$out" on-a-terminal
    kp_ok "exec on a terminal runs the command on a terminal"
  else
    echo "# not checked: exec on a terminal (script(1) from bsdutils is not installed)"
  fi

  k exec --root bb -- sh -c 'echo drift > /etc/added; rm /etc/os-release'
  out=$(k --json diff bb)
  kp_contains "$out" '"etc/added"'
  kp_contains "$out" '"etc/os-release"'
  [ "$(k exec bb -- cat /etc/added)" = drift ] || kp_fail "the write did not persist"
  kp_ok "writes land in the writable layer and diff shows them"

  sessions() { k --json inspect bb | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["session_list"]))'; }
  k exec bb -- sleep 3141 >"$work/bg.log" 2>&1 &
  bg=$!
  trap "kp_end_runs \"\$kp\" '$work/store' \${bg:-}" EXIT
  for _ in $(seq 100); do [ "$(sessions)" = 1 ] && break; sleep 0.1; done
  [ "$(sessions)" = 1 ] || kp_fail "a running exec is not a session: $(cat "$work/bg.log")"
  k --json list | grep -q '"running"' || kp_fail "a running exec does not show as running"
  # A second run beside it works, on its own view of the writable layer.
  err=$(k exec bb -- echo beside 2>&1)
  kp_contains "$err" beside
  kp_contains "$err" "running already"
  pid=$(k --json inspect bb | python3 -c 'import json,sys; print(json.load(sys.stdin)["session_list"][0]["pid"])')
  [ "$(tr '\0' ' ' < /proc/$pid/cmdline)" = "sleep 3141 " ] || kp_fail "the session is not the container's init"
  k stop bb --timeout 1 >/dev/null
  set +e
  wait $bg; b=$?
  set -e
  [ $b = 137 ] || kp_fail "the stopped exec returned $b, not 137: $(cat "$work/bg.log")"
  k --json list | grep -q '"running"' && kp_fail "still running after stop"
  [ "$(sessions)" = 0 ] || kp_fail "sessions are left after stop"
  pgrep -u "$(id -u)" -f '^sleep 3141' >/dev/null && kp_fail "a process of the stopped environment survived"
  # (runc runs as root of the user namespace: a sub-id on the host, so any owner counts.)
  pgrep -f '^/[^ ]*(runc|crun) --root /tmp/karapace-oci[.]' >/dev/null && kp_fail "the OCI runtime survived stop"
  ls -d "$store"/env/*/work.* 2>/dev/null && kp_fail "a private work directory was left behind"
  kp_ok "a running exec is a session in inspect and list; stop ends it and leaves no process"

  k freeze bb >/dev/null
  if k exec --root bb -- sh -c 'echo x > /etc/frozen' 2>/dev/null; then
    kp_fail "a frozen environment accepted a write"
  fi
  [ "$(k exec bb -- cat /etc/added)" = drift ] || kp_fail "a frozen environment cannot be read"
  kp_ok "a frozen environment is read-only"
  k destroy bb >/dev/null
  ls /tmp | grep -q "^karapace-oci\." && ls -ld /tmp/karapace-oci.* | grep -q " $(id -un) " &&
    kp_fail "a bundle directory was left in /tmp"
  kp_ok "no bundle directory is left behind"
}

fixtures=$(mktemp -d /tmp/karapace-oci-test.XXXXXX)
chmod 755 "$fixtures"
trap 'rm -rf "$fixtures" 2>/dev/null || true' EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"
# runc, except with host directories bound into the container (every bind but /sys):
# KP_FAKE_RUNTIME=refuse fails as runc does when it cannot bind one, =drop leaves them out. Named
# like runc, so it is started as runc is.
fake=$fixtures/fake-runc
cat > "$fake" <<'PY'
#!/usr/bin/env python3
import json, os, shutil, sys
args = sys.argv[1:]
mode = os.environ.get("KP_FAKE_RUNTIME", "")
if "--bundle" in args:
    path = os.path.join(args[args.index("--bundle") + 1], "config.json")
    config = json.load(open(path))
    keep, hit = [], None
    for m in config["mounts"]:
        if m["type"] == "bind" and m["destination"] != "/sys" and os.path.isdir(m["source"]):
            hit = hit or m
            if mode == "drop":
                continue
        keep.append(m)
    if hit and mode == "refuse":
        with open(args[args.index("--log") + 1], "a") as log:
            msg = "fake runtime: error mounting %s to rootfs at %s: invalid argument"
            log.write(json.dumps({"level": "error", "msg": msg % (hit["source"], hit["destination"])}) + "\n")
        sys.exit(1)
    config["mounts"] = keep
    json.dump(config, open(path, "w"))
runc = shutil.which("runc", path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
os.execv(runc, [runc] + args)
PY
chmod 755 "$fake"

echo "# as $(id -un)"
( oci_checks "$fixtures/self" "$tarball" "$fake" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f oci_checks oci_mount_checks oci_limit_checks kp_fail kp_ok kp_contains kp_kill_tree kp_end_runs); set -euo pipefail; kp=$kp; oci_checks $fixtures/user $tarball $fake"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "oci backend: all checks passed"
