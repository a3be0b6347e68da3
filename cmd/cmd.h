/* cmd.h - the commands of the `customs` binary.
 *
 * `customs COMMAND ...` is dispatched by cmd/main.c to one of these.  Each
 * takes argv with argv[0] = the command name and returns the process exit
 * status: CMD_EXIT_PASS, CMD_EXIT_ERROR (message on stderr) or, for the
 * commands that judge an image, CMD_EXIT_DENY.
 *
 * Only `serve` runs the proxy (proxy/px_server.h); the other commands use
 * the scanner and the store directly and never start an event loop.
 * Thread: the main thread of the process. */
#ifndef CUSTOMS_CMD_H
#define CUSTOMS_CMD_H
#include "sc_tmpfile.h" /* SC_SPOOL_DIR_DEFAULT */

#define CMD_EXIT_PASS 0
#define CMD_EXIT_ERROR 1
#define CMD_EXIT_DENY 3

/* Where a command spools whole layers when --spool-dir is not given: the
 * daemon's default scan.spool_dir (px_config_defaults), never TMPDIR. */
#define CMD_SPOOL_DIR_DEFAULT SC_SPOOL_DIR_DEFAULT

int cmd_serve(int argc, char **argv);  /* cmd_serve.c: the proxy */
int cmd_scan(int argc, char **argv);   /* cmd_scan.c: scan a target */
int cmd_report(int argc, char **argv); /* cmd_report.c: report a stored image */
int cmd_db(int argc, char **argv);     /* cmd_db.c: vulnerability data */
int cmd_policy(int argc, char **argv); /* cmd_policy.c: check / explain / replay */
int cmd_policy_replay(int argc, char **argv); /* cmd_replay.c: `customs policy replay` */
int cmd_lineage(int argc, char **argv); /* cmd_lineage.c: base chain, staleness, images built on one */
int cmd_events(int argc, char **argv);  /* cmd_events.c: recorded webhook deliveries */
#endif
