#!/usr/bin/env bash
# push and pull against real registries on 127.0.0.1: Debian's docker-registry (open, and behind
# htpasswd Basic auth) and a small token service for the Bearer flow. A busybox environment with a
# committed file is pushed, checked with curl as a valid OCI image, pushed again (nothing sent),
# pulled into a fresh store and run; then tampering, missing tags, unreachable registries, name
# clashes and credentials. Runs as the invoking user, then (as root) as the unprivileged user.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib.sh"
kp=${1:?usage: remote_test.sh KARAPACE UPLOAD_CHECK}
upload_check=${2:?usage: remote_test.sh KARAPACE UPLOAD_CHECK}
src=${KARAPACE_SOURCE_ROOT:-$(cd "$here/../../.." && pwd)}

command -v docker-registry >/dev/null || kp_skip "docker-registry is not installed (scripts/setup installs it)"
command -v htpasswd >/dev/null || kp_skip "htpasswd is not installed (apache2-utils; scripts/setup installs it)"
command -v curl >/dev/null || kp_skip "curl is not installed"

scenario() {
  local work=$1 tarball=$2 port=$3 aport=$4 tport=$5 regdata=$6
  local user; user=$(id -un)
  local reg="http://127.0.0.1:$port"
  k() { "$kp" --store "$work/store" "$@"; }
  k2() { "$kp" --store "$work/store2" "$@"; }
  json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
  mkdir -p "$work/proj"
  cat > "$work/proj/karapace.toml" <<TOML
manifest_version = 1
[base]
image = "file://$tarball"
TOML
  cd "$work/proj"
  k build --name bb >/dev/null
  k exec --root bb -- sh -c 'echo pushed-by-karapace > /etc/remote-file'
  k commit bb >/dev/null
  id=$(k --json inspect bb | json '["env_id"]')

  out=$(k --json push bb --remote "$reg" --tag "$user/bb:v1")
  [ "$(echo "$out" | json '["layers_pushed"]')" = 2 ] || kp_fail "first push did not send base + snapshot: $out"
  [ "$(echo "$out" | json '["uncommitted_changes"]')" = False ] || kp_fail "push saw uncommitted changes after commit: $out"
  digest=$(echo "$out" | json '["digest"]')
  kp_ok "push sends the base layer and the snapshot"

  # The registry serves a valid OCI image whose blobs hash to their digests.
  python3 - "$reg" "$user/bb" v1 "$digest" "$id" <<'PY' || kp_fail "the registry does not hold a valid OCI image"
import hashlib, json, sys, urllib.request
reg, repo, tag, digest, env_id = sys.argv[1:]
def get(path, accept=None):
    req = urllib.request.Request(reg + "/v2/" + repo + path)
    if accept: req.add_header("Accept", accept)
    return urllib.request.urlopen(req).read()
def check(desc, body):
    assert "sha256:" + hashlib.sha256(body).hexdigest() == desc["digest"], desc
    assert len(body) == desc["size"], desc
body = get("/manifests/" + tag, "application/vnd.oci.image.manifest.v1+json")
assert "sha256:" + hashlib.sha256(body).hexdigest() == digest
m = json.loads(body)
assert m["schemaVersion"] == 2 and m["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
assert m["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
config = get("/blobs/" + m["config"]["digest"])
check(m["config"], config)
c = json.loads(config)
assert c["rootfs"]["diff_ids"] == [l["digest"] for l in m["layers"]]
assert [l["annotations"]["org.karapace.layer"] for l in m["layers"]] == ["base", "snapshot"]
assert c["config"]["Labels"]["org.karapace.env-id"] == env_id
for l in m["layers"]:
    assert l["mediaType"] == "application/vnd.oci.image.layer.v1.tar"
    check(l, get("/blobs/" + l["digest"]))
PY
  kp_ok "the registry serves an OCI manifest, config and layers that match their digests"

  out=$(k --json push bb --remote "$reg" --tag "$user/bb:v1")
  [ "$(echo "$out" | json '["layers_pushed"]')" = 0 ] || kp_fail "second push sent layers again: $out"
  [ "$(echo "$out" | json '["layers_skipped"]')" = 2 ] || kp_fail "second push did not skip both layers: $out"
  [ "$(echo "$out" | json '["digest"]')" = "$digest" ] || kp_fail "the same environment gave another manifest"
  kp_ok "pushing again sends nothing and gives the same manifest digest"

  # A plain run adds nothing to push: no mount point of the sandbox's (the home directory, /run,
  # /etc/hosts) lands in the writable layer, so no user name or uid can go out with an image.
  k exec bb -- true
  out=$(k --json push bb --remote "$reg" --tag "$user/bb:v1")
  [ "$(echo "$out" | json '["uncommitted_changes"]')" = False ] ||
    kp_fail "push sees uncommitted changes after nothing but an exec: $out"
  kp_ok "after nothing but an exec, push sees no uncommitted changes"

  cd /
  out=$(k2 --json pull "127.0.0.1:$port/$user/bb:v1")
  [ "$(echo "$out" | json '["env_id"]')" = "$id" ] || kp_fail "pull gave another env_id: $out"
  [ "$(k2 exec bb -- cat /etc/remote-file)" = pushed-by-karapace ] || kp_fail "the pulled environment lacks the committed file"
  [ "$(k2 --json inspect bb | json '["state"]')" = built ] || kp_fail "the pulled environment is not built"
  k2 verify-store >/dev/null || kp_fail "verify-store fails after pull"
  # The registry's base is cached under its own digest, never under the image digest the lock
  # claims: a later local build must not take it for the verified original.
  claimed=$(sed -n 's/^digest = "sha256:\(.*\)"/\1/p' "$work/proj/karapace.lock" | head -n 1)
  [ -n "$claimed" ] || kp_fail "no image digest in the lock"
  k2 --json images | grep -q "$claimed" && kp_fail "the pulled base was cached under the lock's image digest"
  kp_ok "pull into a fresh store: same env_id, exec sees the committed file, store verifies"

  out=$(k2 pull "127.0.0.1:$port/$user/bb@$digest")
  kp_contains "$out" "already here"
  kp_ok "pulling what is already here (by digest) is a no-op that says so"

  # --name on an environment that is already here renames it, with the checks of rename.
  out=$(k2 --json pull "127.0.0.1:$port/$user/bb:v1" --name bb-here)
  [ "$(echo "$out" | json '["already_present"]')" = True ] || kp_fail "pull --name fetched again: $out"
  [ "$(echo "$out" | json '["renamed"]')" = True ] || kp_fail "pull --name did not rename the present environment: $out"
  [ "$(echo "$out" | json '["previous_name"]')" = bb ] || kp_fail "pull --name reports no previous name: $out"
  [ "$(echo "$out" | json '["name"]')" = bb-here ] || kp_fail "pull --name reports another name: $out"
  [ "$(k2 exec bb-here -- cat /etc/remote-file)" = pushed-by-karapace ] || kp_fail "exec by the new name failed"
  set +e
  k2 inspect bb >/dev/null 2>&1; o=$?
  set -e
  [ $o != 0 ] || kp_fail "the old name still resolves after pull --name"
  out=$(k2 pull "127.0.0.1:$port/$user/bb:v1" --name bb-here)
  kp_contains "$out" "already here; nothing to do"
  out=$(k2 pull "127.0.0.1:$port/$user/bb@$digest" --name bb)
  kp_contains "$out" "was already here as 'bb-here'; renamed it to 'bb'"
  [ "$(k2 --json inspect bb | json '["env_id"]')" = "$id" ] || kp_fail "renaming back by digest failed"
  kp_ok "pull --name renames an environment that is already here, and says so"

  # Another environment called bb: the pull is refused until it gets another name.
  mkdir -p "$work/other"
  printf 'manifest_version = 1\n[base]\nimage = "file://%s"\n[runtime]\nnetwork_isolation = true\n' "$tarball" > "$work/other/karapace.toml"
  "$kp" --store "$work/store3" build --name bb "$work/other/karapace.toml" >/dev/null
  set +e
  err=$("$kp" --store "$work/store3" pull "127.0.0.1:$port/$user/bb:v1" 2>&1); s=$?
  set -e
  [ $s != 0 ] || kp_fail "a pull over an existing name was accepted"
  kp_contains "$err" "--name"
  "$kp" --store "$work/store3" pull "127.0.0.1:$port/$user/bb:v1" --name bb-remote >/dev/null
  [ "$("$kp" --store "$work/store3" exec bb-remote -- cat /etc/remote-file)" = pushed-by-karapace ] ||
    kp_fail "pull --name did not give a usable environment"
  kp_ok "a name clash is refused with a pointer to --name, which works"

  # Renaming the present environment onto a name another one holds, or an invalid one: refused
  # with the reason, before anything is fetched, and nothing changes.
  other_id=$("$kp" --store "$work/store3" --json inspect bb | json '["env_id"]')
  set +e
  err=$("$kp" --store "$work/store3" pull "127.0.0.1:$port/$user/bb:v1" --name bb 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "pull --name onto a taken name gave $s, not 1: $err"
  kp_contains "$err" "is already here as 'bb-remote'; --name would rename it to 'bb', but that name is used by environment ${other_id:0:12}"
  kp_contains "$err" "--name <other-name>"
  set +e
  err=$("$kp" --store "$work/store3" pull "127.0.0.1:$port/$user/bb:v1" --name 'no good' 2>&1); s=$?
  set -e
  [ $s = 64 ] || kp_fail "pull --name with an invalid name gave $s, not 64: $err"
  kp_contains "$err" "no good"
  [ "$("$kp" --store "$work/store3" --json inspect bb | json '["env_id"]')" = "$other_id" ] || kp_fail "the other environment lost its name"
  [ "$("$kp" --store "$work/store3" exec bb-remote -- cat /etc/remote-file)" = pushed-by-karapace ] ||
    kp_fail "a refused rename changed the pulled environment"
  kp_ok "pull --name onto a taken or invalid name is refused with the reason; nothing changes"

  # An image whose name label reads as an id prefix (written by hand, or by a karapace that
  # allowed such names): the pull is refused with the reason until --name gives another name.
  python3 - "$reg" "$user/bb" v1 idlike <<'PY' || kp_fail "could not publish the relabelled image"
import hashlib, json, sys, urllib.request
reg, repo, tag, new_tag = sys.argv[1:]
oci = "application/vnd.oci.image.manifest.v1+json"
def call(method, path, body=None, ctype=None, accept=None, full=False):
    req = urllib.request.Request(path if full else reg + "/v2/" + repo + path, data=body, method=method)
    if ctype: req.add_header("Content-Type", ctype)
    if accept: req.add_header("Accept", accept)
    return urllib.request.urlopen(req)
m = json.loads(call("GET", "/manifests/" + tag, accept=oci).read())
config = json.loads(call("GET", "/blobs/" + m["config"]["digest"]).read())
config["config"]["Labels"]["org.karapace.name"] = "c0ffee"
body = json.dumps(config).encode()
digest = "sha256:" + hashlib.sha256(body).hexdigest()
location = call("POST", "/blobs/uploads/").headers["Location"]
if location.startswith("/"): location = reg + location
call("PUT", location + ("&" if "?" in location else "?") + "digest=" + digest, body,
     "application/octet-stream", full=True)
m["config"]["digest"], m["config"]["size"] = digest, len(body)
call("PUT", "/manifests/" + new_tag, json.dumps(m).encode(), oci)
PY
  set +e
  err=$("$kp" --store "$work/store8" pull "127.0.0.1:$port/$user/bb:idlike" 2>&1); s=$?
  set -e
  [ $s = 64 ] || kp_fail "a pull of an image named 'c0ffee' gave $s, not 64: $err"
  kp_contains "$err" "carries the name 'c0ffee', which could be read as an environment id"
  kp_contains "$err" "--name"
  [ "$("$kp" --store "$work/store8" --json list)" = "[]" ] || kp_fail "the refused pull left an environment"
  "$kp" --store "$work/store8" pull "127.0.0.1:$port/$user/bb:idlike" --name bb-coffee >/dev/null
  [ "$("$kp" --store "$work/store8" exec bb-coffee -- cat /etc/remote-file)" = pushed-by-karapace ] ||
    kp_fail "pull --name of the relabelled image did not give a usable environment"
  kp_ok "a name label that reads as an id is refused with the reason; --name pulls it"

  # A relative reference on the default remote from config.toml, with a repository prefix.
  mkdir -p "$work/cfg/karapace"
  printf '[remote]\nurl = "%s/%s"\n' "$reg" "$user" > "$work/cfg/karapace/config.toml"
  out=$(XDG_CONFIG_HOME="$work/cfg" "$kp" --store "$work/store5" --json pull bb:v1)
  [ "$(echo "$out" | json '["env_id"]')" = "$id" ] || kp_fail "pull through [remote] url failed: $out"
  kp_ok "references without a host resolve on [remote] url"

  # Tampering: one changed byte in the snapshot blob in the registry's storage.
  snap=$(k --json snapshots bb | json '[0]["id"]')
  blob="$regdata/docker/registry/v2/blobs/sha256/${snap:0:2}/$snap/data"
  [ -f "$blob" ] || kp_fail "no blob file at $blob"
  cp "$blob" "$work/blob.bak"
  printf 'X' | dd of="$blob" bs=1 seek=700 conv=notrunc 2>/dev/null
  set +e
  err=$("$kp" --store "$work/store4" pull "127.0.0.1:$port/$user/bb:v1" 2>&1); s=$?
  set -e
  cp "$work/blob.bak" "$blob"
  [ $s = 1 ] || kp_fail "pull of a tampered image gave $s, not 1: $err"
  kp_contains "$err" "integrity"
  [ "$("$kp" --store "$work/store4" --json list)" = "[]" ] || kp_fail "a tampered pull left an environment"
  [ -z "$(ls -A "$work/store4/env" 2>/dev/null)" ] || kp_fail "a tampered pull left an env directory"
  kp_ok "a tampered blob fails the pull with an integrity error and leaves no environment"

  # The same blob cut down to one byte: the message counts it in plain words.
  printf 'X' > "$blob"
  set +e
  err=$("$kp" --store "$work/store4" pull "127.0.0.1:$port/$user/bb:v1" 2>&1); s=$?
  set -e
  cp "$work/blob.bak" "$blob"
  [ $s = 1 ] || kp_fail "pull of a one-byte blob gave $s, not 1: $err"
  kp_contains "$err" "the registry sent 1 byte hashing to"
  kp_ok "a blob of the wrong size fails the pull, saying how many bytes came"

  # A crash after the metadata record is written but before the WAL entry is closed: the next
  # command rolls the pull back, and pulling again works.
  set +e
  KARAPACE_FAULT=pull-metadata "$kp" --store "$work/store7" pull "127.0.0.1:$port/$user/bb:v1" >/dev/null 2>&1; s=$?
  set -e
  [ $s = 137 ] || kp_fail "the fault point pull-metadata was not reached (status $s)"
  [ "$("$kp" --store "$work/store7" --json list)" = "[]" ] || kp_fail "a crashed pull left an environment"
  [ -z "$(ls -A "$work/store7/env" 2>/dev/null)" ] || kp_fail "a crashed pull left an env directory"
  "$kp" --store "$work/store7" pull "127.0.0.1:$port/$user/bb:v1" >/dev/null
  [ "$("$kp" --store "$work/store7" exec bb -- cat /etc/remote-file)" = pushed-by-karapace ] ||
    kp_fail "pulling again after a crash did not give a usable environment"
  kp_ok "a pull killed before its WAL entry closes is rolled back; pulling again works"

  set +e
  err=$(k2 pull "127.0.0.1:$port/$user/bb:nope" 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "a missing tag gave $s"
  kp_contains "$err" "has no tag 'nope'"
  dead=$(kp_free_port)
  set +e
  err=$(k2 pull "127.0.0.1:$dead/$user/bb:v1" 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "an unreachable registry gave $s"
  kp_contains "$err" "cannot reach the registry"
  kp_ok "a missing tag and an unreachable registry are clear errors (exit 1)"

  # Basic auth (htpasswd, bcrypt): no credentials, wrong ones, right ones from an auth file.
  local areg="127.0.0.1:$aport/$user/bb:v1"
  set +e
  err=$(REGISTRY_AUTH_FILE=/nonexistent k push bb --tag "$areg" 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "push without credentials gave $s"
  kp_contains "$err" "wants credentials"
  kp_contains "$err" "it fills in /nonexistent"
  printf '{"auths": {"127.0.0.1:%s": {"auth": "%s"}}}' "$aport" "$(printf alice:wrong | base64)" > "$work/bad.json"
  set +e
  err=$(REGISTRY_AUTH_FILE="$work/bad.json" k push bb --tag "$areg" 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "push with a wrong password gave $s"
  kp_contains "$err" "refused the credentials of 'alice'"
  printf '{"auths": {"http://127.0.0.1:%s/v1/": {"auth": "%s"}}}' "$aport" "$(printf alice:s3cret | base64)" > "$work/good.json"
  REGISTRY_AUTH_FILE="$work/good.json" k push bb --tag "$areg" >/dev/null
  REGISTRY_AUTH_FILE="$work/good.json" "$kp" --store "$work/store6" pull "$areg" >/dev/null
  [ "$("$kp" --store "$work/store6" exec bb -- cat /etc/remote-file)" = pushed-by-karapace ] ||
    kp_fail "the environment pulled with Basic auth is not usable"
  kp_ok "Basic auth: refused without credentials and with a wrong password, works with an auth file"

  # A credential helper named in the file wins over its stored entry, as docker reads it.
  mkdir -p "$work/helpers"
  printf '#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = 127.0.0.1:%s ] || exit 1\nprintf %s\n' \
    "$aport" "'{\"Username\":\"alice\",\"Secret\":\"s3cret\"}'" > "$work/helpers/docker-credential-kptest"
  chmod 755 "$work/helpers/docker-credential-kptest"
  printf '{"credHelpers": {"127.0.0.1:%s": "kptest"}, "auths": {"127.0.0.1:%s": {"auth": "%s"}}}' \
    "$aport" "$aport" "$(printf alice:wrong | base64)" > "$work/helped.json"
  PATH="$work/helpers:$PATH" REGISTRY_AUTH_FILE="$work/helped.json" k push bb --tag "$areg" >/dev/null ||
    kp_fail "push with credentials from docker-credential-kptest failed"
  kp_ok "credHelpers: docker-credential-NAME get gives the credentials"

  # karapace login: checked against the registry before anything is written, then written where
  # push and pull look first, in the format podman reads.
  local auth="$work/login/sub/auth.json"
  kp_contains "$(REGISTRY_AUTH_FILE="$auth" k push bb --tag "$areg" 2>&1 || true)" "karapace login 127.0.0.1:$aport"
  set +e
  err=$(printf 'wrong\n' | REGISTRY_AUTH_FILE="$auth" "$kp" login "127.0.0.1:$aport" -u alice --password-stdin 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "login with a wrong password gave $s: $err"
  kp_contains "$err" "refused the credentials of 'alice'"
  kp_contains "$err" "nothing was written to $auth"
  [ ! -e "$work/login" ] || kp_fail "a refused login wrote something"
  out=$(printf 's3cret\n' | REGISTRY_AUTH_FILE="$auth" "$kp" --json login "127.0.0.1:$aport" -u alice --password-stdin)
  [ "$(echo "$out" | json '["verified"]')" = True ] || kp_fail "login was not verified: $out"
  [ "$(echo "$out" | json '["auth_file"]')" = "$auth" ] || kp_fail "login wrote elsewhere: $out"
  [ "$(stat -c %a "$auth")" = 600 ] || kp_fail "the auth file is not mode 0600"
  [ "$(stat -c %a "$work/login")" = 700 ] && [ "$(stat -c %a "$work/login/sub")" = 700 ] ||
    kp_fail "the auth file's new parent directories are not mode 0700"
  python3 - "$auth" "127.0.0.1:$aport" <<'PY' || kp_fail "the auth file is not {auths: {host: {auth: base64(user:pass)}}}"
import base64, json, sys
d = json.load(open(sys.argv[1]))
assert list(d) == ["auths"] and list(d["auths"]) == [sys.argv[2]], d
assert base64.b64decode(d["auths"][sys.argv[2]]["auth"]) == b"alice:s3cret", d
PY
  REGISTRY_AUTH_FILE="$auth" k push bb --tag "$areg" >/dev/null || kp_fail "push with the login failed"
  if command -v podman >/dev/null; then
    # Rootless podman leaves a pause process holding its user namespace: the one this check
    # starts is ended after it.
    # Its storage and runtime directories are the test's: by default an unprivileged podman
    # makes /tmp/podman-run-<uid> and /tmp/containers-user-<uid>, and leaves them there.
    local pauses pid login
    mkdir -m 700 "$work/podman"
    pauses=$(pgrep -u "$(id -u)" -x 'podman|podman pause' || true)
    login=$(XDG_RUNTIME_DIR="$work/podman" REGISTRY_AUTH_FILE="$auth" podman --root "$work/podman/root" \
      --runroot "$work/podman/run" login --get-login "127.0.0.1:$aport" 2>/dev/null || true)
    for pid in $(pgrep -u "$(id -u)" -x 'podman|podman pause' || true); do
      case " $(echo $pauses) " in *" $pid "*) ;; *) kill "$pid" 2>/dev/null || true ;; esac
    done
    [ "$login" = alice ] || kp_fail "podman login --get-login does not read the login karapace wrote"
    kp_ok "podman login --get-login reads the login karapace wrote"
  else
    echo "# skipped the podman check: podman is not installed (apt-get install podman)"
  fi
  out=$(REGISTRY_AUTH_FILE="$auth" "$kp" logout "127.0.0.1:$aport")
  kp_contains "$out" "removed the login for 127.0.0.1:$aport from $auth"
  out=$(REGISTRY_AUTH_FILE="$auth" "$kp" logout "127.0.0.1:$aport")
  kp_contains "$out" "not logged in to 127.0.0.1:$aport"
  err=$(REGISTRY_AUTH_FILE="$auth" k push bb --tag "$areg" 2>&1) && kp_fail "push after logout succeeded"
  kp_contains "$err" "wants credentials"
  kp_ok "login checks the password first, writes a 0600 auth file push uses; logout removes it"

  # Without REGISTRY_AUTH_FILE: $XDG_RUNTIME_DIR/containers/auth.json, the file push reads first.
  # Other entries and top-level keys stay; logout --all empties auths only.
  mkdir -p "$work/run/containers"
  printf '{"auths": {"other.example": {"auth": "eDp5"}}, "credHelpers": {"x.example": "pass"}}' > "$work/run/containers/auth.json"
  printf 's3cret' | env -u REGISTRY_AUTH_FILE XDG_RUNTIME_DIR="$work/run" "$kp" login "http://127.0.0.1:$aport" --username alice --password-stdin >/dev/null
  env -u REGISTRY_AUTH_FILE XDG_RUNTIME_DIR="$work/run" "$kp" --store "$work/store9" pull "$areg" >/dev/null ||
    kp_fail "pull with the login in XDG_RUNTIME_DIR failed"
  python3 - "$work/run/containers/auth.json" "127.0.0.1:$aport" <<'PY' || kp_fail "login lost other entries or keys"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["credHelpers"] == {"x.example": "pass"}, d
assert set(d["auths"]) == {"other.example", sys.argv[2]}, d
PY
  out=$(env -u REGISTRY_AUTH_FILE XDG_RUNTIME_DIR="$work/run" "$kp" --json logout --all)
  [ "$(echo "$out" | json '["removed"]')" = "['other.example', '127.0.0.1:$aport']" ] || kp_fail "logout --all: $out"
  python3 - "$work/run/containers/auth.json" <<'PY' || kp_fail "logout --all did not keep the other keys"
import json, sys
d = json.load(open(sys.argv[1]))
assert d == {"auths": {}, "credHelpers": {"x.example": "pass"}}, d
PY
  kp_ok "login writes \$XDG_RUNTIME_DIR/containers/auth.json, keeping other entries; logout --all"

  # Neither argv nor a missing terminal gives a password; a broken auth file is not overwritten.
  set +e
  err=$(REGISTRY_AUTH_FILE="$auth" "$kp" login "127.0.0.1:$aport" -u alice </dev/null 2>&1); s=$?
  err2=$(printf 's3cret' | REGISTRY_AUTH_FILE="$auth" "$kp" login "127.0.0.1:$aport" --password-stdin 2>&1); s2=$?
  echo 'not json' > "$work/broken.json"
  err3=$(printf 's3cret' | REGISTRY_AUTH_FILE="$work/broken.json" "$kp" login "127.0.0.1:$aport" -u alice --password-stdin 2>&1); s3=$?
  err4=$(printf 's3cret' | REGISTRY_AUTH_FILE="$auth" "$kp" login "127.0.0.1:$aport/team" -u alice --password-stdin 2>&1); s4=$?
  set -e
  [ $s = 64 ] || kp_fail "login without a terminal or --password-stdin gave $s: $err"
  kp_contains "$err" "--password-stdin"
  [ $s2 = 64 ] || kp_fail "login --password-stdin without --username gave $s2: $err2"
  kp_contains "$err2" "--password-stdin needs --username"
  [ $s3 = 1 ] || kp_fail "login into a broken auth file gave $s3: $err3"
  kp_contains "$err3" "is not a JSON object"
  [ "$(cat "$work/broken.json")" = "not json" ] || kp_fail "login overwrote a broken auth file"
  [ $s4 = 64 ] || kp_fail "login to a repository gave $s4: $err4"
  kp_contains "$err4" "a login holds for the whole registry"
  kp_ok "login refuses to run without a password source, overwrite a broken file, or log in to a repository"

  # On a terminal: the user name is asked for with echo, the password without.
  python3 - "$kp" "127.0.0.1:$aport" "$work/tty-auth.json" <<'PY' || kp_fail "the login on a terminal failed or echoed the password"
import os, pty, signal, sys, termios
kp, host, auth = sys.argv[1:]
env = dict(os.environ, REGISTRY_AUTH_FILE=auth)
pid, fd = pty.fork()
if pid == 0:
    os.execve(kp, [kp, "login", host], env)
seen = b""
def read():
    try:
        return os.read(fd, 1024)
    except OSError:
        return b""  # the terminal is gone once karapace has exited
def until(token):
    global seen
    while token not in seen:
        chunk = read()
        if not chunk:
            raise SystemExit("ended before %r: %r" % (token, seen))
        seen += chunk
until(b"Username: ")
os.write(fd, b"alice\n")
until(b"Password for alice at " + host.encode() + b": ")
os.write(fd, b"s3cret\n")
while chunk := read():
    seen += chunk
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, seen
assert b"s3cret" not in seen, seen
assert b"alice\r\n" in seen and b"logged in to " + host.encode() + b" as alice" in seen, seen

# Ctrl-C at the password prompt: the process ends, and the terminal echoes again.
pid, fd = pty.fork()
if pid == 0:
    os.execve(kp, [kp, "login", host, "-u", "alice"], env)
seen = b""
until(b"Password for alice")
assert not termios.tcgetattr(fd)[3] & termios.ECHO, "echo is on at the password prompt"
os.write(fd, b"\x03")
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == -signal.SIGINT, status
assert termios.tcgetattr(fd)[3] & termios.ECHO, "echo stayed off after Ctrl-C"
PY
  [ "$(python3 -c 'import json,sys; print(list(json.load(open(sys.argv[1]))["auths"]))' "$work/tty-auth.json")" = "['127.0.0.1:$aport']" ] ||
    kp_fail "the login on a terminal did not write the auth file"
  kp_ok "on a terminal, login asks for the user name, and for the password without echo (restored on Ctrl-C)"

  # Bearer tokens: credentials from config.toml are sent to the token service.
  set +e
  err=$(REGISTRY_AUTH_FILE=/nonexistent k2 pull "127.0.0.1:$tport/team/bb:v1" 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "pull from the token registry without credentials gave $s"
  kp_contains "$err" "wants credentials"
  mkdir -p "$work/tcfg/karapace"
  printf '[remote.credentials."127.0.0.1:%s"]\nusername = "alice"\npassword = "s3cret"\n' "$tport" > "$work/tcfg/karapace/config.toml"
  chmod 600 "$work/tcfg/karapace/config.toml"
  set +e
  err=$(XDG_CONFIG_HOME="$work/tcfg" REGISTRY_AUTH_FILE=/nonexistent k2 pull "127.0.0.1:$tport/team/bb:v1" 2>&1); s=$?
  set -e
  kp_contains "$err" "has no tag 'v1'"
  kp_ok "Bearer flow: a token from the token service with the configured credentials is accepted"

  # login to a token registry asks the token service, for no repository.
  set +e
  err=$(printf 'nope' | REGISTRY_AUTH_FILE="$work/tauth.json" "$kp" login "127.0.0.1:$tport" -u alice --password-stdin 2>&1); s=$?
  set -e
  [ $s = 1 ] || kp_fail "login to the token registry with a wrong password gave $s: $err"
  kp_contains "$err" "refused the credentials of 'alice'"
  [ ! -e "$work/tauth.json" ] || kp_fail "a refused token login wrote the auth file"
  printf 's3cret' | REGISTRY_AUTH_FILE="$work/tauth.json" "$kp" login "127.0.0.1:$tport" -u alice --password-stdin >/dev/null
  set +e
  err=$(REGISTRY_AUTH_FILE="$work/tauth.json" k2 pull "127.0.0.1:$tport/team/bb:v1" 2>&1)
  set -e
  kp_contains "$err" "has no tag 'v1'"
  kp_ok "login through a token service: refused with a wrong password, then used by pull"
}

fixtures=$(mktemp -d /tmp/karapace-remote.XXXXXX)
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
htpasswd -Bbc "$fixtures/htpasswd" alice s3cret 2>/dev/null
aport=$(kp_start_registry "$fixtures/areg" "$fixtures/htpasswd" 000)
pids+=("$(cat "$fixtures/areg/pid")")
python3 "$here/token_registry.py" > "$fixtures/tport" &
pids+=("$!")
for _ in $(seq 50); do [ -s "$fixtures/tport" ] && break; sleep 0.1; done
tport=$(cat "$fixtures/tport")
[ -n "$tport" ] || kp_fail "the token registry did not start"

mkdir -p "$fixtures/upload"
"$upload_check" "127.0.0.1:$port/upload/check:v1" "$fixtures/upload" || kp_fail "upload checks failed"

echo "# as $(id -un)"
( scenario "$fixtures/self" "$tarball" "$port" "$aport" "$tport" "$fixtures/reg/data" )

if kp_have_test_user; then
  user=${KARAPACE_TEST_USER:-kptest}
  mkdir -p "$fixtures/user" && chown "$user" "$fixtures/user"
  echo "# as $user"
  kp_as_user bash -c "$(declare -f scenario kp_fail kp_ok kp_contains kp_free_port); set -euo pipefail; kp=$kp; scenario $fixtures/user $tarball $port $aport $tport $fixtures/reg/data"
else
  echo "# skipped the unprivileged run: not root or no test user (scripts/test creates it)"
fi
echo "remote: all checks passed"
