/* test_data_drift.c: the data-drift detectors psi and ks: a mean shift in
 * one of three features is flagged on that feature only; PSI values by
 * hand; the KS statistic and p-values against scipy (.cache/venv/bin/python
 * or $EDDY_PYTHON; skipped when absent). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "detectors/detectors.h"

static eddy_detector_t *make(const char *name, const eddy_kv_t *kv, size_t n) {
  char err[512];
  eddy_detector_t *d = eddy_detector_new(name, kv, n, 1, err, sizeof err);
  cr_assert_not_null(d, "%s: %s", name, err);
  return d;
}

Test(data_drift, mean_shift_flags_only_that_feature) {
  /* Three features, 10,000 records (seed 9): x0 ~ N(0, 1), x1 ~ U(0, 1)
   * moving to U(0.3, 1.3) at record 5,000, x2 ~ N(5, 2^2). One psi and one
   * ks detector per feature at their defaults (reference: the first 1,000
   * values; current window 1,000; a comparison every 1,000). The first
   * comparison with a current window wholly after the shift (record 5,999)
   * flags x1 by both tests; afterwards the new reference (6,000..6,999) is
   * after the shift too, so nothing more; x0 and x2 are never flagged. */
  eddy_detector_t *psi[3], *ks[3];
  for (int f = 0; f < 3; f++) {
    psi[f] = make("psi", NULL, 0);
    ks[f] = make("ks", NULL, 0);
  }
  eddy_rng_t r;
  eddy_rng_seed(&r, 9);
  long psi_drifts[3][4], ks_drifts[3][4];
  int n_psi[3] = {0}, n_ks[3] = {0};
  for (long i = 0; i < 10000; i++) {
    double x[3] = {eddy_rng_gauss(&r), eddy_rng_uniform(&r) + (i >= 5000 ? 0.3 : 0.0),
                   5 + 2 * eddy_rng_gauss(&r)};
    for (int f = 0; f < 3; f++) {
      if (eddy_detector_update(psi[f], x[f]) == EDDY_DRIFT_DRIFT && n_psi[f] < 4)
        psi_drifts[f][n_psi[f]++] = i;
      if (eddy_detector_update(ks[f], x[f]) == EDDY_DRIFT_DRIFT && n_ks[f] < 4)
        ks_drifts[f][n_ks[f]++] = i;
    }
    if (i == 5999) {
      double st, th;
      eddy_detector_stat(psi[1], &st, &th);
      cr_assert_gt(st, 0.2, "x1's PSI %g", st);
      cr_assert_eq(th, 0.2);
      eddy_detector_stat(psi[0], &st, &th);
      cr_assert_lt(st, 0.1, "x0's PSI %g", st);
      eddy_detector_stat(ks[1], &st, &th);
      cr_assert(st > 0.2 && th < 1e-10, "x1: KS D %g, p %g", st, th);
      eddy_detector_stat(ks[2], &st, &th);
      cr_assert(st < 0.1 && th > 0.01, "x2: KS D %g, p %g", st, th);
    }
  }
  cr_assert_eq(n_psi[1], 1, "x1: %d PSI drifts", n_psi[1]);
  cr_assert_eq(psi_drifts[1][0], 5999);
  cr_assert_eq(n_ks[1], 1, "x1: %d KS drifts", n_ks[1]);
  cr_assert_eq(ks_drifts[1][0], 5999);
  for (int f = 0; f < 3; f += 2) {
    cr_assert_eq(n_psi[f], 0, "x%d: PSI drift at %ld", f, n_psi[f] ? psi_drifts[f][0] : -1L);
    cr_assert_eq(n_ks[f], 0, "x%d: KS drift at %ld", f, n_ks[f] ? ks_drifts[f][0] : -1L);
  }
  for (int f = 0; f < 3; f++) {
    eddy_detector_free(psi[f]);
    eddy_detector_free(ks[f]);
  }
}

