/* sc_budget.h - what one cataloger may spend on one layer.
 *
 * A layer is attacker input: a recursive SQLite view, a zip bomb inside a
 * jar, a pathological text file.  Each cataloger gets, per layer, a budget
 * of CPU time (the scanning thread's own CPU clock, so a slow upload that
 * makes reads block costs nothing), of memory it may hold at once, and all
 * catalogers share the layer's budget of bytes inflated out of nested
 * archives.  A cataloger that runs over any of these stops (its reads fail)
 * and the layer walker (sc_layer.c) fails the layer with
 * "budget: <cataloger>: <what>", which the policy judges by on_error; the
 * thread is free again instead of pinned.
 *
 * Ownership: the layer walker owns the budgets of one scan; a cataloger gets
 * a pointer through sc_reader.budget, which may be NULL (tests calling a
 * cataloger directly): every function here accepts NULL and then never
 * reports exhaustion.  Thread: one budget is used by one thread.
 * Errors: the checks return 0 or SC_ERR_LIMIT. */
#ifndef CUSTOMS_SC_BUDGET_H
#define CUSTOMS_SC_BUDGET_H
#include <stdint.h>

/* Defaults (sc_limits_default copies them into sc_limits). */
#define SC_CAT_MAX_CPU_MS 60000ull           /* CPU per cataloger per layer */
#define SC_CAT_MAX_MEM_BYTES (256ull << 20)  /* memory one cataloger may hold at once */
#define SC_NESTED_MAX_BYTES (4ull << 30)     /* inflated bytes of nested archives per layer */

typedef struct sc_budget {
  const char *name;        /* cataloger name, for the message */
  uint64_t cpu_max_ns;     /* 0 = no CPU budget */
  uint64_t cpu_used_ns;    /* spent in finished calls */
  uint64_t cpu_start_ns;   /* thread CPU clock when the current call began; 0 outside calls */
  uint64_t mem_max;        /* 0 = no memory budget */
  uint64_t *nested_left;   /* shared by the layer's budgets; NULL = unlimited */
  uint64_t nested_max;     /* for the message */
  int hit;                 /* SC_BUDGET_SPENT / SC_BUDGET_REFUSED: every later check fails */
  char what[160];          /* why, when hit */
} sc_budget;

/* Why a budget stopped its cataloger: over budget ("budget: <name>: <what>"),
 * or refused, the cataloger found a file it must read but cannot trust or
 * read ("<name>: <what>"); both fail the layer. */
#define SC_BUDGET_SPENT 1
#define SC_BUDGET_REFUSED 2

/* A fresh budget for cataloger `name`; cpu_ms / mem_bytes 0 = unlimited. */
void sc_budget_init(sc_budget *b, const char *name, uint64_t cpu_ms, uint64_t mem_bytes,
                    uint64_t *nested_left, uint64_t nested_max);

/* Brackets one cataloger call: CPU spent between them is charged. */
void sc_budget_enter(sc_budget *b);
void sc_budget_leave(sc_budget *b);

/* SC_ERR_LIMIT once the CPU budget is spent (checks the clock). */
int sc_budget_check(sc_budget *b);
/* SC_ERR_LIMIT when holding `bytes` at once would exceed the memory budget. */
int sc_budget_mem(sc_budget *b, uint64_t bytes);
/* Charges n bytes inflated out of a nested archive; SC_ERR_LIMIT when the
 * layer's nested budget is spent. */
int sc_budget_inflate(sc_budget *b, uint64_t n);
/* Marks the budget spent for another reason (printf-style); SC_ERR_LIMIT. */
int sc_budget_fail(sc_budget *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Marks the file refused (printf-style): the layer fails without the word
 * "budget".  Returns err, so `return sc_budget_refuse(b, rv, ...)` keeps the
 * cataloger's own error code when there is no budget. */
int sc_budget_refuse(sc_budget *b, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* 0, SC_BUDGET_SPENT or SC_BUDGET_REFUSED (NULL: 0). */
int sc_budget_hit(const sc_budget *b);

/* The calling thread's CPU clock in nanoseconds. */
uint64_t sc_thread_cpu_ns(void);
#endif
