#!/usr/bin/env python3
"""bench/osv_synth.py - synthesize OSV records as OSV publishes them: one
zip per ecosystem, one JSON record per entry.

What for: measuring `customs db import` and matching against a vulnerability
database the size of the full OSV export (~200,000 records) when only a
part of it is at hand.  Shapes follow the real export: ids per ecosystem
(DEBIAN-CVE-..., PYSEC-..., GHSA-..., GO-..., ALPINE-CVE-...), aliases
(CVE/GHSA, some shared between records so that severities are borrowed),
severity as a CVSS v3/v4 vector, or database_specific / ecosystem_specific
text, or none; 1-3 affected packages, each with ranges of several events
(introduced/fixed pairs, last_affected, limit, a SEMVER range now and then)
and for some an explicit versions list; details and references of realistic
length.  A share of the records (--overlap) names packages from --names (or
a built-in list of common names) so that a real image gets findings; the
rest use made-up names, several records per name.

Deterministic: the same arguments (--seed) give the same zips, byte for byte
(fixed entry timestamps and order).  Python standard library only.

Usage: osv_synth.py -n COUNT -o OUTDIR [--seed S] [--names FILE] [--overlap F]
  --names FILE: lines "ECOSYSTEM<TAB>NAME" (e.g. the packages of a scanned
  image; Debian source names for Debian), used for the overlapping records.
Writes OUTDIR/synth-<Ecosystem>.zip and prints one line per zip.
"""
import argparse
import json
import os
import random
import sys
import zipfile

# ecosystem -> (share of the records, id prefix, zip name, OSV ecosystem names)
ECOSYSTEMS = [
    ("Debian", 0.22, "DEBIAN-CVE", ["Debian:12", "Debian:11", "Debian:13"]),
    ("PyPI", 0.16, "PYSEC", ["PyPI"]),
    ("npm", 0.18, "GHSA", ["npm"]),
    ("Go", 0.10, "GO", ["Go"]),
    ("Maven", 0.12, "GHSA", ["Maven"]),
    ("Alpine", 0.10, "ALPINE-CVE", ["Alpine:v3.19", "Alpine:v3.20", "Alpine:v3.18"]),
    ("crates.io", 0.04, "RUSTSEC", ["crates.io"]),
    ("RubyGems", 0.04, "GHSA", ["RubyGems"]),
    ("Ubuntu", 0.04, "UBUNTU-CVE", ["Ubuntu:22.04:LTS", "Ubuntu:24.04:LTS"]),
]

COMMON = {
    "Debian": ["openssl", "curl", "glibc", "systemd", "zlib", "libxml2", "expat", "sqlite3", "perl",
               "tar", "gnutls28", "krb5", "openldap", "pam", "shadow", "util-linux", "ncurses", "bash",
               "coreutils", "libgcrypt20", "gnupg2", "xz-utils", "python3.11", "git", "libtasn1-6"],
    "PyPI": ["requests", "urllib3", "setuptools", "pip", "jinja2", "certifi", "idna", "cryptography",
             "pyyaml", "wheel", "django", "flask", "numpy", "pillow"],
    "npm": ["lodash", "express", "axios", "debug", "minimist", "qs", "semver", "cookie", "body-parser",
            "path-to-regexp", "send", "serve-static", "tar", "ws", "follow-redirects"],
    "Go": ["stdlib", "golang.org/x/net", "golang.org/x/crypto", "golang.org/x/text", "golang.org/x/sys",
           "github.com/gin-gonic/gin", "google.golang.org/grpc", "github.com/golang-jwt/jwt/v4"],
    "Maven": ["org.apache.logging.log4j:log4j-core", "com.fasterxml.jackson.core:jackson-databind",
              "org.springframework:spring-core", "org.yaml:snakeyaml", "commons-io:commons-io"],
    "Alpine": ["openssl", "busybox", "musl", "curl", "zlib", "expat", "apk-tools"],
    "crates.io": ["tokio", "hyper", "regex", "openssl", "time", "smallvec"],
    "RubyGems": ["rails", "nokogiri", "rack", "actionpack", "activesupport"],
    "Ubuntu": ["openssl", "curl", "linux", "glibc", "sudo", "systemd"],
}

WORDS = ("buffer overflow heap use after free denial of service crafted input remote attacker "
         "allows could cause memory corruption path traversal improper validation request "
         "smuggling certificate verification bypass integer overflow null pointer dereference "
         "cross site scripting injection sandbox escape information disclosure race condition").split()

