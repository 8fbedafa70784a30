#!/usr/bin/env bash
# Lean, reproducible layers on a real Debian environment (the cached bookworm minbase image,
# packages from the host's Debian mirror), as root and as the unprivileged test user:
# - hello and jq give a packages layer under 5 MB without apt's indexes, caches or logs;
# - two builds of one lock in two stores give the same packages-layer digest, and a commit of the
#   unchanged environment the same snapshot digest in both;
# - a lock whose recorded archive checksum was edited makes `build --locked` fail, naming the
#   package, and leaves nothing in the store;
# - `apt-get update && apt-get install` works in the built environment (`exec --root`), and
#   `enter --root` says to run `apt-get update` first;
# - a file's mtime survives commit, change and restore.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: layers_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}

command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed"
command -v python3 >/dev/null || kp_skip "python3 is not installed"
[ "$(id -u)" = 0 ] || [ -w "$cache" ] || kp_skip "cannot write the rootfs cache $cache"
mkdir -p "$cache"
tarball=$(sh "$src/tests/fixtures/make-debian-rootfs.sh" "$cache" 2>"$cache/mmdebstrap.log") ||
  kp_skip "mmdebstrap could not build the rootfs (no mirror?): $(tail -3 "$cache/mmdebstrap.log")"
chmod a+r "$tarball"
work=$(mktemp -d /tmp/karapace-layers.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT

scenario() {
  local dir=$1
  # layer STORE ENV: "size digest" of the environment's packages layer.
  layer() {
    "$kp" --store "$1" --json inspect "$2" | python3 -c '
import json, sys
l = [x for x in json.load(sys.stdin)["layers"] if x["kind"] == "packages"]
print(l[0]["size"], l[0]["digest"]) if len(l) == 1 else sys.exit("no packages layer")'
  }
  snapshot() { python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }

  mkdir -p "$dir/proj"
  cat > "$dir/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[system]
packages = ["hello", "jq"]
TOML
  cd "$dir/proj"
  "$kp" --store "$dir/s1" build --name deb >/dev/null
  local size digest
  read -r size digest < <(layer "$dir/s1" deb)
  [ "$size" -lt 5000000 ] || kp_fail "the packages layer of hello and jq has $size bytes, not under 5 MB"
  local listing
  # The layer is stored once, as its unpacked tree (docs/storage-format.md). As the test user,
  # directories only their container owner may read (var/cache/ldconfig, apt's partial/) are
  # not listed; what apt leaves (lists, archives, logs) sits in readable ones.
  listing=$(cd "$dir/s1/layers-unpacked/${digest#sha256:}" && { find . -mindepth 1 2>/dev/null || true; } | sed 's|^\./||')
  if echo "$listing" | grep -E '^(\./)?var/(lib/apt/lists|cache/apt|log/apt)/.' >"$dir/kept"; then
    kp_fail "the packages layer holds apt's indexes, caches or logs: $(head -5 "$dir/kept")"
  fi
  echo "$listing" | grep -q '^usr/bin/jq$' || kp_fail "the packages layer lacks usr/bin/jq"
  [ "$("$kp" --store "$dir/s1" exec deb -- hello)" = "Hello, world!" ] || kp_fail "hello does not run"
  [ "$(echo '{"a":41}' | "$kp" --store "$dir/s1" exec deb -- jq .a)" = 41 ] || kp_fail "jq does not run"
  kp_ok "hello and jq: a packages layer of $size bytes without apt's indexes, caches or logs; both run"

  # Two builds of the lock in two new stores from the same cached image.
  grep -q '^source_date_epoch = [0-9]' karapace.lock || kp_fail "the lock records no source_date_epoch"
  local n d
  for n in 2 3; do
    mkdir -p "$dir/copy$n"
    cp karapace.toml karapace.lock "$dir/copy$n/"
    (cd "$dir/copy$n" && "$kp" --store "$dir/s$n" build --locked --name deb >/dev/null)
    read -r _ d < <(layer "$dir/s$n" deb)
    [ "$d" = "$digest" ] || kp_fail "build --locked in store $n gave the packages layer $d, the first build $digest"
  done
  kp_ok "three builds of one lock in three stores: one packages-layer digest ($digest)"
  local c2 c3
  "$kp" --store "$dir/s2" exec deb -- true
  "$kp" --store "$dir/s3" exec deb -- true
  c2=$("$kp" --store "$dir/s2" --json commit deb | snapshot)
  c3=$("$kp" --store "$dir/s3" --json commit deb | snapshot)
  [ "$c2" = "$c3" ] || kp_fail "commits of the unchanged environment differ: $c2 vs $c3"
  kp_ok "a commit of the unchanged environment has one digest in both stores"

  # An archive checksum edited in the lock: the downloaded hello no longer matches it.
  mkdir -p "$dir/edited"
  cp karapace.toml karapace.lock "$dir/edited/"
  grep -A4 'name = "hello"' karapace.lock | grep -q '^sha256 = "[0-9a-f]\{64\}"' ||
    kp_fail "the lock records no archive checksum for hello"
  sed -i '/name = "hello"/,/^sha256/ s/^sha256 = ".*"/sha256 = "'"$(printf '%064d' 0)"'"/' "$dir/edited/karapace.lock"
  cmp -s karapace.lock "$dir/edited/karapace.lock" && kp_fail "the checksum edit changed nothing"
  local err s
  set +e
  err=$(cd "$dir/edited" && "$kp" --store "$dir/s4" build --locked 2>&1); s=$?
  set -e
  [ $s != 0 ] || kp_fail "build --locked accepted a package that does not match the lock's checksum"
  kp_contains "$err" "package hello 2.10"
  kp_contains "$err" "karapace.lock records $(printf '%064d' 0)"
  [ "$("$kp" --store "$dir/s4" --json list)" = "[]" ] || kp_fail "the refused build left an environment"
  [ -z "$(ls -A "$dir/s4/layers" 2>/dev/null)" ] || kp_fail "the refused build stored a layer"
  [ -z "$(ls -A "$dir/s4/staging" 2>/dev/null)" ] || kp_fail "the refused build left staging debris"
  kp_ok "an edited archive checksum fails build --locked, names hello, and stores nothing"

  # The environment's apt still installs, after `apt-get update`; enter --root says so first.
  err=$(echo exit | "$kp" --store "$dir/s1" enter --root deb 2>&1 >/dev/null) || true
  kp_contains "$err" "apt-get update"
  "$kp" --store "$dir/s1" exec --root deb -- sh -c 'apt-get update >/dev/null && apt-get install -y cowsay >/dev/null' ||
    kp_fail "apt-get update && apt-get install -y cowsay failed in the built environment"
  "$kp" --store "$dir/s1" exec deb -- /usr/games/cowsay moo | grep -q moo || kp_fail "cowsay does not run"
  err=$(echo exit | "$kp" --store "$dir/s1" enter --root deb 2>&1 >/dev/null) || true
  case "$err" in *"apt-get update"*) kp_fail "enter --root still asks for apt-get update after it ran" ;; esac
  kp_ok "apt-get update && apt-get install -y cowsay works after the build; enter --root says to update first"

  # Snapshots keep mtimes.
  "$kp" --store "$dir/s2" exec --root deb -- sh -c \
    'mkdir -p /opt/work && echo one > /opt/work/f && touch -d @1700000000 /opt/work/f && touch -d @1700000100 /opt/work'
  local snap
  snap=$("$kp" --store "$dir/s2" --json commit deb | snapshot)
  "$kp" --store "$dir/s2" exec --root deb -- sh -c 'echo two > /opt/work/f'
  "$kp" --store "$dir/s2" restore deb "$snap" >/dev/null
  [ "$("$kp" --store "$dir/s2" exec deb -- cat /opt/work/f)" = one ] || kp_fail "restore did not bring the content back"
  local times
  times=$("$kp" --store "$dir/s2" exec deb -- stat -c %Y /opt/work/f /opt/work | tr '\n' ' ')
  [ "$times" = "1700000000 1700000100 " ] || kp_fail "restored mtimes are $times, not 1700000000 1700000100"
  kp_ok "a committed file and directory get their mtimes back on restore"
}

echo "# as $(id -un)"
( scenario "$work/self" )
if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$work/user" && chown "$user" "$work/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; tarball=$tarball; scenario $work/user"
else
  echo "# skipped the unprivileged run: not root or no test user"
fi
echo "layers: all checks passed"
