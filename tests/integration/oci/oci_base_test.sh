#!/usr/bin/env bash
# docker:// base images from Debian's docker-registry on 127.0.0.1. A two-layer image made by
# umoci from the busybox rootfs (the second layer deletes a file and replaces a directory, so it
# carries whiteouts) is pushed by skopeo with gzip and with zstd layers and built (uncompressed
# layers come from a hand-made image); pin
# gives @sha256: and `build --locked` in a fresh store gives the same env_id; an index picks this
# machine's platform or lists what it has; a second image sharing the base layer fetches only its
# own; broken and hostile images fail clearly and leave nothing in the store. Runs as the invoking
# user, then (as root) as the unprivileged test user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: oci_base_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

for tool in docker-registry skopeo umoci curl zstd htpasswd; do
  command -v "$tool" >/dev/null || kp_skip "$tool is not installed (scripts/setup installs it)"
done
case "$(dpkg --print-architecture 2>/dev/null || uname -m)" in
  amd64|x86_64) arch=amd64 other=arm64 ;;
  arm64|aarch64) arch=arm64 other=amd64 ;;
  *) kp_skip "the index checks know amd64 and arm64 hosts only" ;;
esac

fixtures=$(mktemp -d /tmp/karapace-oci.XXXXXX)
chmod 755 "$fixtures"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$fixtures" 2>/dev/null || true
}
trap cleanup EXIT

port=$(kp_start_registry "$fixtures/reg")
pids+=("$(cat "$fixtures/reg/pid")")
htpasswd -Bbc "$fixtures/htpasswd" alice s3cret 2>/dev/null
aport=$(kp_start_registry "$fixtures/areg" "$fixtures/htpasswd")
pids+=("$(cat "$fixtures/areg/pid")")
reg="127.0.0.1:$port"

# The image, made by third-party tools: umoci from the busybox rootfs, then a second layer.
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
rootless=; [ "$(id -u)" -eq 0 ] || rootless=--rootless
(
  cd "$fixtures"
  umoci init --layout lay
  umoci new --image lay:bb
  umoci unpack $rootless --image lay:bb bundle
  tar -xJf "$tarball" -C bundle/rootfs
  echo doomed > bundle/rootfs/etc/doomed
  mkdir -p bundle/rootfs/opt/d && echo old > bundle/rootfs/opt/d/old
  umoci repack --image lay:bb bundle
  rm bundle/rootfs/etc/doomed
  rm -rf bundle/rootfs/opt/d && mkdir bundle/rootfs/opt/d && echo new > bundle/rootfs/opt/d/new
  echo added > bundle/rootfs/etc/added
  umoci repack --image lay:bb bundle
  # The image config asks for an environment, a working directory and a user.
  umoci config --image lay:bb --config.env FROM_IMAGE=umoci --config.env HOME=/image-home \
    --config.env PATH=/opt/d:/usr/bin:/bin --config.workingdir /opt/d --config.user 4321
) >/dev/null || kp_fail "umoci could not make the test image"
sk() { skopeo copy -q --dest-tls-verify=false "$@" >/dev/null; }
sk "oci:$fixtures/lay:bb" "docker://$reg/t/bb:v1" || kp_fail "skopeo could not push the gzip image"
# skopeo writes zstd into an OCI layout (not straight to a registry), from uncompressed layers.
sk --dest-decompress "oci:$fixtures/lay:bb" "oci:$fixtures/plain:bb" &&
  sk --dest-compress --dest-compress-format zstd "oci:$fixtures/plain:bb" "oci:$fixtures/zst:bb" &&
  sk "oci:$fixtures/zst:bb" "docker://$reg/t/bbz:v1" || kp_fail "skopeo could not push the zstd image"
