#!/usr/bin/env python3
"""tests/integration/fake_admin_api.py - a stand-in for customs' admin
listener that serves the dashboard's files from a directory and the JSON API
of proxy/px_admin.h with made-up data, so that test_dashboard.sh can drive
the dashboard where the real listener cannot easily go: thousands of
images (server-side paging), hostile strings (escaping), a token (401 and
the prompt).

    fake_admin_api.py PORT DASH_DIR LOGFILE [--token T] [--images N]

Binds 127.0.0.1 only.  Writes "ready" to LOGFILE's directory when
listening; appends one line per request to LOGFILE:
"METHOD PATH AUTH" (AUTH is "bearer-ok", "bearer-bad" or "none").
Shapes follow px_admin.h; values are invented.  Single-threaded test
fixture; exits on SIGTERM."""
import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8"}
MAX_PER_PAGE = 200
SEVS = ("critical", "high", "medium", "low", "unknown")


def make_images(n):
    out = []
    for i in range(n):
        repo = "shop/app" if i == 0 else f"team{i % 40:02d}/svc{i % 7}"
        verdict = "deny" if i == 0 else ("allow", "warn", "unscanned", "allow")[i % 4]
        counts = {"critical": 1 if i == 0 else 0, "high": i % 3, "medium": i % 5, "low": i % 2, "unknown": 0}
        out.append({"repository": repo, "tag": "v1" if i == 0 else (f"build-{i}" if i % 9 else None),
                    "digest": "sha256:%064x" % (i + 1), "kind": "image", "pushed_at": 4102444800 - i * 60,
                    "verdict": verdict, "rule": "no-critical" if verdict == "deny" else None,
                    "counts": counts, "stale_base": i % 11 == 0})
    return out


