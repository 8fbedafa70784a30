#!/usr/bin/env bash
# Runs the store unit tests as the unprivileged test user. Usage: store_unprivileged_test.sh <store_test>
. "$(dirname "$0")/../lib.sh"

store_test=$1
[ -x "$store_test" ] || kp_fail "no test executable at $store_test"
kp_have_test_user || kp_skip "needs root and the test user ${KARAPACE_TEST_USER:-kptest}"
kp_as_user test -x "$store_test" || kp_skip "the test user cannot reach $store_test"

out=$(kp_as_user env TMPDIR=/tmp "$store_test" 2>&1) || {
  echo "$out" | tail -60
  kp_fail "store unit tests failed as $(kp_as_user id -un)"
}
echo "$out" | grep -E "skipped:|not checked" || true
kp_contains "$out" "All tests passed"
kp_ok "store unit tests pass as the unprivileged user"
