/* test_store.c - the store (sc_store) on SQLite.  sc_store.c is included so
 * that a database can be built at an older schema from its own migration
 * steps, then migrated by sc_store_open. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../scanner/sc_store.c"
#include "tap.h"

#define LA "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LB "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define LC "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define CFG "sha256:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"

static char dbpath[256];

static int count(sc_store *st, const char *sql) {
  sc_db_stmt *s;
  int n = -1;
  if (sc_db_prepare(st->db, sql, 0, &s)) return -1;
  if (sc_db_step(s) == SC_DB_ROW) n = (int)sc_db_column_int64(s, 0);
  sc_db_finalize(s);
  return n;
}

static void pkg(sc_inventory *inv, const char *type, const char *eco, const char *name,
                const char *ver, const char *src, const char *path) {
  sc_package p = {(char *)type, (char *)eco, (char *)name, (char *)ver, (char *)src, NULL, (char *)path, NULL};
  sc_inventory_add_package(inv, &p);
}

static const sc_package *find(const sc_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->npkgs; i++)
    if (inv->pkgs[i].name && !strcmp(inv->pkgs[i].name, name)) return &inv->pkgs[i];
  return NULL;
}

/* An image manifest over the given layer digests. */
static void manifest(sc_manifest *m, const char *const *layers, size_t n) {
  memset(m, 0, sizeof(*m));
  m->kind = SC_MANIFEST_IMAGE;
  m->media_type = strdup(SC_MT_OCI_MANIFEST);
  m->config_digest = strdup(CFG);
  m->layers = calloc(n, sizeof(*m->layers));
  m->nlayers = n;
  for (size_t i = 0; i < n; i++) {
    m->layers[i].digest = strdup(layers[i]);
    m->layers[i].size = 100 + (int64_t)i;
  }
}

static void test_migrations(void) {
  sc_store *st;
  CHECK_INT(sc_store_open(dbpath, &st), 0, "open a new database");
  int v = sc_store_schema_version(st);
  CHECK(v >= 1, "schema migrated (version %d)", v);
  CHECK_INT(count(st, "SELECT count(*) FROM schema_version"), v, "one schema_version row per step");
  static const char *const tables[] = {"layers", "layer_packages", "layer_secrets", "layer_paths",
                                       "images", "image_layers", "image_children", "tags",
                                       "repo_images"};
  for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
    char sql[160];
    snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='%s'",
             tables[i]);
    CHECK_INT(count(st, sql), 1, "table %s exists", tables[i]);
  }
  CHECK_INT(count(st, "PRAGMA foreign_keys"), 1, "foreign keys on");
  sc_db_stmt *s;
  const char *mode = NULL;
  char buf[16] = "";
  if (sc_db_prepare(st->db, "PRAGMA journal_mode", 0, &s) == 0) {
    if (sc_db_step(s) == SC_DB_ROW && (mode = sc_db_column_text(s, 0)))
      snprintf(buf, sizeof(buf), "%s", mode);
    sc_db_finalize(s);
  }
  CHECK_STR(buf, "wal", "WAL journal");
  /* A verdict reads only its packages' (ecosystem, name) pairs of the
   * vulnerability data (sc_vulnstore_each_affected_of): through this index,
   * or its cost would grow with the data again. */
  CHECK_INT(count(st, "SELECT count(*) FROM sqlite_master WHERE type='index' AND name='vuln_affected_pkg'"
                      " AND sql LIKE '%(ecosystem, name)%'"),
            1, "index vuln_affected_pkg on (ecosystem, name)");
  char plan[256] = "";
  if (sc_db_prepare(st->db,
                    "EXPLAIN QUERY PLAN SELECT a.vuln FROM vuln_affected a JOIN vulns v ON v.id = a.vuln"
                    " WHERE a.ecosystem = 'npm' AND a.name = 'x' ORDER BY a.rowid",
                    0, &s) == 0) {
    while (sc_db_step(s) == SC_DB_ROW) {
      const char *d = sc_db_column_text(s, 3);
      if (d) snprintf(plan + strlen(plan), sizeof(plan) - strlen(plan), "%s; ", d);
    }
    sc_db_finalize(s);
  }
  CHECK(strstr(plan, "USING INDEX vuln_affected_pkg") && !strstr(plan, "TEMP B-TREE"),
        "a pair's rows come from the index in stored order, without a sort (%s)", plan);
  sc_store_close(st);

  CHECK_INT(sc_store_open(dbpath, &st), 0, "reopen");
  CHECK_INT(sc_store_schema_version(st), v, "same version after reopen");
  CHECK_INT(count(st, "SELECT count(*) FROM schema_version"), v, "reopen applies nothing again");
  sc_store_close(st);
  CHECK_INT(sc_store_open(NULL, &st), SC_ERR_ARG, "NULL path");
  CHECK(st == NULL, "no handle on error");
  CHECK(sc_store_open("/nonexistent-dir/x/y.db", &st) != 0, "unwritable path fails");
}

