#!/usr/bin/env python3
"""redirect_front.py - a registry that sends blob downloads elsewhere, for
tests/integration/test_upstream_redirect.sh.

Azure Container Registry, and registries backed by S3 or Azure storage,
answer a blob GET with `307 Temporary Redirect` to a signed URL on another
host.  This server plays both sides, on 127.0.0.1 (three ports = three
origins), in one process:

  FRONT    an HTTP/1.1 reverse proxy in front of a real docker-registry
           (--registry URL, htpasswd auth).  Every request is forwarded with
           its headers (Authorization and Host included) and body, and the
           registry's status, headers (WWW-Authenticate included) and body
           come back.  Except a blob GET (/v2/<name>/blobs/sha256:<hex>): the
           registry is asked first (HEAD, with the client's headers); on 200
           the answer is a 307 to a signed URL (see MODES), else the
           registry's own answer to the GET (401, 404...) is passed on.
  STORE A  the "object storage": GET/HEAD /blob/<digest>?sig=<sig> serves
  STORE B  the blob straight from the registry's storage directory
           (--storage DIR, the registry's rootdirectory) when sig is one the
           front issued for that digest, else 403.  It never sees a
           credential it needs: any Authorization that arrives is a leak.

MODES (read from DIR/mode on every blob GET; the test rewrites the file):
  absolute        front -> http://A/blob/<d>?sig=S                       (1 hop)
  relative        front -> "/_signed/<d>?sig=S" (relative, same origin: the
                  front serves it itself; Authorization may legitimately
                  come along)                                             (1 hop)
  relative-store  front -> http://A/r/<d>?sig=S -> "/blob/<d>?sig=S"
                  (relative to A: resolving it against the first URL would
                  hit the front's /blob/..., which answers 404)          (2 hops)
  chain           front -> http://A/hop/<d>?sig=S -> http://B/blob/<d>?sig=S
                                                                          (2 hops)
  loop            front -> http://A/loop/<d>?sig=S -> the same URL, forever

LOGS (JSON lines, flushed per request):
  DIR/front.log   {"method","path","auth","auth_user","ua","status","location"}
                  auth: whether Authorization came; auth_user: the Basic
                  user name (never the password) or "bearer".
  DIR/store.log   {"listener":"A"|"B","method","path","ua","status",
                  "headers":[[name, value], ...every request header as received]}

Startup: binds three free ports, writes "FRONT A B" to DIR/ports, then
creates DIR/ready.  Runs until killed.  Python 3 standard library only.
Thread: one thread per connection (ThreadingHTTPServer); the log and the
issued signatures are shared under a lock.
"""
import argparse
import base64
import http.client
import http.server
import json
import os
import re
import secrets
import sys
import threading
import urllib.parse

BLOB_RE = re.compile(r"^/v2/(.+)/blobs/(sha256:[0-9a-f]{64})$")
STORE_RE = re.compile(r"^/(blob|r|hop|loop)/(sha256:[0-9a-f]{64})$")
SIGNED_RE = re.compile(r"^/_signed/(sha256:[0-9a-f]{64})$")
REGISTRY_TIMEOUT_S = 30
MODES = ("absolute", "relative", "relative-store", "chain", "loop")
# hop-by-hop headers (RFC 9110 7.6.1) are not forwarded either way
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}

LOCK = threading.Lock()
ISSUED = {}  # sig -> digest
ARGS = None
PORTS = {}


def log_line(name, rec):
    with LOCK:
        with open(os.path.join(ARGS.dir, name), "a") as f:
            f.write(json.dumps(rec, sort_keys=True) + "\n")


def mode():
    try:
        with open(os.path.join(ARGS.dir, "mode")) as f:
            m = f.read().strip()
    except OSError:
        return "absolute"
    return m if m in MODES else "absolute"


def auth_user(value):
    """The user a credential names, never the secret itself."""
    if not value:
        return None
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(rest.strip()).decode("utf-8", "replace").split(":", 1)[0]
        except ValueError:
            return "?"
    return scheme.lower()


def blob_path(digest):
    hexd = digest.split(":", 1)[1]
    return os.path.join(ARGS.storage, "docker", "registry", "v2", "blobs", "sha256", hexd[:2], hexd, "data")


def issue(digest):
    sig = secrets.token_hex(16)
    with LOCK:
        ISSUED[sig] = digest
    return sig


def sig_ok(query, digest):
    sig = urllib.parse.parse_qs(query).get("sig", [""])[0]
    with LOCK:
        return ISSUED.get(sig) == digest


