#!/usr/bin/env python3
"""make_corpus.py - writes the seed corpora under tests/fuzz/corpus/<target>/.

The seeds are committed; this script is how they were made, so that they can
be regenerated or extended.  Every seed is a small real input in the format
the target parses: request targets and header blocks, registry manifests
and image configs, tars (plain, gzip, zstd) of a tiny root file system,
cataloger files (dpkg status, apk installed, rpmdb.sqlite with real rpm
header blobs, METADATA, package.json, an ELF with Go build info, jars),
OSV records, version lines and policy files (conf/policy.yaml among them).

Usage: tests/fuzz/make_corpus.py   (rewrites the seed files it knows)
Owner: fuzz.  Needs python3 only (sqlite3, tarfile, zipfile, gzip); the
zstd seed is written when the zstd command is installed."""
import gzip
import io
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")
D0 = "sha256:" + "a" * 64
D1 = "sha256:" + "b" * 64
D2 = "sha256:" + "c" * 64


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def b64url(b):
    import base64
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


# ---- route: target line, then header fields ----
def route():
    tok = "eyJhbGciOiJIUzI1NiJ9." + b64url(json.dumps({"access": [
        {"type": "repository", "name": "team/app", "actions": ["pull", "push"]},
        {"type": "repository", "name": "*", "actions": ["*"]}]}).encode()) + ".c2ln"
    seeds = {
        "manifest": "/v2/team/app/manifests/latest\nAccept: application/vnd.oci.image.manifest.v1+json\n",
        "manifest_digest": "/v2/team/app/manifests/" + D0 + "\nIf-None-Match: \"" + D0 + "\"\n",
        "blob": "/v2/library/nginx/blobs/" + D1 + "\nRange: bytes=0-10\n",
        "upload_put": "/v2/team/app/blobs/uploads/3f1c-uuid?_state=abc&digest=sha256%3A" + "b" * 64 + "\n",
        "mount": "/v2/team/app/blobs/uploads/?mount=" + D2 + "&from=library/base\n",
        "tags": "/v2/team/app/tags/list?n=10&last=a\n",
        "catalog": "/v2/_catalog\n",
        "base": "/v2/\nAuthorization: Bearer " + tok + "\nConnection: close, te, authorization\n",
        "referrers": "/v2/team/app/referrers/" + D0 + "?artifactType=x\n",
        "pct_prefix": "/%762/team/bad/manifests/latest\n",
        "pct_v": "/v%32/team/bad/manifests/latest\n",
        "pct_slash": "/v2%2Fteam/bad/manifests/latest\n",
        "dots": "/v2/team/./bad/../bad/manifests/latest\n",
        "double_slash": "//v2//team/bad/manifests/latest\n",
        "other": "/healthz\nHost: localhost\nUser-Agent: curl/8\n",
        "bearer": "/v2/team/app/manifests/v1\nAuthorization: Bearer " + tok + "\nConnection: keep-alive\n",
    }
    for k, v in seeds.items():
        put("route", k, v)


# ---- manifest: manifests, indexes, configs ----
def manifest():
    put("manifest", "oci_manifest", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": D0, "size": 123},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": D1, "size": 456},
                   {"mediaType": "application/vnd.oci.image.layer.v1.tar+zstd", "digest": D2, "size": 7}],
        "annotations": {"org.opencontainers.image.created": "2024-01-02T03:04:05Z"}}, indent=1))
    put("manifest", "docker_manifest", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": D0, "size": 1},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": D1, "size": 2}]}))
    put("manifest", "oci_index", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D0, "size": 500,
             "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": D1, "size": 501,
             "platform": {"os": "linux", "architecture": "arm", "variant": "v7"}}]}))
    put("manifest", "docker_list", json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": D2,
                       "size": 9, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]}))
    put("manifest", "no_mediatype", '{"schemaVersion":2,"config":{"digest":"%s"},"layers":[]}' % D0)
    put("manifest", "schema1", '{"schemaVersion":1,"name":"a/b","tag":"x","fsLayers":[]}')
    put("manifest", "case_variant",
        '{"schemaVersion":2,"layers":[{"digest":"%s"}],"LAYERS":[{"digest":"%s"}],"config":{"digest":"%s"}}'
        % (D1, D2, D0))
    put("manifest", "dup_key", '{"schemaVersion":2,"config":{"digest":"%s"},"config":{"digest":"%s"},"layers":[]}'
        % (D0, D1))
    put("manifest", "config", json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-02-29T12:00:00.123+02:00",
        "config": {"User": "app:app", "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
                   "Env": ["PATH=/usr/bin", "DB_PASSWORD=hunter2", "AWS_SECRET_ACCESS_KEY=x", "EMPTY_TOKEN="]},
        "rootfs": {"type": "layers", "diff_ids": [D1, D2]},
        "history": [{"created_by": "RUN true"}]}))
    put("manifest", "config_root", '{"os":"linux","config":{"User":"0:0"},"created":"1970-01-01T00:00:00Z",'
        '"rootfs":{"type":"layers","diff_ids":[]}}')