/* A database at schema 4 (built from the first four steps) with a stored
 * findings set: step 5 drops the sets, which cannot say which findings were
 * matched by caution, keeps the layers and images, and the `findings` view
 * then reports the mark as column `unsure`. */
static void test_migration_unsure(void) {
  char path[300];
  snprintf(path, sizeof(path), "%s.v4", dbpath);
  unlink(path);
  sc_db *db = NULL;
  int ok = sc_db_open(path, NULL, &db, NULL, 0) == 0 &&
           sc_db_exec(db, "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)") == 0;
  for (int v = 0; ok && v < 4; v++) {
    char sql[96];
    snprintf(sql, sizeof(sql), "INSERT INTO schema_version VALUES (%d, 0)", v + 1);
    ok = sc_db_exec(db, migrations[v]) == 0 &&
         sc_db_exec(db, sql) == 0;
  }
  /* one image on one layer with one finding, as schema 4 stored it */
  static const char *const v4_data =
      "INSERT INTO layers (digest, status, scanned_at) VALUES ('" LA "', 'ok', 0);"
      "INSERT INTO images (digest, kind, stored_at) VALUES ('" LB "', 'image', 0);"
      "INSERT INTO image_layers (image, idx, layer) VALUES ('" LB "', 0, '" LA "');"
      "INSERT INTO layer_findings VALUES ('" LA "', 'os', 0, 7, 1,"
      " '[[0,\"openssl\",\"3.0.1 1\",\"Debian:12\",\"pkg:deb/debian/openssl\",[[\"CVE-X\",\"\",3,7.5]]]]');"
      "INSERT INTO matched_images (image, generation, matched_at, fhash, os) VALUES ('" LB "', 0, 0, 7, 'os');";
  ok = ok && sc_db_exec(db, v4_data) == 0;
  CHECK(ok, "a schema-4 database with a stored findings set (%s)", db ? sc_db_errmsg(db) : "no db");
  sc_db_close(db);

  sc_store *st = NULL;
  CHECK_INT(sc_store_open(path, &st), 0, "migrate it");
  if (!st) return;
  CHECK_INT(sc_store_schema_version(st), NMIGRATIONS, "at the latest schema");
  CHECK(NMIGRATIONS >= 5, "step 5 exists (%d steps)", NMIGRATIONS);
  CHECK_INT(count(st, "SELECT count(*) FROM layer_findings"), 0, "sets without the mark dropped");
  CHECK_INT(count(st, "SELECT count(*) FROM matched_images"), 0, "images to match again");
  CHECK_INT(count(st, "SELECT count(*) FROM layers") + count(st, "SELECT count(*) FROM images"), 2,
            "layers and images kept");

  /* the stored mark, as sc_match writes it: a 5th item, 1, only when set */
  static const char *const v5_data =
      "INSERT INTO layer_findings VALUES ('" LA "', 'os', 0, 8, 2,"
      " '[[0,\"openssl\",\"3.0.1 1\",\"Debian:12\",\"p\",[[\"CVE-SURE\",\"\",3,7.5],[\"CVE-UNSURE\",\"\",3,7.5,1]]]]');"
      "INSERT INTO matched_images (image, generation, matched_at, fhash, os) VALUES ('" LB "', 0, 0, 8, 'os');";
  CHECK_INT(sc_db_exec(st->db, v5_data), 0, "a set with a marked hit");
  CHECK_INT(count(st, "SELECT unsure FROM findings WHERE vuln = 'CVE-UNSURE'"), 1, "view: marked hit unsure");
  CHECK_INT(count(st, "SELECT unsure FROM findings WHERE vuln = 'CVE-SURE'"), 0, "view: unmarked hit sure");
  CHECK_INT(count(st, "SELECT count(*) FROM findings WHERE image = '" LB "'"), 2, "view: both rows");
  sc_store_close(st);
  CHECK_INT(sc_store_open(path, &st), 0, "reopen the migrated database");
  CHECK_INT(count(st, "SELECT count(*) FROM layer_findings"), 1, "reopening drops nothing again");
  sc_store_close(st);
  unlink(path);
  snprintf(path, sizeof(path), "%s.v4-wal", dbpath);
  unlink(path);
  snprintf(path, sizeof(path), "%s.v4-shm", dbpath);
  unlink(path);
}