CVSS3 = ["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
         "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:L/A:N", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
         "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N",
         "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N"]
CVSS4 = ["CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
         "CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:N/SC:N/SI:N/SA:N"]
TEXT_SEV = ["LOW", "MODERATE", "HIGH", "CRITICAL", "medium", "unimportant"]


def version(r, eco):
    """A version string in the ecosystem's style."""
    a, b, c = r.randint(0, 12), r.randint(0, 30), r.randint(0, 40)
    if eco.startswith(("Debian", "Ubuntu")):
        ep = "%d:" % r.randint(1, 2) if r.random() < 0.1 else ""
        return "%s%d.%d.%d-%d%s" % (ep, a, b, c, r.randint(1, 5), "+deb12u%d" % r.randint(1, 4) if r.random() < 0.3 else "")
    if eco.startswith("Alpine"):
        return "%d.%d.%d-r%d" % (a, b, c, r.randint(0, 9))
    if eco == "Maven" and r.random() < 0.3:
        return "%d.%d.%d.RELEASE" % (a, b, c)
    return "%d.%d.%d" % (a, b, c)


def sortkey(v):
    parts = []
    for p in v.replace(":", ".").replace("-", ".").replace("+", ".").split("."):
        parts.append(int(p) if p.isdigit() else 0)
    return parts


def ranges(r, eco):
    """1-2 ranges with several events, versions in increasing order."""
    out = []
    for _ in range(1 if r.random() < 0.75 else 2):
        n = r.choice([1, 1, 2, 2, 3])
        vs = sorted({version(r, eco) for _ in range(2 * n)}, key=sortkey)
        evs = []
        if r.random() < 0.6:
            evs.append({"introduced": "0"})
            vs = vs[1:]
        for i, v in enumerate(vs):
            if not evs or "introduced" not in evs[-1]:
                evs.append({"introduced": v})
            else:
                k = r.random()
                evs.append({"fixed": v} if k < 0.85 else {"last_affected": v} if k < 0.95 else {"limit": v})
        if "introduced" not in evs[0]:
            evs.insert(0, {"introduced": "0"})
        distro = eco.startswith(("Debian", "Ubuntu", "Alpine"))
        semver = eco in ("Go", "npm", "crates.io") or (not distro and eco != "PyPI" and r.random() < 0.05)
        out.append({"type": "SEMVER" if semver else "ECOSYSTEM", "events": evs})
    if r.random() < 0.05:
        out.append({"type": "GIT", "repo": "https://example.invalid/repo.git",
                    "events": [{"introduced": "0"}, {"fixed": "%040x" % r.getrandbits(160)}]})
    return out


