/* test_adwin.c: ADWIN, the embedded structure (eddy_adwin_*) and the
 * `adwin` detector type: exact agreement with MOA's ADWIN on a seeded
 * series, window statistics, shrinking after a change, checkpoints. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "detectors/detectors.h"

/* The series whose cuts were computed with MOA 2024.07.0's ADWIN class
 * (moa.classifiers.core.driftdetection.ADWIN, delta 0.002, setInput per
 * value): Bernoulli(0.2) for 30,000 values, Bernoulli(0.6) to 50,000,
 * Bernoulli(0.1) to 110,000, then N(0.3, 0.2^2) to 160,000. */
static double segment_value(eddy_rng_t *r, long i) {
  if (i < 30000) return eddy_rng_uniform(r) < 0.2;
  if (i < 50000) return eddy_rng_uniform(r) < 0.6;
  if (i < 110000) return eddy_rng_uniform(r) < 0.1;
  return 0.3 + 0.2 * eddy_rng_gauss(r);
}

Test(adwin, cuts_exactly_where_moa_does) {
  /* MOA's cuts on that series: index, then width after the cut. */
  static const long moa_cut[] = {30047, 30079, 30431, 50047, 50079, 50111, 110111, 110143, 110271};
  static const uint64_t moa_width[] = {992, 160, 448, 160, 160, 160, 512, 288, 352};
  eddy_adwin_t *a = eddy_adwin_new(0.002);
  cr_assert_not_null(a);
  eddy_rng_t r;
  eddy_rng_seed(&r, 2024);
  size_t k = 0;
  for (long i = 0; i < 160000; i++) {
    double x = segment_value(&r, i);
    if (eddy_adwin_update(a, x)) {
      cr_assert_lt(k, 9, "an extra cut at %ld", i);
      cr_assert_eq(i, moa_cut[k], "cut %zu at %ld, MOA at %ld", k, i, moa_cut[k]);
      cr_assert_eq(eddy_adwin_width(a), moa_width[k], "width after cut %zu", k);
      k++;
    }
    /* MOA: width 30001 / total 6051 after index 30000 and width 10081 /
     * total 3013.567107277108 after index 120000. */
    if (i == 30000) {
      cr_assert_eq(eddy_adwin_width(a), 30001);
      cr_assert_float_eq(eddy_adwin_estimation(a), 6051.0 / 30001, 1e-15);
      cr_assert_float_eq(eddy_adwin_variance(a), 0.16101309894783347, 1e-12);
    }
    if (i == 120000) {
      cr_assert_eq(eddy_adwin_width(a), 10081);
      cr_assert_float_eq(eddy_adwin_estimation(a), 3013.567107277108 / 10081, 1e-12);
      cr_assert_float_eq(eddy_adwin_variance(a), 0.04223176701867213, 1e-12);
    }
  }
  cr_assert_eq(k, 9, "MOA cuts 9 times, eddy %zu", k);
  cr_assert_eq(eddy_adwin_width(a), 50080);
  cr_assert_float_eq(eddy_adwin_estimation(a), 14949.324624787401 / 50080, 1e-12);
  cr_assert_float_eq(eddy_adwin_variance(a), 0.04020804695853716, 1e-12);
  eddy_adwin_free(a);
}

Test(adwin, window_statistics_are_exact) {
  /* No cut on a stationary uniform stream (delta 1e-9): the window holds
   * everything and its mean and variance are those of all values, however
   * the buckets were merged. */
  eddy_adwin_t *a = eddy_adwin_new(1e-9);
  eddy_rng_t r;
  eddy_rng_seed(&r, 5);
  int n = 7777;
  double *xs = malloc(n * sizeof *xs);
  double sum = 0;
  for (int i = 0; i < n; i++) {
    xs[i] = eddy_rng_uniform(&r) * 10;
    sum += xs[i];
    cr_assert_eq(eddy_adwin_update(a, xs[i]), 0);
  }
  double mean = sum / n, ss = 0;
  for (int i = 0; i < n; i++) ss += (xs[i] - mean) * (xs[i] - mean);
  cr_assert_eq(eddy_adwin_width(a), (uint64_t)n);
  cr_assert_float_eq(eddy_adwin_estimation(a), mean, 1e-12);
  cr_assert_float_eq(eddy_adwin_variance(a), ss / n, 1e-9);
  free(xs);
  eddy_adwin_free(a);
}