Test(psi, quantile_bins_by_hand) {
  /* Reference 0..999 (in a scrambled order): the edges are 99, 199, ...,
   * 899, 100 values per bin. Current window: 300 values in bin 0 (50.5),
   * none in bin 1, 100 in each of bins 2..8, none in bin 9. Empty shares
   * count as 1e-4. */
  eddy_kv_t kv[] = {{"threshold", "100", NULL, 0}};
  eddy_detector_t *d = make("psi", kv, 1);
  for (int i = 0; i < 1000; i++) eddy_detector_update(d, (double)((i * 337) % 1000));
  for (int i = 0; i < 300; i++) eddy_detector_update(d, 50.5);
  cr_assert_eq(eddy_detector_update(d, NAN), EDDY_DRIFT_NONE, "missing values are ignored");
  for (int b = 2; b <= 8; b++)
    for (int i = 0; i < 100; i++) eddy_detector_update(d, b * 100 + 0.5 + (i % 99));
  double st, th;
  eddy_detector_stat(d, &st, &th);
  double expect = (0.3 - 0.1) * log(0.3 / 0.1) + 2 * (1e-4 - 0.1) * log(1e-4 / 0.1);
  cr_assert_float_eq(st, expect, 1e-12, "PSI %.15g, by hand %.15g", st, expect);
  cr_assert_eq(th, 100);
  /* Values equal to an edge belong to the lower bin: 1000 values of 99
   * against the same reference put everything in bin 0. */
  eddy_detector_reset(d);
  for (int i = 0; i < 1000; i++) eddy_detector_update(d, (double)i);
  for (int i = 0; i < 1000; i++) eddy_detector_update(d, 99.0);
  eddy_detector_stat(d, &st, &th);
  expect = (1 - 0.1) * log(1 / 0.1) + 9 * (1e-4 - 0.1) * log(1e-4 / 0.1);
  cr_assert_float_eq(st, expect, 1e-12, "PSI %.15g, by hand %.15g", st, expect);
  eddy_detector_free(d);
}

Test(psi, nominal_categories_by_hand_and_checkpoint) {
  /* Reference shares 0.5 / 0.3 / 0.2 of categories 0, 1, 2; current 0.2 /
   * 0.3 / 0.4 and 0.1 of a new category 3. A drift (PSI > 0.2) at the first
   * comparison; max_categories 3 puts 3 and 7 in one overflow bin. */
  eddy_kv_t kv[] = {{"nominal", "true", NULL, 0}, {"max_categories", "3", NULL, 0}};
  eddy_detector_t *d = make("psi", kv, 2);
  for (int i = 0; i < 1000; i++) eddy_detector_update(d, i % 10 < 5 ? 0 : i % 10 < 8 ? 1 : 2);
  eddy_drift_t last = EDDY_DRIFT_NONE;
  eddy_detector_t *copy = NULL;
  for (int i = 0; i < 1000; i++) {
    int k = i % 10;
    last = eddy_detector_update(d, k < 2 ? 0 : k < 5 ? 1 : k < 9 ? 2 : (i % 20 < 10 ? 3 : 7));
    if (i == 500) { /* checkpoint half-way through the current window */
      eddy_buf_t b;
      eddy_buf_init(&b);
      cr_assert_eq(eddy_detector_save(d, &b), 0);
      eddy_reader_t r;
      eddy_reader_init(&r, b.data + 12, b.len - 12);
      char err[256];
      copy = eddy_detector_load(&r, err, sizeof err);
      cr_assert_not_null(copy, "%s", err);
      eddy_buf_free(&b);
    } else if (copy) {
      int kk = i % 10;
      cr_assert_eq(eddy_detector_update(copy, kk < 2 ? 0 : kk < 5 ? 1 : kk < 9 ? 2 : (i % 20 < 10 ? 3 : 7)),
                   last, "update %d after loading", i);
    }
  }
  cr_assert_eq(last, EDDY_DRIFT_DRIFT);
  double st, th, st2, th2;
  eddy_detector_stat(d, &st, &th);
  eddy_detector_stat(copy, &st2, &th2);
  double expect = (0.2 - 0.5) * log(0.2 / 0.5) + (0.4 - 0.2) * log(0.4 / 0.2) +
                  (0.1 - 1e-4) * log(0.1 / 1e-4);
  cr_assert_float_eq(st, expect, 1e-12, "PSI %.15g, by hand %.15g", st, expect);
  cr_assert_eq(st, st2);
  eddy_detector_free(d);
  eddy_detector_free(copy);
}

/* ------------------------------------------------------ against scipy */

