#!/usr/bin/env python3
"""webhook_receiver.py - a webhook receiver for the integration tests.

Usage: webhook_receiver.py PORT DIR

Listens on 127.0.0.1:PORT.  Every POST is written to DIR as N.body (the raw
body) and N.headers (one "Name: value" per line), N counting from 1, then
answered with the status in DIR/status (default 200), so a test can make the
receiver fail and recover without restarting it.  DIR/ready is created once
the port is bound.  Nothing is verified here: the tests check signatures
themselves (openssl), so a wrong signature fails a test, not this script.
"""
import http.server
import os
import sys
import threading

PORT, DIR = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
count = [0]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        try:
            with open(os.path.join(DIR, "status")) as f:
                status = int(f.read().strip() or 200)
        except (OSError, ValueError):
            status = 200
        if status < 300:
            with lock:
                count[0] += 1
                i = count[0]
            with open(os.path.join(DIR, "%d.headers" % i), "w") as f:
                f.write("Path: %s\n" % self.path)
                for k, v in self.headers.items():
                    f.write("%s: %s\n" % (k, v))
            with open(os.path.join(DIR, "%d.body" % i), "wb") as f:
                f.write(body)
        else:
            with open(os.path.join(DIR, "refused"), "a") as f:
                f.write("%s\n" % self.headers.get("X-Customs-Event-Id", "-"))
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


os.makedirs(DIR, exist_ok=True)
srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
open(os.path.join(DIR, "ready"), "w").close()
srv.serve_forever()