class Handler(BaseHTTPRequestHandler):
    server_version = "fake-admin/1"

    def log_message(self, fmt, *args):  # quiet: the request log is our own
        pass

    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Content-Security-Policy", "default-src 'self'")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        u = urlsplit(self.path)
        q = {k: v[-1] for k, v in parse_qs(u.query).items()}
        auth = self.headers.get("Authorization")
        tok = self.server.token
        state = "none" if not auth else ("bearer-ok" if tok and auth == "Bearer " + tok else "bearer-bad")
        with open(self.server.logfile, "a") as f:
            f.write(f"GET {self.path} {state}\n")
        if u.path == "/" or u.path in ("/index.html", "/app.js", "/app.css"):
            name = "index.html" if u.path == "/" else u.path[1:]
            with open(os.path.join(self.server.dash, name), "rb") as f:
                return self.send(200, f.read(), TYPES[os.path.splitext(name)[1]])
        if not u.path.startswith("/api/"):
            return self.send(404, {"error": "not found"})
        if tok and state != "bearer-ok":
            return self.send(401, {"error": "unauthorized"})
        fn = getattr(self, "api_" + u.path[5:], None)
        if not fn:
            return self.send(404, {"error": "no such endpoint"})
        try:
            return self.send(200, fn(q))
        except ValueError as e:
            return self.send(400, {"error": str(e)})

    def page(self, q, rows, key):
        page = int(q.get("page", "1"))
        per = int(q.get("per_page", "50"))
        if page < 1 or per < 1 or per > MAX_PER_PAGE:
            raise ValueError("bad page or per_page")
        return {"total": len(rows), "page": page, "per_page": per, key: rows[(page - 1) * per:page * per]}

    def api_summary(self, q):
        imgs = self.server.images
        c = lambda v: sum(1 for i in imgs if i["verdict"] == v)
        return {"images": len(imgs), "repositories": len({i["repository"] for i in imgs}), "denied": c("deny"),
                "warned": c("warn"), "allowed": c("allow"), "unscanned": c("unscanned"),
                "vulndb": {"generation": 3, "last_import": 4102444800, "records": 1},
                "policy": {"generation": 2, "mode": "enforce", "path": "/etc/customs/policy.yaml"},
                "version": "fake"}

    def api_repositories(self, q):
        names = {}
        for i in self.server.images:
            r = names.setdefault(i["repository"], {"name": i["repository"], "images": 0, "tags": 0})
            r["images"] += 1
            r["tags"] += 1 if i["tag"] else 0
        rows = sorted((r for r in names.values() if q.get("q", "") in r["name"]), key=lambda r: r["name"])
        return self.page(q, rows, "repositories")

    def api_images(self, q):
        rows = [i for i in self.server.images
                if (not q.get("repository") or i["repository"] == q["repository"])
                and (not q.get("verdict") or i["verdict"] == q["verdict"])
                and (not q.get("q") or q["q"] in i["repository"] or q["q"] in (i["tag"] or "") or q["q"] in i["digest"])]
        return self.page(q, rows, "images")

    def api_image(self, q):
        for i in self.server.images:
            if i["repository"] == q.get("repository") and q.get("reference") in (i["tag"], i["digest"]):
                break
        else:
            raise ValueError("no such image")
        deny = i["verdict"] == "deny"
        return {"repository": i["repository"], "reference": q["reference"], "digest": i["digest"], "kind": "image",
                "verdict": {"decision": i["verdict"], "rule": i["rule"],
                            "message": ("denied by rule no-critical: CVE-2099-0001 (critical) in libssl3 "
                                        "3.0.11-1~deb12u2 -> 3.0.13-1~deb12u1 " + HOSTILE) if deny else None,
                            "reasons": [{"kind": "vulnerability", "action": "deny", "rule": "no-critical",
                                         "finding": "CVE-2099-0001", "package": "libssl3",
                                         "version": "3.0.11-1~deb12u2", "fixed_version": "3.0.13-1~deb12u1",
                                         "severity": "critical", "score": 9.8, "note": HOSTILE}] if deny else []},
                "counts": i["counts"],
                "findings": [{"id": "CVE-2099-0001", "aliases": ["DSA-9999-1"], "package": "libssl3",
                              "version": "3.0.11-1~deb12u2", "fixed": "3.0.13-1~deb12u1", "severity": "critical",
                              "score": 9.8}] if deny else [],
                "packages": [{"name": f"pkg{k}", "version": "1.0", "type": "deb", "ecosystem": "Debian:12",
                              "purl": f"pkg:deb/debian/pkg{k}@1.0"} for k in range(250)],
                "secrets": [], "layers": [{"digest": "sha256:%064x" % 99, "status": "scanned"}],
                "lineage": {"repository": i["repository"], "tag": i["tag"], "digest": i["digest"],
                            "image": i["digest"], "origin": "local",
                            "bases": [{"digest": "sha256:%064x" % 7, "index": None, "how": "chain", "origin": "watch",
                                       "repository": "docker.io/library/debian", "tag": "12", "layers": 1,
                                       "stale": True, "superseded_at": 4102000000, "superseded_days": 5,
                                       "new_digest": "sha256:%064x" % 8, "fixes_known": True, "fixes_total": 1,
                                       "fixes": [{"id": "CVE-2099-0001"}]}],
                            "built_on_this": [], "history": []},
                "annotations": [{"artifactType": "application/vnd.cyclonedx+json", "digest": "sha256:%064x" % 5}]}

    def api_decisions(self, q):
        before = int(q.get("before") or 10**9)
        limit = min(int(q.get("limit", "100")), 500)
        ids = [k for k in range(1000, 0, -1) if k < before][:limit]
        return {"decisions": [{"id": k, "at": 4102444800 - k, "client": "127.0.0.1", "repository": "shop/app",
                               "reference": "v1", "digest": "sha256:%064x" % 1, "method": "GET", "verdict": "deny",
                               "rule": "no-critical", "user_agent": HOSTILE} for k in ids],
                "next_before": ids[-1] if ids and ids[-1] > 1 else None}

    def api_policy(self, q):
        return {"path": "/etc/customs/policy.yaml", "generation": 2, "loaded_at": 4102444800, "last_error": None,
                "mode": "enforce", "rules": 1,
                "exceptions": [{"vulnerability": "CVE-2099-0002", "repositories": ["shop/**"], "package": None,
                                "expires": "2099-12-31", "reason": "waiting for upstream " + HOSTILE,
                                "expired": False, "expires_in_days": 3}]}

    def api_vulndb(self, q):
        return {"generation": 3, "last_import": 4102444800, "records": 1, "sources": ["osv"],
                "ecosystems": {"Debian:12": 1}}

    def api_events(self, q):
        return {"deliveries": [{"id": 1, "event": "ev1", "type": "pull-denied", "webhook": "json http://127.0.0.1:1",
                                "status": "failed", "attempts": 3, "last_status": 500, "last_error": HOSTILE,
                                "created_at": 4102444800, "delivered_at": None, "next_at": None}]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("dash")
    ap.add_argument("logfile")
    ap.add_argument("--token", default="")
    ap.add_argument("--images", type=int, default=5000)
    a = ap.parse_args()
    srv = HTTPServer(("127.0.0.1", a.port), Handler)
    srv.dash, srv.logfile, srv.token = a.dash, a.logfile, a.token
    srv.images = make_images(a.images)
    open(os.path.join(os.path.dirname(os.path.abspath(a.logfile)), "ready"), "w").close()
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
