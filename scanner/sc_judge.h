/* sc_judge.h - the policy's verdict on a stored image: gathers the facts
 * (inventory, findings, config, layer scan status) and evaluates them.
 * Shared by the proxy's pull gate and `customs policy explain`.
 *
 * Errors: 0, SC_ERR_DB, SC_ERR_NOMEM, or what sc_policy_evaluate returns. */
#ifndef CUSTOMS_SC_JUDGE_H
#define CUSTOMS_SC_JUDGE_H
#include <stddef.h>
#include <stdint.h>
#include "sc_policy.h"
#include "sc_store.h"

typedef struct sc_judge_info {
  int complete;        /* every layer is stored: the verdict will not change by itself */
  int scan_failed;     /* a layer failed or was never stored: judged by on_error on partial facts */
  int no_data;         /* judged without any vulnerability data loaded (policy key no_data) */
  size_t nfindings, nsecrets;
  int runs_as_root;
} sc_judge_info;

/* img: an image (not an index) loaded with sc_store_get_image. */
int sc_judge_image(sc_store *st, const sc_policy *p, const char *repo, const char *ref, const sc_store_image *img,
                   int64_t now, sc_verdict *v, sc_judge_info *info);
#endif
