# Busybox image fixtures for the D-Bus tests. Source after bus_env.sh.
# kp_busybox_manifest DIR [URL]: writes DIR/karapace.toml for the busybox rootfs (a file:// URL to
# a tarball built by tests/fixtures/make-busybox-rootfs.sh unless URL is given); prints its path.

KP_FIXTURES=${KARAPACE_SOURCE_ROOT:-$(cd "$(dirname "$0")/../../.." && pwd)}/tests/fixtures

kp_busybox_tarball() {
  if [ -z "${KP_BUSYBOX_TAR:-}" ]; then
    [ -x /bin/busybox ] || kp_skip "busybox-static is not installed (apt install busybox-static)"
    KP_BUSYBOX_TAR=$(sh "$KP_FIXTURES/make-busybox-rootfs.sh" "$KP_TMP/images" | tail -n 1)
    [ -f "$KP_BUSYBOX_TAR" ] || kp_fail "make-busybox-rootfs.sh produced no tarball"
  fi
  echo "$KP_BUSYBOX_TAR"
}

kp_busybox_manifest() {
  local dir=$1 url=${2:-}
  [ -n "$url" ] || url="file://$(kp_busybox_tarball)"
  mkdir -p "$dir"
  cat > "$dir/karapace.toml" <<TOML
manifest_version = 1

[base]
image = "$url"
TOML
  echo "$dir/karapace.toml"
}

# Serves the busybox tarball over HTTP; responses for it wait DELAY seconds, and with RATE their
# bodies arrive at RATE bytes per second. Prints the URL. The exit trap stops the server; should
# the test be killed outright, the server still goes when the test's shell ($$) is gone.
kp_serve_busybox() {
  local delay=${1:-0} rate=${2:-} tar
  tar=$(kp_busybox_tarball)
  python3 "$KP_FIXTURES/serve.py" "$(dirname "$tar")" --port-file "$KP_TMP/port" \
    --delay "busybox=$delay" ${rate:+--rate "busybox=$rate"} --exit-with $$ >"$KP_TMP/serve.log" 2>&1 &
  kp_bg $!
  for _ in $(seq 1 100); do [ -s "$KP_TMP/port" ] && break; sleep 0.05; done
  [ -s "$KP_TMP/port" ] || kp_fail "serve.py did not start: $(cat "$KP_TMP/serve.log")"
  echo "http://127.0.0.1:$(cat "$KP_TMP/port")/$(basename "$tar")"
}
