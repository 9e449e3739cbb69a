/* test_detectors.c: the detector registry and every concept-drift detector
 * on seeded Bernoulli error streams: detection delay after a switch from
 * Bernoulli(0.2) to Bernoulli(0.5) at 10,000, false alarms on 100,000
 * stationary Bernoulli(0.2) values, agreement with MOA 2024.07.0, and the
 * generic contracts (checkpoint round trip, reset, stat at a drift).
 *
 * The MOA figures below were produced by running MOA's classes
 * (moa.classifiers.core.driftdetection.*, defaults, input() per value) over
 * the same series written out by the same generator. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "detectors/detectors.h"

#define CHANGE 10000

/* Value i of the series of `seed`: Bernoulli(p0) before `change`, then
 * Bernoulli(p1); one uniform draw per value. */
typedef struct {
  eddy_rng_t r;
  long i, change;
  double p0, p1;
} series_t;

static void series_init(series_t *s, uint64_t seed, long change, double p0, double p1) {
  eddy_rng_seed(&s->r, seed);
  s->i = 0;
  s->change = change;
  s->p0 = p0;
  s->p1 = p1;
}

static double series_next(series_t *s) {
  double p = s->i++ < s->change ? s->p0 : s->p1;
  return eddy_rng_uniform(&s->r) < p;
}

static eddy_detector_t *make(const char *name, const char *k, const char *v, uint64_t seed) {
  eddy_kv_t kv[] = {{(char *)k, (char *)v, NULL, 0}};
  char err[512];
  eddy_detector_t *d = eddy_detector_new(name, kv, k ? 1 : 0, seed, err, sizeof err);
  cr_assert_not_null(d, "%s: %s", name, err);
  return d;
}

Test(registry, names_kinds_and_unknown) {
  static const char *const names[] = {"adwin",  "ddm",   "eddm", "page_hinkley", "hddm_a",
                                      "hddm_w", "kswin", "psi",  "ks"};
  size_t n = 0;
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++, n++) {
    cr_assert_lt(n, 9);
    cr_assert_str_eq((*t)->name, names[n], "registry order");
    cr_assert_eq((*t)->kind, n < 7 ? EDDY_DETECTOR_CONCEPT : EDDY_DETECTOR_DATA, "%s", (*t)->name);
    cr_assert_not_null((*t)->stat, "%s has a stat()", (*t)->name);
  }
  cr_assert_eq(n, 9);
  char err[512];
  cr_assert_null(eddy_detector_new("adwinn", NULL, 0, 1, err, sizeof err));
  cr_assert(strstr(err, "adwinn") && strstr(err, "page_hinkley") && strstr(err, "kswin"), "%s",
            err);
  cr_assert_str_eq(eddy_drift_name(EDDY_DRIFT_WARNING), "warning");
}

/* The first drift at or after the change, or -1. */
static long first_drift_after(const char *name, const char *k, const char *v, uint64_t seed,
                              long change, double p0, double p1, long n, long *warnings,
                              long *drifts) {
  eddy_detector_t *d = make(name, k, v, 1); /* KSWIN's draws: detector seed 1 */
  series_t s;
  series_init(&s, seed, change, p0, p1);
  long first = -1;
  if (warnings) *warnings = 0;
  if (drifts) *drifts = 0;
  for (long i = 0; i < n; i++) {
    eddy_drift_t st = eddy_detector_update(d, series_next(&s));
    if (st == EDDY_DRIFT_WARNING && warnings) (*warnings)++;
    if (st == EDDY_DRIFT_DRIFT) {
      if (drifts) (*drifts)++;
      if (first < 0 && i >= change) first = i;
    }
  }
  eddy_detector_free(d);
  return first;
}

