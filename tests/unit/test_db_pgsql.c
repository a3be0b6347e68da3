/* test_db_pgsql.c - the text work of the PostgreSQL backend without a
 * server: `?` to `$n` outside quotes, identifiers, dollar quotes and
 * comments; URL password redaction (also in sc_db_open's error); strict
 * int64/double parsing; the SQLSTATE classes the store retries on.
 * (tests/integration/test_db_backend.sh runs the statements themselves
 * against SQLite and a real PostgreSQL.) */
#include "../../scanner/sc_db_text.c"
#include "../../scanner/sc_db.c"
#include "tap.h"

/* translation of sql, or "ERR" when refused; *n gets the parameter count */
static char got[4096];
static const char *tr(const char *sql, int *n) {
  char *o;
  int np = -1;
  *n = -1;
  if (sc_db_pg_translate(sql, &o, &np)) return "ERR";
  snprintf(got, sizeof(got), "%s", o);
  free(o);
  *n = np;
  return got;
}

static void translate(void) {
  int n;
  CHECK_STR(tr("SELECT a FROM t WHERE b = ? AND c = ?", &n), "SELECT a FROM t WHERE b = $1 AND c = $2", "plain ?");
  CHECK_INT(n, 2, "two parameters");
  CHECK_STR(tr("UPDATE t SET a = ?2 WHERE k = ?1 OR j = ?1", &n), "UPDATE t SET a = $2 WHERE k = $1 OR j = $1",
            "?NNN keeps its number, ?1 twice is one value");
  CHECK_INT(n, 2, "numbered: highest number");
  CHECK_STR(tr("VALUES (?3, ?)", &n), "VALUES ($3, $4)", "a plain ? after ?3 is 4 (SQLite's rule)");
  CHECK_INT(n, 4, "four parameters");
  CHECK_STR(tr("SELECT '?', 'it''s ?', ?", &n), "SELECT '?', 'it''s ?', $1", "quoted ? and doubled quotes");
  CHECK_INT(n, 1, "one parameter outside quotes");
  CHECK_STR(tr("SELECT 'a\\', ?", &n), "SELECT 'a\\', $1", "backslash is literal in a standard string");
  CHECK_STR(tr("SELECT E'\\'?', ?", &n), "SELECT E'\\'?', $1", "E'' string: \\' does not close it");
  CHECK_STR(tr("SELECT e'x\\\\', ?", &n), "SELECT e'x\\\\', $1", "e'' string: escaped backslash, then close");
  CHECK_STR(tr("SELECT some'?'", &n), "SELECT some'?'", "a quote after an identifier ending in e is not E''");
  CHECK_STR(tr("SELECT \"odd?col\", \"a\"\"?\" FROM t WHERE x = ?", &n),
            "SELECT \"odd?col\", \"a\"\"?\" FROM t WHERE x = $1", "quoted identifiers, doubled quotes");
  CHECK_STR(tr("SELECT 1 -- what? ?\nWHERE x = ?", &n), "SELECT 1 -- what? ?\nWHERE x = $1", "line comment");
  CHECK_INT(n, 1, "line comment holds no parameter");
  CHECK_STR(tr("SELECT /* ? /* nested ? */ still ? */ ?", &n), "SELECT /* ? /* nested ? */ still ? */ $1",
            "block comments nest");
  CHECK_STR(tr("SELECT $$ ? 'x $$, ?", &n), "SELECT $$ ? 'x $$, $1", "$$ dollar quote");
  CHECK_STR(tr("DO $fn$ BEGIN ? $x$ ? $fn$ ?", &n), "DO $fn$ BEGIN ? $x$ ? $fn$ $1", "tagged dollar quote");
  CHECK_STR(tr("SELECT a$b, $1, ?", &n), "SELECT a$b, $1, $1", "$ inside an identifier, $1 is not a tag");
  CHECK_STR(tr("SELECT doc ?? 'k', doc ??| ?", &n), "SELECT doc ? 'k', doc ?| $1", "?? is a literal ?");
  CHECK_INT(n, 1, "?? takes no parameter");
  CHECK_STR(tr("SELECT 'open ?", &n), "SELECT 'open ?", "unterminated quote: left for the server");
  CHECK_INT(n, 0, "no parameter inside it");
  CHECK_STR(tr("SELECT ?0", &n), "ERR", "?0 refused");
  CHECK_STR(tr("SELECT ?32767", &n), "ERR", "beyond SC_DB_PARAMS_MAX refused");
  CHECK_STR(tr("SELECT ?32766", &n), "SELECT $32766", "SC_DB_PARAMS_MAX itself");
  CHECK_STR(tr("SELECT 'ü?', ?", &n), "SELECT 'ü?', $1", "UTF-8 inside quotes");
  CHECK_STR(tr("", &n), "", "empty text");
}