# ---- tar layers ----
STATUS = ("Package: libc6\nStatus: install ok installed\nSource: glibc\nVersion: 2.36-9+deb12u4\n\n"
          "Package: curl\nStatus: install ok installed\nVersion: 7.88.1-10+deb12u5\n")
APK = ("C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\n"
       "P:busybox\nV:1.36.1-r5\no:busybox\n\n")
OSREL = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
METADATA = "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nSummary: py2/3\n\nbody\n"
PKGJSON = '{"name":"left-pad","version":"1.3.0","license":"WTFPL","dependencies":{"a":"^1"}}'
SECRETS = ("# deploy settings\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n"
           "export AWS_ACCESS_KEY_ID=AKIA" "IOSFODNN7EXAMPLE\n"
           "token=ghp" "_" + "a" * 36 + "\nCI_TOKEN=glpat" "-" + "x" * 20 + "\n"
           "slack_bot = xox" "b-1234567890123-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx\n")


def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w", format=fmt) as t:
        for e in entries:
            name, kind, data = e[0], e[1], e[2] if len(e) > 2 else None
            ti = tarfile.TarInfo(name)
            ti.mtime = 1700000000
            if kind == "dir":
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                t.addfile(ti)
            elif kind == "sym":
                ti.type = tarfile.SYMTYPE
                ti.linkname = data
                t.addfile(ti)
            elif kind == "hard":
                ti.type = tarfile.LNKTYPE
                ti.linkname = data
                t.addfile(ti)
            else:
                b = data.encode() if isinstance(data, str) else data
                ti.size = len(b)
                ti.mode = 0o755 if kind == "exe" else 0o644
                t.addfile(ti, io.BytesIO(b))
    return bio.getvalue()


def rpmdb(path_dir, wal=True, view=False):
    def hdr(tags):
        idx, data = b"", b""
        for tag, typ, val in tags:
            if typ == 4:
                while len(data) % 4:
                    data += b"\0"
            idx += struct.pack(">IIII", tag, typ, len(data), 1)
            data += val
        return struct.pack(">II", len(tags), len(data)) + idx + data
    p = os.path.join(path_dir, "rpmdb.sqlite")
    db = sqlite3.connect(p)
    db.execute("PRAGMA page_size=512")
    if wal:
        db.execute("PRAGMA journal_mode=WAL")
    if view:
        db.executescript("CREATE TABLE P0 (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);"
                         "CREATE VIEW Packages AS SELECT * FROM P0;")
        table = "P0"
    else:
        db.executescript("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);"
                         "CREATE TABLE Name (key TEXT NOT NULL, hnum INTEGER NOT NULL, idx INTEGER NOT NULL,"
                         " PRIMARY KEY(key, hnum, idx)) WITHOUT ROWID;")
        table = "Packages"
    pk = [("bash", "5.1.8", "6.el9", None, "bash-5.1.8-6.el9.src.rpm"),
          ("openssl-libs", "3.0.7", "24.el9", 1, "openssl-3.0.7-24.el9.src.rpm"),
          ("gpg-pubkey", "fd431d51", "4ae0493b", None, None)]
    for n, v, r, e, s in pk:
        tags = [(1000, 6, n.encode() + b"\0"), (1001, 6, v.encode() + b"\0"), (1002, 6, r.encode() + b"\0")]
        if e is not None:
            tags.append((1003, 4, struct.pack(">I", e)))
        if s:
            tags.append((1044, 6, s.encode() + b"\0"))
        db.execute("INSERT INTO %s (blob) VALUES (?)" % table, (hdr(tags),))
    db.execute("INSERT INTO %s (blob) VALUES (?)" % table, (bytes([0, 0, 0, 200, 0, 0, 0, 10]) + b"\0" * 8,))
    db.commit()
    db.close()
    with open(p, "rb") as f:
        return f.read()