/* Detection after the switch at 10,000, seeds 1 to 10, defaults. For the
 * detectors MOA has, eddy's first drift at or after the change is MOA's
 * exactly (moa[]). The bound on the delay (first drift - 10,000) holds for
 * all ten seeds; the measured delays:
 *   adwin         111 111 111  47 111  79  79 111  79  79   (bound 500)
 *   ddm           620 670 1038 425 855 350 212 597 246 2193 (bound 2500)
 *   eddm          143 455 512 912  87 679 644 233 140 482   (bound 1000)
 *   page_hinkley  111 151 196 297 202 334 250 190 341 295   (bound 500)
 *   hddm_a        214 135  39  38  73  15 274 392  25  40   (bound 500)
 *   hddm_w         62  68  32  19  12  11  24  30  14  11   (bound 100)
 *   psi, ks       999 for every seed: the first comparison whose current
 *                 window (window_size 1000, interval 1000) is all after
 *                 the change                                  (bound 1000)
 * EDDM's and HDDM_W's first drift after the change may be one of their
 * false alarms (see stationary_false_alarms); DDM's delay is long because
 * p_min + 3 s_min was set on 10,000 values. */
typedef struct {
  const char *name;
  long bound;
  long moa[10]; /* 0: no MOA reference */
} switch_case_t;

static const switch_case_t switch_cases[] = {
    {"adwin", 500, {10111, 10111, 10111, 10047, 10111, 10079, 10079, 10111, 10079, 10079}},
    {"ddm", 2500, {10620, 10670, 11038, 10425, 10855, 10350, 10212, 10597, 10246, 12193}},
    {"eddm", 1000, {10143, 10455, 10512, 10912, 10087, 10679, 10644, 10233, 10140, 10482}},
    {"page_hinkley", 500, {10111, 10151, 10196, 10297, 10202, 10334, 10250, 10190, 10341, 10295}},
    {"hddm_a", 500, {10214, 10135, 10039, 10038, 10073, 10015, 10274, 10392, 10025, 10040}},
    {"hddm_w", 100, {10062, 10068, 10032, 10019, 10012, 10011, 10024, 10030, 10014, 10011}},
    {"psi", 1000, {0}},
    {"ks", 1000, {0}},
};

Test(bernoulli_switch, detected_within_bound_as_moa) {
  for (size_t c = 0; c < sizeof switch_cases / sizeof *switch_cases; c++) {
    const switch_case_t *sc = &switch_cases[c];
    for (uint64_t seed = 1; seed <= 10; seed++) {
      long first = first_drift_after(sc->name, NULL, NULL, seed, CHANGE, 0.2, 0.5, 20000, NULL, NULL);
      cr_assert(first >= CHANGE && first - CHANGE <= sc->bound,
                "%s seed %llu: first drift after the change at %ld (bound +%ld)", sc->name,
                (unsigned long long)seed, first, sc->bound);
      if (sc->moa[0])
        cr_assert_eq(first, sc->moa[seed - 1], "%s seed %llu: %ld, MOA %ld", sc->name,
                     (unsigned long long)seed, first, sc->moa[seed - 1]);
      else
        cr_assert_eq(first, CHANGE + 999, "%s seed %llu", sc->name, (unsigned long long)seed);
    }
  }
}

Test(bernoulli_switch, warnings_as_moa) {
  /* Seed 1, 20,000 values: MOA reports 10452 warnings and 2 drifts (DDM),
   * 7766 and 37 (EDDM), 29 and 1 (HDDM_A), 126 and 8 (HDDM_W); ADWIN and
   * Page-Hinkley have no warning state (0 warnings, 4 and 1 drifts). */
  static const struct {
    const char *name;
    long warnings, drifts;
  } moa[] = {{"ddm", 10452, 2},  {"eddm", 7766, 37},  {"hddm_a", 29, 1},
             {"hddm_w", 126, 8}, {"adwin", 0, 4},     {"page_hinkley", 0, 1}};
  for (size_t c = 0; c < sizeof moa / sizeof *moa; c++) {
    long w, dr;
    first_drift_after(moa[c].name, NULL, NULL, 1, CHANGE, 0.2, 0.5, 20000, &w, &dr);
    cr_assert_eq(w, moa[c].warnings, "%s: %ld warnings, MOA %ld", moa[c].name, w, moa[c].warnings);
    cr_assert_eq(dr, moa[c].drifts, "%s: %ld drifts, MOA %ld", moa[c].name, dr, moa[c].drifts);
  }
}

