/* sc_store_int.h - the store's private parts: the connection (sc_db, over
 * SQLite or PostgreSQL), its statement cache and the helpers of the store
 * modules.
 *
 * Included by the store modules only (sc_store.c, sc_store_layers.c,
 * sc_store_images.c, sc_store_lineage.c, sc_vulnstore.c, sc_findings.c,
 * sc_decisions.c, sc_events.c, sc_store_admin.c, sc_annotations.c,
 * sc_store_referrers.c, sc_store_vex.c, sc_store_severity.c) and by
 * white-box unit tests: nothing else
 * may see the sc_db handle or a table name.  No store module calls sqlite3
 * itself.  Statements are portable where one text serves both dialects
 * (ON CONFLICT upserts, times bound from C); where none does, the
 * PostgreSQL text is chosen by sc_db_dialect beside the SQLite one, and what
 * is still SQLite's alone is marked `SQLITE-ONLY` with the reason.
 *
 * Statement cache: sc_store_stmt hands out a statement prepared once per
 * connection (SC_DB_PREP_PERSISTENT), looked up by the address of its
 * SQL text (a static string of the calling module), so a hot loop (a
 * re-match over every stored image, an OSV import) does not prepare per
 * call.  A cached statement is reset (its bindings cleared) before it is
 * handed out; its user resets it when done (sc_store_step_done does) and
 * must not hand control to a caller's callback while it is stepping (the
 * callback could use the same statement): iterations with callbacks
 * prepare their own.
 * Owner: the store modules.  Thread: the handle's (one at a time).
 * Errors: SC_ERR_DB (message in sc_store_errmsg), SC_ERR_NOMEM. */
#ifndef CUSTOMS_SC_STORE_INT_H
#define CUSTOMS_SC_STORE_INT_H
#include "sc_buf.h"
#include "sc_db.h"
#include "sc_store.h"

#define SC_STORE_STMT_CACHE 64        /* statements kept prepared per connection */
#define SC_STORE_BUSY_MS 10000        /* wait this long for another writer */
#define SC_STORE_OPEN_RETRIES 50       /* setup attempts of a connection that found the file busy */
#define SC_STORE_OPEN_RETRY_MS 20      /* pause between them */
#define SC_STORE_BULK_CACHE_KIB 131072 /* SQLite page cache of a bulk write (restored after) */
#define SC_STORE_ERR_BYTES 256        /* saved error text */

struct sc_store {
  sc_db *db;
  int version;
  int bulk;                /* a bulk write is open: restore old_cache at its end */
  int old_cache;           /* SQLite's cache_size before it */
  struct {
    const char *sql;       /* identity: the caller's static SQL text */
    sc_db_stmt *s;
  } stmt[SC_STORE_STMT_CACHE];
  size_t nstmt;
  sc_buf enc;              /* sc_findings: encoding buffer reused across writes */
  char err[SC_STORE_ERR_BYTES]; /* message of a failed transaction, kept over its rollback */
};

/* The cached statement for sql (see above); NULL on error. */
sc_db_stmt *sc_store_stmt(sc_store *st, const char *sql);
/* A new statement (sc_db_finalize it); SC_ERR_DB. */
int sc_store_prep(sc_store *st, const char *sql, sc_db_stmt **out);
/* Runs SQL that returns no rows (or whose rows are ignored); SC_ERR_DB. */
int sc_store_exec(sc_store *st, const char *sql);
/* Opens a write transaction (sc_db_begin: SQLite's BEGIN IMMEDIATE, which
 * takes the write lock now, waiting the busy timeout); SC_ERR_DB. */
int sc_store_begin(sc_store *st);
/* Binds text, NULL as SQL NULL (the text is copied). */
int sc_store_bind_text(sc_db_stmt *s, int i, const char *v);
/* Steps a statement that returns no rows, then resets it and clears its
 * bindings; 0 or SC_ERR_DB. */
int sc_store_step_done(sc_db_stmt *s);
/* Keeps the connection's error text, then rolls back; returns rv. */
int sc_store_rollback_rv(sc_store *st, int rv);
/* Column i as a malloc'd copy (NULL for SQL NULL; *err = SC_ERR_NOMEM when
 * the copy fails), or copied into out (cap bytes, "" for NULL). */
char *sc_store_col_dup(sc_db_stmt *s, int i, int *err);
void sc_store_col_copy(sc_db_stmt *s, int i, char *out, size_t cap);

/* sc_store_lineage.c, for sc_store_put_manifest_ex inside its transaction:
 * records a move of repo:tag to digest when known (its digest before the
 * change, "" when none) differs; prev (may be NULL) gets known on a move,
 * "" otherwise. */
int sc_store_tag_moved(sc_store *st, int origin, const char *repo, const char *tag, const char *digest,
                       const char *known, int64_t at, char *prev);

/* Short names for the helpers above, for the store modules that want them:
 * such a module defines SC_STORE_SHORT_NAMES before including this header.
 * Opt-in because they are macros: they must not reach a file that has an
 * `exec` or a `prep` of its own. */
#ifdef SC_STORE_SHORT_NAMES
#define exec sc_store_exec
#define prep sc_store_prep
#define bind_text sc_store_bind_text
#define step_done sc_store_step_done
#define col_dup sc_store_col_dup
#define copy_col sc_store_col_copy
#define rollback sc_store_rollback_rv
#endif
#endif