static void test_layer_roundtrip(sc_store *st) {
  sc_inventory in, out;
  sc_inventory_init(&in);
  sc_inventory_init(&out);
  pkg(&in, "deb", NULL, "libssl3", "3.0.11-1", "openssl", "var/lib/dpkg/status");
  pkg(&in, "python", "PyPI", "requests", "2.31.0", NULL, "usr/lib/python3/requests-2.31.0.dist-info/METADATA");
  sc_inventory_add_secret(&in, "root/.ssh/id_rsa", "private-key", 1);
  sc_inventory_set_os(&in, "debian", "12", "etc/os-release");
  sc_strlist_add(&in.cataloged, "var/lib/dpkg/status");
  sc_strlist_add(&in.whiteouts, "app/old");
  sc_strlist_add(&in.opaque, "srv");
  sc_strlist_add(&in.notes, "rpm: BerkeleyDB not supported");
  sc_layer_result res;
  memset(&res, 0, sizeof(res));
  snprintf(res.digest, sizeof(res.digest), LA);
  snprintf(res.compression, sizeof(res.compression), "gzip");
  res.compressed_size = 1234;

  CHECK_INT(sc_store_put_layer(st, LA, &res, &in), 0, "put layer");
  CHECK_INT(sc_store_load_layer(st, LA, &out), 0, "load layer");
  CHECK_INT(out.npkgs, in.npkgs, "package count round trip");
  for (size_t i = 0; i < in.npkgs && i < out.npkgs; i++) {
    CHECK_STR(out.pkgs[i].name, in.pkgs[i].name, "package %zu name", i);
    CHECK_STR(out.pkgs[i].version, in.pkgs[i].version, "package %zu version", i);
    CHECK_STR(out.pkgs[i].ecosystem, in.pkgs[i].ecosystem, "package %zu ecosystem (NULL kept)", i);
    CHECK_STR(out.pkgs[i].source_name, in.pkgs[i].source_name, "package %zu source", i);
    CHECK_STR(out.pkgs[i].path, in.pkgs[i].path, "package %zu path", i);
  }
  CHECK_INT(out.nsecrets, 1, "secret round trip");
  if (out.nsecrets) {
    CHECK_STR(out.secrets[0].rule, "private-key", "secret rule");
    CHECK_INT(out.secrets[0].line, 1, "secret line");
  }
  CHECK_STR(out.os.id, "debian", "os id");
  CHECK_STR(out.os.path, "etc/os-release", "os path");
  CHECK(sc_strlist_has(&out.cataloged, "var/lib/dpkg/status"), "cataloged path kept");
  CHECK(sc_strlist_has(&out.whiteouts, "app/old"), "whiteout kept");
  CHECK(sc_strlist_has(&out.opaque, "srv"), "opaque dir kept");
  CHECK(sc_strlist_has(&out.notes, "rpm: BerkeleyDB not supported"), "note kept");
  char status[16];
  CHECK_INT(sc_store_layer_status(st, LA, status), 0, "status of a stored layer");
  CHECK_STR(status, "ok", "stored ok");
  CHECK_INT(sc_store_layer_status(st, LC, status), SC_ERR_NOTFOUND, "status of an unknown layer");
  sc_inventory_free(&out);
  sc_inventory_init(&out);
  CHECK_INT(sc_store_load_layer(st, LC, &out), SC_ERR_NOTFOUND, "load of an unknown layer");

  /* replace: a rescan that failed half way stores less */
  sc_inventory small;
  sc_inventory_init(&small);
  pkg(&small, "npm", "npm", "x", "1.0.0", NULL, "app/node_modules/x/package.json");
  res.status = SC_ERR_FORMAT;
  snprintf(res.error, sizeof(res.error), "corrupt gzip");
  CHECK_INT(sc_store_put_layer(st, LA, &res, &small), 0, "replace layer");
  CHECK_INT(sc_store_layer_status(st, LA, status), 0, "status after replace");
  CHECK_STR(status, "failed", "format error -> failed");
  res.status = SC_ERR_IO;
  CHECK_INT(sc_store_put_layer(st, LA, &res, &small), 0, "replace again");
  sc_store_layer_status(st, LA, status);
  CHECK_STR(status, "partial", "io error -> partial");
  CHECK_INT(count(st, "SELECT count(*) FROM layer_packages WHERE layer = '" LA "'"), 1,
            "old package rows replaced");
  CHECK_INT(count(st, "SELECT count(*) FROM layer_paths WHERE layer = '" LA "'"), 0,
            "old path rows replaced");
  CHECK_INT(sc_store_put_layer(st, "not-a-digest", &res, &small), SC_ERR_ARG, "bad digest refused");
  sc_inventory_free(&small);
  sc_inventory_free(&out);
  sc_inventory_free(&in);
}