Test(bernoulli_switch, kswin_detects_while_the_window_straddles) {
  /* KSWIN compares 30 values drawn from the older 70 of its 100-value
   * window with the newest 30, so the switch is visible only for about 100
   * values; on 0/1 values D is a difference of two proportions of 30 and
   * must reach 14/30 (p <= 0.005). Over seeds 1..40 eddy detects within
   * 100 values of the change 14 times (River's KSWIN: 18 of 40 on the same
   * series; its draws come from another RNG). Bound: at least 10 of 40. */
  int within = 0;
  for (uint64_t seed = 1; seed <= 40; seed++) {
    long first = first_drift_after("kswin", NULL, NULL, seed, CHANGE, 0.2, 0.5, 20000, NULL, NULL);
    within += first >= CHANGE && first < CHANGE + 100;
  }
  cr_assert_geq(within, 10, "kswin detected %d of 40 switches within 100 values", within);
  cr_assert_eq(within, 14, "measured 14 of 40");
}

/* False alarms on 100,000 stationary Bernoulli(0.2) values, seeds 1..5, at
 * the defaults. ADWIN, PSI and KS raise none. The others raise what MOA's
 * implementations raise on the same series (identical counts), which we
 * report rather than tune away:
 *   ddm           1 0 2 0 2   (early: p_min + 3 s_min set near n = 30)
 *   eddm         13 29 17 0 38 (River's EDDM: 35 59 17 114 53)
 *   page_hinkley  0 0 1 0 0   (River's, textbook min form and both
 *                              directions: 6 7 5 5 6)
 *   hddm_a        0 1 0 1 1
 *   hddm_w        8 10 8 5 6  (River's: 8 10 9 5 6)
 *   kswin         3 0 1 2 2   (no MOA; River's: 2 2 0 1 2) */
Test(stationary, false_alarms) {
  static const struct {
    const char *name;
    long drifts[5];
  } expect[] = {
      {"adwin", {0, 0, 0, 0, 0}},       {"ddm", {1, 0, 2, 0, 2}},    {"eddm", {13, 29, 17, 0, 38}},
      {"page_hinkley", {0, 0, 1, 0, 0}}, {"hddm_a", {0, 1, 0, 1, 1}}, {"hddm_w", {8, 10, 8, 5, 6}},
      {"kswin", {3, 0, 1, 2, 2}},       {"psi", {0, 0, 0, 0, 0}},    {"ks", {0, 0, 0, 0, 0}},
  };
  for (size_t c = 0; c < sizeof expect / sizeof *expect; c++)
    for (uint64_t seed = 1; seed <= 5; seed++) {
      long dr;
      first_drift_after(expect[c].name, NULL, NULL, seed, 100000, 0.2, 0.2, 100000, NULL, &dr);
      cr_assert_eq(dr, expect[c].drifts[seed - 1], "%s seed %llu: %ld drifts, expected %ld",
                   expect[c].name, (unsigned long long)seed, dr, expect[c].drifts[seed - 1]);
    }
}

Test(direction, page_hinkley_and_adwin_watch_rises_unless_told) {
  /* Bernoulli(0.5) falling to Bernoulli(0.2) at 10,000 (seed 1): no drift
   * watching rises (MOA); measured first drift 10355 (Page-Hinkley) and
   * 10079 (ADWIN) watching falls or both. */
  const char *dets[] = {"page_hinkley", "adwin"};
  long expect[] = {10355, 10079};
  for (int k = 0; k < 2; k++) {
    long up = first_drift_after(dets[k], NULL, NULL, 1, CHANGE, 0.5, 0.2, 20000, NULL, NULL);
    long down = first_drift_after(dets[k], "direction", "down", 1, CHANGE, 0.5, 0.2, 20000, NULL, NULL);
    long both = first_drift_after(dets[k], "direction", "both", 1, CHANGE, 0.5, 0.2, 20000, NULL, NULL);
    cr_assert_eq(up, -1, "%s up: %ld", dets[k], up);
    cr_assert_eq(down, expect[k], "%s down: %ld", dets[k], down);
    cr_assert_eq(both, expect[k], "%s both: %ld", dets[k], both);
  }
}

