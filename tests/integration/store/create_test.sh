#!/usr/bin/env bash
# Making a new store while others look at it, through the real binary. A process that makes a
# store holds store/create-lock from its first directory to its version file, written last; one
# that finds a store/ directory with more than a blank one holds but no version file waits for
# that lock before it calls the store damaged. The D-Bus service's kept summaries
# (store/list-cache.json, a cache it writes whenever store/ exists) do not make a store "hold
# data". Runs as the invoking user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: create_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}
command -v flock >/dev/null || kp_skip "flock (util-linux) is not installed"

work=$(mktemp -d)
holder=
waiter=
cleanup() {
  [ -n "$holder" ] && kill -KILL "$holder" 2>/dev/null
  [ -n "$waiter" ] && kill -KILL "$waiter" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$work/img")
mkdir -p "$work/proj"
printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n' "$tarball" > "$work/proj/karapace.toml"
cd "$work/proj"

# 1. A store/ that holds only the service's kept summaries (it wrote them while another process
# was making the store, or before any did): a build makes the store in it.
store=$work/s1
mkdir -p "$store/store"
printf '{"format":1,"environments":[]}\n' > "$store/store/list-cache.json"
out=$("$kp" --store "$store" build --name bb 2>&1) || kp_fail "build into a store/ holding only list-cache.json: $out"
grep -q '"format_version"' "$store/store/version" || kp_fail "no version file after the build"
kp_ok "the D-Bus service's kept summaries do not make a store without a version damaged"

# 2. A store being made: something in store/ beside its blank entries, no version file yet, the
# creation lock held (by a shell that becomes `sleep`, so that killing it frees the lock). A
# build waits for the lock and then uses the version the maker wrote.
store=$work/s2
mkdir -p "$store/store"
(exec 9>"$store/store/create-lock" && flock 9 && exec sleep 60) &
holder=$!
for _ in $(seq 100); do flock -n "$store/store/create-lock" true 2>/dev/null || break; sleep 0.05; done
flock -n "$store/store/create-lock" true 2>/dev/null && kp_fail "the test could not hold the creation lock"
: > "$store/store/data"  # anything a maker puts in store/ before its version file
"$kp" --store "$store" build --name bb > "$work/build.out" 2>&1 &
waiter=$!
sleep 0.5
kill -0 "$waiter" 2>/dev/null || kp_fail "build did not wait for the creation lock: $(cat "$work/build.out")"
rm -f "$store/store/data"
printf '{\n  "format_version": 4\n}\n' > "$store/store/version"
kill -KILL "$holder"
wait "$holder" 2>/dev/null || true
holder=
wait "$waiter" || kp_fail "build failed once the store was made: $(cat "$work/build.out")"
waiter=
"$kp" --store "$store" list | grep -q bb || kp_fail "the build's environment is not listed"
kp_ok "a store being made is used once its maker is done, not called damaged"

# 3. The same without a maker: damaged, and said so at once.
store=$work/s3
mkdir -p "$store/store"
: > "$store/store/stray"
if out=$("$kp" --store "$store" build --name bb 2>&1); then kp_fail "build accepted a store without a version file: $out"; fi
kp_contains "$out" "is missing but the store holds data"
kp_ok "a store without a version file and nobody making it is refused"

# 4. The same in a store/ the caller may not write (no creation lock to be had): the same answer,
# not an error about the lock. As the test user (root writes anyway).
if kp_have_test_user; then
  store=$work/s4
  mkdir -p "$store/store"
  : > "$store/store/stray"
  chown -R "${KARAPACE_TEST_USER:-kptest}" "$store" "$work/proj"
  chmod 755 "$work"
  chmod 500 "$store/store"
  if out=$(cd "$work/proj" && kp_as_user "$kp" --store "$store" build --name bb 2>&1); then
    kp_fail "build accepted a read-only store without a version file: $out"
  fi
  kp_contains "$out" "is missing but the store holds data"
  kp_ok "a read-only store without a version file is refused for what it is"
else
  echo "# SKIP part 4: no test user (run as root with KARAPACE_TEST_USER)"
fi
echo "create: all checks passed"
