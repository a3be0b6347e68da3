#!/bin/sh
# Quick start: install dependencies, build, and run a local docker-registry
# on 127.0.0.1:5001 with customs in front of it on 127.0.0.1:5000, using the
# shipped conf/customs.yaml and conf/policy.yaml (database in /var/lib/customs).
set -e
cd "$(dirname "$0")/.."
./scripts/deps.sh
[ -f configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j"$(nproc)"
mkdir -p /var/lib/customs/registry /var/log/customs
pkill -f 'docker-registry serve .*conf/registry.yml' 2>/dev/null || true
pkill -f 'customs serve -c conf/customs.yaml' 2>/dev/null || true
nohup docker-registry serve conf/registry.yml >/var/log/customs/registry.log 2>&1 &
for i in $(seq 50); do curl -fs http://127.0.0.1:5001/v2/ >/dev/null && break; sleep 0.1; done
nohup ./customs serve -c conf/customs.yaml --policy conf/policy.yaml >/var/log/customs/customs.log 2>&1 &
for i in $(seq 50); do curl -fs http://127.0.0.1:5000/v2/ >/dev/null && break; sleep 0.1; done
curl -fs http://127.0.0.1:5000/v2/ >/dev/null
echo "customs is listening on 127.0.0.1:5000 in front of the registry on 127.0.0.1:5001"
echo "  push:  skopeo copy --dest-tls-verify=false oci:DIR:TAG docker://127.0.0.1:5000/REPO:TAG"
echo "  logs:  /var/log/customs/customs.log"
