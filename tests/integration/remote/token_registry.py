#!/usr/bin/env python3
"""A stand-in for a registry behind a token service, enough to drive the Bearer flow: every /v2/
request without the right token gets 401 with a Bearer challenge; /token hands out the token for
alice:s3cret (HTTP Basic) and the asked scope, or none (a login); with the token, /v2/ answers 200
and manifests are unknown (404)."""
import base64
import http.server
import json
import sys
import urllib.parse

TOKEN = "t0k3n"


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, code, body, headers=()):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path == "/token":
            q = urllib.parse.parse_qs(url.query)
            good = "Basic " + base64.b64encode(b"alice:s3cret").decode()
            if self.headers.get("Authorization") != good:
                return self.reply(401, {"details": "bad credentials"})
            # No scope is a login (as `podman login` asks): a token with no access, as real
            # token services hand out.
            scope = q.get("scope", ["repository:"])[0]
            if q.get("service") != ["fake"] or not scope.startswith("repository:"):
                return self.reply(400, {"details": "bad token request"})
            return self.reply(200, {"token": TOKEN})
        if self.headers.get("Authorization") != "Bearer " + TOKEN:
            port = self.server.server_address[1]
            challenge = ('Bearer realm="http://127.0.0.1:%d/token",service="fake",'
                         'scope="repository:team/bb:pull"' % port)
            return self.reply(401, {"errors": [{"code": "UNAUTHORIZED", "message": "token"}]},
                              [("WWW-Authenticate", challenge)])
        if url.path == "/v2/":
            return self.reply(200, {})
        return self.reply(404, {"errors": [{"code": "MANIFEST_UNKNOWN",
                                            "message": "manifest unknown"}]})

    do_HEAD = do_GET


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
