/* px_admin.c - placeholder, being written (issue 12). */
#include "px_admin.h"
#include "px_log.h"
int px_admin_start(px_ctx *ctx) {
  if (!ctx->cfg->admin_listen[0]) return 0;
  px_error("admin listener: not built yet");
  return -1;
}
void px_admin_stop(px_ctx *ctx) { (void)ctx; }
