#!/usr/bin/env bash
# Fetch + unpack of a multi-layer OCI image from a docker-registry on 127.0.0.1, side by side in
# one run: `karapace build` of `image = "docker://…"` into a fresh store (manifest, layers,
# checks, the flattened rootfs in the image cache; the environment itself adds no layer), `skopeo
# copy docker://… oci:DIR && umoci unpack`, and `podman pull` into fresh vfs storage. Then a
# second image sharing the base layers: the bytes each tool transfers for it. Not a timed test:
# it prints a markdown table for docs/performance.md.
#
# The image, made by umoci and pushed by skopeo with gzip layers: the Debian bookworm minbase
# rootfs (tests/fixtures/make-debian-rootfs.sh, ~170 MB unpacked), then /usr/share/perl5 and
# /usr/share/zoneinfo of this host as a second layer, then a third layer that changes a file and
# deletes one (a whiteout). The second image adds a small fourth layer to it.
#
# Usage: tests/bench/oci_fetch_bench.sh <karapace binary> [runs]
set -euo pipefail
KP=$(realpath "${1:?usage: oci_fetch_bench.sh <karapace binary> [runs]}")
RUNS=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
. "$here/bench_lib.sh"
cache=${KARAPACE_TEST_CACHE:-/var/cache/karapace-tests}
bench_need docker-registry curl python3 skopeo umoci podman runc
[ "$(id -u)" = 0 ] || { echo "SKIP: run as root (podman with vfs storage, umoci unpack)"; exit 77; }
tarball=$(bench_debian_tarball "$cache") || exit 77
. "$here/../integration/lib.sh"
bench_workdir kp-oci-bench
port=$(kp_start_registry "$W/reg")
registry=$(cat "$W/reg/pid")
reg=127.0.0.1:$port

(
  cd "$W"
  umoci init --layout lay
  umoci new --image lay:base
  umoci unpack --image lay:base bundle
  tar -xf "$tarball" -C bundle/rootfs
  umoci repack --refresh-bundle --image lay:img bundle
  mkdir -p bundle/rootfs/usr/share/extra
  cp -a /usr/share/perl5 /usr/share/zoneinfo bundle/rootfs/usr/share/extra/
  umoci repack --refresh-bundle --image lay:img bundle
  echo changed > bundle/rootfs/etc/motd
  rm -f bundle/rootfs/etc/issue.net
  umoci repack --refresh-bundle --image lay:img bundle
  echo second > bundle/rootfs/etc/second-image
  umoci repack --refresh-bundle --image lay:img2 bundle
) >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$W/lay:img" "docker://$reg/bench/img:v1"
skopeo copy -q --dest-tls-verify=false "oci:$W/lay:img2" "docker://$reg/bench/img:v2"
unpacked=$(du -sb "$W/bundle/rootfs" | cut -f1)
compressed=$(skopeo inspect --tls-verify=false --raw "docker://$reg/bench/img:v1" |
  python3 -c 'import json,sys; m=json.load(sys.stdin); print(sum(l["size"] for l in m["layers"]), len(m["layers"]))')
rm -rf "$W/bundle" "$W/lay"

P=(podman --root "$W/podman/root" --runroot "$W/podman/run" --storage-driver vfs
  --runtime runc --cgroup-manager cgroupfs --events-backend file)
fresh() { rm -rf "$W/store" "$W/oci" "$W/unpacked" "$W/podman"; sync; }
ours() {
  mkdir -p "$W/proj"
  printf 'manifest_version = 1\n[base]\nimage = "docker://%s/bench/img:%s"\n' "$reg" "$1" > "$W/proj/karapace.toml"
  (cd "$W/proj" && "$KP" --store "$W/store" build "${@:2}" >/dev/null)
}
theirs_skopeo() {
  skopeo copy -q --src-tls-verify=false "docker://$reg/bench/img:$1" "oci:$W/oci:$1" &&
    umoci unpack --image "$W/oci:$1" "$W/unpacked-$1" >/dev/null
}
theirs_podman() { "${P[@]}" pull -q --tls-verify=false "$reg/bench/img:$1" >/dev/null; }
# Seconds for one run of "$@", after `fresh`.
timed() {
  fresh
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.3f}')"
}
median() { python3 -c 'import statistics,sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.2f}")' "$@"; }

declare -a k s p
for _ in $(seq "$RUNS"); do
  k+=("$(timed ours v1)")
  s+=("$(timed theirs_skopeo v1)")
  p+=("$(timed theirs_podman v1)")
  rm -rf "$W/unpacked-v1"
done
mk=$(median "${k[@]}") ms=$(median "${s[@]}") mp=$(median "${p[@]}")
# Where karapace's time goes: the steps of one more run, from its --json progress events.
fresh
mkdir -p "$W/proj"
printf 'manifest_version = 1\n[base]\nimage = "docker://%s/bench/img:v1"\n' "$reg" > "$W/proj/karapace.toml"
(cd "$W/proj" && "$KP" --store "$W/store" --json build >/dev/null 2>"$W/events")
steps=$(python3 - "$W/events" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "done" and e["seconds"] >= 0.05:
        print(f"| {e['description'][:60]} | {e['seconds']:.2f} s |")
PY
)

# The second image after the first: bytes each tool fetched for it (registry blob GETs).
bytes_fetched() {  # LOG-OFFSET: bytes of blob bodies the registry sent since the offset
  python3 - "$W/reg/log" "$1" <<'PY'
import re, sys
log, off = sys.argv[1], int(sys.argv[2])
data = open(log, errors="replace").read()[off:]
total = 0
for line in data.splitlines():
    if "GET /v2/" in line and "/blobs/sha256:" in line:
        m = re.search(r'" 20[06] (\d+)', line)
        if m: total += int(m.group(1))
print(total)
PY
}
fresh
ours v1
off=$(stat -c %s "$W/reg/log")
ours v2 -v 2>"$W/ours-v2.err"
kb=$(bytes_fetched "$off")
knote=$(sed -n 's/.*: \([0-9]* of [0-9]*\) layer bytes fetched.*/\1/p' "$W/ours-v2.err")
theirs_skopeo v1
off=$(stat -c %s "$W/reg/log")
theirs_skopeo v2
sb=$(bytes_fetched "$off")
theirs_podman v1
off=$(stat -c %s "$W/reg/log")
theirs_podman v2
pb=$(bytes_fetched "$off")

echo
echo "Image: $(python3 -c "print(f'{$unpacked/1e6:.0f}')") MB unpacked, ${compressed% *} bytes in ${compressed#* } gzip layers; $RUNS runs each, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| fetch + unpack into a fresh store | median | runs (s) |"
echo "|---|---:|---|"
echo "| karapace build (docker://) | ${mk} s | ${k[*]} |"
echo "| skopeo copy to oci: + umoci unpack | ${ms} s | ${s[*]} |"
echo "| podman pull (vfs) | ${mp} s | ${p[*]} |"
echo
echo "karapace / skopeo+umoci: $(python3 -c "print(f'{$mk/$ms:.2f}')")x; karapace / podman: $(python3 -c "print(f'{$mk/$mp:.2f}')")x"
echo
echo "| karapace build, step (one more run) | seconds |"
echo "|---|---:|"
echo "$steps"
echo
echo "| second image, sharing the first three layers | blob bytes the registry sent |"
echo "|---|---:|"
echo "| karapace build ($knote layer bytes fetched, says the build) | $kb |"
echo "| skopeo copy to the same oci: layout | $sb |"
echo "| podman pull into the same storage | $pb |"
