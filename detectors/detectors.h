/* detectors.h: the drift detector interface and the registry of detector
 * types by the names configs use. Concept-drift detectors watch a stream of
 * numbers (0/1 errors or losses); data-drift detectors watch one feature's
 * values. Adding a detector is one file plus one line in registry.c. */
#ifndef EDDY_DETECTORS_H
#define EDDY_DETECTORS_H

#include "core/core.h"

typedef enum { EDDY_DRIFT_NONE = 0, EDDY_DRIFT_WARNING = 1, EDDY_DRIFT_DRIFT = 2 } eddy_drift_t;

/* What a detector watches. */
typedef enum {
  EDDY_DETECTOR_CONCEPT = 1, /* the model's error or loss stream */
  EDDY_DETECTOR_DATA = 2     /* one input feature's values */
} eddy_detector_kind_t;

/* What values a detector's statistics are defined for (a finite number
 * always): any real, 0/1 errors (DDM, EDDM), or values in [0, 1]
 * (Hoeffding's bound of HDDM). `eddy detect` refuses others. */
typedef enum {
  EDDY_INPUT_REAL = 0,
  EDDY_INPUT_BINARY = 1,
  EDDY_INPUT_UNIT = 2
} eddy_detector_input_t;

typedef struct eddy_detector eddy_detector_t;

/* A detector type: a static const descriptor, allocated and configured by
 * the generic code as learners are (see learners.h). */
typedef struct eddy_detector_type {
  const char *name;
  const char *description;
  eddy_detector_kind_t kind;
  eddy_detector_input_t input; /* 0 (REAL) unless set */
  const eddy_option_t *options;
  size_t params_size;
  size_t state_size;
  int (*init)(eddy_detector_t *d, char *errstr, size_t errstr_size);
  /* Adds one value; returns the state after it. A detector that reports
   * DRIFT resets its own statistics as its reference implementation does
   * (ADWIN shrinks its window; DDM starts over). Never allocates. */
  eddy_drift_t (*update)(eddy_detector_t *d, double x);
  void (*reset)(eddy_detector_t *d);
  int (*save)(const eddy_detector_t *d, eddy_buf_t *b);
  int (*load)(eddy_detector_t *d, eddy_reader_t *r);
  size_t (*memory)(const eddy_detector_t *d);
  void (*destroy)(eddy_detector_t *d);
  /* The test statistic at the last update and the threshold it is compared
   * with, for alerts (e.g. DDM: p + s and p_min + 3 s_min). */
  void (*stat)(const eddy_detector_t *d, double *statistic, double *threshold);
} eddy_detector_type_t;

struct eddy_detector {
  const eddy_detector_type_t *type;
  void *params;
  void *state;
  eddy_rng_t rng;
  uint64_t seed;
  eddy_kvlist_t kv;
};

extern const eddy_detector_type_t *const eddy_detector_types[];

const eddy_detector_type_t *eddy_detector_type_find(const char *name);
void eddy_detector_type_names(char *buf, size_t size);

eddy_detector_t *eddy_detector_new(const char *name, const eddy_kv_t *kv, size_t n_kv,
                                   uint64_t seed, char *errstr, size_t errstr_size);
void eddy_detector_free(eddy_detector_t *d);

static inline eddy_drift_t eddy_detector_update(eddy_detector_t *d, double x) {
  return d->type->update(d, x);
}
void eddy_detector_reset(eddy_detector_t *d);
size_t eddy_detector_memory(const eddy_detector_t *d);
void eddy_detector_stat(const eddy_detector_t *d, double *statistic, double *threshold);
const char *eddy_drift_name(eddy_drift_t s); /* "none", "warning", "drift" */
/* 0 when x is a value type t's detectors take, else EDDY_EINVAL and what
 * they take ("0 or 1 (an error)", ...) in errstr. */
int eddy_detector_check_input(const eddy_detector_type_t *t, double x, char *errstr, size_t errstr_size);

/* One checkpoint section (EDDY_SECTION_DETECTOR): name, seed, parameters,
 * RNG, body. */
int eddy_detector_save(const eddy_detector_t *d, eddy_buf_t *b);
eddy_detector_t *eddy_detector_load(eddy_reader_t *r, char *errstr, size_t errstr_size);

/* ADWIN (Bifet & Gavalda 2007) as a structure other components embed: the
 * Hoeffding Adaptive Tree keeps one per node, ADWIN bagging one per member.
 * Exponential histogram with M buckets per row (default 5), checks for a
 * cut every `clock` updates (default 32) as the reference implementation
 * does. The `adwin` detector type wraps one. */
typedef struct eddy_adwin eddy_adwin_t;

eddy_adwin_t *eddy_adwin_new(double delta); /* NULL on allocation failure */
void eddy_adwin_free(eddy_adwin_t *a);
/* Adds x; returns 1 when a change was detected (the window was cut). */
int eddy_adwin_update(eddy_adwin_t *a, double x);
double eddy_adwin_estimation(const eddy_adwin_t *a); /* mean over the window */
double eddy_adwin_variance(const eddy_adwin_t *a);
uint64_t eddy_adwin_width(const eddy_adwin_t *a);
void eddy_adwin_reset(eddy_adwin_t *a);
size_t eddy_adwin_memory(const eddy_adwin_t *a);
void eddy_adwin_save(const eddy_adwin_t *a, eddy_buf_t *b);
eddy_adwin_t *eddy_adwin_load(eddy_reader_t *r); /* NULL and r->err set on failure */
/* MOA's ADWIN.java multiplies bucket sizes as 32-bit ints when it drops
 * the oldest bucket (n1 * WIDTH: overflows from windows of ~130,000
 * values) and when it merges two (n1 * n2: 0 from buckets of 2^16 on,
 * windows of ~650,000); the variance it keeps, hence its later cuts,
 * differ from then on. With on = 1 this ADWIN computes those products as MOA does, for
 * components that reproduce MOA's decisions exactly (ADWIN bagging); off
 * (exact products) by default. Kept by reset; not saved: the owner sets it
 * again after eddy_adwin_load. */
void eddy_adwin_set_moa_ints(eddy_adwin_t *a, int on);

/* Kolmogorov-Smirnov, as scipy.stats computes it (the `ks` and `kswin`
 * detectors; exposed for tests). */
/* The two-sample statistic D = max |F1 - F2| of two sorted samples. */
double eddy_ks_statistic(const double *a, size_t n1, const double *b, size_t n2);
/* P(D_n >= x) of the one-sample Kolmogorov distribution (scipy's
 * kstwo.sf(x, n)); NAN when n <= 0. */
double eddy_kolmogorov_sf(int64_t n, double x);
/* The p-value of ks_2samp(method='asymp'): kstwo.sf(d, round(n1 n2 /
 * (n1 + n2))). */
double eddy_ks_pvalue(double d, uint64_t n1, uint64_t n2);
/* The p-value of ks_2samp(method='exact') for two samples of size n whose
 * statistic is h / n. */
double eddy_ks_pvalue_exact_equal(uint64_t n, uint64_t h);

#endif /* EDDY_DETECTORS_H */
