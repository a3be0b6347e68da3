#!/usr/bin/env python3
"""token_server.py - a Docker registry token server for the integration tests.

Usage: token_server.py --port P --dir DIR --users USERS.json --key KEY.pem
                       --cert CERT.pem --issuer ISS [--ttl SECONDS]

Owned by tests/integration/test_upstream_token.sh.  Listens on
127.0.0.1:PORT (one thread per connection) and speaks what docker-registry
2.8 (distribution, auth.token) and Azure Container Registry clients expect:

  GET  /oauth2/token?service=S&scope=repository:NAME:ACTIONS[&scope=...]
       Basic auth (or none: anonymous, who gets a token granting nothing)
       -> {"token", "access_token", "expires_in", "issued_at"}
          (+ "refresh_token" when offline_token=true and a user logged in)
  POST /oauth2/token   form grant_type=password (username, password, service,
       scope, client_id) or grant_type=refresh_token (refresh_token, service,
       scope) -> {"access_token", "refresh_token", "expires_in"}.
       Answers with the status in DIR/post_status instead when that file
       holds one (e.g. 405: a server without the POST flow).
  POST /oauth2/exchange  (ACR) form grant_type=access_token, service,
       access_token (one this server issued) -> {"refresh_token"}.
  ANY  /acr/v1/...       -> {"method", "path", "query", "authorization"}:
       an echo, so a test sees what arrived.

USERS.json: {"alice": {"password": "...", "actions": ["pull", "push"]}, ...};
"catalog" among the actions also grants registry:catalog:*.  A wrong
password or unknown user is a 401.

Tokens are JWTs signed RS256 by `openssl dgst -sha256 -sign KEY` (no
third-party Python modules), with the certificate in the "x5c" header: the
registry verifies it against its auth.token.rootcertbundle.

Files written in DIR (the test reads them):
  ready        created once the port is bound;
  log.jsonl    one JSON object per request: method, path, query, grant
               (basic-get, anonymous, password, refresh_token, exchange,
               acr, or none), user, scopes (as requested), service,
               client_id, user_agent, authorization (bool: header present),
               status, body_sha256 (of the raw request body), form (the
               fields with secrets replaced by "sha256:<hex>"), issued (the
               SHA-256 of every token or refresh token handed out);
  tokens.txt   the values of every token handed out, one a line (secrets:
               only for the test to grep other logs with).
Errors: a request this server cannot parse gets a 400; a signing failure
(openssl) a 500; both are logged like any other request.
"""
import argparse
import base64
import hashlib
import http.server
import json
import os
import secrets
import subprocess
import threading
import time
import urllib.parse

MAX_BODY_BYTES = 64 * 1024      # token requests are small forms
DEFAULT_TTL_SECONDS = 300       # access token lifetime

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--dir", required=True)
ap.add_argument("--users", required=True)
ap.add_argument("--key", required=True)
ap.add_argument("--cert", required=True)
ap.add_argument("--issuer", required=True)
ap.add_argument("--ttl", type=int, default=DEFAULT_TTL_SECONDS)
ARGS = ap.parse_args()

with open(ARGS.users) as f:
    USERS = json.load(f)
with open(ARGS.cert) as f:
    pem = "".join(l.strip() for l in f if not l.startswith("-----"))
CERT_B64 = pem  # base64 (not url-safe) DER, as x5c wants

lock = threading.Lock()
refresh_tokens = {}   # refresh token -> user
access_tokens = {}    # access token -> (user, expiry)
LOG = os.path.join(ARGS.dir, "log.jsonl")
TOKENS = os.path.join(ARGS.dir, "tokens.txt")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def sha(s):
    return "sha256:" + hashlib.sha256(s.encode() if isinstance(s, str) else s).hexdigest()


def parse_scopes(values):
    """Scope strings (repeated parameters, or space-separated in one) ->
    list of (type, name, [actions])."""
    out = []
    for v in values:
        for s in v.split():
            parts = s.split(":")
            if len(parts) < 3:
                continue
            out.append((parts[0], ":".join(parts[1:-1]), parts[-1].split(",")))
    return out


def granted(user, scopes):
    """The access claim: what USER may do of what was asked."""
    rights = set(USERS.get(user, {}).get("actions", [])) if user else set()
    access = []
    for typ, name, actions in scopes:
        if typ == "repository":
            acts = [a for a in actions if a in rights]
        elif typ == "registry" and name == "catalog":
            acts = ["*"] if "catalog" in rights and "*" in actions else []
        else:
            acts = []
        access.append({"type": typ, "name": name, "actions": acts})
    return access


def sign_jwt(user, service, scopes):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [CERT_B64]}
    claims = {"iss": ARGS.issuer, "sub": user or "", "aud": service,
              "exp": now + ARGS.ttl, "nbf": now - 5, "iat": now,
              "jti": secrets.token_hex(16), "access": granted(user, scopes)}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    p = subprocess.run(["openssl", "dgst", "-sha256", "-sign", ARGS.key],
                       input=signing_input.encode(), capture_output=True, check=True)
    tok = signing_input + "." + b64url(p.stdout)
    with lock:
        access_tokens[tok] = (user, now + ARGS.ttl)
    return tok, now


def new_refresh_token(user):
    rt = "rt-" + secrets.token_urlsafe(24)
    with lock:
        refresh_tokens[rt] = user
    return rt


def check_password(user, password):
    u = USERS.get(user)
    return u is not None and secrets.compare_digest(u.get("password", ""), password)


