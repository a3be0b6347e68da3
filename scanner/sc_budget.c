/* sc_budget.c - per-cataloger CPU, memory and nested-inflation budgets
 * (see sc_budget.h).  No globals; one budget per thread at a time. */
#include "sc_budget.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sc_inventory.h"

uint64_t sc_thread_cpu_ns(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)) return 0;
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void sc_budget_init(sc_budget *b, const char *name, uint64_t cpu_ms, uint64_t mem_bytes,
                    uint64_t *nested_left, uint64_t nested_max) {
  memset(b, 0, sizeof(*b));
  b->name = name ? name : "cataloger";
  b->cpu_max_ns = cpu_ms * 1000000ull;
  b->mem_max = mem_bytes;
  b->nested_left = nested_left;
  b->nested_max = nested_max;
}

static void vmark(sc_budget *b, int kind, const char *fmt, va_list ap) {
  if (b->hit) return; /* the first reason is the one reported */
  b->hit = kind;
  vsnprintf(b->what, sizeof(b->what), fmt, ap);
}

int sc_budget_fail(sc_budget *b, const char *fmt, ...) {
  if (!b) return SC_ERR_LIMIT;
  va_list ap;
  va_start(ap, fmt);
  vmark(b, SC_BUDGET_SPENT, fmt, ap);
  va_end(ap);
  return SC_ERR_LIMIT;
}

int sc_budget_refuse(sc_budget *b, int err, const char *fmt, ...) {
  if (!b) return err;
  va_list ap;
  va_start(ap, fmt);
  vmark(b, SC_BUDGET_REFUSED, fmt, ap);
  va_end(ap);
  return err;
}

void sc_budget_enter(sc_budget *b) {
  if (b) b->cpu_start_ns = sc_thread_cpu_ns();
}

void sc_budget_leave(sc_budget *b) {
  if (!b || !b->cpu_start_ns) return;
  uint64_t now = sc_thread_cpu_ns();
  if (now > b->cpu_start_ns) b->cpu_used_ns += now - b->cpu_start_ns;
  b->cpu_start_ns = 0;
}

int sc_budget_check(sc_budget *b) {
  if (!b) return 0;
  if (b->hit) return SC_ERR_LIMIT;
  if (!b->cpu_max_ns) return 0;
  uint64_t used = b->cpu_used_ns;
  if (b->cpu_start_ns) {
    uint64_t now = sc_thread_cpu_ns();
    if (now > b->cpu_start_ns) used += now - b->cpu_start_ns;
  }
  if (used <= b->cpu_max_ns) return 0;
  return sc_budget_fail(b, "cpu time over %llu ms", (unsigned long long)(b->cpu_max_ns / 1000000ull));
}

int sc_budget_mem(sc_budget *b, uint64_t bytes) {
  if (!b) return 0;
  if (b->hit) return SC_ERR_LIMIT;
  if (!b->mem_max || bytes <= b->mem_max) return 0;
  return sc_budget_fail(b, "memory over %llu bytes", (unsigned long long)b->mem_max);
}

int sc_budget_inflate(sc_budget *b, uint64_t n) {
  if (!b) return 0;
  if (b->hit) return SC_ERR_LIMIT;
  if (!b->nested_left) return 0;
  if (n > *b->nested_left) {
    *b->nested_left = 0;
    return sc_budget_fail(b, "nested archives inflate to over %llu bytes",
                          (unsigned long long)b->nested_max);
  }
  *b->nested_left -= n;
  return 0;
}

int sc_budget_hit(const sc_budget *b) { return b ? b->hit : 0; }
