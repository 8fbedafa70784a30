#!/usr/bin/env bash
# Environments are ordinary OCI images, both ways, with the tools people already use. A busybox
# environment with a committed file is pushed by `karapace push`; then
# - podman pulls it and `podman run` prints the file; `skopeo inspect` shows its labels;
#   `skopeo copy … oci:DIR` takes it and `umoci unpack` gives a rootfs holding the file;
# - it is mirrored by `podman push` (gzip, annotations dropped) and by `skopeo copy
#   --dest-compress-format gzip` and `zstd`, each to a registry of its own (so no tool can reuse
#   the uncompressed blobs), and `karapace pull` of every mirror, into fresh stores, gives the
#   environment of a direct pull: the same env_id, the same store objects, the file, a clean
#   verify-store. The pulls run as the invoking user, then (as root) as the unprivileged test user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: interop_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

for tool in docker-registry skopeo umoci podman runc curl; do
  command -v "$tool" >/dev/null || kp_skip "$tool is not installed (scripts/setup installs it)"
done

fixtures=$(mktemp -d /tmp/karapace-interop.XXXXXX)
chmod 755 "$fixtures"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$fixtures" 2>/dev/null || true
}
trap cleanup EXIT

declare -A ports
for r in src podman gzip zstd; do
  ports[$r]=$(kp_start_registry "$fixtures/reg-$r")
  pids+=("$(cat "$fixtures/reg-$r/pid")")
done
reg=127.0.0.1:${ports[src]}
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"

k() { "$kp" --store "$fixtures/store" "$@"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
mkdir -p "$fixtures/proj"
cat > "$fixtures/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
TOML
(cd "$fixtures/proj" && k build --name interop >/dev/null)
k exec --root interop -- sh -c 'echo written-in-karapace > /etc/interop-file'
k commit interop >/dev/null
id=$(k --json inspect interop | json '["env_id"]')
k push interop --remote "http://$reg" --tag team/interop:v1 >/dev/null
kp_ok "karapace push of an environment with a committed file"

# podman with its own storage (vfs) in the fixtures; runc and cgroupfs work where systemd does
# not run. The limits stay below the caller's: without CAP_SYS_RESOURCE runc may not raise them.
P=(podman --root "$fixtures/podman/root" --runroot "$fixtures/podman/run" --storage-driver vfs
  --runtime runc --cgroup-manager cgroupfs --events-backend file)
"${P[@]}" pull -q --tls-verify=false "$reg/team/interop:v1" >/dev/null ||
  kp_fail "podman pull of a karapace image failed"
set +e
out=$("${P[@]}" run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 \
  "$reg/team/interop:v1" cat /etc/interop-file 2>&1); s=$?
set -e
[ $s = 0 ] || kp_fail "podman run of the pulled image failed ($s): $out"
[ "$out" = written-in-karapace ] || kp_fail "podman run printed '$out', not the committed file"
kp_ok "podman pull + podman run print the file committed in the environment"

labels=$(skopeo inspect --tls-verify=false "docker://$reg/team/interop:v1")
[ "$(echo "$labels" | json '["Labels"]["org.karapace.env-id"]')" = "$id" ] ||
  kp_fail "skopeo inspect does not show the env-id label: $labels"
[ "$(echo "$labels" | json '["Labels"]["org.karapace.layers"]')" = "base snapshot" ] ||
  kp_fail "skopeo inspect does not show the layers' roles: $labels"
lock=$(echo "$labels" | json '["Labels"]["org.karapace.lock"]')
kp_contains "$lock" "$id"
kp_ok "skopeo inspect shows the environment's labels"

skopeo copy -q --src-tls-verify=false "docker://$reg/team/interop:v1" "oci:$fixtures/layout:interop" ||
  kp_fail "skopeo copy to an OCI layout refused the image"
umoci unpack --image "$fixtures/layout:interop" "$fixtures/bundle" >/dev/null ||
  kp_fail "umoci could not unpack the OCI layout skopeo wrote"
[ "$(cat "$fixtures/bundle/rootfs/etc/interop-file")" = written-in-karapace ] ||
  kp_fail "the rootfs umoci unpacked lacks the committed file"
kp_ok "skopeo copy to oci:DIR takes the image, and umoci unpacks it with the file"

# Mirrors. Each goes to its own registry, so the tools compress instead of reusing a blob.
"${P[@]}" push -q --tls-verify=false --compression-format gzip "$reg/team/interop:v1" \
  "127.0.0.1:${ports[podman]}/mirror/interop:v1" || kp_fail "podman push failed"
for c in gzip zstd; do
  skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --dest-compress \
    --dest-compress-format "$c" "docker://$reg/team/interop:v1" \
    "docker://127.0.0.1:${ports[$c]}/mirror/interop:v1" || kp_fail "skopeo copy ($c) failed"
done
# What the mirrors hold: compressed layers, no annotations from podman.
for m in podman:gzip gzip:gzip zstd:zstd; do
  r=${m%%:*} c=${m#*:}
  curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
    "http://127.0.0.1:${ports[$r]}/v2/mirror/interop/manifests/v1" > "$fixtures/$r.json"
  python3 - "$fixtures/$r.json" "$c" "$r" <<'PY' || kp_fail "the $r mirror did not recompress the layers"
import json, sys
m = json.load(open(sys.argv[1]))
want, which = sys.argv[2], sys.argv[3]
types = [l["mediaType"] for l in m["layers"]]
assert all(t.endswith(want) or t.endswith("tar." + want) for t in types), types
if which == "podman":
    assert not any("annotations" in l for l in m["layers"]), m["layers"]
PY
done
kp_ok "podman push (gzip, annotations dropped) and skopeo copy (gzip, zstd) recompressed the layers"

scenario() {
  local work=$1 id=$2 reg=$3 pp=$4 gp=$5 zp=$6
  cd /
  local out
  out=$("$kp" --store "$work/direct" --json pull "$reg/team/interop:v1")
  [ "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')" = "$id" ] ||
    kp_fail "direct pull gave another env_id: $out"
  (cd "$work/direct/objects" && find . -type f | sort) > "$work/direct.objects"
  local m port
  for m in podman:$pp gzip:$gp zstd:$zp; do
    port=${m#*:}
    out=$("$kp" --store "$work/${m%%:*}" --json pull "127.0.0.1:$port/mirror/interop:v1") ||
      kp_fail "pull of the ${m%%:*} mirror failed: $out"
    [ "$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')" = "$id" ] ||
      kp_fail "pull of the ${m%%:*} mirror gave another env_id: $out"
    [ "$("$kp" --store "$work/${m%%:*}" exec interop -- cat /etc/interop-file)" = written-in-karapace ] ||
      kp_fail "the environment pulled from the ${m%%:*} mirror lacks the committed file"
    "$kp" --store "$work/${m%%:*}" verify-store >/dev/null ||
      kp_fail "verify-store fails after the pull of the ${m%%:*} mirror"
    (cd "$work/${m%%:*}/objects" && find . -type f | sort) > "$work/${m%%:*}.objects"
    cmp -s "$work/direct.objects" "$work/${m%%:*}.objects" ||
      kp_fail "the ${m%%:*} mirror gave other store objects than a direct pull: $(diff "$work/direct.objects" "$work/${m%%:*}.objects" | head -5)"
    kp_ok "karapace pull of the ${m%%:*} mirror: same env_id and store objects as a direct pull, runs, verifies"
  done
}
mkdir -p "$fixtures/pull"
kp_scenario_both "$fixtures/pull" "$id" "$reg" "${ports[podman]}" "${ports[gzip]}" "${ports[zstd]}"
echo "remote-interop: all checks passed"