SECRET_FIELDS = ("password", "refresh_token", "access_token")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup_entry(self):
        u = urllib.parse.urlsplit(self.path)
        self.entry = {"method": self.command, "path": u.path, "query": u.query,
                      "grant": "none", "user": None, "scopes": [], "service": None,
                      "client_id": None,
                      "user_agent": self.headers.get("User-Agent", ""),
                      "authorization": self.headers.get("Authorization") is not None,
                      "status": None, "body_sha256": None, "form": None, "issued": []}
        self.issued = []
        return u

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY_BYTES:
            raise ValueError("body too large")
        body = self.rfile.read(n) if n else b""
        self.entry["body_sha256"] = sha(body)
        return body

    def answer(self, status, obj, extra=None):
        data = json.dumps(obj).encode()
        self.entry["status"] = status
        self.entry["issued"] = [sha(t) for t in self.issued]
        with lock:
            with open(LOG, "a") as f:
                f.write(json.dumps(self.entry) + "\n")
            if self.issued:
                with open(TOKENS, "a") as f:
                    f.write("".join(t + "\n" for t in self.issued))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def basic_user(self):
        """(user, ok): user None when no Basic credentials came."""
        h = self.headers.get("Authorization", "")
        if not h.lower().startswith("basic "):
            return None, True
        try:
            user, _, pw = base64.b64decode(h[6:].strip()).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return "?", False
        return user, check_password(user, pw)

    def handle_any(self):
        u = self.setup_entry()
        try:
            if u.path.startswith("/acr/v1/"):
                self.entry["grant"] = "acr"
                body = self.read_body()
                return self.answer(200, {"method": self.command, "path": u.path, "query": u.query,
                                         "authorization": self.entry["authorization"],
                                         "body_sha256": sha(body)})
            if u.path == "/oauth2/token" and self.command == "GET":
                return self.token_get(u)
            if u.path == "/oauth2/token" and self.command == "POST":
                return self.token_post()
            if u.path == "/oauth2/exchange" and self.command == "POST":
                return self.exchange()
            if u.path in ("/oauth2/token", "/oauth2/exchange"):
                return self.answer(405, {"error": "method not allowed"}, {"Allow": "GET, POST"})
            return self.answer(404, {"error": "not found"})
        except subprocess.CalledProcessError as e:
            return self.answer(500, {"error": "signing failed: %s" % e.stderr.decode(errors="replace")})
        except ValueError as e:
            return self.answer(400, {"error": str(e)})

    def token_get(self, u):
        q = urllib.parse.parse_qs(u.query)
        service = q.get("service", [""])[0]
        scopes = parse_scopes(q.get("scope", []))
        self.entry.update(service=service, scopes=q.get("scope", []),
                          client_id=q.get("client_id", [None])[0])
        user, good = self.basic_user()
        self.entry["grant"] = "anonymous" if user is None else "basic-get"
        self.entry["user"] = user
        if not good:
            return self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                               {"WWW-Authenticate": 'Basic realm="token"'})
        tok, now = sign_jwt(user, service, scopes)
        self.issued.append(tok)
        resp = {"token": tok, "access_token": tok, "expires_in": ARGS.ttl,
                "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}
        if user and q.get("offline_token", [""])[0] == "true":
            resp["refresh_token"] = new_refresh_token(user)
            self.issued.append(resp["refresh_token"])
        return self.answer(200, resp)

    def read_form(self):
        body = self.read_body()
        form = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()}
        self.entry["form"] = {k: (sha(v) if k in SECRET_FIELDS else v) for k, v in form.items()}
        return form

    def token_post(self):
        form = self.read_form()
        grant = form.get("grant_type", "")
        service = form.get("service", "")
        self.entry.update(grant=grant or "none", service=service, client_id=form.get("client_id"),
                          scopes=[form["scope"]] if "scope" in form else [],
                          user=form.get("username") if grant == "password" else None)
        try:
            with open(os.path.join(ARGS.dir, "post_status")) as f:
                forced = int(f.read().strip() or 0)
        except (OSError, ValueError):
            forced = 0
        if forced:
            return self.answer(forced, {"error": "POST disabled by the test"})
        scopes = parse_scopes([form.get("scope", "")])
        if grant == "password":
            user = form.get("username", "")
            self.entry["user"] = user
            if not check_password(user, form.get("password", "")):
                return self.answer(401, {"error": "invalid_grant"})
        elif grant == "refresh_token":
            with lock:
                user = refresh_tokens.get(form.get("refresh_token", ""))
            self.entry["user"] = user
            if user is None:
                return self.answer(401, {"error": "invalid_grant"})
        else:
            return self.answer(400, {"error": "unsupported_grant_type"})
        tok, _ = sign_jwt(user, service, scopes)
        rt = form.get("refresh_token") if grant == "refresh_token" else new_refresh_token(user)
        self.issued.append(tok)
        if grant == "password":
            self.issued.append(rt)
        return self.answer(200, {"access_token": tok, "refresh_token": rt, "expires_in": ARGS.ttl,
                                 "scope": form.get("scope", "")})

    def exchange(self):
        form = self.read_form()
        self.entry.update(grant="exchange", service=form.get("service"))
        if form.get("grant_type") != "access_token":
            return self.answer(400, {"error": "unsupported_grant_type"})
        with lock:
            user, exp = access_tokens.get(form.get("access_token", ""), (None, 0))
        self.entry["user"] = user
        if user is None or exp < time.time():
            return self.answer(401, {"error": "invalid access_token"})
        rt = new_refresh_token(user)
        self.issued.append(rt)
        return self.answer(200, {"refresh_token": rt})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any

    def log_message(self, *args):
        pass


os.makedirs(ARGS.dir, exist_ok=True)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
srv.daemon_threads = True
open(os.path.join(ARGS.dir, "ready"), "w").close()
srv.serve_forever()
