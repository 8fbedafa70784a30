#!/usr/bin/env bash
# gc through the real binary: after a destroy it reports the young garbage it keeps (count, bytes,
# the grace period) and how to remove it; --grace 0 removes it, except while another operation is
# at work in the store: a build stalled in its image download (a server that sends a few bytes,
# then nothing) holds the image lock, and gc keeps the default grace and names it. --grace takes
# durations and refuses anything else. Runs as the invoking user, then (as root) as the
# unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: gc_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

command -v python3 >/dev/null || kp_skip "python3 is not installed"

scenario() {
  local work=$1 tarball=$2 sport=$3
  local store="$work/store"
  k() { "$kp" --store "$store" "$@"; }
  json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
  mkdir -p "$work/proj" "$work/stalled"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$work/proj/karapace.toml"
  cd "$work/proj"
  k build --name bb >/dev/null
  k destroy bb >/dev/null

  # Just destroyed: everything it left is younger than 15 minutes. gc says so and how to go on.
  k gc >"$work/out" 2>"$work/err"
  kp_contains "$(cat "$work/out")" "gc removed 0 item(s)"
  kp_contains "$(cat "$work/out")" "younger than the grace period of 15m"
  kp_contains "$(cat "$work/err")" "karapace gc --grace 0"
  out=$(k --json gc --dry-run)
  [ "$(echo "$out" | json 'len(d["kept"])')" -ge 2 ] || kp_fail "gc --json lists no kept items: $out"
  [ "$(echo "$out" | json 'd["kept_bytes"] > 100000')" = True ] || kp_fail "kept_bytes is too small: $out"
  [ "$(echo "$out" | json 'd["grace_seconds"]')" = 900 ] || kp_fail "grace_seconds is not 900: $out"
  [ "$(echo "$out" | json 'sorted({i["kind"] for i in d["kept"]})')" = "['image', 'object']" ] ||
    kp_fail "the kept items are not the image and objects of the destroyed environment: $out"
  [ "$(echo "$out" | json 'all(set(i) == {"kind", "path", "bytes", "age_seconds"} for i in d["kept"])')" = True ] ||
    kp_fail "a kept item lacks kind, path, bytes or age_seconds: $out"
  [ "$(k --json images | json 'len(d)')" = 1 ] || kp_fail "the default gc removed the young image"
  kp_ok "gc reports what it kept for the grace period (count, bytes, 15m) and how to remove it"

  for bad in 10x -1 1.5h 1h30 m; do
    set +e
    err=$(k gc --grace "$bad" 2>&1); s=$?
    set -e
    [ $s = 64 ] || kp_fail "--grace '$bad' gave $s, not 64: $err"
    kp_contains "$err" "is not a duration"
    kp_contains "$err" "--grace 10m"
  done
  [ "$(k --json images | json 'len(d)')" = 1 ] || kp_fail "a refused --grace changed the store"
  out=$(k --json gc --grace 1h30m --dry-run)
  [ "$(echo "$out" | json 'd["grace_seconds"]')" = 5400 ] || kp_fail "--grace 1h30m is not 5400 s: $out"
  kp_ok "--grace takes 0, 90s, 10m, 1h30m and refuses anything else with exit 64, changing nothing"

  # A build stalled in its image download holds the image lock: --grace 0 keeps the default.
  printf 'manifest_version = 1\n[base]\nimage = "http://127.0.0.1:%s/stalled.tar.xz"\n' "$sport" > "$work/stalled/karapace.toml"
  "$kp" --store "$store" build --name stalled "$work/stalled/karapace.toml" >"$work/stalled/log" 2>&1 &
  local builder=$!
  # shellcheck disable=SC2064  # the pid is known now; a failing check below must not leave it
  trap "kill -KILL $builder 2>/dev/null || true" EXIT
  local busy=""
  for _ in $(seq 100); do
    busy=$(k --json gc --grace 0 --dry-run | json '" ".join(d["in_flight"])')
    [ -n "$busy" ] && break
    sleep 0.1
  done
  kp_contains "$busy" "image fetch holding images/locks/"
  k --json gc --grace 0 >"$work/out" 2>"$work/err"
  out=$(cat "$work/out")
  kill -KILL "$builder" 2>/dev/null || true
  wait "$builder" 2>/dev/null || true
  [ "$(echo "$out" | json 'd["grace_seconds"]')" = 900 ] || kp_fail "--grace 0 beside a build did not keep 15m: $out"
  [ "$(echo "$out" | json 'd["images"] + d["objects"]')" = "[]" ] || kp_fail "--grace 0 beside a build removed young garbage: $out"
  [ "$(echo "$out" | json 'len(d["kept"]) >= 2')" = True ] || kp_fail "--grace 0 beside a build kept nothing: $out"
  kp_contains "$(cat "$work/err")" "another operation is at work in the store"
  [ "$(k --json images | json 'len(d)')" = 1 ] || kp_fail "the image went while a build was fetching"
  kp_ok "--grace 0 while a build fetches its image keeps the 15m grace and names the build's lock"

  # Nothing at work: --grace 0 removes it all at once.
  out=$(k --json gc --grace 0)
  [ "$(echo "$out" | json 'd["kept"]')" = "[]" ] || kp_fail "--grace 0 kept items: $out"
  [ "$(echo "$out" | json 'len(d["images"])')" = 1 ] || kp_fail "--grace 0 did not remove the image: $out"
  [ "$(echo "$out" | json 'd["bytes"] > 100000')" = True ] || kp_fail "--grace 0 freed too little: $out"
  [ "$(k --json images | json 'len(d)')" = 0 ] || kp_fail "the image is still cached"
  k verify-store >/dev/null || kp_fail "verify-store fails after gc --grace 0"
  out=$(k gc)
  kp_contains "$out" "gc removed 0 item(s)"
  case "$out" in *kept*) kp_fail "gc reports kept items in an empty store: $out" ;; esac
  kp_ok "--grace 0 with nothing at work removes the destroyed environment's image and objects"
}

fixtures=$(mktemp -d /tmp/karapace-gc.XXXXXX)
chmod 755 "$fixtures"
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  rm -rf "$fixtures" 2>/dev/null || true
}
trap cleanup EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

# An image server that answers, sends a few bytes of a large file, then nothing.
python3 - "$fixtures/sport" <<'PY' &
import http.server, sys, time
class Stall(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(64 << 20))
        self.end_headers()
        self.wfile.write(b"\xfd7zXZ\x00" + b"\x00" * 4096)
        self.wfile.flush()
        time.sleep(300)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stall)
server.daemon_threads = True
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
server=$!
for _ in $(seq 50); do [ -s "$fixtures/sport" ] && break; sleep 0.1; done
sport=$(cat "$fixtures/sport")
[ -n "$sport" ] || kp_fail "the stalling image server did not start"

echo "# as $(id -un)"
( scenario "$fixtures/self" "$tarball" "$sport" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; scenario $fixtures/user $tarball $sport"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "gc: all checks passed"