static void test_image(sc_store *st) {
  /* layer A: os + a deb + two npm packages; layer B deletes one of them */
  sc_inventory a, b, img;
  sc_inventory_init(&a);
  sc_inventory_init(&b);
  sc_inventory_init(&img);
  sc_inventory_set_os(&a, "debian", "12", "etc/os-release");
  pkg(&a, "deb", NULL, "bash", "5.2.15-2", NULL, "var/lib/dpkg/status");
  pkg(&a, "npm", "npm", "left-pad", "1.3.0", NULL, "app/node_modules/left-pad/package.json");
  pkg(&a, "npm", "npm", "gone", "0.1.0", NULL, "app/node_modules/gone/package.json");
  sc_strlist_add(&a.cataloged, "var/lib/dpkg/status");
  sc_strlist_add(&b.whiteouts, "app/node_modules/gone");
  pkg(&b, "python", "PyPI", "flask", "3.0.0", NULL, "usr/lib/python3/flask-3.0.0.dist-info/METADATA");
  CHECK_INT(sc_store_put_layer(st, LA, NULL, &a), 0, "put layer A");
  CHECK_INT(sc_store_put_layer(st, LB, NULL, &b), 0, "put layer B");

  const char *layers[] = {LA, LB, LC};
  sc_manifest m;
  manifest(&m, layers, 2);
  char mdig[72], got[72];
  sc_digest_sha256("image-1", 7, mdig);
  const char *cfg = "{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"User\":\"app\","
                    "\"ExposedPorts\":{\"8080/tcp\":{}}},\"created\":\"2024-01-02T03:04:05Z\"}";
  CHECK_INT(sc_store_put_manifest(st, "team/app", "v1", mdig, &m, cfg, strlen(cfg)), 0, "put manifest");
  CHECK_INT(sc_store_put_manifest(st, "team/app", "v1", mdig, &m, cfg, strlen(cfg)), 0,
            "put the same manifest again");
  CHECK_INT(sc_store_resolve(st, "team/app", "v1", got), 0, "resolve tag");
  CHECK_STR(got, mdig, "tag -> digest");
  CHECK_INT(sc_store_resolve(st, "team/app", mdig, got), 0, "resolve digest");
  CHECK_STR(got, mdig, "digest -> itself");
  CHECK_INT(sc_store_resolve(st, "team/app", "v2", got), SC_ERR_NOTFOUND, "unknown tag");
  CHECK_INT(sc_store_resolve(st, "other/app", "v1", got), SC_ERR_NOTFOUND, "tag of another repo");
  CHECK_INT(sc_store_resolve(st, "team/app", "sha256:0000", got), SC_ERR_NOTFOUND, "unknown digest");

  CHECK_INT(sc_store_image_inventory(st, mdig, &img), 0, "image inventory");
  CHECK(find(&img, "left-pad") != NULL, "package of layer A kept");
  CHECK(find(&img, "flask") != NULL, "package of layer B added");
  CHECK(find(&img, "gone") == NULL, "package whited out by layer B dropped");
  const sc_package *bash = find(&img, "bash");
  CHECK(bash && bash->ecosystem && !strcmp(bash->ecosystem, "Debian:12"), "deb ecosystem from the OS");
  CHECK(bash && bash->purl && !strncmp(bash->purl, "pkg:deb/debian/bash@", 20), "purl filled");
  CHECK_STR(img.os.version_id, "12", "image OS");

  sc_store_image si;
  CHECK_INT(sc_store_get_image(st, mdig, &si), 0, "get image");
  CHECK_INT(si.kind, SC_MANIFEST_IMAGE, "kind image");
  CHECK_INT(si.nlayers, 2, "two layers");
  CHECK_STR(si.user, "app", "config user");
  CHECK_INT(si.runs_as_root, 0, "not root");
  CHECK_STR(si.architecture, "amd64", "architecture");
  CHECK(si.config_json && strstr(si.config_json, "8080/tcp"), "config kept");
  CHECK(si.created > 1700000000, "created stored");
  sc_store_image_free(&si);

  sc_strlist miss = {0};
  CHECK_INT(sc_store_missing_layers(st, mdig, &miss), 0, "missing layers of a complete image");
  CHECK_INT(miss.n, 0, "none missing");

  /* image 2: A, B (failed), C (never stored) */
  sc_layer_result bad;
  memset(&bad, 0, sizeof(bad));
  bad.status = SC_ERR_LIMIT;
  sc_inventory empty;
  sc_inventory_init(&empty);
  CHECK_INT(sc_store_put_layer(st, LB, &bad, &b), 0, "layer B rescanned, failed");
  sc_manifest m2;
  manifest(&m2, layers, 3);
  char mdig2[72];
  sc_digest_sha256("image-2", 7, mdig2);
  CHECK_INT(sc_store_put_manifest(st, "team/app", "v1", mdig2, &m2, NULL, 0), 0, "retag v1");
  CHECK_INT(sc_store_resolve(st, "team/app", "v1", got), 0, "resolve moved tag");
  CHECK_STR(got, mdig2, "tag follows the latest put");
  CHECK_INT(sc_store_missing_layers(st, mdig2, &miss), 0, "missing layers");
  CHECK_INT(miss.n, 2, "failed and absent layers are missing");
  CHECK(sc_strlist_has(&miss, LB) && sc_strlist_has(&miss, LC), "B and C listed");
  CHECK_INT(sc_store_get_image(st, mdig2, &si), 0, "get image 2");
  CHECK(si.nlayers == 3 && !strcmp(si.layers[2].status, "missing"), "absent layer shows missing");
  CHECK(si.nlayers == 3 && !strcmp(si.layers[1].status, "failed"), "failed layer shows failed");
  CHECK_INT(si.runs_as_root, -1, "no config: root unknown");
  sc_store_image_free(&si);
  sc_inventory_free(&img);
  sc_inventory_init(&img);
  CHECK_INT(sc_store_image_inventory(st, mdig2, &img), 0, "inventory with a missing layer");
  CHECK(find(&img, "left-pad") != NULL, "stored layers still merged");
  sc_inventory_free(&img);
  sc_inventory_init(&img);
  CHECK_INT(sc_store_image_inventory(st, LC, &img), SC_ERR_NOTFOUND, "inventory of an unknown image");

  /* an index over both images */
  sc_manifest ix;
  memset(&ix, 0, sizeof(ix));
  ix.kind = SC_MANIFEST_INDEX;
  ix.media_type = strdup(SC_MT_OCI_INDEX);
  ix.children = calloc(2, sizeof(*ix.children));
  ix.nchildren = 2;
  ix.children[0].digest = strdup(mdig);
  ix.children[0].platform.os = strdup("linux");
  ix.children[0].platform.architecture = strdup("arm64");
  ix.children[1].digest = strdup(mdig2);
  ix.children[1].platform.os = strdup("linux");
  ix.children[1].platform.architecture = strdup("amd64");
  char idig[72], child[72];
  sc_digest_sha256("index", 5, idig);
  CHECK_INT(sc_store_put_manifest(st, "team/app", "multi", idig, &ix, NULL, 0), 0, "put index");
  CHECK_INT(sc_store_index_child(st, idig, "linux", "amd64", child), 0, "index child");
  CHECK_STR(child, mdig2, "linux/amd64 child");
  CHECK_INT(sc_store_index_child(st, idig, "linux", "arm64", child), 0, "arm64 child");
  CHECK_STR(child, mdig, "linux/arm64 child");
  CHECK_INT(sc_store_index_child(st, mdig, "linux", "amd64", child), SC_ERR_NOTFOUND,
            "an image has no children");
  CHECK_INT(sc_store_image_inventory(st, idig, &img), SC_ERR_UNSUPP, "index has no inventory itself");
  CHECK_INT(sc_store_get_image(st, idig, &si), 0, "get index");
  CHECK(si.kind == SC_MANIFEST_INDEX && si.nchildren == 2 && !strcmp(si.platforms[1], "linux/amd64"),
        "index children and platforms");
  sc_store_image_free(&si);

  sc_manifest_free(&ix);
  sc_manifest_free(&m);
  sc_manifest_free(&m2);
  sc_strlist_free(&miss);
  sc_inventory_free(&empty);
  sc_inventory_free(&img);
  sc_inventory_free(&a);
  sc_inventory_free(&b);
}