def record(r, idx, kind, prefix, ecos, names, pools):
    eco = r.choice(ecos)
    year = r.randint(2005, 2025)
    cve = "CVE-%d-%d" % (year, r.randint(1000, 60000))
    if prefix == "GHSA":
        rid = "GHSA-%s" % "-".join("".join(r.choice("23456789cfghjmpqrvwx") for _ in range(4)) for _ in range(3))
    elif prefix.endswith("-CVE"):
        rid = "%s-%s-%d" % (prefix, cve[4:], idx)
    else:
        rid = "%s-%d-%d" % (prefix, year, 100000 + idx)  # 6 digits: never a real id
    aliases = []
    if r.random() < 0.85:
        aliases.append(cve)
    if r.random() < 0.3:
        aliases.append("GHSA-%04x-%04x-%04x" % (r.getrandbits(16), r.getrandbits(16), r.getrandbits(16)))
    if r.random() < 0.05 and pools["aliases"]:
        aliases.append(r.choice(pools["aliases"]))  # shared: a severity to borrow
    if aliases and r.random() < 0.02:
        pools["aliases"].append(aliases[0])
    rec = {"schema_version": "1.6.0", "id": rid, "modified": "%d-%02d-%02dT%02d:%02d:%02dZ" % (
        r.randint(2019, 2025), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59),
        r.randint(0, 59)), "published": "%d-01-01T00:00:00Z" % year}
    if aliases:
        rec["aliases"] = aliases
    rec["summary"] = " ".join(r.choice(WORDS) for _ in range(r.randint(4, 10)))
    rec["details"] = " ".join(r.choice(WORDS) for _ in range(r.randint(20, 160)))
    k = r.random()
    if k < 0.45:
        rec["severity"] = [{"type": "CVSS_V3", "score": r.choice(CVSS3)}]
    elif k < 0.5:
        rec["severity"] = [{"type": "CVSS_V4", "score": r.choice(CVSS4)}]
    elif k < 0.6:
        rec["database_specific"] = {"severity": r.choice(TEXT_SEV)}
    affected = []
    overlap = names.get(kind) if r.random() < pools["overlap"] else None
    for i in range(r.choice([1, 1, 1, 2, 2, 3])):
        if overlap and i == 0:
            pkg = r.choice(overlap)
        else:
            pkg = r.choice(pools[kind])
        e = eco if i == 0 or r.random() < 0.8 else r.choice(ecos)
        a = {"package": {"ecosystem": e, "name": pkg}, "ranges": ranges(r, e)}
        if kind in ("PyPI", "npm", "Maven", "RubyGems", "crates.io") and r.random() < 0.5:
            vs = sorted({version(r, e) for _ in range(r.randint(3, 40))}, key=sortkey)
            a["versions"] = vs
        if kind in ("Debian", "Ubuntu", "Alpine") and r.random() < 0.3:
            a["ecosystem_specific"] = {"urgency": r.choice(["low", "medium", "high", "not yet assigned"])}
        if kind == "Ubuntu" and r.random() < 0.5:
            a["ecosystem_specific"] = {"severity": r.choice(["low", "medium", "high"])}
        affected.append(a)
    rec["affected"] = affected
    rec["references"] = [{"type": r.choice(["ADVISORY", "WEB", "FIX", "REPORT", "PACKAGE"]),
                          "url": "https://example.invalid/%s/%d" % (rid.lower(), j)}
                         for j in range(r.randint(1, 8))]
    return rid, rec


def made_up(r, kind, n):
    """n made-up package names in the ecosystem's style."""
    out = []
    for i in range(n):
        w = "%s%s-%d" % (r.choice(WORDS), r.choice(WORDS), i)
        if kind == "Go":
            w = "github.com/%s/%s" % (r.choice(WORDS), w)
        elif kind == "Maven":
            w = "org.%s:%s" % (r.choice(WORDS), w)
        elif kind == "npm" and r.random() < 0.2:
            w = "@%s/%s" % (r.choice(WORDS), w)
        out.append(w)
    return out


def main():
    ap = argparse.ArgumentParser(description="synthesize OSV zips per ecosystem")
    ap.add_argument("-n", type=int, required=True, help="number of records in all")
    ap.add_argument("-o", required=True, help="output directory")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--names", help="ECOSYSTEM<TAB>NAME lines to overlap with")
    ap.add_argument("--overlap", type=float, default=0.01, help="share of records naming such a package")
    a = ap.parse_args()
    names = {k: list(v) for k, v in COMMON.items()}
    if a.names:
        with open(a.names) as f:
            for line in f:
                parts = line.rstrip("\n").split("\t")
                if len(parts) != 2 or not parts[1]:
                    continue
                kind = parts[0].split(":")[0]
                if kind in names and parts[1] not in names[kind]:
                    names[kind].append(parts[1])
    os.makedirs(a.o, exist_ok=True)
    r = random.Random(a.seed)
    pools = {"aliases": [], "overlap": a.overlap}
    left = a.n
    for i, (kind, share, prefix, ecos) in enumerate(ECOSYSTEMS):
        count = left if i == len(ECOSYSTEMS) - 1 else int(a.n * share)
        left -= count
        pools[kind] = made_up(r, kind, max(1, count // 3))  # ~3 records per made-up name
        path = os.path.join(a.o, "synth-%s.zip" % kind)
        seen = set()
        with zipfile.ZipFile(path + ".tmp", "w", zipfile.ZIP_DEFLATED) as z:
            for j in range(count):
                rid, rec = record(r, j, kind, prefix, ecos, names, pools)
                while rid in seen:  # GHSA ids are random: keep them unique per zip
                    rid = rid + "x"
                    rec["id"] = rid
                seen.add(rid)
                zi = zipfile.ZipInfo(rid + ".json", date_time=(2024, 1, 1, 0, 0, 0))
                zi.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(zi, json.dumps(rec, indent=1))
        os.replace(path + ".tmp", path)
        print("%s: %d records" % (path, count))
    return 0


if __name__ == "__main__":
    sys.exit(main())
