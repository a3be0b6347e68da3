/* test_err.c - the one error space: every code has a distinct name and
 * text, proxy spellings share the values, and only out-of-memory is fatal. */
#include "../../scanner/sc_err.c"
#include "px_headers.h"
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
  /* proxy/ spells some codes PX_ERR_*: one space, the same meaning */
  CHECK_INT(PX_ERR_NOMEM, SC_ERR_NOMEM, "PX_ERR_NOMEM is SC_ERR_NOMEM");
  CHECK_INT(PX_ERR_LIMIT, SC_ERR_LIMIT, "PX_ERR_LIMIT is SC_ERR_LIMIT");
  CHECK_INT(PX_ERR_IO, SC_ERR_IO, "PX_ERR_IO is SC_ERR_IO");
  CHECK_INT(PX_ERR_INVALID, SC_ERR_INVALID, "PX_ERR_INVALID is SC_ERR_INVALID");
  CHECK_INT(PX_ERR_STATE, SC_ERR_STATE, "PX_ERR_STATE is SC_ERR_STATE");
  return tap_done();
}
