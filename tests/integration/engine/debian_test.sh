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
packages = ["hello"]
TOML
  cd "$dir/proj"
  "$kp" --store "$dir/store" build --name deb
  grep -A2 'name = "hello"' karapace.lock | grep -q 'version = "' ||
    kp_fail "karapace.lock does not record hello's version"
  out=$("$kp" --store "$dir/store" exec deb -- hello)
  [ "$out" = "Hello, world!" ] || kp_fail "hello printed '$out'"
  kp_ok "apt installed hello; the lock records its exact version"

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