def uvarint(v):
    out = b""
    while True:
        c = v & 0x7F
        v >>= 7
        out += bytes([c | (0x80 if v else 0)])
        if not v:
            return out


def gobin(vers="go1.21.5", mod="path\texample.com/app\nmod\texample.com/app\t(devel)\t\n"
          "dep\tgolang.org/x/net\tv0.17.0\th1:abc=\n"):
    eh = bytearray(64)
    eh[0:8] = b"\x7fELF\x02\x01\x01\x00"
    eh[16] = 2
    eh[18] = 62
    b = bytes(eh) + b"\0" * (4096 - 64)
    h = bytearray(32)
    h[0:14] = b"\xff Go buildinf:"
    h[14] = 8
    h[15] = 2
    start = b"\x30\x77\xaf\x0c\x92\x74\x08\x02\x41\xe1\xc1\x07\xe6\xd6\x18\xe6"
    end = b"\xf9\x32\x43\x31\x86\x18\x20\x72\x00\x82\x42\x10\x41\x16\xd8\xf2"
    m = mod.encode()
    b += bytes(h) + uvarint(len(vers)) + vers.encode() + uvarint(len(m) + 32) + start + m + end
    return b + b"\0" * 512


def jar(entries, stored=False):
    bio = io.BytesIO()
    with zipfile.ZipFile(bio, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as z:
        for n, d in entries:
            z.writestr(zipfile.ZipInfo(n, (2024, 1, 1, 0, 0, 0)), d)
    return bio.getvalue()


POM = "groupId=org.apache.commons\nartifactId=commons-text\nversion=1.9\n"
MF = ("Manifest-Version: 1.0\nImplementation-Title: log4j-core\nImplementation-Version: 2.14.1\n"
      "Bundle-SymbolicName: org.apache.logging.log4j.core;singleton:=true\nBundle-Version: 2.14.1\n")


def catalogers(tmp):
    put("cat_os", "debian", OSREL)
    put("cat_os", "alpine", 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\n')
    put("cat_os", "ubuntu_crlf", 'ID="ubuntu"\r\nVERSION_ID="22.04"\r\nID_LIKE=debian\r\n')
    put("cat_dpkg", "status", STATUS)
    put("cat_dpkg", "status_source_version", "Package: libssl3\nStatus: install ok installed\n"
        "Source: openssl (3.0.11-1~deb12u2)\nVersion: 3.0.11-1~deb12u2\nDescription: x\n continued\n .\n\n"
        "Package: removed\nStatus: deinstall ok config-files\nVersion: 1\n")
    put("cat_apk", "installed", APK)
    put("cat_rpm", "rpmdb_wal.sqlite", rpmdb(tmp))
    os.unlink(os.path.join(tmp, "rpmdb.sqlite"))
    put("cat_rpm", "rpmdb_rollback.sqlite", rpmdb(tmp, wal=False))
    os.unlink(os.path.join(tmp, "rpmdb.sqlite"))
    put("cat_rpm", "rpmdb_view.sqlite", rpmdb(tmp, wal=False, view=True))
    os.unlink(os.path.join(tmp, "rpmdb.sqlite"))
    put("cat_python", "METADATA", METADATA)
    put("cat_python", "METADATA_unicode", "Metadata-Version: 2.1\r\nName: Zope.Interface\r\nVersion: 6.0.post1\r\n")
    put("cat_npm", "package.json", PKGJSON)
    put("cat_npm", "scoped.json", '{"name":"@scope/pkg","version":"1.0.0-beta.1","private":true}')
    put("cat_go", "buildinfo", gobin())
    put("cat_go", "buildinfo_old", gobin("go1.17", "path\tx\nmod\tx\tv1.0.0\t\n"))
    put("cat_java", "pom.jar", jar([("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n"),
                                    ("META-INF/maven/org.apache.commons/commons-text/pom.properties", POM)]))
    put("cat_java", "manifest_only.jar", jar([("META-INF/MANIFEST.MF", MF)], stored=True))
    inner = jar([("META-INF/maven/com.fasterxml/jackson-core/pom.properties",
                  "groupId=com.fasterxml\nartifactId=jackson-core\nversion=2.9.10\n")], stored=True)
    put("cat_java", "nested.war", jar([("WEB-INF/lib/jackson-core-2.9.10.jar", inner),
                                       ("WEB-INF/web.xml", "<web-app/>")]))
    put("cat_secrets", "settings.env", SECRETS)
    put("cat_secrets", "keys", "-----BEGIN OPENSSH PRIVATE KEY-----\r\nb3BlbnNzaC1rZXk=\r\n"
        "-----BEGIN EC PRIVATE KEY-----\nGH_TOKEN='ghs_" + "K" * 36 + "'\n"
        "pat: github_pat_" + "B" * 82 + "\nsession: \"ASIA" "Y34FZKBOKMUTVV7A\"")
    return inner


def layer(tmp, inner):
    root = [("./", "dir"), ("./etc/", "dir"), ("./etc/os-release", "file", OSREL),
            ("./var/lib/dpkg/status", "file", STATUS),
            ("./lib/apk/db/installed", "file", APK),
            ("./usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", "file", METADATA),
            ("./app/node_modules/left-pad/package.json", "file", PKGJSON),
            ("./app/lib/jackson-core-2.9.10.jar", "file", inner),
            ("./home/u/.env", "file", SECRETS),
            ("./usr/share/.wh.doc", "file", ""), ("./opt/.wh..wh..opq", "file", ""),
            ("../../evil/var/lib/dpkg/status", "file", "Package: evil\nStatus: install ok installed\nVersion: 6\n"),
            ("/var/lib/dpkg/status.d/absolute", "file", "Package: absolute\nVersion: 2\n"),
            ("./var/lib/dpkg/status.d/link", "sym", "/etc/shadow"),
            ("./var/lib/dpkg/status.d/hard", "hard", "./var/lib/dpkg/status")]
    plain = tar_bytes(root)
    put("layer", "rootfs.tar", plain)
    put("layer", "rootfs.tar.gz", gzip.compress(plain, 6, mtime=0))
    put("layer", "gnu_longname.tar", tar_bytes([("./" + "d" * 120 + "/var/lib/dpkg/status", "file", STATUS),
                                                ("./usr/local/bin/app", "exe", gobin())], tarfile.GNU_FORMAT))
    put("layer", "rpm.tar", tar_bytes([("var/lib/rpm/rpmdb.sqlite", "file",
                                        open(os.path.join(CORPUS, "cat_rpm", "rpmdb_rollback.sqlite"), "rb").read())],
                                      tarfile.USTAR_FORMAT))
    if shutil.which("zstd"):
        p = os.path.join(tmp, "l.tar")
        with open(p, "wb") as f:
            f.write(plain)
        subprocess.run(["zstd", "-q", "-f", "-3", p, "-o", p + ".zst"], check=True)
        with open(p + ".zst", "rb") as f:
            put("layer", "rootfs.tar.zst", f.read())


# ---- osv ----
def osv():
    put("osv", "debian", json.dumps({
        "schema_version": "1.6.0", "id": "DSA-5514-1", "modified": "2024-01-01T00:00:00Z",
        "aliases": ["CVE-2023-4911"], "upstream": ["CVE-2023-4911"],
        "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u3"}]}],
                      "ecosystem_specific": {"urgency": "high"}}]}))
    put("osv", "pypi_cvss", json.dumps({
        "id": "GHSA-j8r2-6x86-q33q", "modified": "2023-05-01T12:00:00.5Z", "published": "2023-05-01T00:00:00Z",
        "aliases": ["CVE-2023-32681"],
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"}],
        "affected": [{"package": {"ecosystem": "PyPI", "name": "Requests", "purl": "pkg:pypi/requests"},
                      "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}],
                      "versions": ["2.3.0", "2.30.0"]}],
        "database_specific": {"severity": "MODERATE"}}))
    put("osv", "npm_semver_v4", json.dumps({
        "id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-03-01T00:00:00Z",
        "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}],
        "affected": [{"package": {"ecosystem": "npm", "name": "@scope/left-pad"},
                      "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"last_affected": "1.3.0"},
                                                               {"limit": "2.0.0"}]},
                                 {"type": "GIT", "repo": "https://example.invalid/x", "events": [{"introduced": "abc"}]}]}]}))
    put("osv", "go_maven_array", json.dumps([
        {"id": "GO-2023-0001", "modified": "2023-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Go", "name": "golang.org/x/net"},
                       "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "0.17.0"}]}]}]},
        {"id": "GHSA-mvn-0000-0000", "modified": "2023-01-01T00:00:00Z",
         "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}],
         "affected": [{"package": {"purl": "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1"},
                       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "2.0-beta9"}, {"fixed": "2.15.0"}]}]}]}]))
    put("osv", "withdrawn", json.dumps({"id": "GHSA-aaaa-bbbb-cccc", "modified": "2024-04-01T00:00:00Z",
                                        "withdrawn": "2024-04-01T00:00:00Z", "affected": []}))
    put("osv", "ubuntu_alpine", json.dumps([
        {"id": "UBUNTU-CVE-2024-1", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "openssl"},
                       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.2-0ubuntu1.15"}]}]}]},
        {"id": "ALPINE-CVE-2024-2", "modified": "2024-01-01T00:00:00Z",
         "affected": [{"package": {"ecosystem": "Alpine:v3.19", "name": "musl"},
                       "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.4-r3"}]}]}]}]))