Test(adwin, rows_grow_logarithmically) {
  /* 2^20 constant values: at most 5 buckets per row, so about
   * log2(2^20 / 5) + 1 = 19 rows; the row list has room for 32 at most. */
  eddy_adwin_t *a = eddy_adwin_new(0.002);
  size_t empty = eddy_adwin_memory(a);
  for (int i = 0; i < 1 << 20; i++) eddy_adwin_update(a, 0.25);
  cr_assert_eq(eddy_adwin_width(a), 1u << 20);
  cr_assert_eq(eddy_adwin_estimation(a), 0.25);
  cr_assert_eq(eddy_adwin_variance(a), 0.0);
  size_t full = eddy_adwin_memory(a);
  cr_assert_gt(full, empty);
  cr_assert_leq(full, empty + 28 * 104 + 64, "memory %zu from %zu", full, empty);
  eddy_adwin_reset(a);
  cr_assert_eq(eddy_adwin_width(a), 0);
  cr_assert_eq(eddy_adwin_estimation(a), 0.0);
  eddy_adwin_free(a);
}

Test(adwin, window_shrinks_after_the_change) {
  /* Bernoulli(0.2) switching to Bernoulli(0.5) at 10,000 (seed 1). Before
   * the change the window holds all 10,000 values; the first cut comes
   * within 1,000 values (measured: 10111, as MOA) and leaves a window of
   * under 1,000 (768); after two more cuts (10143, 10207) at most 209
   * pre-change values remain: width 2209 at 12,000 instead of 12,000. */
  eddy_adwin_t *a = eddy_adwin_new(0.002);
  eddy_rng_t r;
  eddy_rng_seed(&r, 1);
  long first = -1;
  for (long i = 0; i < 12000; i++) {
    int cut = eddy_adwin_update(a, eddy_rng_uniform(&r) < (i < 10000 ? 0.2 : 0.5));
    if (i == 9999) cr_assert_eq(eddy_adwin_width(a), 10000, "no cut before the change");
    if (cut && first < 0) {
      first = i;
      cr_assert_lt(eddy_adwin_width(a), 1000, "width %llu after the first cut",
                   (unsigned long long)eddy_adwin_width(a));
    }
  }
  cr_assert(first >= 10000 && first < 11000, "first cut at %ld", first);
  cr_assert_eq(first, 10111, "MOA cuts first at 10111 on this series");
  cr_assert_leq(eddy_adwin_width(a), 2300, "width %llu", (unsigned long long)eddy_adwin_width(a));
  cr_assert_float_eq(eddy_adwin_estimation(a), 0.5, 0.05);
  eddy_adwin_free(a);
}

Test(adwin, save_load_continues_identically) {
  eddy_adwin_t *a = eddy_adwin_new(0.01);
  eddy_rng_t r;
  eddy_rng_seed(&r, 3);
  for (int i = 0; i < 20000; i++) eddy_adwin_update(a, eddy_rng_uniform(&r) < (i < 15000 ? 0.3 : 0.6));
  eddy_buf_t b, b2;
  eddy_buf_init(&b);
  eddy_buf_init(&b2);
  eddy_adwin_save(a, &b);
  cr_assert_eq(b.err, 0);
  eddy_reader_t rd;
  eddy_reader_init(&rd, b.data, b.len);
  eddy_adwin_t *c = eddy_adwin_load(&rd);
  cr_assert_not_null(c);
  cr_assert_eq(rd.pos, rd.len);
  eddy_adwin_save(c, &b2);
  cr_assert_eq(b.len, b2.len);
  cr_assert_eq(memcmp(b.data, b2.data, b.len), 0, "save, load, save gives the same bytes");
  cr_assert_eq(eddy_adwin_width(a), eddy_adwin_width(c));
  int cuts = 0;
  for (int i = 0; i < 20000; i++) {
    double x = eddy_rng_uniform(&r) < (i < 5000 ? 0.6 : 0.2);
    int ca = eddy_adwin_update(a, x), cc = eddy_adwin_update(c, x);
    cr_assert_eq(ca, cc, "update %d", i);
    cuts += ca;
    cr_assert_eq(eddy_adwin_estimation(a), eddy_adwin_estimation(c));
  }
  cr_assert_gt(cuts, 0, "the change at 5,000 is cut in both");
  /* Truncated and inconsistent checkpoints are refused. */
  eddy_reader_init(&rd, b.data, b.len - 3);
  cr_assert_null(eddy_adwin_load(&rd));
  cr_assert_eq(rd.err, EDDY_ECORRUPT);
  b.data[1 + 8 + 4 + 8] ^= 1; /* the width no longer matches the buckets */
  eddy_reader_init(&rd, b.data, b.len);
  cr_assert_null(eddy_adwin_load(&rd));
  cr_assert_eq(rd.err, EDDY_ECORRUPT);
  eddy_buf_free(&b);
  eddy_buf_free(&b2);
  eddy_adwin_free(a);
  eddy_adwin_free(c);
}

