#!/usr/bin/env python3
"""A registry stand-in that serves one oversized image manifest, which docker-registry refuses to
store: /v2/ answers 200; every manifest is a valid OCI image manifest padded by an annotation to
5 MB, sent with its true length and digest. Prints its port on stdout."""
import hashlib
import http.server
import json
import sys

LAYER = "sha256:" + "a" * 64
BODY = json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
               "digest": "sha256:" + "c" * 64, "size": 2},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": LAYER, "size": 1}],
    "annotations": {"padding": "x" * 5_000_000},
}).encode()
DIGEST = "sha256:" + hashlib.sha256(BODY).hexdigest()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/v2/":
            data, ctype = b"{}", "application/json"
        elif "/manifests/" in self.path:
            data, ctype = BODY, "application/vnd.oci.image.manifest.v1+json"
        else:
            data, ctype = b'{"errors":[{"code":"BLOB_UNKNOWN"}]}', "application/json"
            self.send_response(404)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Docker-Content-Digest", DIGEST)
        self.end_headers()
        if self.command != "HEAD":
            try:
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client stopped reading at its limit

    do_HEAD = do_GET


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
