#!/usr/bin/env python3
"""Pushes hand-made OCI images to a registry over the distribution API, for the tests of
docker:// base images: ordinary ones, indexes, and broken ones (a wrong diff_id, a hostile entry).

usage: oci_push.py REGISTRY_URL REPOSITORY TAG SPEC_JSON   -> prints the manifest digest
SPEC: {"layers": [{"compress": "gzip"|"zstd"|"none", "entries": [ENTRY...]}...],
       "arch": "amd64", "bad_diff_id": false, "pad": 0}
   or {"index": [["arm64", "sha256:..."], ...]}
ENTRY: {"name": "etc/x", "data": "text"} | {"name": "f", "random": SIZE} | {"name": "d", "dir": true}
     | {"name": "l", "symlink": "target"}   (".wh.NAME" names are whiteouts)
"""
import gzip, hashlib, io, json, random, subprocess, sys, tarfile, urllib.request

reg, repo, tag, spec = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])


def digest(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def request(method, url, body=None, ctype=None):
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    return urllib.request.urlopen(req)


def upload(blob):
    loc = request("POST", f"{reg}/v2/{repo}/blobs/uploads/").headers["Location"]
    if loc.startswith("/"):
        loc = reg + loc
    sep = "&" if "?" in loc else "?"
    request("PUT", f"{loc}{sep}digest={digest(blob)}", blob, "application/octet-stream")
    return digest(blob)


def put_manifest(body, ctype):
    request("PUT", f"{reg}/v2/{repo}/manifests/{tag}", body, ctype)
    print(digest(body))


def layer_tar(entries):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            info = tarfile.TarInfo(e["name"])
            info.mtime = 0
            if e.get("dir"):
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                t.addfile(info)
            elif "symlink" in e:
                info.type, info.linkname = tarfile.SYMTYPE, e["symlink"]
                t.addfile(info)
            else:
                data = (random.Random(e["random"]).randbytes(e["random"]) if "random" in e
                        else e.get("data", "").encode())
                info.size, info.mode = len(data), 0o644
                t.addfile(info, io.BytesIO(data))
    return out.getvalue()


if "index" in spec:
    manifests = [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
                  "size": len(urllib.request.urlopen(urllib.request.Request(
                      f"{reg}/v2/{repo}/manifests/{d}",
                      headers={"Accept": "application/vnd.oci.image.manifest.v1+json"})).read()),
                  "platform": {"os": "linux", "architecture": a}} for a, d in spec["index"]]
    body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                       "manifests": manifests}).encode()
    put_manifest(body, "application/vnd.oci.image.index.v1+json")
    sys.exit(0)

descs, diff_ids = [], []
for layer in spec["layers"]:
    tar = layer_tar(layer["entries"])
    diff_ids.append(digest(tar))
    kind = layer.get("compress", "gzip")
    if kind == "gzip":
        blob, mtype = gzip.compress(tar, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    elif kind == "zstd":
        blob = subprocess.run(["zstd", "-q", "-c"], input=tar, stdout=subprocess.PIPE, check=True).stdout
        mtype = "application/vnd.oci.image.layer.v1.tar+zstd"
    else:
        blob, mtype = tar, "application/vnd.oci.image.layer.v1.tar"
    descs.append({"mediaType": mtype, "digest": upload(blob), "size": len(blob)})
if spec.get("bad_diff_id"):
    diff_ids[-1] = "sha256:" + "0" * 64
config = json.dumps({"architecture": spec.get("arch", "amd64"), "os": "linux",
                     "config": {"Env": ["PATH=/usr/bin:/bin", "FROM_IMAGE=yes"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": upload(config), "size": len(config)},
            "layers": descs}
if spec.get("pad"):
    manifest["annotations"] = {"padding": "x" * spec["pad"]}
put_manifest(json.dumps(manifest).encode(), "application/vnd.oci.image.manifest.v1+json")
