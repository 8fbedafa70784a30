#!/usr/bin/env bash
# A real Debian environment: a bookworm minbase rootfs made by mmdebstrap (cached between runs),
# `hello` installed by apt inside the build sandbox, its exact version written to karapace.lock,
# and the lock driving a second build in another store to the same env_id (`--locked`).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: debian_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}

command -v mmdebstrap >/dev/null || kp_skip "mmdebstrap is not installed"
[ "$(id -u)" = 0 ] || [ -w "$cache" ] || kp_skip "cannot write the rootfs cache $cache"
mkdir -p "$cache"
tarball=$(sh "$src/tests/fixtures/make-debian-rootfs.sh" "$cache" 2>"$cache/mmdebstrap.log") ||
  kp_skip "mmdebstrap could not build the rootfs (no mirror?): $(tail -3 "$cache/mmdebstrap.log")"
chmod a+r "$tarball"
work=$(mktemp -d /tmp/karapace-engine-deb.XXXXXX)
chmod 755 "$work"
trap 'rm -rf "$work" 2>/dev/null || true' EXIT

scenario() {
  local dir=$1
  mkdir -p "$dir/proj" "$dir/other"
  cat > "$dir/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[system]
packages = ["hello", "jq"]
TOML
  cd "$dir/proj"
  "$kp" --store "$dir/store" build --name deb
  grep -A2 'name = "hello"' karapace.lock | grep -q 'version = "' ||
    kp_fail "karapace.lock does not record hello's version"
  out=$("$kp" --store "$dir/store" exec deb -- hello)
  [ "$out" = "Hello, world!" ] || kp_fail "hello printed '$out'"
  grep -q 'name = "jq"' karapace.lock || kp_fail "karapace.lock does not record jq"
  [ "$(echo '{"a":41}' | "$kp" --store "$dir/store" exec deb -- jq .a)" = 41 ] || kp_fail "jq did not run"
  kp_ok "apt installed hello and jq; the lock records their exact versions"

  # jq's libraries came in as dependencies: the lock pins them too, at the versions dpkg reports.
  for dep in libjq1 libonig5; do
    want=$("$kp" --store "$dir/store" exec deb -- dpkg-query -W -f '${Version}' "$dep")
    grep -A1 "name = \"$dep\"" karapace.lock | grep -q "version = \"$want\"" ||
      kp_fail "karapace.lock does not pin the dependency $dep at $want"
  done
  grep -q 'name = "dpkg"' karapace.lock && kp_fail "karapace.lock lists dpkg, which the image already had"
  kp_ok "the lock pins the dependencies apt pulled in, and nothing the image already had"

  # The lock alone rebuilds the same environment elsewhere.
  cp karapace.toml karapace.lock "$dir/other/"
  cd "$dir/other"
  "$kp" --store "$dir/store2" --json build --locked > "$dir/locked.json"
  first=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["env_id"])' "$dir/locked.json")
  grep -q "env_id = \"$first\"" "$dir/proj/karapace.lock" ||
    kp_fail "the --locked build gave env_id $first, not the one in the lock"
  cmp -s "$dir/proj/karapace.lock" karapace.lock || kp_fail "--locked rewrote the lock"
  out=$("$kp" --store "$dir/store2" exec "$first" -- hello)
  [ "$out" = "Hello, world!" ] || kp_fail "the locked rebuild cannot run hello"
  kp_ok "build --locked in a new store reproduces the env_id and the lock"

  # A version edited into the lock by hand: the lock's env_id no longer matches its contents, so
  # the build stops before installing anything and says so.
  sed -i '/name = "hello"/,/version/ s/version = ".*"/version = "0.0-nonexistent"/' karapace.lock
  set +e
  err=$("$kp" --store "$dir/store3" build --locked 2>&1); s=$?
  set -e
  [ $s = 2 ] || kp_fail "a hand-edited lock gave status $s, not 2"
  kp_contains "$err" "edited by hand"
  [ "$("$kp" --store "$dir/store3" --json list)" = "[]" ] || kp_fail "an edited lock left an environment"
  kp_ok "a hand-edited locked version is refused before anything is installed"

  # A package that does not exist fails the build, names it, and leaves no environment behind.
  mkdir -p "$dir/bad" && cd "$dir/bad"
  sed 's/"hello", "jq"/"hello", "karapace-no-such-package"/' "$dir/proj/karapace.toml" > karapace.toml
  set +e
  err=$("$kp" --store "$dir/store4" build 2>&1); s=$?
  set -e
  [ $s != 0 ] || kp_fail "a nonexistent package was accepted"
  kp_contains "$err" "karapace-no-such-package"
  [ "$("$kp" --store "$dir/store4" --json list)" = "[]" ] || kp_fail "a failed build left an environment"
  [ -z "$(ls -A "$dir/store4/staging" 2>/dev/null)" ] || kp_fail "a failed build left staging debris"
  kp_ok "a nonexistent package fails the build, is named, and leaves nothing behind"
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
echo "debian environment: all checks passed"