static const char *python(void) {
  const char *p = getenv("EDDY_PYTHON");
  if (p && access(p, X_OK) == 0) return p;
  if (access(".cache/venv/bin/python", X_OK) == 0) return ".cache/venv/bin/python";
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

Test(ks, statistic_and_pvalues_match_scipy) {
  const char *py = python();
  if (!py) cr_skip_test("no Python with scipy (.cache/venv/bin/python; make deps) to compare with");
  /* Two normal samples per case, the second shifted, written to a file;
   * scipy's ks_2samp(method='asymp') gives D and p for each. The sizes
   * reach every branch of the Kolmogorov distribution (n <= 140 and above;
   * Durbin, Smirnov, Pelz-Good, the tails). */
  static const struct {
    int n1, n2;
    double shift;
  } cases[] = {{5, 7, 0.0},      {5, 7, 2.0},       {20, 20, 0.3},     {20, 20, 1.0},
               {50, 80, 0.0},    {50, 80, 0.5},     {100, 100, 0.2},   {140, 141, 0.3},
               {200, 150, 0.1},  {200, 150, 0.4},   {500, 500, 0.05},  {500, 500, 0.15},
               {1000, 1000, 0.0}, {1000, 1000, 0.1}, {3000, 2000, 0.03}, {3000, 2000, 0.2},
               {20000, 10000, 0.01}, {20000, 10000, 0.04}, {300, 1, 0.0}};
  size_t nc = sizeof cases / sizeof *cases;
  char path[] = "/tmp/eddy_ks_XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  eddy_rng_t r;
  eddy_rng_seed(&r, 21);
  double D[32], P[32];
  for (size_t c = 0; c < nc; c++) {
    int n1 = cases[c].n1, n2 = cases[c].n2;
    double *a = malloc(n1 * sizeof *a), *b = malloc(n2 * sizeof *b);
    for (int i = 0; i < n1; i++) a[i] = eddy_rng_gauss(&r);
    for (int i = 0; i < n2; i++) b[i] = eddy_rng_gauss(&r) + cases[c].shift;
    for (int i = 0; i < n1; i++) fprintf(f, "%.17g%c", a[i], i + 1 < n1 ? ' ' : '\n');
    for (int i = 0; i < n2; i++) fprintf(f, "%.17g%c", b[i], i + 1 < n2 ? ' ' : '\n');
    qsort(a, n1, sizeof *a, cmp_double);
    qsort(b, n2, sizeof *b, cmp_double);
    D[c] = eddy_ks_statistic(a, n1, b, n2);
    P[c] = eddy_ks_pvalue(D[c], n1, n2);
    free(a);
    free(b);
  }
  fclose(f);
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "%s -c \"import sys\nfrom scipy.stats import ks_2samp\nL=open(sys.argv[1]).read()"
           ".splitlines()\nfor i in range(0,len(L),2):\n a=[float(v) for v in L[i].split()]\n"
           " b=[float(v) for v in L[i+1].split()]\n r=ks_2samp(a,b,method='asymp')\n"
           " print(repr(float(r.statistic)),repr(float(r.pvalue)))\" %s",
           py, path);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t got = 0;
  double sd, sp;
  double worst = 0;
  while (fscanf(p, "%lf %lf", &sd, &sp) == 2) {
    cr_assert_lt(got, nc);
    cr_assert_float_eq(D[got], sd, 1e-12, "case %zu: D %.17g, scipy %.17g", got, D[got], sd);
    cr_assert_float_eq(P[got], sp, 1e-6, "case %zu (n %d, %d): p %.17g, scipy %.17g", got,
                       cases[got].n1, cases[got].n2, P[got], sp);
    worst = fmax(worst, fabs(P[got] - sp));
    got++;
  }
  cr_assert_eq(pclose(p), 0, "python failed");
  cr_assert_eq(got, nc, "scipy answered %zu of %zu cases", got, nc);
  unlink(path);
  cr_log_info("largest p-value difference from scipy: %g", worst);
}