static void redact(void) {
  char out[SC_DB_URL_BYTES], pw[64];
  CHECK_STR(sc_db_url_redact("postgresql://customs:s3cret@127.0.0.1:5432/db", out, sizeof(out)),
            "postgresql://customs:***@127.0.0.1:5432/db", "userinfo password");
  CHECK_STR(sc_db_url_redact("postgres://u@h/db?password=s3cret&sslmode=disable", out, sizeof(out)),
            "postgres://u@h/db?password=***&sslmode=disable", "password parameter");
  CHECK_STR(sc_db_url_redact("postgres://u:a@h/db?application_name=x&password=b#f", out, sizeof(out)),
            "postgres://u:***@h/db?application_name=x&password=***#f", "both, after another parameter");
  CHECK_STR(sc_db_url_redact("postgres://u@h:1/db", out, sizeof(out)), "postgres://u@h:1/db", "no password");
  CHECK_STR(sc_db_url_redact("/var/lib/customs/customs.db", out, sizeof(out)), "/var/lib/customs/customs.db",
            "a path is itself");
  CHECK_STR(sc_db_url_redact("postgres://u:p@ss@h/db", out, sizeof(out)), "postgres://u:***@h/db",
            "an unencoded @ in the password: the last @ ends userinfo");
  char small[20];
  sc_db_url_redact("postgresql://customs:s3cret@127.0.0.1/db", small, sizeof(small));
  CHECK(strlen(small) == sizeof(small) - 1 && !strstr(small, "s3c"), "cut to the buffer, no password: %s", small);
  sc_db_url_password("postgres://u:p%40ss%2Fw@h/db", pw, sizeof(pw));
  CHECK_STR(pw, "p@ss/w", "password percent-decoded");
  sc_db_url_password("postgres://u@h/db?sslmode=x&password=q", pw, sizeof(pw));
  CHECK_STR(pw, "q", "password from the query");
  sc_db_url_password("postgres://u@h/db", pw, sizeof(pw));
  CHECK_STR(pw, "", "no password");

  char msg[64] = "auth for s3cret failed: s3cret";
  sc_db_scrub(msg, sizeof(msg), "s3cret");
  CHECK_STR(msg, "auth for *** failed: ***", "scrub replaces every occurrence");
  char err[128];
  sc_db *db = (sc_db *)1;
  int rc = sc_db_open("mysql://root:hunter2@127.0.0.1/db", NULL, &db, err, sizeof(err));
  CHECK_INT(rc, SC_ERR_ARG, "unknown scheme refused");
  CHECK(db == NULL, "no handle on error");
  CHECK(strstr(err, "mysql://root:***@") && !strstr(err, "hunter2"), "its error redacts the password: %s", err);
}

static void numbers(void) {
  int64_t v = 7;
  CHECK(!sc_db_parse_int64("0", &v) && v == 0, "0");
  CHECK(!sc_db_parse_int64("-9223372036854775808", &v) && v == INT64_MIN, "INT64_MIN");
  CHECK(!sc_db_parse_int64("9223372036854775807", &v) && v == INT64_MAX, "INT64_MAX");
  CHECK(!sc_db_parse_int64("+42", &v) && v == 42, "+42");
  CHECK(!sc_db_parse_int64("t", &v) && v == 1, "boolean t is 1");
  CHECK(!sc_db_parse_int64("f", &v) && v == 0, "boolean f is 0");
  const char *bad[] = {"9223372036854775808", "-9223372036854775809", "99999999999999999999", "", "-", "+",
                       " 1", "1 ", "12a", "1.5", "1e3", "0x10", "true", "--1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    v = 7;
    CHECK(sc_db_parse_int64(bad[i], &v) == SC_ERR_FORMAT && v == 7, "\"%s\" refused, output untouched", bad[i]);
  }
  double d = 0;
  CHECK(!sc_db_parse_double("3.141592653589793", &d) && d == 3.141592653589793, "double round trip");
  CHECK(!sc_db_parse_double("-Infinity", &d) && d < -1e308, "-Infinity");
  CHECK(!sc_db_parse_double("NaN", &d) && d != d, "NaN");
  CHECK(!sc_db_parse_double("5e-324", &d) && d > 0, "smallest denormal");
  CHECK(sc_db_parse_double("1.5x", &d) == SC_ERR_FORMAT, "trailing junk refused");
  CHECK(sc_db_parse_double("", &d) == SC_ERR_FORMAT && sc_db_parse_double(" 1", &d) == SC_ERR_FORMAT,
        "empty and leading space refused");
}

static void classes(void) {
  CHECK_INT(sc_db_class_of_sqlstate("23505"), SC_DB_EUNIQUE, "unique_violation is a conflict");
  CHECK_INT(sc_db_class_of_sqlstate("40001"), SC_DB_ERETRY, "serialization_failure is retried");
  CHECK_INT(sc_db_class_of_sqlstate("40P01"), SC_DB_ERETRY, "deadlock_detected is retried");
  CHECK_INT(sc_db_class_of_sqlstate("23503"), SC_DB_EOTHER, "foreign key violation is neither");
  CHECK_INT(sc_db_class_of_sqlstate(NULL), SC_DB_EOTHER, "no SQLSTATE");
}

int main(void) {
  translate();
  redact();
  numbers();
  classes();
  return tap_done();
}
