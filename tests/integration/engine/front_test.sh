#!/usr/bin/env bash
# The static front `karapace` (src/cli/front.hpp): it is started without a dynamic loader; a copy
# of it with only karapace-init beside it runs exec, enter, stop, list and inspect by itself; it
# hands every other command to karapace-full with the same arguments, environment, standard
# streams and exit status; and where karapace-full is missing such a command fails with an error
# that names what is missing, and changes nothing. As the caller and as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=$(realpath "${1:?usage: front_test.sh KARAPACE}")
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
dir=$(dirname "$kp")
[ -x "$dir/karapace-full" ] ||
  kp_skip "this build links karapace dynamically, as one program (no karapace-full beside $kp)"
command -v readelf >/dev/null || kp_skip "readelf (binutils) is not installed"

interp() { readelf -lW "$1" | grep -c 'Requesting program interpreter' || true; }
[ "$(interp "$kp")" = 0 ] || kp_fail "karapace asks for a dynamic loader: $(readelf -lW "$kp" | grep interpreter)"
[ "$(interp "$dir/karapace-full")" = 1 ] || kp_fail "karapace-full is not dynamically linked"
kp_ok "karapace is started without a dynamic loader, karapace-full with one"

work=$(mktemp -d /tmp/karapace-front.XXXXXX)
chmod 755 "$work"
cleanup() {
  kp_end_runs "$kp" "$work/self/store"
  if kp_have_test_user; then
    for env in bb big; do kp_as_user "$kp" --store "$work/user/store" stop "$env" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img")
chmod -R a+rX "$work/img"
scenario() {
  local work=$1 tarball=$2 dir=$3 out s s2 err err2
  mkdir -p "$work/proj" "$work/alone"
  cp "$kp" "$work/alone/karapace"
  cp "$dir/karapace-init" "$work/alone/karapace-init"
  k() { "$kp" --store "$work/store" "$@"; }
  a() { env -u KARAPACE_INIT "$work/alone/karapace" --store "$work/store" "$@"; }
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$work/proj/karapace.toml"
  (cd "$work/proj" && k build --name bb >/dev/null) || kp_fail "build through the front failed"
  [ "$(k --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 1 ] ||
    kp_fail "the environment handed-over build made is not listed"
  kp_ok "build, handed to karapace-full, makes an environment the front lists"

  [ "$(a exec bb -- echo hello)" = hello ] || kp_fail "exec from the front alone did not print hello"
  s=0; a exec bb -- sh -c 'exit 7' || s=$?
  [ $s = 7 ] || kp_fail "exec from the front alone returned $s, not 7"
  [ "$(echo piped | a exec bb -- cat)" = piped ] || kp_fail "exec from the front alone lost stdin"
  [ "$(a enter bb -- sh -c 'echo entered')" = entered ] || kp_fail "enter from the front alone failed"
  out=$(a --json list)
  kp_contains "$out" '"bb"'
  out=$(a inspect bb)
  kp_contains "$out" "bb"
  # A record above 64 KiB (1,500 [env] variables), whose checksum the dynamic CLI would compute
  # with OpenSSL, which the front cannot load.
  mkdir -p "$work/big"
  { printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[env]\n' "$tarball"
    for i in $(seq 1500); do printf 'VAR_%04d = "%050d"\n' "$i" "$i"; done; } > "$work/big/karapace.toml"
  (cd "$work/big" && k build --name big >/dev/null) || kp_fail "build of the environment with 1,500 variables failed"
  [ "$(find "$work/store/metadata" -name '*.json' -size +64k | wc -l)" = 1 ] ||
    kp_fail "no record above 64 KiB: $(ls -l "$work/store/metadata")"
  kp_contains "$(a --json list)" '"big"'
  [ "$(a exec big -- sh -c 'echo $VAR_1500')" = "$(printf '%050d' 1500)" ] ||
    kp_fail "exec from the front alone in the environment with a record above 64 KiB failed"
  a exec bb -- sleep 60 &
  local bg=$! i
  for i in $(seq 100); do
    a --json list | grep -q '"running"' && break
    sleep 0.1
  done
  a stop bb >/dev/null || kp_fail "stop from the front alone failed"
  for i in $(seq 100); do kill -0 $bg 2>/dev/null || break; sleep 0.1; done
  kill -0 $bg 2>/dev/null && kp_fail "stop from the front alone left the running command"
  wait $bg 2>/dev/null || true
  kp_ok "a copy of the front with only karapace-init beside it runs exec, enter, list, inspect and stop, also with a record above 64 KiB"

  # The same failure through the front and from karapace-full directly.
  s=0; err=$(k destroy no-such-env 2>&1 >/dev/null) || s=$?
  s2=0; err2=$("$dir/karapace-full" --store "$work/store" destroy no-such-env 2>&1 >/dev/null) || s2=$?
  [ "$s" = "$s2" ] && [ "$s" != 0 ] || kp_fail "destroy of a missing environment: $s through the front, $s2 directly"
  [ "$err" = "$err2" ] || kp_fail "the front's hand-over changed stderr: '$err' against '$err2'"
  out=$(cd "$work/proj" && k --json pin --check 2>/dev/null) || true
  kp_contains "$out" "\"pinned\": false"
  kp_ok "a handed-over command keeps its exit status ($s), its messages and --json"

  s=0; err=$(cd "$work/proj" && a build --name bb2 2>&1) || s=$?
  if [ $s = 0 ]; then
    # The front also looks in the libexec directory it was built for.
    echo "# SKIP the missing karapace-full: an installed one ran the build"
    return 0
  fi
  kp_contains "$err" "karapace-full, which runs \`karapace build\`, is missing"
  kp_contains "$err" "$work/alone/karapace-full"
  kp_contains "$err" "hint:"
  out=$(a --json commit bb 2>/dev/null) || true
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert "karapace-full" in d["error"]["message"]' "$out" ||
    kp_fail "--json gave no JSON error without karapace-full: $out"
  [ "$(k --json list | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 2 ] ||
    kp_fail "a refused hand-over changed the store"
  [ "$(a exec bb -- echo still)" = still ] || kp_fail "exec failed after a refused hand-over"
  kp_ok "without karapace-full a handed command fails naming it (status $s), with --json too, and changes nothing"
  a stop bb >/dev/null 2>&1 || true
  a stop big >/dev/null 2>&1 || true
}
kp_scenario_both "$work" "$tarball" "$dir"
echo "front: all checks passed"
