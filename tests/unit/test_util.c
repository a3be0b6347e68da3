/* test_util.c - the shared helpers: sc_buf (capped buffer), sc_hash (FNV-1a),
 * sc_time (calendar days, ms -> timeval) and sc_tmpfile (temp files in a
 * given directory).  Owner: scanner.  Single-threaded. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../scanner/sc_buf.h"
#include "../../scanner/sc_hash.h"
#include "../../scanner/sc_time.h"
#include "../../scanner/sc_tmpfile.h"
#include "tap.h"

/* The OOM test asks for an impossible allocation: under ASan that must fail
 * with NULL, as it does in a normal build, instead of aborting the run. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ------------------------------------------------------------------ sc_buf */

static void test_buf(void) {
  sc_buf b;
  sc_buf_init(&b, 8); /* 7 bytes of text + NUL */
  CHECK_STR(sc_buf_str(&b), "", "buf: empty buffer reads as \"\"");
  CHECK(b.s == NULL, "buf: nothing allocated before the first append");
  CHECK_INT(sc_buf_addstr(&b, "abc"), 0, "buf: append within the cap");
  CHECK_INT(sc_buf_add(&b, "defg", 4), 0, "buf: append up to max - 1 bytes");
  CHECK_STR(sc_buf_str(&b), "abcdefg", "buf: content");
  CHECK_INT(b.len, 7, "buf: length without the NUL");
  CHECK_INT(sc_buf_add(&b, "h", 1), SC_ERR_LIMIT, "buf: one byte past the cap is refused");
  CHECK_STR(sc_buf_str(&b), "abcdefg", "buf: a refused append stores nothing");
  CHECK_INT(sc_buf_err(&b), SC_ERR_LIMIT, "buf: err says LIMIT");
  sc_buf_reset(&b);
  CHECK_INT(b.max, 8, "buf: reset keeps the cap");
  CHECK_INT(sc_buf_err(&b), 0, "buf: reset clears the flags");
  CHECK_INT(sc_buf_addstr(&b, "abc"), 0, "buf: append after reset");
  CHECK_INT(sc_buf_addstr(&b, "12345678"), SC_ERR_LIMIT, "buf: an append that does not fit whole is refused");
  CHECK_INT(sc_buf_addstr(&b, "d"), SC_ERR_LIMIT, "buf: full is sticky (a later small append is refused)");
  CHECK_STR(sc_buf_str(&b), "abc", "buf: text cut at one place");
  CHECK_INT(sc_buf_mark_cut(&b, "..."), 0, "buf: mark_cut");
  CHECK_STR(sc_buf_str(&b), "abc...", "buf: a cut text ends with the mark");
  CHECK_INT(sc_buf_err(&b), 0, "buf: mark_cut clears full");
  char *s = sc_buf_take(&b);
  CHECK_STR(s, "abc...", "buf: take hands the text over");
  CHECK(b.s == NULL && b.len == 0 && b.max == 11, "buf: take empties the buffer (cap kept)");
  free(s);
  CHECK(sc_buf_take(&b) == NULL, "buf: take of a never-used buffer is NULL");

  sc_buf_init(&b, 16);
  sc_buf_addstr(&b, "short");
  CHECK_INT(sc_buf_mark_cut(&b, "..."), 0, "buf: mark_cut of an uncut text");
  CHECK_STR(sc_buf_str(&b), "short", "buf: an uncut text gets no mark");
  sc_buf_free(&b);

  sc_buf_init(&b, 0);
  CHECK_INT(sc_buf_add(&b, "", 0), SC_ERR_LIMIT, "buf: cap 0 holds nothing, not even the NUL");
  sc_buf_free(&b);

  /* bytes with NULs, growth well past the first allocation */
  sc_buf_init(&b, 1 << 20);
  int ok = 1;
  for (int i = 0; i < 100000 && ok; i++) {
    unsigned char c = (unsigned char)(i * 7);
    ok = sc_buf_add(&b, &c, 1) == 0;
  }
  CHECK(ok && b.len == 100000, "buf: 100000 one-byte appends");
  int same = 1;
  for (int i = 0; i < 100000; i++)
    if ((unsigned char)b.s[i] != (unsigned char)(i * 7)) same = 0;
  CHECK(same && b.s[100000] == '\0', "buf: content (NULs included) survives growth, NUL after it");
  CHECK(b.cap <= b.max, "buf: never allocates past the cap");
  sc_buf_free(&b);

  /* printf: the whole text or nothing, no line length limit of its own */
  sc_buf_init(&b, 4096);
  char big[2000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK_INT(sc_buf_printf(&b, "%d-%s-%s", 42, "a", big), 0, "buf: printf longer than 512 bytes");
  CHECK_INT(b.len, 5 + 1999, "buf: printf length");
  CHECK(!memcmp(b.s, "42-a-xxx", 8) && b.s[b.len - 1] == 'x', "buf: printf content");
  CHECK_INT(sc_buf_printf(&b, "%s%s", big, big), SC_ERR_LIMIT, "buf: printf over the cap is refused");
  CHECK_INT(b.len, 5 + 1999, "buf: refused printf stores nothing");
  sc_buf_free(&b);

  /* allocation failure: a cap so large that realloc must fail */
  sc_buf_init(&b, SIZE_MAX);
  CHECK_INT(sc_buf_add(&b, "", (size_t)1 << 62), SC_ERR_NOMEM, "buf: impossible allocation -> NOMEM");
  CHECK_INT(sc_buf_addstr(&b, "x"), SC_ERR_NOMEM, "buf: oom is sticky");
  CHECK_INT(sc_buf_mark_cut(&b, "..."), SC_ERR_NOMEM, "buf: mark_cut reports oom");
  CHECK(b.s == NULL, "buf: nothing stored after oom");
  sc_buf_free(&b);
}

static void test_clean(void) {
  static const struct {
    const char *in, *want, *what;
  } cases[] = {
      {"plain", "plain", "ASCII unchanged"},
      {"a\tb\nc\x7f" "d\x1b[31m", "a?b?c?d?[31m", "control bytes (tab, newline, DEL, ESC) -> ?"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
       "valid 2-, 3- and 4-byte UTF-8 kept"},
      {"x\xffy", "x?y", "invalid byte 0xff"},
      {"\xc0\x80", "??", "overlong NUL (c0 80): both bytes"},
      {"\xe0\x80\xaf", "???", "overlong 3-byte form"},
      {"\xed\xa0\x80", "???", "UTF-16 surrogate"},
      {"\xf4\x90\x80\x80", "????", "past U+10FFFF"},
      {"ab\xe2\x82", "ab??", "sequence cut at the end"},
      {"\xe2(x", "?(x", "bad continuation byte"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    sc_buf b;
    sc_buf_init(&b, 256);
    CHECK_INT(sc_buf_add_clean(&b, cases[i].in), 0, "clean: %s: rc", cases[i].what);
    CHECK_STR(sc_buf_str(&b), cases[i].want, "clean: %s", cases[i].what);
    sc_buf_free(&b);
  }
  sc_buf b;
  sc_buf_init(&b, 16);
  sc_buf_add_clean(&b, NULL);
  CHECK_STR(sc_buf_str(&b), "?", "clean: NULL appends ?");
  sc_buf_free(&b);
  sc_buf_init(&b, 6); /* room for 5 bytes: "ab" + 3 of a 4-byte char does not fit */
  CHECK_INT(sc_buf_add_clean(&b, "ab\xf0\x9f\x98\x80z"), SC_ERR_LIMIT, "clean: over the cap");
  CHECK_STR(sc_buf_str(&b), "ab", "clean: cut on a character boundary");
  sc_buf_free(&b);
  CHECK_INT(sc_utf8_len((const unsigned char *)"\xc3\xa9", 2), 2, "utf8_len: 2-byte");
  CHECK_INT(sc_utf8_len((const unsigned char *)"\xc3\xa9", 1), 0, "utf8_len: not enough bytes");
  CHECK_INT(sc_utf8_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4, "utf8_len: 4-byte");
  CHECK_INT(sc_utf8_len((const unsigned char *)"\x80", 1), 0, "utf8_len: lone continuation byte");
}

/* ----------------------------------------------------------------- sc_hash */

static void test_hash(void) {
  /* The published FNV-1a 64 vectors, with the standard offset basis, check
   * the algorithm; the project's basis (see sc_hash.h) gives the values the
   * database already holds, computed independently. */
  CHECK(sc_fnv1a_more(14695981039346656037ull, "a", 1) == 0xaf63dc4c8601ec8cull, "hash: FNV-1a 64 of \"a\"");
  CHECK(sc_fnv1a_more(14695981039346656037ull, "foobar", 6) == 0x85944171f73967e8ull,
        "hash: FNV-1a 64 of \"foobar\"");
  CHECK(sc_fnv1a("", 0) == 0x14650fb0739d0383ull && SC_FNV_OFFSET == 0x14650fb0739d0383ull,
        "hash: empty input is the project's basis");
  CHECK(sc_fnv1a("a", 1) == 0x44bd8ad473cd9906ull, "hash: project basis, \"a\"");
  CHECK(sc_fnv1a_str("library/nginx") == 0xf133264c327095fdull, "hash: project basis, \"library/nginx\"");
  CHECK(sc_fnv1a_str("foobar") == sc_fnv1a("foobar", 6), "hash: _str equals the byte form");
  CHECK(sc_fnv1a_more(sc_fnv1a("foo", 3), "bar", 3) == sc_fnv1a("foobar", 6), "hash: _more continues");
  CHECK(sc_fnv1a("a\0b", 3) != sc_fnv1a("a", 1), "hash: NUL bytes are hashed");
  CHECK(sc_fnv1a_mix(SC_FNV_OFFSET, 0x1234) == 0x44cb5fd473e519f5ull, "hash: mix folds a whole word");
  CHECK(sc_fnv1a_str("\xe9") == sc_fnv1a("\xe9", 1), "hash: bytes >= 0x80 are unsigned");
}

/* ----------------------------------------------------------------- sc_time */

static void test_time(void) {
  CHECK_INT(sc_days_from_civil(1970, 1, 1), 0, "time: epoch is day 0");
  CHECK_INT(sc_days_from_civil(2000, 3, 1), 11017, "time: 2000-03-01");
  CHECK_INT(sc_days_from_civil(1969, 12, 31), -1, "time: the day before the epoch");
  CHECK_INT(sc_days_from_civil(2026, 1, 1), 1767225600 / SC_DAY_SECONDS, "time: 2026-01-01");
  /* every day from 1900 to 2400 against the C library (UTC, no TZ) */
  int bad = 0, roundtrip = 0;
  for (int64_t z = -25567; z <= 157000 && bad < 3; z++) {
    time_t t = (time_t)(z * SC_DAY_SECONDS);
    struct tm tm;
    char want[32], got[SC_DAY_STR_BYTES];
    int y, m, d;
    gmtime_r(&t, &tm);
    strftime(want, sizeof(want), "%Y-%m-%d", &tm);
    sc_day_format(z, got);
    if (strcmp(want, got)) {
      printf("# day %lld: got %s, want %s\n", (long long)z, got, want);
      bad++;
    }
    sc_civil_from_days(z, &y, &m, &d);
    if (sc_days_from_civil(y, (unsigned)m, (unsigned)d) != z) roundtrip++;
  }
  CHECK_INT(bad, 0, "time: sc_day_format agrees with gmtime_r for 1900..2400");
  CHECK_INT(roundtrip, 0, "time: civil_from_days and days_from_civil are inverse");

  CHECK_INT(sc_day_of(0), 0, "time: day_of(0)");
  CHECK_INT(sc_day_of(86399), 0, "time: day_of(last second of day 0)");
  CHECK_INT(sc_day_of(86400), 1, "time: day_of(first second of day 1)");
  CHECK_INT(sc_day_of(-1), -1, "time: day_of(-1) rounds down");
  CHECK_INT(sc_day_of(-86400), -1, "time: day_of(-86400)");
  CHECK_INT(sc_day_of(-86401), -2, "time: day_of(-86401)");

  static const struct {
    const char *s;
    int ok;
  } dates[] = {
      {"1970-01-01", 1}, {"2024-02-29", 1}, {"2000-02-29", 1}, {"9999-12-31", 1}, {"2023-02-29", 0},
      {"2100-02-29", 0}, {"1969-12-31", 0}, {"2024-04-31", 0}, {"2024-13-01", 0}, {"2024-00-10", 0},
      {"2024-01-00", 0}, {"2024-1-01", 0},  {"2024-01-010", 0}, {"2024/01/01", 0}, {"", 0},
      {"2024-0a-01", 0}, {" 2024-01-01", 0},
  };
  for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
    int64_t day = sc_day_parse(dates[i].s);
    if (dates[i].ok) {
      char back[SC_DAY_STR_BYTES];
      sc_day_format(day, back);
      CHECK_STR(back, dates[i].s, "time: parse '%s' and format it back", dates[i].s);
    } else {
      CHECK_INT(day, -1, "time: '%s' is refused", dates[i].s);
    }
  }

  struct timeval tv = sc_ms_to_timeval(1500);
  CHECK(tv.tv_sec == 1 && tv.tv_usec == 500000, "time: 1500 ms");
  tv = sc_ms_to_timeval(999);
  CHECK(tv.tv_sec == 0 && tv.tv_usec == 999000, "time: 999 ms");
  tv = sc_ms_to_timeval(30000);
  CHECK(tv.tv_sec == 30 && tv.tv_usec == 0, "time: 30000 ms");
  tv = sc_ms_to_timeval(-5);
  CHECK(tv.tv_sec == 0 && tv.tv_usec == 0, "time: negative ms -> zero");
}

/* -------------------------------------------------------------- sc_tmpfile */

static int dir_entries(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *e;
  if (!d) return -1;
  while ((e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
  closedir(d);
  return n;
}

static void test_tmpfile(void) {
  char dir[] = "/tmp/customs-test-tmpfile-XXXXXX";
  struct stat st;
  if (!mkdtemp(dir)) {
    CHECK(0, "tmpfile: mkdtemp: %s", strerror(errno));
    return;
  }
  int fd = sc_tmpfile_open(dir, "customs-spool");
  CHECK(fd >= 0, "tmpfile: open in a given directory");
  if (fd >= 0) {
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600, "tmpfile: mode 0600");
    CHECK_INT(st.st_nlink, 0, "tmpfile: no name left (unlinked)");
    CHECK_INT(dir_entries(dir), 0, "tmpfile: the directory stays empty");
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "tmpfile: close-on-exec");
    char back[6] = "";
    CHECK(write(fd, "layer", 5) == 5 && pread(fd, back, 5, 0) == 5 && !strcmp(back, "layer"),
          "tmpfile: read and write");
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR, "tmpfile: opened read-write");
    close(fd);
  }

  char path[SC_TMPFILE_PATH_MAX];
  fd = sc_tmpfile_named(dir, "customs-osv", ".zip", path, sizeof(path));
  CHECK(fd >= 0, "tmpfile: named in a given directory");
  if (fd >= 0) {
    size_t dl = strlen(dir), pl = strlen(path);
    CHECK(!strncmp(path, dir, dl) && !strncmp(path + dl, "/customs-osv-", 13) && pl == dl + 13 + 6 + 4 &&
              !strcmp(path + pl - 4, ".zip"),
          "tmpfile: named path is DIR/PREFIX-XXXXXX.zip (%s)", path);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "tmpfile: named file exists, mode 0600");
    CHECK((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0, "tmpfile: named is close-on-exec");
    close(fd);
    unlink(path);
  }
  fd = sc_tmpfile_named(dir, "customs-rpmdb", NULL, path, sizeof(path));
  CHECK(fd >= 0 && strlen(path) == strlen(dir) + 1 + 13 + 1 + 6, "tmpfile: named without a suffix (%s)", path);
  if (fd >= 0) {
    close(fd);
    unlink(path);
  }

  CHECK_INT(sc_tmpfile_open(NULL, "x"), SC_ERR_ARG, "tmpfile: NULL dir");
  errno = 0;
  CHECK_INT(sc_tmpfile_open("", "x"), SC_ERR_ARG, "tmpfile: empty dir (no silent fallback to TMPDIR)");
  CHECK_INT(errno, EINVAL, "tmpfile: errno EINVAL for a bad argument");
  CHECK_INT(sc_tmpfile_open(dir, ""), SC_ERR_ARG, "tmpfile: empty prefix");
  char missing[sizeof(dir) + 16];
  snprintf(missing, sizeof(missing), "%s/missing", dir);
  errno = 0;
  CHECK_INT(sc_tmpfile_open(missing, "x"), SC_ERR_IO, "tmpfile: missing dir -> IO");
  CHECK_INT(errno, ENOENT, "tmpfile: errno says why");
  char *longdir = malloc(SC_TMPFILE_PATH_MAX + 10);
  if (longdir) {
    memset(longdir, 'd', SC_TMPFILE_PATH_MAX + 9);
    longdir[0] = '/';
    longdir[SC_TMPFILE_PATH_MAX + 9] = '\0';
    CHECK_INT(sc_tmpfile_open(longdir, "x"), SC_ERR_ARG, "tmpfile: a path over SC_TMPFILE_PATH_MAX");
    CHECK_INT(errno, ENAMETOOLONG, "tmpfile: errno ENAMETOOLONG");
    free(longdir);
  }
  char small[16] = "junk";
  CHECK_INT(sc_tmpfile_named(dir, "customs-x", NULL, small, sizeof(small)), SC_ERR_ARG,
            "tmpfile: caller's buffer too small");
  CHECK_STR(small, "", "tmpfile: path is \"\" on error");
  CHECK_INT(dir_entries(dir), 0, "tmpfile: nothing left behind");
  rmdir(dir);
}

int main(void) {
  test_buf();
  test_clean();
  test_hash();
  test_time();
  test_tmpfile();
  return tap_done();
}
