/* px_dbcmd.h - the `customs db` command: vulnerability data.
 *
 *   customs db import [--db PATH] FILE|DIR...   OSV .zip / directory / .json
 *   customs db status [--db PATH]
 *
 * argv[0] is "db".  Returns the exit status: 0 ok, 1 error (message on
 * stderr; for import, files that failed are named and the others are still
 * imported).  After an import that changed anything the findings of every
 * stored image are recomputed (sc_match_rematch_all). */
#ifndef CUSTOMS_PX_DBCMD_H
#define CUSTOMS_PX_DBCMD_H

int px_cmd_db(int argc, char **argv);
#endif