class Base(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer has a Content-Length

    def log_message(self, fmt, *args):  # quiet: the JSON logs say it all
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            out = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def answer(self, status, headers, body, head=False):
        self.send_response(status)
        have_len = False
        for k, v in headers:
            if k.lower() in HOP_BY_HOP:
                continue
            if k.lower() == "content-length":
                if not head:
                    continue  # recomputed from the body sent
                have_len = True
            self.send_header(k, v)
        if not head:
            self.send_header("Content-Length", str(len(body)))
        elif not have_len:
            self.send_header("Content-Length", "0")
        self.end_headers()
        if not head and body:
            self.wfile.write(body)


class Front(Base):
    def registry(self, method, body=None):
        """The registry's answer to this request: (status, headers, body)."""
        u = urllib.parse.urlsplit(ARGS.registry)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=REGISTRY_TIMEOUT_S)
        try:
            # header by header: a client sends several Accept lines
            conn.putrequest(method, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in self.headers.items():
                if k.lower() not in HOP_BY_HOP:
                    conn.putheader(k, v)
            if body is not None and "content-length" not in (k.lower() for k in self.headers.keys()):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            r = conn.getresponse()
            data = r.read() if method != "HEAD" else b""
            return r.status, r.getheaders(), data
        finally:
            conn.close()

    def done(self, status, location=None):
        a = self.headers.get("Authorization")
        log_line("front.log", {"method": self.command, "path": self.path, "auth": a is not None,
                               "auth_user": auth_user(a), "ua": self.headers.get("User-Agent", ""),
                               "status": status, "location": location})

    def forward(self):
        body = self.read_body() if self.command in ("POST", "PUT", "PATCH") else None
        status, hdrs, data = self.registry(self.command, body)
        self.answer(status, hdrs, data, head=self.command == "HEAD")
        self.done(status)

    def redirect(self, digest):
        sig = issue(digest)
        m = mode()
        a = "http://127.0.0.1:%d" % PORTS["A"]
        loc = {"absolute": "%s/blob/%s?sig=%s" % (a, digest, sig),
               "relative": "/_signed/%s?sig=%s" % (digest, sig),
               "relative-store": "%s/r/%s?sig=%s" % (a, digest, sig),
               "chain": "%s/hop/%s?sig=%s" % (a, digest, sig),
               "loop": "%s/loop/%s?sig=%s" % (a, digest, sig)}[m]
        # what Go's http.Redirect (docker distribution's own redirect) sends
        body = ('<a href="%s">Temporary Redirect</a>.\n\n' % loc).encode()
        self.answer(307, [("Location", loc), ("Content-Type", "text/html; charset=utf-8"),
                          ("Docker-Distribution-Api-Version", "registry/2.0")], body)
        self.done(307, loc)

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        m = BLOB_RE.match(path)
        s = SIGNED_RE.match(path)
        if s:  # the relative mode's target, on the front's own origin
            digest = s.group(1)
            if not sig_ok(urllib.parse.urlsplit(self.path).query, digest):
                self.answer(403, [("Content-Type", "text/plain")], b"bad signature\n")
                return self.done(403)
            with open(blob_path(digest), "rb") as f:
                data = f.read()
            self.answer(200, [("Content-Type", "application/octet-stream")], data)
            return self.done(200)
        if m and not urllib.parse.urlsplit(self.path).query:
            st, _, _ = self.registry("HEAD")
            if st == 200:
                return self.redirect(m.group(2))
        self.forward()

    def do_HEAD(self):
        self.forward()

    do_POST = do_PUT = do_PATCH = do_DELETE = forward


class Store(Base):
    listener = "?"

    def serve(self, head):
        u = urllib.parse.urlsplit(self.path)
        m = STORE_RE.match(u.path)
        status, hdrs, body = 404, [("Content-Type", "text/plain")], b"not found\n"
        if m:
            kind, digest = m.group(1), m.group(2)
            if not sig_ok(u.query, digest):
                status, body = 403, b"bad or missing signature\n"
            elif kind == "blob":
                try:
                    with open(blob_path(digest), "rb") as f:
                        body = f.read()
                    status, hdrs = 200, [("Content-Type", "application/octet-stream"),
                                         ("ETag", '"%s"' % digest)]
                except OSError:
                    pass
            else:
                q = "?" + u.query
                loc = {"r": "/blob/%s%s" % (digest, q),
                       "hop": "http://127.0.0.1:%d/blob/%s%s" % (PORTS["B"], digest, q),
                       "loop": "http://127.0.0.1:%d/loop/%s%s" % (PORTS["A"], digest, q)}[kind]
                status, hdrs, body = 307, [("Location", loc), ("Content-Type", "text/plain")], b"moved\n"
        self.answer(status, hdrs, body, head=head)
        log_line("store.log", {"listener": self.listener, "method": self.command, "path": self.path,
                               "ua": self.headers.get("User-Agent", ""), "status": status,
                               "headers": [[k, v] for k, v in self.headers.items()]})

    def do_GET(self):
        self.serve(False)

    def do_HEAD(self):
        self.serve(True)


def listen(handler):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--registry", required=True, help="the registry's URL, http://127.0.0.1:PORT")
    p.add_argument("--storage", required=True, help="the registry's storage rootdirectory")
    p.add_argument("--dir", required=True, help="state directory: mode, ports, ready, *.log")
    ARGS = p.parse_args()
    os.makedirs(ARGS.dir, exist_ok=True)
    store_a = type("StoreA", (Store,), {"listener": "A"})
    store_b = type("StoreB", (Store,), {"listener": "B"})
    a, b = listen(store_a), listen(store_b)
    PORTS["A"], PORTS["B"] = a.server_address[1], b.server_address[1]
    front = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Front)
    front.daemon_threads = True
    PORTS["front"] = front.server_address[1]
    with open(os.path.join(ARGS.dir, "ports"), "w") as f:
        f.write("%d %d %d\n" % (PORTS["front"], PORTS["A"], PORTS["B"]))
    open(os.path.join(ARGS.dir, "ready"), "w").close()
    front.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
