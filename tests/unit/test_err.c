/* test_err.c - the one error space: every code has a distinct name and
 * text, the codes are dense from -1 to SC_ERR_LAST, proxy/ has no second
 * spelling of them, and only out-of-memory is fatal. */
#include "../../scanner/sc_err.c"
/* the headers that once held the PX_ERR_* aliases, and the proxy's others */
#include "px_headers.h"
#include "px_server.h"
#include "px_xchg.h"
#include "tap.h"

int main(void) {
  CHECK_STR(customs_strerror(0), "success", "0 is success");
  CHECK_STR(customs_err_name(SC_ERR_IO), "SC_ERR_IO", "names match the constants");
  CHECK_STR(customs_strerror(-999), "unknown error", "outside the space");
  CHECK_STR(customs_strerror(1), "unknown error", "positive values are not errors");
  for (int a = SC_ERR_LAST; a < 0; a++)
    for (int b = a + 1; b < 0; b++) {
      CHECK(strcmp(customs_strerror(a), customs_strerror(b)) != 0, "texts of %d and %d differ", a, b);
      CHECK(strcmp(customs_err_name(a), customs_err_name(b)) != 0, "names of %d and %d differ", a, b);
    }
  CHECK(customs_err_fatal(SC_ERR_NOMEM), "out of memory is fatal");
  CHECK(!customs_err_fatal(SC_ERR_IO) && !customs_err_fatal(SC_ERR_LIMIT), "I/O and limits are not");
  for (int rc = -1; rc >= SC_ERR_LAST; rc--) {
    CHECK(strcmp(customs_strerror(rc), "unknown error") != 0, "%s (%d) has a text", customs_err_name(rc), rc);
    CHECK(!strncmp(customs_err_name(rc), "SC_ERR_", 7), "%d is named SC_ERR_*", rc);
  }
  CHECK_STR(customs_strerror(SC_ERR_LAST - 1), "unknown error", "nothing below SC_ERR_LAST");
  /* one spelling: the proxy's headers define no PX_ERR_* alias any more */
  int aliases = 0;
#if defined(PX_ERR_NOMEM) || defined(PX_ERR_LIMIT) || defined(PX_ERR_IO) || defined(PX_ERR_INVALID) || \
    defined(PX_ERR_STATE)
  aliases = 1;
#endif
  CHECK(!aliases, "no PX_ERR_* alias is defined");
  return tap_done();
}