# ---- version: ecosystem, a, b, events ----
def version():
    seeds = {
        "dpkg": "Debian:12\n1:2.36-9+deb12u4\n2.36-9~bpo\ni:0\nf:2.36-9+deb12u3\n",
        "apk": "Alpine:v3.19\n1.2.4_rc1-r2\n1.2.4_p1-r0\ni:0\nf:1.2.4-r3\n",
        "rpm": "Red Hat:9\n1:3.0.7-24.el9\n3.0.7^git1-24.el9~rc\ni:0\nl:3.0.7-24.el9\n",
        "pep440": "PyPI\n1!2.0.0rc1.post2.dev3+local.7\n2.0\ni:1.0a1\nf:2.0.0\ni:3\nm:*\n",
        "semver": "npm\nv1.2.3-alpha.1+build\n1.2.3\ni:0\nl:1.2.3-beta\nm:2.0.0\n",
        "go": "Go\ngo1.21rc2\nv0.0.0-20230101000000-abcdef123456\ni:0\nf:1.21.5\n",
        "maven": "Maven\n1.0-SNAPSHOT\n1.0.RELEASE\ni:1.0-alpha-1\nf:1.0.sp1\n",
        "rubygems": "RubyGems\n1.0.0.pre.2\n1.0.a\ni:0\nf:1.0.1\n",
        "nuget": "NuGet\n1.2.3.4-Beta\n1.2.3.4-beta\ni:1.0\nf:2.0\n",
        "generic": "Hackage\n1.0-beta\n1-beta\ni:0.9\nf:1.0p1\n",
    }
    for k, v in seeds.items():
        put("version", k, v)