Test(ks, kolmogorov_distribution_and_exact_two_sample_match_scipy) {
  const char *py = python();
  if (!py) cr_skip_test("no Python with scipy (.cache/venv/bin/python; make deps) to compare with");
  /* kstwo.sf(x, n) over a grid of n and x, and the exact equal-size
   * two-sample p-value KSWIN uses (ks_2samp(method='exact') at n = 30 and
   * 100, every D = h / n). */
  char cmd[1024];
  snprintf(cmd, sizeof cmd,
           "%s -c \"from scipy.stats import kstwo\nfrom scipy.stats._stats_py import "
           "_attempt_exact_2kssamp as ex\nfor n in %s:\n x=0.0007\n while x<1:\n  "
           "print(n, repr(x), repr(float(kstwo.sf(x,n))))\n  x*=1.13\nfor n in (30,100):\n for h "
           "in range(n+1):\n  print(-n, h, repr(float(ex(n,n,n,h/n,'two-sided')[2])))\"",
           py, "(1,3,10,30,140,141,250,1000,5000,40000,120000)");
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  long n;
  double x, want;
  size_t rows = 0;
  double worst = 0;
  while (fscanf(p, "%ld %lf %lf", &n, &x, &want) == 3) {
    double got = n > 0 ? eddy_kolmogorov_sf(n, x) : eddy_ks_pvalue_exact_equal(-n, (uint64_t)x);
    cr_assert_float_eq(got, want, 1e-6, "n %ld x %.17g: %.17g, scipy %.17g", n, x, got, want);
    worst = fmax(worst, fabs(got - want));
    rows++;
  }
  cr_assert_eq(pclose(p), 0, "python failed");
  cr_assert_gt(rows, 600, "%zu rows from scipy", rows);
  cr_log_info("largest difference from scipy over %zu values: %g", rows, worst);
  cr_assert_lt(worst, 1e-9, "measured 9e-12");
}

/* Offset of the 8 bytes of v in b, or -1. */
static long find_f64(const eddy_buf_t *b, double v) {
  for (size_t i = 0; i + 8 <= b->len; i++)
    if (!memcmp(b->data + i, &v, 8)) return (long)i;
  return -1;
}

/* Found by fuzz_replica: a NaN in a loaded reference or window made the KS
 * statistic's count stop advancing, and the next test hung the engine.
 * Loaded values must be numbers, and a complete reference sorted as saved. */
Test(ks, checkpoint_with_nan_or_unsorted_reference_is_refused, .timeout = 60) {
  eddy_kv_t kv[] = {{"reference_size", "8", NULL, 0}, {"window_size", "8", NULL, 0},
                    {"interval", "1", NULL, 0}};
  eddy_detector_t *d = make("ks", kv, 3);
  for (int i = 0; i < 8; i++) eddy_detector_update(d, 0.125 * (i + 1)); /* the reference */
  for (int i = 0; i < 8; i++) /* the window: the same spread, no drift */
    cr_assert_eq(eddy_detector_update(d, 0.125 * (i + 1) + 0.0625), EDDY_DRIFT_NONE);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_detector_save(d, &b), 0);
  char err[512];
  eddy_reader_t r;
  long at_ref = find_f64(&b, 0.375), at_ring = find_f64(&b, 0.5625), at_next = find_f64(&b, 0.5);
  cr_assert(at_ref > 0 && at_ring > 0 && at_next > 0);
  double nan = NAN, v0 = 0.375, v1 = 0.5, w = 0.5625;
  for (int k = 0; k < 3; k++) {
    if (k == 0) memcpy(b.data + at_ref, &nan, 8);
    if (k == 1) memcpy(b.data + at_ring, &nan, 8);
    if (k == 2) memcpy(b.data + at_ref, &v1, 8), memcpy(b.data + at_next, &v0, 8); /* unsorted */
    eddy_reader_init(&r, b.data + 12, b.len - 12);
    cr_assert_null(eddy_detector_load(&r, err, sizeof err), "case %d", k);
    memcpy(b.data + at_ref, &v0, 8);
    memcpy(b.data + at_next, &v1, 8);
    memcpy(b.data + at_ring, &w, 8);
  }
  eddy_reader_init(&r, b.data + 12, b.len - 12);
  eddy_detector_t *c = eddy_detector_load(&r, err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  cr_assert_eq(eddy_detector_update(c, 20.0), eddy_detector_update(d, 20.0));
  eddy_detector_free(c);
  eddy_detector_free(d);
  eddy_buf_free(&b);
}