/* The relation stat() reports at a drift, for each detector. */
static void check_stat_at_drift(const eddy_detector_t *d) {
  double st, th;
  eddy_detector_stat(d, &st, &th);
  const char *n = d->type->name;
  if (strcmp(n, "eddm") == 0)
    cr_assert_lt(st, th, "eddm: ratio %g below %g", st, th);
  else if (strcmp(n, "ks") == 0)
    cr_assert(th < 0.01 && st > 0, "ks: D %g, p-value %g", st, th);
  else if (strcmp(n, "hddm_a") == 0 || strcmp(n, "kswin") == 0)
    cr_assert_geq(st, th, "%s: %g >= %g", n, st, th);
  else
    cr_assert_gt(st, th, "%s: %g > %g", n, st, th);
}

Test(contracts, checkpoint_round_trip_reset_and_stat) {
  /* For every detector: save after 12,000 values of the switch series (seed
   * 3), load, and feed both 8,000 more: identical states and statistics;
   * save, load, save gives the same bytes; a reset detector repeats a new
   * one's outputs; stat() agrees with the drift. */
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++) {
    const char *name = (*t)->name;
    eddy_detector_t *d = make(name, NULL, NULL, 3);
    series_t s;
    series_init(&s, 3, CHANGE, 0.2, 0.5);
    int stat_checked = 0;
    for (int i = 0; i < 12000; i++)
      if (eddy_detector_update(d, series_next(&s)) == EDDY_DRIFT_DRIFT) {
        check_stat_at_drift(d);
        stat_checked = 1;
      }
    cr_assert(stat_checked, "%s drifted in 12,000 values", name);
    char err[512];
    eddy_buf_t b, b2;
    eddy_buf_init(&b);
    eddy_buf_init(&b2);
    cr_assert_eq(eddy_detector_save(d, &b), 0, "%s", name);
    eddy_reader_t r;
    eddy_reader_init(&r, b.data + 12, b.len - 12); /* past the section tag and length */
    eddy_detector_t *c = eddy_detector_load(&r, err, sizeof err);
    cr_assert_not_null(c, "%s: %s", name, err);
    cr_assert_eq(eddy_detector_save(c, &b2), 0);
    cr_assert(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "%s: same bytes", name);
    cr_assert_eq(eddy_detector_memory(c), eddy_detector_memory(d), "%s", name);
    for (int i = 0; i < 8000; i++) {
      double x = series_next(&s);
      eddy_drift_t a = eddy_detector_update(d, x), e = eddy_detector_update(c, x);
      cr_assert_eq(a, e, "%s: update %d after loading", name, i);
      double s1, t1, s2, t2;
      eddy_detector_stat(d, &s1, &t1);
      eddy_detector_stat(c, &s2, &t2);
      cr_assert(s1 == s2 && t1 == t2, "%s: stat after loading", name);
    }
    /* A truncated body is refused. */
    eddy_reader_init(&r, b.data + 12, b.len - 13);
    cr_assert_null(eddy_detector_load(&r, err, sizeof err), "%s: truncated", name);
    /* Reset: the same outputs as a new detector. */
    eddy_detector_reset(d);
    eddy_detector_t *fresh = make(name, NULL, NULL, 3);
    series_init(&s, 5, CHANGE, 0.2, 0.5);
    for (int i = 0; i < 15000; i++) {
      double x = series_next(&s);
      cr_assert_eq(eddy_detector_update(d, x), eddy_detector_update(fresh, x),
                   "%s: update %d after reset", name, i);
    }
    eddy_detector_free(fresh);
    eddy_detector_free(c);
    eddy_detector_free(d);
    eddy_buf_free(&b);
    eddy_buf_free(&b2);
  }
}

