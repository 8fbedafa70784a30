#!/usr/bin/env bash
# `karapace exec` as a systemd service's main process, as root and as the unprivileged test user,
# on a busybox environment: a Type=notify service's READY=1 reaches NOTIFY_SOCKET sent by the
# karapace process itself (what systemd accepts by default), a socket-activated server inside
# answers on descriptor 3 with LISTEN_PID its own pid, JOURNAL_STREAM and INVOCATION_ID pass, and
# SIGTERM ends the command with status 143 leaving nothing behind.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: service_test.sh KARAPACE NOTIFIER}
notifier=${2:?usage: service_test.sh KARAPACE NOTIFIER}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

[ -x /bin/busybox ] || kp_skip "busybox-static is not installed"
command -v python3 >/dev/null || kp_skip "python3 is not installed"

work=$(mktemp -d /tmp/karapace-systemd.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT
sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img" >/dev/null
mkdir -p "$work/tools"
cp "$notifier" "$work/tools/notifier"
chmod -R a+rX "$work"

scenario() {
  local dir=$1 work=$2
  k() { "$kp" --store "$dir/store" "$@"; }
  mkdir -p "$dir/proj"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[mounts]\ntools = "%s:/tools:ro"\n' \
    "$work/img/busybox-rootfs.tar.xz" "$work/tools" > "$dir/proj/karapace.toml"
  cd "$dir/proj"
  k build --name bb >/dev/null
  # The same environment under the OCI backend, where runc runs here.
  local envs="bb:2"
  if command -v runc >/dev/null; then
    mkdir -p "$dir/oci"
    { cat "$dir/proj/karapace.toml"; printf '[runtime]\nbackend = "oci"\n'; } > "$dir/oci/karapace.toml"
    (cd "$dir/oci" && k build --name bo >/dev/null)
    envs="bb:2 bo:1"
  else
    echo "# SKIP the OCI backend half: runc is not installed"
  fi

  local pair env inner
  for pair in $envs; do
    env=${pair%%:*} inner=${pair#*:}
    echo "# environment $env"
    # 1. sd_notify: a listener stands in for systemd and reports who sent what.
    rm -f "$dir/notify"
    out=$(python3 - "$kp" "$dir/store" "$dir/notify" "$env" <<'PY'
import os, socket, struct, subprocess, sys
kp, store, path, env_name = sys.argv[1:5]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
s.bind(path)
s.settimeout(30)
env = dict(os.environ, NOTIFY_SOCKET=path)
p = subprocess.Popen([kp, "--store", store, "exec", env_name, "--", "/tools/notifier",
                      "STATUS=starting", "READY=1\nMAINPID=4242"], env=env)
got = []
try:
    while len(got) < 2:
        data, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
        pid = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", value)[0]
        got.append((data.decode(), pid))
finally:
    status = p.wait()
for data, pid in got:
    print(f"message {data!r} from {'main' if pid == p.pid else pid}")
print(f"status {status}")
PY
  ) || kp_fail "the notify listener failed: $out"
    kp_contains "$out" "message 'STATUS=starting' from main"
    kp_contains "$out" "message 'READY=1\\n' from main"
    kp_contains "$out" "status 0"
    case "$out" in *MAINPID*) kp_fail "MAINPID= was passed on: $out" ;; esac
    kp_ok "READY=1 and STATUS= reach NOTIFY_SOCKET from karapace's own pid; MAINPID= is not passed on"

    # 2. Socket activation through systemd-socket-activate when it is here, else a python launcher.
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    python3 - "$kp" "$dir/store" "$port" "$env" > "$dir/activate.out" 2>&1 <<'PY' &
import os, socket, subprocess, sys
kp, store, port, env_name = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", port))
l.listen(4)
fd = l.fileno()
def child():
    os.dup2(fd, 3)
    os.environ["LISTEN_FDS"] = "1"
    os.environ["LISTEN_FDNAMES"] = "web"
    os.environ["LISTEN_PID"] = str(os.getpid())
os.set_inheritable(fd, True)
# The child sets LISTEN_PID to its own pid after the fork, as systemd does.
pid = os.fork()
if pid == 0:
    child()
    os.execvp(kp, [kp, "--store", store, "exec", env_name, "--", "/tools/notifier", "--serve"])
_, st = os.waitpid(pid, 0)
print("exit", os.waitstatus_to_exitcode(st))
PY
    launcher=$!
    reply=$(python3 - "$port" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
        break
    except OSError:
        time.sleep(0.1)
print(c.makefile().readline().strip())
PY
  )
    wait "$launcher" || true
    kp_contains "$reply" "served by pid $inner names web"
    kp_contains "$(cat "$dir/activate.out")" "exit 0"
    kp_ok "a socket-activated server inside accepts on fd 3 with LISTEN_PID its own pid: $reply"
  done

  # 3. JOURNAL_STREAM and INVOCATION_ID pass.
  out=$(JOURNAL_STREAM=8:1234 INVOCATION_ID=0123456789abcdef0123456789abcdef \
    k exec bb -- sh -c 'echo "$JOURNAL_STREAM $INVOCATION_ID"')
  [ "$out" = "8:1234 0123456789abcdef0123456789abcdef" ] || kp_fail "JOURNAL_STREAM/INVOCATION_ID: '$out'"
  kp_ok "JOURNAL_STREAM and INVOCATION_ID reach the command"

  # 4. SIGTERM, as systemd stops a unit: the command ends, exec exits 143, nothing stays.
  "$kp" --store "$dir/store" exec bb -- sleep 7913 &
  local pid=$!
  for _ in $(seq 50); do pgrep -f "^sleep 7913$" -u "$(id -u)" >/dev/null && break; sleep 0.1; done
  local start=$SECONDS
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  [ "$status" = 143 ] || kp_fail "karapace exec ended with $status after SIGTERM, not 143"
  [ $((SECONDS - start)) -le 2 ] || kp_fail "karapace exec took $((SECONDS - start)) s to stop"
  sleep 0.2
  if pgrep -f "^sleep 7913$" -u "$(id -u)" >/dev/null; then kp_fail "sleep 7913 survived"; fi
  kp_ok "SIGTERM stops the command: status 143 within 2 s, no process left"
}

kp_scenario_both "$work" "$work"