/* ---------------------------------------------------- the detector type */

static eddy_detector_t *make(const char *k1, const char *v1) {
  eddy_kv_t kv[] = {{(char *)k1, (char *)v1, NULL, 0}};
  char err[512];
  eddy_detector_t *d = eddy_detector_new("adwin", kv, k1 ? 1 : 0, 1, err, sizeof err);
  cr_assert_not_null(d, "%s", err);
  return d;
}

Test(adwin_detector, reports_rises_by_default_and_both_on_request) {
  /* A rate that falls 0.5 -> 0.1 at 5,000, then rises 0.1 -> 0.5 at
   * 10,000. MOA's ADWINChangeDetector reports only the rise (a cut after
   * which the mean is higher); direction = both reports the fall too. */
  eddy_detector_t *up = make(NULL, NULL), *both = make("direction", "both"),
                  *down = make("direction", "down");
  eddy_rng_t r;
  eddy_rng_seed(&r, 11);
  long first_up = -1, first_both = -1, first_down = -1;
  int saw_stat = 0;
  for (long i = 0; i < 15000; i++) {
    double p = i < 5000 ? 0.5 : i < 10000 ? 0.1 : 0.5;
    double x = eddy_rng_uniform(&r) < p;
    eddy_drift_t su = eddy_detector_update(up, x);
    eddy_drift_t sb = eddy_detector_update(both, x);
    eddy_drift_t sd = eddy_detector_update(down, x);
    cr_assert_neq(su, EDDY_DRIFT_WARNING, "ADWIN has no warning state");
    if (su == EDDY_DRIFT_DRIFT && first_up < 0) {
      first_up = i;
      double st, th;
      eddy_detector_stat(up, &st, &th);
      cr_assert_gt(st, th, "at a drift the difference of means exceeds epsilon_cut");
      cr_assert(th > 0 && st < 1);
      saw_stat = 1;
    }
    if (sb == EDDY_DRIFT_DRIFT && first_both < 0) first_both = i;
    if (sd == EDDY_DRIFT_DRIFT && first_down < 0) first_down = i;
  }
  cr_assert(saw_stat);
  cr_assert(first_both >= 5000 && first_both < 5500, "both: first drift at %ld", first_both);
  cr_assert_eq(first_down, first_both, "the fall is the first cut");
  cr_assert(first_up >= 10000 && first_up < 10500, "up: first drift at %ld", first_up);
  eddy_detector_free(up);
  eddy_detector_free(both);
  eddy_detector_free(down);
}

