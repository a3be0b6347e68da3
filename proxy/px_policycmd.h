/* px_policycmd.h - `customs policy check FILE` and
 * `customs policy explain [--db PATH] [--policy FILE] REPO:TAG|REPO@DIGEST`. */
#ifndef CUSTOMS_PX_POLICYCMD_H
#define CUSTOMS_PX_POLICYCMD_H
/* argv[0] is "policy".  Returns the process exit code: check: 0 valid, 1
 * invalid; explain: 0 allow/warn, 3 deny, 1 error. */
int px_cmd_policy(int argc, char **argv);
#endif
