/* bench.h: what the benchmark programs share: failing loudly and measuring CPU time. */
#ifndef REEVE_BENCH_H
#define REEVE_BENCH_H

/* Print "PROGRAM: FAILED: message" to stderr and exit 1: a benchmark never hides an error. */
void bench_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* The median of n values (sorts v). */
double bench_median(double *v, int n);

/* The whole number s, from min to max; usage() (which exits) when it is not one. */
int bench_arg_int(const char *s, int min, int max, void (*usage)(void));

/* CPU seconds (user + system) this process has used so far. */
double bench_cpu_self(void);

#endif /* REEVE_BENCH_H */
