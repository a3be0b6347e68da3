/* px_cmd.h - the `customs scan` and `customs report` commands.
 *
 * argv[0] is the subcommand name.  Both return the process exit status:
 * 0 = passes policy, 3 = fails policy, 1 = error (message on stderr).
 *
 *   customs scan [--db PATH] [--policy FILE] [--format table|json|cyclonedx] TARGET
 *     TARGET: oci:DIR[:TAG]  docker-archive:FILE  layer:FILE
 *             docker://HOST[:PORT]/REPO[:TAG|@DIGEST]
 *   customs report [--db PATH] [--format table|json] REPO:TAG | REPO@DIGEST
 *
 * With --db the scanned layers and the image are stored; the repository
 * name is, for oci:DIR "local/<basename of DIR>", for docker-archive the
 * first RepoTags entry (else "local/<basename>"), for docker:// the
 * repository path without the host. */
#ifndef CUSTOMS_PX_CMD_H
#define CUSTOMS_PX_CMD_H

int px_cmd_scan(int argc, char **argv);
int px_cmd_report(int argc, char **argv);
#endif