# ---- policy ----
def policy():
    with open(os.path.join(TOP, "conf", "policy.yaml"), "rb") as f:
        put("policy", "conf_policy.yaml", f.read())
    put("policy", "small.yaml", "mode: enforce\nunscanned: deny\non_error: deny\nhead: auto\n"
        "rules:\n  - name: org\n    repositories: ['**']\n    deny: {severity: high, secrets: true, root: true}\n"
        "    warn:\n      max_cvss: 5.0\n      fixable_only: true\n      max_age_days: 365\n"
        "  - name: team\n    repositories: [team/*]\n    deny:\n      vulnerabilities: [CVE-2023-4911]\n"
        "      packages: [{name: left-pad, versions: '<2.0.0'}]\n"
        "exceptions:\n  - vulnerability: GHSA-xxxx-yyyy-zzzz\n    repositories: [team/app]\n"
        "    package: libc6\n    expires: 2025-01-15\n    reason: waiting for upstream\n")
    put("policy", "audit.yaml", "mode: audit\nunscanned: allow\non_error: allow\nhead: deny\nrules: []\n")
    put("policy", "errors.yaml", "mode: enforce\nmode: audit\nrules:\n  - name: &a x\n    bogus: 1\n"
        "    repositories: *a\n    deny: {severity: extreme}\n")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        route()
        manifest()
        inner = catalogers(tmp)
        layer(tmp, inner)
        osv()
        version()
        policy()
    n = sum(len(f) for _, _, f in os.walk(CORPUS))
    print("make_corpus: %d seeds under %s" % (n, CORPUS))


if __name__ == "__main__":
    sys.exit(main())
