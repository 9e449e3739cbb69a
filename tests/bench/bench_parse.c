/* bench_parse.c: `make bench` rows for reading numbers from text, the
 * part of decoding a CSV or JSON record that used to dominate `eddy eval`:
 * glibc's strtod, the former record parser (Clinger's fast path, then
 * strtod), and eddy_parse_decimal (Clinger, then Eisel-Lemire), on texts
 * as `eddy gen` and real files write them. Each row also checks that the
 * parser gave strtod's bits (a checksum over all texts). Times are the
 * best of three passes in thread CPU time, which moves less than wall
 * time on a shared machine. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct texts {
  char *buf;     /* NUL-terminated texts, one after the other */
  size_t *off;   /* start of text i */
  size_t *len;
  size_t n;
} texts_t;

static void texts_make(texts_t *t, size_t n, int kind) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 7);
  t->buf = malloc(n * 32);
  t->off = malloc(n * sizeof *t->off);
  t->len = malloc(n * sizeof *t->len);
  t->n = n;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    char *s = t->buf + at;
    int k = 0;
    switch (kind) {
    case 0: k = eddy_fmt_double(s, 32, 10 * eddy_rng_uniform(&r)); break; /* as eddy gen sea */
    case 1: k = snprintf(s, 32, "%.6f", eddy_rng_uniform(&r)); break;     /* as elec2.csv */
    case 2: k = snprintf(s, 32, "%d", (int)eddy_rng_below(&r, 100000)); break;
    default: {
      double v;
      do {
        uint64_t b = eddy_rng_next(&r);
        memcpy(&v, &b, 8);
      } while (!isfinite(v));
      k = eddy_fmt_double(s, 32, v); /* every exponent */
    }
    }
    t->off[i] = at;
    t->len[i] = (size_t)k;
    at += (size_t)k + 1;
  }
}

static void texts_free(texts_t *t) {
  free(t->buf);
  free(t->off);
  free(t->len);
}

static const double tens[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The record parser before Eisel-Lemire (connectors/fields.c until this
 * bench was added), condensed: Clinger's fast path, else strtod. */
static int clinger_strtod(const char *s, size_t len, double *out) {
  const char *p = s, *end = s + len;
  int neg = 0;
  if (p < end && (*p == '-' || *p == '+')) neg = *p++ == '-';
  uint64_t m = 0;
  int e10 = 0, digits = 0, ok = 1;
  for (; p < end && *p >= '0' && *p <= '9'; p++)
    if (m || *p != '0') {
      ok &= ++digits <= 19;
      m = m * 10 + (uint64_t)(*p - '0');
    }
  if (p < end && *p == '.')
    for (p++; p < end && *p >= '0' && *p <= '9'; p++, e10--)
      if (m || *p != '0') {
        ok &= ++digits <= 19;
        m = m * 10 + (uint64_t)(*p - '0');
      }
  if (ok && p == end && m <= (1ull << 53) && e10 >= -22) {
    double v = e10 < 0 ? (double)m / tens[-e10] : (double)m;
    *out = neg ? -v : v;
    return 0;
  }
  char *e;
  *out = strtod(s, &e); /* the texts here are NUL-terminated */
  return e == s + len ? 0 : EDDY_EPARSE;
}

static int libc_strtod(const char *s, size_t len, double *out) {
  char *e;
  *out = strtod(s, &e);
  return e == s + len ? 0 : EDDY_EPARSE;
}

/* Times parse over the texts; returns a checksum of the bits it gave. */
static uint64_t row(const char *label, const texts_t *t,
                    int (*parse)(const char *, size_t, double *), const uint64_t *want) {
  double best = 1e30;
  uint64_t sum = 0;
  for (int rep = 0; rep < 3; rep++) {
    sum = 0;
    double t0 = cpu_now();
    for (size_t i = 0; i < t->n; i++) {
      double v = 0;
      uint64_t b;
      if (parse(t->buf + t->off[i], t->len[i], &v) == 0) {
        memcpy(&b, &v, 8);
        sum = (sum ^ b) * 0x9e3779b97f4a7c15ull;
      }
    }
    double dt = cpu_now() - t0;
    if (dt < best) best = dt;
  }
  printf("%-50s %14.0f %10.1f %6s\n", label, t->n / best, best * 1e9 / t->n,
         !want ? "-" : sum == *want ? "same" : "DIFF");
  fflush(stdout);
  return sum;
}

int main(void) {
  const size_t n = 1000000;
  static const char *const what[] = {"shortest of U(0,10) (eddy gen)", "%.6f of U(0,1) (elec2)",
                                     "integers below 1e5", "shortest of random bits"};
  printf("%-50s %14s %10s %6s\n", "number parsing (1M texts, best of 3, CPU)", "numbers/s", "ns/number",
         "sum");
  int rc = 0;
  for (int k = 0; k < 4; k++) {
    texts_t t;
    texts_make(&t, n, k);
    char label[64];
    snprintf(label, sizeof label, "%s: strtod", what[k]);
    uint64_t want = row(label, &t, libc_strtod, NULL);
    snprintf(label, sizeof label, "%s: Clinger+strtod", what[k]);
    rc |= row(label, &t, clinger_strtod, &want) != want;
    snprintf(label, sizeof label, "%s: eddy_parse_decimal", what[k]);
    rc |= row(label, &t, eddy_parse_decimal, &want) != want;
    texts_free(&t);
  }
  return rc;
}