Test(adwin_detector, options_checkpoint_and_reset) {
  char err[512];
  eddy_kv_t bad[] = {{"delta", "2", "p.ini", 7}};
  cr_assert_null(eddy_detector_new("adwin", bad, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "p.ini:7:") && strstr(err, "delta"), "%s", err);
  eddy_kv_t unknown[] = {{"deltaa", "0.1", NULL, 0}};
  cr_assert_null(eddy_detector_new("adwin", unknown, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "deltaa"), "%s", err);

  eddy_detector_t *d = make("delta", "0.05");
  eddy_rng_t r;
  eddy_rng_seed(&r, 4);
  for (int i = 0; i < 3000; i++) eddy_detector_update(d, eddy_rng_uniform(&r) < 0.3);
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_ckpt_begin(&b);
  cr_assert_eq(eddy_detector_save(d, &b), 0);
  cr_assert_eq(eddy_ckpt_finish(&b), 0);
  cr_assert_eq(eddy_ckpt_verify(b.data, b.len, err, sizeof err), 0, "%s", err);
  eddy_reader_t rd;
  cr_assert_eq(eddy_ckpt_section(b.data, b.len, EDDY_SECTION_DETECTOR, 0, &rd), 0);
  eddy_detector_t *c = eddy_detector_load(&rd, err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  cr_assert_str_eq(c->type->name, "adwin");
  cr_assert_eq(eddy_detector_memory(c), eddy_detector_memory(d));
  int drifts = 0;
  for (int i = 0; i < 3000; i++) {
    double x = eddy_rng_uniform(&r) < 0.7;
    eddy_drift_t sd = eddy_detector_update(d, x), sc = eddy_detector_update(c, x);
    cr_assert_eq(sd, sc, "update %d", i);
    drifts += sd == EDDY_DRIFT_DRIFT;
  }
  cr_assert_gt(drifts, 0);
  eddy_detector_reset(d);
  double st, th;
  eddy_detector_stat(d, &st, &th);
  cr_assert_eq(st, 0.0);
  cr_assert_eq(th, 0.0);
  eddy_buf_free(&b);
  eddy_detector_free(d);
  eddy_detector_free(c);
}

Test(adwin, moa_ints_reproduce_moas_overflowing_products) {
  /* MOA's ADWIN multiplies bucket sizes as 32-bit ints: dropping a bucket
   * of 2^14 or more from a window of over ~130,000 overflows (and merging
   * two buckets of 2^16, from windows of ~650,000, gives 0). The series:
   * r = new
   * java.util.Random(5), x = r.nextDouble() < p ? 1 : 0 with p = 0.2 for
   * 350,000 values, then 0.6 to 380,000. MOA 2024.07.0 (new ADWIN(), one
   * setInput(x) each, OpenJDK 17) prints after 350,000: width 350000,
   * getEstimation() 0.19876857142857143, getVariance() 0.15925962644081423,
   * no detection; after 380,000: width 30048, 0.6005058572949947,
   * 0.2399545748955935, 3 detections, the first at index 350079. With
   * eddy_adwin_set_moa_ints the same, to the bit; with exact products the
   * same until the cuts, whose dropped buckets overflow MOA's products:
   * the variance then differs (measured: 0.23989857264937497). */
  for (int moa = 1; moa >= 0; moa--) {
    eddy_adwin_t *a = eddy_adwin_new(0.002);
    eddy_adwin_set_moa_ints(a, moa);
    eddy_jrandom_t r;
    eddy_jrandom_seed(&r, 5);
    int det = 0;
    long first = -1;
    for (long i = 0; i < 380000; i++) {
      double x = eddy_jrandom_double(&r) < (i < 350000 ? 0.2 : 0.6) ? 1 : 0;
      if (eddy_adwin_update(a, x)) {
        det++;
        if (i >= 350000 && first < 0) first = i;
      }
      if (i == 349999) {
        cr_assert_eq(eddy_adwin_width(a), 350000);
        cr_assert_eq(eddy_adwin_estimation(a), 0.19876857142857143);
        cr_assert_eq(eddy_adwin_variance(a), 0.15925962644081423);
        cr_assert_eq(det, 0);
      }
    }
    if (moa) {
      cr_assert_eq(eddy_adwin_width(a), 30048);
      cr_assert_eq(eddy_adwin_estimation(a), 0.6005058572949947);
      cr_assert_eq(eddy_adwin_variance(a), 0.2399545748955935);
      cr_assert_eq(det, 3);
      cr_assert_eq(first, 350079);
    } else {
      cr_assert_eq(eddy_adwin_width(a), 30048);
      cr_assert_neq(eddy_adwin_variance(a), 0.2399545748955935, "the dropped buckets");
    }
    /* reset keeps the mode */
    eddy_adwin_reset(a);
    eddy_adwin_free(a);
  }
}