Test(options, ranges_and_consistency) {
  char err[512];
  eddy_kv_t bad_ddm[] = {{"drift_level", "9", "x.ini", 3}};
  cr_assert_null(eddy_detector_new("ddm", bad_ddm, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "x.ini:3:") && strstr(err, "drift_level"), "%s", err);
  eddy_kv_t bad_eddm[] = {{"drift_level", "0.97", NULL, 0}};
  cr_assert_null(eddy_detector_new("eddm", bad_eddm, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "warning_level"), "%s", err);
  eddy_kv_t bad_kswin[] = {{"stat_size", "60", NULL, 0}};
  cr_assert_null(eddy_detector_new("kswin", bad_kswin, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "stat_size"), "%s", err);
  eddy_kv_t bad_ph[] = {{"direction", "sideways", NULL, 0}};
  cr_assert_null(eddy_detector_new("page_hinkley", bad_ph, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "direction"), "%s", err);
  /* Options reach the detector: MOA's DDM -n 100 -w 1.5 -o 2.5 drifts at
   * 10260, 10464, 10740, 11400 and 12215 on seed 2's switch series. */
  eddy_kv_t kv[] = {{"min_instances", "100", NULL, 0},
                    {"warning_level", "1.5", NULL, 0},
                    {"drift_level", "2.5", NULL, 0}};
  eddy_detector_t *d = eddy_detector_new("ddm", kv, 3, 1, err, sizeof err);
  cr_assert_not_null(d, "%s", err);
  static const long moa[] = {10260, 10464, 10740, 11400, 12215};
  series_t s;
  series_init(&s, 2, CHANGE, 0.2, 0.5);
  size_t k = 0;
  for (long i = 0; i < 20000; i++)
    if (eddy_detector_update(d, series_next(&s)) == EDDY_DRIFT_DRIFT) {
      cr_assert_lt(k, 5, "extra drift at %ld", i);
      cr_assert_eq(i, moa[k], "drift %zu at %ld, MOA %ld", k, i, moa[k]);
      k++;
    }
  cr_assert_eq(k, 5);
  eddy_detector_free(d);
}

/* Found by fuzz_replica, then end to end: a NaN in KSWIN's window (a NaN
 * loss: `eddy eval` of a regression stream whose targets alternate +-1e308
 * drives majority's mean to inf - inf) stopped its count of D from ever
 * advancing, and the engine hung. NaN values are now ignored: the same
 * detections as without them. A checkpoint with a NaN in the window is
 * refused. */
Test(kswin, nan_values_are_ignored, .timeout = 60) {
  eddy_detector_t *d = make("kswin", NULL, NULL, 3), *e = make("kswin", NULL, NULL, 3);
  series_t s;
  series_init(&s, 3, CHANGE, 0.2, 0.5);
  int drifts = 0;
  for (int i = 0; i < 2 * CHANGE; i++) {
    double x = series_next(&s);
    if (i % 7 == 0) cr_assert_eq(eddy_detector_update(d, NAN), EDDY_DRIFT_NONE);
    eddy_drift_t a = eddy_detector_update(d, x), b = eddy_detector_update(e, x);
    cr_assert_eq(a, b, "value %d", i);
    drifts += a == EDDY_DRIFT_DRIFT;
  }
  cr_assert_gt(drifts, 0, "the switch is detected");

  /* A checkpoint of a full window, one value of it replaced by NaN. */
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_detector_save(e, &b), 0);
  eddy_reader_t r;
  eddy_reader_init(&r, b.data + 12, b.len - 12);
  char err[512];
  eddy_detector_t *c = eddy_detector_load(&r, err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_detector_free(c);
  double one = 1.0, nan = NAN;
  uint8_t *at = NULL; /* the first 1.0: window values are 0 or 1 */
  for (size_t i = 0; !at && i + 8 <= b.len; i++)
    if (!memcmp(b.data + i, &one, 8)) at = b.data + i;
  cr_assert_not_null(at);
  memcpy(at, &nan, 8);
  eddy_reader_init(&r, b.data + 12, b.len - 12);
  cr_assert_null(eddy_detector_load(&r, err, sizeof err));
  cr_assert(strstr(err, "kswin"), "%s", err);
  eddy_buf_free(&b);
  eddy_detector_free(d);
  eddy_detector_free(e);
}
