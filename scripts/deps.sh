#!/bin/sh
# Installs what customs needs to build, run and be tested (Debian 12, as root).
# clang-14 and libclang-rt-14-dev (libFuzzer, ASan, UBSan runtimes) build tests/fuzz.
# chromium (headless) and file check the dashboard (tests/integration/test_dashboard.sh).
# python3-prometheus-client reads /metrics (tests/integration/test_metrics.sh).
# haproxy fronts a test registry with its token server as one origin, as Azure
# Container Registry does, and apache2-utils (htpasswd) makes test password files
# (tests/integration/test_upstream_*.sh); docker.io is the real docker CLI and
# dockerd that test_upstream_docker.sh starts (its own data root, no network);
# debootstrap makes the local debian:12 base of test_docker_stack.sh (no Docker Hub).
# libpq-dev builds the PostgreSQL backend (scanner/sc_db_pg.c); postgresql gives
# initdb/pg_ctl for the throwaway clusters of tests/integration/pglib.sh.
# systemd (systemd-analyze), man-db and groff-base check the installed unit and
# man pages (tests/integration/test_install.sh); debhelper, dpkg-dev, fakeroot
# and git build the Debian package from HEAD (tests/package/test_deb.sh).
# Idempotent: apt-get install leaves installed packages as they are.
set -e
export DEBIAN_FRONTEND=noninteractive
# Hyperscan (secrets in one pass) is amd64-only; vectorscan is its API-compatible port
HS_PKG=libhyperscan-dev
[ "$(dpkg --print-architecture)" = amd64 ] || HS_PKG=libvectorscan-dev
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential autoconf automake libtool pkg-config \
  libnghttp2-dev libevent-dev libssl-dev libarchive-dev libsqlite3-dev libpq-dev \
  libjansson-dev libyaml-dev libisal-dev libzstd-dev zlib1g-dev libhttp-parser-dev libcurl4-openssl-dev $HS_PKG \
  docker-registry skopeo nghttp2-client curl isal openssl ca-certificates \
  sqlite3 postgresql jq zstd procps python3 bc chromium file python3-prometheus-client haproxy apache2-utils docker.io debootstrap \
  systemd man-db groff-base debhelper dpkg-dev fakeroot git lintian \
  clang-14 libclang-rt-14-dev >/dev/null