media() { skopeo inspect --raw --tls-verify=false "docker://$reg/$1" | python3 -c 'import json,sys; print(" ".join(l["mediaType"] for l in json.load(sys.stdin)["layers"]))'; }
kp_contains "$(media t/bb:v1)" "tar+gzip"
kp_contains "$(media t/bbz:v1)" "tar+zstd"
push() { python3 "$here/oci_push.py" "http://$reg" "$@"; }
manifest_of() { skopeo inspect --tls-verify=false --raw "docker://$reg/$1" | sha256sum | cut -d' ' -f1; }
ours=$(manifest_of t/bb:v1)
theirs=$(manifest_of t/bbz:v1)
# An index names manifests of its own repository.
sk "oci:$fixtures/lay:bb" "docker://$reg/t/bbz:gz" || kp_fail "skopeo could not push the gzip image"
push t/bbz multi "{\"index\": [[\"$other\", \"sha256:$theirs\"], [\"$arch\", \"sha256:$ours\"]]}" >/dev/null
push t/bbz foreign "{\"index\": [[\"$other\", \"sha256:$theirs\"], [\"s390x\", \"sha256:$theirs\"]]}" >/dev/null
# Two images sharing a base layer (deterministic gzip, so the same blob).
base="{\"compress\": \"gzip\", \"entries\": [{\"name\": \"bin\", \"dir\": true}, {\"name\": \"bin/blob\", \"random\": 300000}]}"
push t/one v1 "{\"arch\": \"$arch\", \"layers\": [$base, {\"compress\": \"none\", \"entries\": [{\"name\": \"one\", \"data\": \"1\"}]}]}" >/dev/null
push t/two v1 "{\"arch\": \"$arch\", \"layers\": [$base, {\"compress\": \"zstd\", \"entries\": [{\"name\": \"two\", \"data\": \"2\"}]}]}" >/dev/null
# Broken and hostile images.
# bad/shared: t/one's base layer under a second layer whose diff_id is wrong.
push bad/shared v1 "{\"arch\": \"$arch\", \"bad_diff_id\": true, \"layers\": [$base, {\"compress\": \"none\", \"entries\": [{\"name\": \"s\", \"data\": \"s\"}]}]}" >/dev/null
push bad/diffid v1 "{\"arch\": \"$arch\", \"bad_diff_id\": true, \"layers\": [{\"entries\": [{\"name\": \"a\", \"data\": \"a\"}]}]}" >/dev/null
push bad/dotdot v1 "{\"arch\": \"$arch\", \"layers\": [{\"entries\": [{\"name\": \"../escape\", \"data\": \"x\"}]}]}" >/dev/null
push bad/whiteout v1 "{\"arch\": \"$arch\", \"layers\": [{\"entries\": [{\"name\": \"link\", \"symlink\": \"/\"}]}, {\"entries\": [{\"name\": \"link/.wh.etc\"}]}]}" >/dev/null
# docker-registry refuses to store a 5 MB manifest: a stand-in serves one.
python3 "$here/huge_registry.py" > "$fixtures/hport" &
pids+=("$!")
for _ in $(seq 50); do [ -s "$fixtures/hport" ] && break; sleep 0.1; done
hport=$(cat "$fixtures/hport")
[ -n "$hport" ] || kp_fail "the huge-manifest registry did not start"
push bad/tamper v1 "{\"arch\": \"$arch\", \"layers\": [{\"compress\": \"none\", \"entries\": [{\"name\": \"t\", \"data\": \"tampered-layer-content\"}]}]}" >/dev/null
push bad/trunc v1 "{\"arch\": \"$arch\", \"layers\": [{\"compress\": \"none\", \"entries\": [{\"name\": \"t\", \"data\": \"truncated-layer-content\"}]}]}" >/dev/null
# The registry's copy of a layer, changed (same size) and cut short behind its back.
blob_data() { find "$fixtures/reg/data" -path "*blobs/sha256/*/$1/data"; }
layer_of() { skopeo inspect --raw --tls-verify=false "docker://$reg/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][-1]["digest"][7:])'; }
f=$(blob_data "$(layer_of bad/tamper:v1)"); sed -i 's/tampered-layer-content/TAMPERED-LAYER-CONTENT/' "$f"
f=$(blob_data "$(layer_of bad/trunc:v1)"); truncate -s 1000 "$f"
layers_of() { skopeo inspect --raw --tls-verify=false "docker://$reg/$1" | python3 -c 'import json,sys; print(" ".join(l["digest"][7:] for l in json.load(sys.stdin)["layers"]))'; }
blobs="$(layers_of t/one:v1 | tr ' ' ,):$(layers_of t/bb:v1 | tr ' ' ,)"
chmod -R a+rX "$fixtures"

scenario() {
  local work=$1 reg=$2 aport=$3 arch=$4 want=$5 hport=$6 blobs=$7
  k() { "$kp" --store "$work/store" "$@"; }
  build() { printf 'manifest_version = 1\n[base]\nimage = "%s"\n' "$1" > karapace.toml; k build "${@:2}"; }
  fails() {  # IMAGE EXPECTED: the build fails saying EXPECTED, and the store keeps nothing new
    local before after out o
    before=$(ls "$work/store/images/blobs" 2>/dev/null | wc -l)
    set +e; out=$(build "$1" 2>&1); o=$?; set -e
    [ $o != 0 ] || kp_fail "building $1 succeeded: $out"
    kp_contains "$out" "$2"
    after=$(ls "$work/store/images/blobs" 2>/dev/null | wc -l)
    [ "$after" = "$before" ] || kp_fail "a failed build of $1 left layer blobs behind ($before -> $after)"
    [ -z "$(ls "$work/store/images/downloads" 2>/dev/null)" ] || kp_fail "a failed build of $1 left a download behind"
    k verify-store >/dev/null || kp_fail "verify-store fails after the failed build of $1"
  }
  mkdir -p "$work/proj" && cd "$work/proj"

  build "docker://$reg/t/bb:v1" --name bb >/dev/null
  k exec bb -- test ! -e /etc/doomed || kp_fail "the file deleted by the second layer is there"
  [ "$(k exec bb -- cat /etc/added)" = added ] || kp_fail "the second layer's file is missing"
  [ "$(k exec bb -- ls /opt/d)" = new ] || kp_fail "the replaced directory kept the lower layer's file"
  k verify-store >/dev/null || kp_fail "verify-store fails after an OCI build"
  kp_ok "a umoci image pushed by skopeo builds; the whiteout removed the deleted file"

  # The image config: recorded in the lock, applied to sessions; HOME stays the session's, the
  # user is the caller, the working directory is the image's when the caller's is not shared.
  grep -q '^\[base.config\]' karapace.lock || kp_fail "the lock lacks [base.config]: $(cat karapace.lock)"
  grep -q '"FROM_IMAGE=umoci"' karapace.lock || kp_fail "the lock lacks the image's Env"
  grep -q '^working_dir = "/opt/d"' karapace.lock || kp_fail "the lock lacks the image's WorkingDir"
  grep -q '^user = "4321"' karapace.lock || kp_fail "the lock lacks the image's User"
  out=$(k exec bb -- sh -c 'echo "$FROM_IMAGE|$PATH|$HOME|$(pwd)|$(id -u)"')
  [ "$out" = "umoci|/opt/d:/usr/bin:/bin|$HOME|/opt/d|$(id -u)" ] ||
    kp_fail "the session does not follow the image config: $out"
  printf '[env]\nFROM_IMAGE = "manifest"\n' >> karapace.toml
  k build --name bb >/dev/null
  [ "$(k exec bb -- sh -c 'echo $FROM_IMAGE')" = manifest ] || kp_fail "the manifest's [env] does not win over the image's Env"
  [ "$(cd "$HOME" && k exec bb -- pwd)" = "$HOME" ] || kp_fail "a shared cwd did not win over the image's WorkingDir"
  kp_ok "the image's Env and WorkingDir are in the lock and apply to sessions; [env] and a shared cwd win; HOME and the uid stay"

  for t in bbz; do
    build "docker://$reg/t/$t:v1" --name "$t" >/dev/null
    k exec "$t" -- test ! -e /etc/doomed || kp_fail "$t: the deleted file is there"
    [ "$(k exec "$t" -- cat /etc/added)" = added ] || kp_fail "$t: the second layer's file is missing"
  done
  kp_ok "the same image with zstd layers builds the same tree"

  build "docker://$reg/t/bb:v1" >/dev/null
  out=$(k pin karapace.toml)
  kp_contains "$out" "@sha256:"
  grep -q "image = \"docker://$reg/t/bb:v1@sha256:" karapace.toml || kp_fail "pin did not write a digest: $(cat karapace.toml)"
  id=$(k --json build | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  grep -q "@sha256:" karapace.lock || kp_fail "the lock does not record the pinned reference"
  id2=$("$kp" --store "$work/store2" --json build --locked | python3 -c 'import json,sys; print(json.load(sys.stdin)["env_id"])')
  [ "$id" = "$id2" ] || kp_fail "build --locked in a fresh store gave $id2, not $id"
  kp_ok "pin writes @sha256:, and build --locked in a fresh store gives the same env_id"

  build "docker://$reg/t/bbz:multi" --name multi >/dev/null
  k --json images | grep -q "$want" || kp_fail "the index did not give the $arch image"
  fails "docker://$reg/t/bbz:foreign" "has no image for linux/$arch"
  out=$(build "docker://$reg/t/bbz:foreign" 2>&1 || true)
  kp_contains "$out" "s390x"
  kp_ok "an index gives this machine's platform; one without it lists what it has"

  build "docker://$reg/t/one:v1" --name one -v >/dev/null 2>"$work/one.err"
  build "docker://$reg/t/two:v1" --name two -v >/dev/null 2>"$work/two.err"
  # These images hold no shell: their trees are read in the image cache.
  [ "$(cat "$work"/store/images/*/rootfs/one)" = 1 ] || kp_fail "the uncompressed layer is missing"
  [ "$(cat "$work"/store/images/*/rootfs/two)" = 2 ] || kp_fail "the second image's own layer is missing"
  fetched=$(sed -n 's/.*: \([0-9]*\) of \([0-9]*\) layer bytes fetched.*/\1 \2/p' "$work/two.err")
  [ -n "$fetched" ] || kp_fail "the build did not say how many layer bytes it fetched: $(cat "$work/two.err")"
  set -- $fetched
  [ "$1" -lt 1000 ] && [ "$2" -gt 200000 ] || kp_fail "the second image fetched $1 of $2 bytes: the shared base layer again"
  kp_ok "a second image sharing the base layer fetches only its own layer ($1 of $2 bytes)"

  fails "docker://$reg/bad/diffid:v1" "rootfs.diff_ids"
  # A failed image whose base layer a cached image shares leaves that blob (fails() counts).
  local one_base=${blobs%%,*}
  fails "docker://$reg/bad/shared:v1" "rootfs.diff_ids"
  [ -e "$work/store/images/blobs/$one_base" ] || kp_fail "the failed image removed the blob t/one shares"
  fails "docker://$reg/bad/dotdot:v1" "refusing tar entry '../escape'"
  fails "docker://$reg/bad/whiteout:v1" "symbolic link"
  fails "docker://$reg/bad/tamper:v1" "integrity check failed"
  fails "docker://$reg/bad/trunc:v1" "integrity check failed"
  fails "docker://$reg/t/bb:nosuchtag" "has no tag 'nosuchtag'"
  fails "docker://127.0.0.1:$aport/t/bb:v1" "wants credentials"
  fails "docker://127.0.0.1:$hport/bad/huge:v1" "larger than 4 MiB"
  k --json images | grep -q bad/ && kp_fail "a broken image reached the cache"
  kp_ok "wrong layer digest, truncated layer, diff_id mismatch, ../ entry, whiteout through a symlink, huge manifest, 401 and 404: clear errors, nothing kept"

  # gc: the blobs of images no environment uses go, with their bytes; the others stay.
  local one_layers=${blobs%%:*} bb_layers=${blobs#*:} b
  k destroy one >/dev/null
  k destroy two >/dev/null
  out=$(k --json gc --grace 0)
  echo "$out" | python3 -c '
import json, sys
r = json.load(sys.stdin)
assert len(r["blobs"]) >= 3 and all(b.startswith("images/blobs/") for b in r["blobs"]), r
assert r["bytes"] >= r["blob_bytes"] > 300000, r
' || kp_fail "gc did not remove and count the unused layer blobs: $out"
  for b in ${one_layers//,/ }; do
    [ ! -e "$work/store/images/blobs/$b" ] || kp_fail "gc left the blob $b of a removed image"
  done
  for b in ${bb_layers//,/ }; do
    [ -e "$work/store/images/blobs/$b" ] || kp_fail "gc removed the blob $b that a kept image uses"
  done
  k verify-store >/dev/null || kp_fail "verify-store fails after gc"
  kp_ok "gc removes the layer blobs no kept image names, and reports their bytes"

  # --json: the layer downloads are progress events on stderr, one JSON object a line.
  printf 'manifest_version = 1\n[base]\nimage = "docker://%s/t/one:v1"\n' "$reg" > karapace.toml
  k --json build --name one-again >/dev/null 2>"$work/events"
  python3 - "$work/events" <<'PY' || kp_fail "no progress events for the layer downloads: $(head -c 2000 "$work/events")"
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
steps = [e for e in events if e["event"] == "step" and "layer" in e["description"] and e["unit"] == "bytes"]
assert len(steps) == 2, steps
for s in steps:
    done = [e for e in events if e["event"] == "done" and e["description"] == s["description"]]
    assert done and done[0]["ok"], (s, done)
    final = [e for e in events if e["event"] == "progress" and e["description"] == s["description"]]
    assert final and final[-1]["done"] == s["total"] and "rate" in final[-1], (s, final)
PY
  kp_ok "with --json, each layer download is a step, progress (bytes, rate) and done event on stderr"
}

echo "# as $(id -un)"
( scenario "$fixtures/self" "$reg" "$aport" "$arch" "$ours" "$hport" "$blobs" )
if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains); set -euo pipefail; kp=$kp; scenario $fixtures/user $reg $aport $arch $ours $hport $blobs"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "oci: all checks passed"
