# Customs, built from this repository (Debian 12, the distribution it targets).
FROM debian:12 AS build
# Hyperscan on amd64, its portable fork Vectorscan elsewhere (as scripts/deps.sh);
# python3 embeds the dashboard's files at build time.
RUN if [ "$(dpkg --print-architecture)" = amd64 ]; then hs=libhyperscan-dev; else hs=libvectorscan-dev; fi \
    && apt-get update && apt-get install -y --no-install-recommends \
      build-essential autoconf automake libtool pkg-config python3 \
      libnghttp2-dev libevent-dev libssl-dev libarchive-dev libsqlite3-dev libpq-dev \
      libjansson-dev libyaml-dev libisal-dev libzstd-dev zlib1g-dev libhttp-parser-dev libcurl4-openssl-dev "$hs" \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The context may be a source tree built in place (objects, .deps from the
# host): start from sources only, so that everything is compiled here.
RUN find . \( -name .deps -o -name '*.o' -o -name '*.a' -o -name .dirstamp \) -prune -exec rm -rf {} + \
    && rm -f customs config.status config.h \
    && ./autogen.sh && ./configure && make -j"$(nproc)" customs

FROM debian:12
RUN if [ "$(dpkg --print-architecture)" = amd64 ]; then hs=libhyperscan5; else hs=libvectorscan5; fi \
    && apt-get update && apt-get install -y --no-install-recommends \
      libnghttp2-14 libevent-2.1-7 libevent-openssl-2.1-7 libevent-pthreads-2.1-7 libssl3 \
      libarchive13 libsqlite3-0 libpq5 libjansson4 libyaml-0-2 libisal2 libzstd1 zlib1g libhttp-parser2.9 libcurl4 \
      "$hs" ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/customs customs \
    && mkdir -p /var/lib/customs /etc/customs && chown customs /var/lib/customs
COPY --from=build /src/customs /usr/local/bin/customs
COPY conf/customs.yaml conf/policy.yaml /etc/customs/
USER customs
VOLUME /var/lib/customs
EXPOSE 5000
ENTRYPOINT ["/usr/local/bin/customs", "serve", "-c", "/etc/customs/customs.yaml"]
CMD ["--listen", "0.0.0.0:5000", "--upstream", "http://registry:5000", "--db", "/var/lib/customs/customs.db", "--policy", "/etc/customs/policy.yaml"]