/* Several threads open the same new database at once (migration race)
 * and write layers through their own connections. */
static void *worker(void *arg) {
  intptr_t id = (intptr_t)arg;
  sc_store *st;
  if (sc_store_open(dbpath, &st)) return (void *)1;
  sc_inventory inv;
  sc_inventory_init(&inv);
  pkg(&inv, "npm", "npm", "w", "1.0.0", NULL, "node_modules/w/package.json");
  char d[72];
  char seed[16];
  snprintf(seed, sizeof(seed), "w%d", (int)id);
  sc_digest_sha256(seed, strlen(seed), d);
  int rv = 0;
  for (int i = 0; i < 5 && !rv; i++) rv = sc_store_put_layer(st, d, NULL, &inv);
  sc_inventory_free(&inv);
  sc_store_close(st);
  return (void *)(intptr_t)(rv != 0);
}

static void test_threads(void) {
  snprintf(dbpath, sizeof(dbpath), "/tmp/test_store_mt.%d.db", (int)getpid());
  pthread_t t[4];
  int fails = 0;
  for (intptr_t i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    fails += r != NULL;
  }
  CHECK_INT(fails, 0, "4 threads open/migrate/write concurrently");
  sc_store *st;
  if (sc_store_open(dbpath, &st) == 0) {
    CHECK_INT(count(st, "SELECT count(*) FROM layers"), 4, "every thread's layer stored");
    CHECK_INT(count(st, "SELECT count(*) FROM schema_version"), sc_store_schema_version(st),
              "migrations applied once");
    sc_store_close(st);
  }
}

static void rm_db(void) {
  char p[300];
  unlink(dbpath);
  snprintf(p, sizeof(p), "%s-wal", dbpath);
  unlink(p);
  snprintf(p, sizeof(p), "%s-shm", dbpath);
  unlink(p);
}

int main(void) {
  snprintf(dbpath, sizeof(dbpath), "/tmp/test_store.%d.db", (int)getpid());
  rm_db();
  test_migrations();
  test_migration_unsure();
  sc_store *st;
  if (sc_store_open(dbpath, &st) == 0) {
    test_layer_roundtrip(st);
    test_image(st);
    sc_store_close(st);
  } else {
    CHECK(0, "open for the data tests");
  }
  rm_db();
  test_threads();
  rm_db();
  return tap_done();
}
