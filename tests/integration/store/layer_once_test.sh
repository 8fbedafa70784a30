#!/usr/bin/env bash
# One copy of each layer on disk, through the real binary: a built packages layer (here made by a
# post_build hook on the busybox fixture) is kept as its unpacked tree only, its record says so;
# verify-store packs the tree again and finds a changed one; push sends the tar packed again
# (and refuses a changed tree, naming the layer); a pull into a second store gives the same
# digests and stores the layer once too; a layer re-tarred by another tool keeps its tar, and
# pull, inspect and gc say so; gc stores a layer kept twice (an older store) once; a pull killed between the record and the removal of the
# tar object leaves both copies, and gc removes the object; gc keeps the tree of a layer in use.
# Runs as the invoking user, then (as root) as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: layer_once_test.sh KARAPACE}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

command -v docker-registry >/dev/null || kp_skip "docker-registry is not installed (scripts/setup installs it)"
command -v curl >/dev/null || kp_skip "curl is not installed"
command -v python3 >/dev/null || kp_skip "python3 is not installed"

scenario() {
  local work=$1 tarball=$2 port=$3
  local user; user=$(id -un)
  local reg="127.0.0.1:$port"
  k() { "$kp" --store "$work/store" "$@"; }
  k2() { "$kp" --store "$work/store2" "$@"; }
  k3() { "$kp" --store "$work/store3" "$@"; }
  json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
  mkdir -p "$work/proj"
  cat > "$work/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
[hooks]
post_build = ["mkdir -p /opt/once && echo built-once > /opt/once/file && ln -s file /opt/once/link"]
TOML
  cd "$work/proj"
  k build --name lo >/dev/null
  local digest hex
  digest=$(k --json inspect lo | json '[l["digest"] for l in d["layers"] if l["kind"] == "packages"][0]')
  hex=${digest#sha256:}
  [ ! -e "$work/store/objects/sha256/$hex" ] || kp_fail "the packages layer is still stored as a tar object"
  [ -d "$work/store/layers-unpacked/$hex" ] || kp_fail "the packages layer has no unpacked tree"
  [ "$(json 'd["stored"]' < "$work/store/layers/$hex.json")" = unpacked ] ||
    kp_fail "the layer record does not say the layer is stored unpacked"
  [ "$(k exec lo -- cat /opt/once/file)" = built-once ] || kp_fail "the layer's file is not in the environment"
  kp_ok "build keeps one copy of the packages layer: layers-unpacked/${hex:0:12} and no tar object"

  out=$(k --json verify-store) || kp_fail "verify-store fails on a store with a layer stored once: $out"
  [ "$(echo "$out" | json 'd["layers_unpacked"]')" = 1 ] || kp_fail "verify-store did not pack the unpacked layer again: $out"
  kp_ok "verify-store packs the unpacked layer again and finds it intact"

  # push: the tar packed again from the tree; the registry's blob is the layer's digest.
  out=$(k --json push lo --remote "http://$reg" --tag "$user/lo:v1") || kp_fail "push of a layer stored once failed: $out"
  [ "$(echo "$out" | json 'd["layers_pushed"]')" = 2 ] || kp_fail "push did not send base + packages layer: $out"
  curl -sf "http://$reg/v2/$user/lo/blobs/$digest" -o "$work/blob" || kp_fail "the registry lacks the packages layer blob"
  [ "sha256:$(sha256sum "$work/blob" | cut -d' ' -f1)" = "$digest" ] ||
    kp_fail "the pushed packages layer does not hash to the layer's digest"
  tar -tf "$work/blob" > "$work/blob.list"  # not piped into grep -q: tar would die of SIGPIPE
  grep -qx 'opt/once/file' "$work/blob.list" || kp_fail "the pushed layer lacks opt/once/file"
  kp_ok "push sends the layer packed again from its tree; the registry's blob hashes to its digest"

  # pull into a second store: same env id, same layer digest, stored once there too.
  local id
  id=$(k --json inspect lo | json 'd["env_id"]')
  out=$(k2 --json pull "$reg/$user/lo:v1") || kp_fail "pull failed: $out"
  [ "$(echo "$out" | json 'd["env_id"]')" = "$id" ] || kp_fail "pull gave another env_id: $out"
  [ "$(k2 --json inspect "$id" | json '[l["digest"] for l in d["layers"]]')" = "['$digest']" ] ||
    kp_fail "the pulled environment has other layers than $digest"
  [ ! -e "$work/store2/objects/sha256/$hex" ] || kp_fail "the pulled packages layer kept its tar object"
  [ -d "$work/store2/layers-unpacked/$hex" ] || kp_fail "the pulled packages layer is not unpacked"
  [ "$(k2 exec "$id" -- cat /opt/once/file)" = built-once ] || kp_fail "the pulled environment lacks the layer's file"
  k2 verify-store >/dev/null || kp_fail "the second store does not verify"
  kp_ok "pull into a second store: the same digests, the layer stored once there too"

  # A layer another tool wrote (the same files, re-tarred in GNU format): packing its tree
  # again gives other bytes, so pull keeps its tar, says so, and gc reports the cost.
  python3 - "http://$reg" "$user/lo" "$user/foreign" "$digest" <<'PY' || kp_fail "cannot make the re-tarred image"
import hashlib, io, json, sys, tarfile, urllib.request
reg, repo, dest, layer = sys.argv[1:]
accept = "application/vnd.oci.image.manifest.v1+json"
def get(path, acc=None):
    req = urllib.request.Request(reg + "/v2/" + path)
    if acc: req.add_header("Accept", acc)
    return urllib.request.urlopen(req).read()
def put_blob(body):
    d = "sha256:" + hashlib.sha256(body).hexdigest()
    resp = urllib.request.urlopen(urllib.request.Request(reg + "/v2/" + dest + "/blobs/uploads/", method="POST"))
    loc = resp.headers["Location"]
    loc = (loc if loc.startswith("http") else reg + loc) + ("&" if "?" in loc else "?") + "digest=" + d
    urllib.request.urlopen(urllib.request.Request(loc, data=body, method="PUT",
                           headers={"Content-Type": "application/octet-stream"}))
    return d
m = json.loads(get(repo + "/manifests/v1", accept))
config = json.loads(get(repo + "/blobs/" + m["config"]["digest"]))
src = tarfile.open(fileobj=io.BytesIO(get(repo + "/blobs/" + layer)))
out = io.BytesIO()
with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as t:
    for member in src.getmembers():
        t.addfile(member, src.extractfile(member) if member.isfile() else None)
foreign = out.getvalue()
for l in m["layers"]:
    if l["digest"] != layer:
        put_blob(get(repo + "/blobs/" + l["digest"]))
new = put_blob(foreign)
assert new != layer
config["rootfs"]["diff_ids"] = [new if x == layer else x for x in config["rootfs"]["diff_ids"]]
for l in m["layers"]:
    if l["digest"] == layer:
        l["digest"], l["size"] = new, len(foreign)
body = json.dumps(config).encode()
m["config"]["digest"], m["config"]["size"] = put_blob(body), len(body)
urllib.request.urlopen(urllib.request.Request(reg + "/v2/" + dest + "/manifests/v1", data=json.dumps(m).encode(),
                       method="PUT", headers={"Content-Type": accept}))
print(new)
PY
  local fhex
  "$kp" --store "$work/store4" --json pull "$reg/$user/foreign:v1" >/dev/null 2>"$work/pull4.err" || kp_fail "pull of the re-tarred image failed: $(cat "$work/pull4.err")"
  kp_contains "$(cat "$work/pull4.err")" "is kept as a tar object beside its unpacked tree"
  fhex=$("$kp" --store "$work/store4" --json inspect "$id" | json '[l["digest"] for l in d["layers"] if l["kind"] == "packages"][0][7:]')
  [ "$fhex" != "$hex" ] || kp_fail "the re-tarred layer has the original digest"
  [ -e "$work/store4/objects/sha256/$fhex" ] && [ -d "$work/store4/layers-unpacked/$fhex" ] ||
    kp_fail "the re-tarred layer did not keep its tar object beside its tree"
  kp_contains "$(json 'd["tar_kept"]' < "$work/store4/layers/$fhex.json")" "packing its unpacked tree again gives"
  kp_contains "$("$kp" --store "$work/store4" inspect "$id")" "kept as a tar object too"
  [ "$("$kp" --store "$work/store4" exec "$id" -- cat /opt/once/file)" = built-once ] || kp_fail "the re-tarred environment lacks the file"
  "$kp" --store "$work/store4" verify-store >/dev/null || kp_fail "the store with a kept tar does not verify"
  rm -rf "$work/store4/staging/"*
  out=$("$kp" --store "$work/store4" --json gc --grace 0)
  [ -e "$work/store4/objects/sha256/$fhex" ] || kp_fail "gc removed the tar of a layer that needs it"
  [ "$(echo "$out" | json 'd["tars_kept_bytes"] > 0 and len(d["tars_kept"]) == 1')" = True ] ||
    kp_fail "gc does not report the tar it keeps and its bytes: $out"
  kp_ok "a layer another tool wrote keeps its tar beside its tree: pull says so, inspect and gc report it"

  # A changed tree: verify-store finds it, push refuses it (to a repository without the blob).
  echo tampered > "$work/store/layers-unpacked/$hex/tampered"
  set +e
  out=$(k verify-store 2>&1); rc=$?
  set -e
  [ "$rc" = 3 ] || kp_fail "verify-store gave status $rc, not 3, for a changed unpacked layer: $out"
  kp_contains "$out" "layers/$hex.json"
  kp_contains "$out" "changed"
  set +e
  out=$(k push lo --remote "http://$reg" --tag "$user/other:v1" 2>&1); rc=$?
  set -e
  [ "$rc" != 0 ] || kp_fail "push sent a packages layer whose tree changed: $out"
  kp_contains "$out" "integrity check failed for the packages layer $digest"
  kp_contains "$out" "karapace verify-store"
  curl -sf "http://$reg/v2/$user/other/manifests/v1" >/dev/null && kp_fail "the refused push published a manifest"
  rm "$work/store/layers-unpacked/$hex/tampered"
  k verify-store >/dev/null || kp_fail "verify-store still fails once the tree is back"
  kp_ok "a changed unpacked layer: verify-store reports it (status 3), push refuses it and names the layer"

  # A pull killed after the records, before the tar object goes: both copies, then gc drops one.
  set +e
  KARAPACE_FAULT=layer-once.before-remove-object k3 pull "$reg/$user/lo:v1" >/dev/null 2>&1; rc=$?
  set -e
  [ "$rc" = 137 ] || kp_fail "the pull did not stop at layer-once.before-remove-object (status $rc)"
  [ -e "$work/store3/objects/sha256/$hex" ] && [ -d "$work/store3/layers-unpacked/$hex" ] ||
    kp_fail "a pull killed before the tar object's removal did not leave both copies"
  k3 verify-store >/dev/null || kp_fail "the store with both copies does not verify"
  rm -rf "$work/store3/staging/"*  # the killed pull's work directory: gc would wait for it

  # With the tree gone, the next exec unpacks the tar object again. The static karapace cannot
  # load libcrypto or libarchive, which that needs: it hands the run to karapace-full from the
  # start (docs/cli.md); a copy of it alone says that karapace-full is missing and leaves no work
  # directory. As root: the tree's files belong to the user namespace's ids.
  if [ "$(id -u)" = 0 ] && [ -x "$(dirname "$kp")/karapace-full" ]; then
    rm -rf "${work:?}/store3/layers-unpacked/$hex"
    mkdir -p "$work/alone"
    cp "$kp" "$(dirname "$kp")/karapace-init" "$work/alone/"
    if err=$("$work/alone/karapace" --store "$work/store3" exec "$id" -- cat /opt/once/file 2>&1); then
      echo "# SKIP the front alone: an installed karapace-full ran it"
    else
      kp_contains "$err" "karapace-full, which runs \`karapace exec\`, is missing"
      [ -z "$(ls "$work/store3/staging")" ] || kp_fail "the refused run left a work directory"
      [ ! -e "$work/store3/layers-unpacked/$hex" ] || kp_fail "the refused run made the tree"
    fi
    [ "$(k3 exec "$id" -- cat /opt/once/file)" = built-once ] ||
      kp_fail "exec did not unpack the missing tree again"
    [ -d "$work/store3/layers-unpacked/$hex" ] || kp_fail "the tree was not unpacked again"
    kp_ok "exec unpacks a missing tree from its tar object again, through karapace-full"
  fi
  out=$(k3 --json gc --grace 0)
  [ "$(echo "$out" | json '[o for o in d["objects"] if o.endswith("'"$hex"'")] != []')" = True ] ||
    kp_fail "gc kept the tar object of a layer stored once: $out"
  [ ! -e "$work/store3/objects/sha256/$hex" ] || kp_fail "the tar object is still there after gc"
  [ "$(k3 exec "$id" -- cat /opt/once/file)" = built-once ] || kp_fail "the environment broke after gc"
  k3 verify-store >/dev/null || kp_fail "the store does not verify after gc"
  kp_ok "a pull killed between the record and the object's removal leaves both copies; gc removes the object"

  # A store written before layers were stored once: the tar object beside the tree, a record
  # without `stored`. gc packs the tree again (with the lock's SOURCE_DATE_EPOCH for a built
  # layer) and stores the layer once; a tree that no longer gives the tar keeps its object, and
  # gc says so and what it costs.
  as_kept_twice() {  # STORE: the layer's tar back as an object, its record in the old form
    cp "$work/blob" "$1/objects/sha256/$hex" && chmod 444 "$1/objects/sha256/$hex"
    python3 - "$1/layers/$hex.json" <<'PY'
import hashlib, json, sys
path = sys.argv[1]
o = json.load(open(path))
for key in ("stored", "mtime_clamp", "tar_kept", "checksum"):
    o.pop(key, None)
compact = json.dumps(o, separators=(",", ":"), ensure_ascii=False)
o["checksum"] = "sha256:" + hashlib.sha256(compact.encode()).hexdigest()
open(path, "w").write(json.dumps(o, indent=2) + "\n")
PY
  }
  as_kept_twice "$work/store"
  out=$(k --json verify-store) || kp_fail "the store with an old-form layer does not verify: $out"
  [ "$(echo "$out" | json 'd["layers_with_tar"]')" = 1 ] || kp_fail "verify-store does not count the layer kept as a tar: $out"
  [ "$(k --json gc --dry-run | json 'd["stored_once"]')" = "['$digest']" ] || kp_fail "gc --dry-run does not list the layer kept twice"
  [ -e "$work/store/objects/sha256/$hex" ] || kp_fail "gc --dry-run removed the tar object"
  out=$(k --json gc --grace 0)
  [ "$(echo "$out" | json 'd["stored_once"]')" = "['$digest']" ] || kp_fail "gc did not store the layer once: $out"
  [ ! -e "$work/store/objects/sha256/$hex" ] || kp_fail "gc left the tar object of a layer it stored once"
  epoch=$(sed -n 's/^source_date_epoch = //p' "$work/proj/karapace.lock")
  [ "$(json 'd["stored"], d["mtime_clamp"]' < "$work/store/layers/$hex.json")" = "unpacked $epoch" ] ||
    kp_fail "the record of the built layer does not say stored unpacked with the lock's epoch $epoch"
  k verify-store >/dev/null || kp_fail "the store does not verify after gc stored the layer once"
  as_kept_twice "$work/store2"
  echo changed > "$work/store2/layers-unpacked/$hex/changed"
  out=$(k2 --json gc --grace 0)
  [ "$(echo "$out" | json 'd["stored_once"]')" = "[]" ] || kp_fail "gc stored once a layer whose tree changed: $out"
  kp_contains "$(echo "$out" | json 'd["tars_kept"]')" "$digest: packing its unpacked tree again gives"
  [ -e "$work/store2/objects/sha256/$hex" ] || kp_fail "gc removed the tar of a layer whose tree does not give it back"
  kp_contains "$(k2 gc --grace 0)" "1 layer(s) keep a tar object beside their unpacked tree"
  kp_contains "$(k2 inspect "$id")" "kept as a tar object too"
  kp_ok "gc stores a layer kept twice once (built: the lock's epoch), keeps and reports a tar it cannot drop"

  # A layer stored once whose tree is gone has no copy: exec says so and what to do; build from
  # the lock makes the same layer again. (Moved aside, not removed: as the unprivileged user the
  # tree holds files of sub-ids; the fixtures' cleanup removes it.)
  mv "$work/store/layers-unpacked/$hex" "$work/lost-tree"
  set +e
  out=$(k exec lo -- true 2>&1); rc=$?
  set -e
  [ "$rc" = 125 ] || kp_fail "exec of an environment whose layer is gone gave status $rc: $out"
  kp_contains "$out" "the store holds no copy of it"
  kp_contains "$out" "karapace build"
  k build >/dev/null 2>"$work/rebuild.err" || kp_fail "build did not make the lost layer again: $(cat "$work/rebuild.err")"
  [ -d "$work/store/layers-unpacked/$hex" ] || kp_fail "build did not put the layer's tree back"
  [ "$(k exec lo -- cat /opt/once/file)" = built-once ] || kp_fail "the environment does not run after build"
  k verify-store >/dev/null || kp_fail "the store does not verify after build made the layer again"
  kp_ok "a layer whose tree is gone: exec says no copy is left; build from the lock makes the same layer"

  # gc keeps the tree of a layer in use, and removes it with the last environment using it.
  k gc --grace 0 >/dev/null
  [ -d "$work/store/layers-unpacked/$hex" ] && [ -e "$work/store/layers/$hex.json" ] ||
    kp_fail "gc removed the layer of an environment"
  [ "$(k exec lo -- cat /opt/once/file)" = built-once ] || kp_fail "the environment broke after gc"
  k destroy lo >/dev/null
  k gc --grace 0 >/dev/null
  [ ! -e "$work/store/layers-unpacked/$hex" ] || kp_fail "gc kept the unpacked tree of a destroyed environment's layer"
  kp_ok "gc keeps a layer stored once while an environment uses it, removes it after"
}

fixtures=$(mktemp -d /tmp/karapace-layer-once.XXXXXX)
chmod 755 "$fixtures"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$fixtures" 2>/dev/null || true
}
trap cleanup EXIT
tarball=$(sh "$src/tests/fixtures/make-busybox-rootfs.sh" "$fixtures/img")
chmod -R a+rX "$fixtures/img"
port=$(kp_start_registry "$fixtures/reg" "" 000)
pids+=("$(cat "$fixtures/reg/pid")")

kp_scenario_both "$fixtures" "$tarball" "$port"
echo "layer-once: all checks passed"
