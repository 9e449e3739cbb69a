/* ks.c: data drift of one feature by the two-sample Kolmogorov-Smirnov
 * test, reference window against current window, with the p-value of
 * scipy's ks_2samp(method='asymp') (see kstest.c).
 *
 * The reference window is the first reference_size values after creation,
 * a reset or a drift, kept sorted and fixed until the next drift. The
 * current window is the last window_size values; once it is full, the test
 * runs every interval values (sorting a copy of the window), and a p-value
 * below p_threshold is a drift, after which a new reference is gathered.
 * NaN values (missing) are ignored. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"

typedef struct {
  int64_t reference_size, window_size, interval;
  double p_threshold;
} ks_params_t;

typedef struct {
  double *ref;     /* reference values, sorted once complete */
  double *ring;    /* current window */
  double *scratch; /* sorted copy of the current window at a test */
  uint64_t n_ref, n_cur, head, since;
  double last_d, last_p;
} ks_state_t;

static const eddy_option_t ks_options[] = {
    EDDY_OPT_INT_(ks_params_t, "reference_size", reference_size, "1000", 1, 1 << 26,
                  "values in the reference window (the first ones, and again after a drift)"),
    EDDY_OPT_INT_(ks_params_t, "window_size", window_size, "1000", 1, 1 << 26,
                  "values in the current window (the last ones)"),
    EDDY_OPT_INT_(ks_params_t, "interval", interval, "1000", 1, (double)INT64_MAX,
                  "test the windows every this many values"),
    EDDY_OPT_DOUBLE_(ks_params_t, "p_threshold", p_threshold, "0.01", 0, 1,
                     "drift when the KS p-value is below this"),
    EDDY_OPT_END,
};

static void ks_restart(ks_state_t *s) { s->n_ref = s->n_cur = s->head = s->since = 0; }

static void ks_reset(eddy_detector_t *d) {
  ks_state_t *s = d->state;
  ks_restart(s);
  s->last_d = 0;
  s->last_p = 1;
}

static void ks_destroy(eddy_detector_t *d) {
  ks_state_t *s = d->state;
  free(s->ref);
  free(s->ring);
  free(s->scratch);
  s->ref = s->ring = s->scratch = NULL;
}

static int ks_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  const ks_params_t *p = d->params;
  ks_state_t *s = d->state;
  s->ref = calloc((size_t)p->reference_size, sizeof *s->ref);
  s->ring = calloc((size_t)p->window_size, sizeof *s->ring);
  s->scratch = calloc((size_t)p->window_size, sizeof *s->scratch);
  if (!s->ref || !s->ring || !s->scratch) {
    ks_destroy(d);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  ks_reset(d);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static eddy_drift_t ks_update(eddy_detector_t *d, double x) {
  const ks_params_t *p = d->params;
  ks_state_t *s = d->state;
  if (isnan(x)) return EDDY_DRIFT_NONE;
  uint64_t nr = (uint64_t)p->reference_size, w = (uint64_t)p->window_size;
  if (s->n_ref < nr) {
    s->ref[s->n_ref++] = x;
    if (s->n_ref == nr) qsort(s->ref, nr, sizeof *s->ref, cmp_double);
    return EDDY_DRIFT_NONE;
  }
  s->ring[s->head] = x;
  s->head = s->head + 1 == w ? 0 : s->head + 1;
  if (s->n_cur < w) s->n_cur++;
  s->since++;
  if (s->n_cur < w || s->since < (uint64_t)p->interval) return EDDY_DRIFT_NONE;
  s->since = 0;
  memcpy(s->scratch, s->ring, w * sizeof *s->ring);
  qsort(s->scratch, w, sizeof *s->scratch, cmp_double);
  s->last_d = eddy_ks_statistic(s->ref, nr, s->scratch, w);
  s->last_p = eddy_ks_pvalue(s->last_d, nr, w);
  if (s->last_p < p->p_threshold) {
    ks_restart(s);
    return EDDY_DRIFT_DRIFT;
  }
  return EDDY_DRIFT_NONE;
}

static int ks_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const ks_state_t *s = d->state;
  eddy_buf_put_u64(b, s->n_ref);
  eddy_buf_put_u64(b, s->n_cur);
  eddy_buf_put_u64(b, s->head);
  eddy_buf_put_u64(b, s->since);
  eddy_buf_put_f64(b, s->last_d);
  eddy_buf_put_f64(b, s->last_p);
  eddy_buf_put_f64s(b, s->ref, s->n_ref);
  eddy_buf_put_f64s(b, s->ring, s->n_cur);
  return b->err;
}

static int ks_load(eddy_detector_t *d, eddy_reader_t *r) {
  const ks_params_t *p = d->params;
  ks_state_t *s = d->state;
  uint64_t nr = (uint64_t)p->reference_size, w = (uint64_t)p->window_size;
  s->n_ref = eddy_read_u64(r);
  s->n_cur = eddy_read_u64(r);
  s->head = eddy_read_u64(r);
  s->since = eddy_read_u64(r);
  s->last_d = eddy_read_f64(r);
  s->last_p = eddy_read_f64(r);
  if (r->err) return r->err;
  if (s->n_ref > nr || s->n_cur > w || (s->n_cur && s->n_ref < nr) || s->head >= w ||
      (s->n_cur < w && s->head != s->n_cur)) {
    ks_reset(d);
    return r->err = EDDY_ECORRUPT;
  }
  eddy_read_f64s(r, s->ref, s->n_ref); /* saved sorted once complete */
  eddy_read_f64s(r, s->ring, s->n_cur);
  if (r->err) return r->err;
  /* update never stores a NaN, and a NaN would stop the statistic's count
   * from advancing (it orders with nothing); a complete reference is
   * sorted. */
  int bad = 0;
  for (uint64_t i = 0; i < s->n_ref && !bad; i++)
    bad = isnan(s->ref[i]) || (s->n_ref == nr && i && s->ref[i - 1] > s->ref[i]);
  for (uint64_t i = 0; i < s->n_cur && !bad; i++) bad = isnan(s->ring[i]);
  if (bad) {
    ks_reset(d);
    return r->err = EDDY_ECORRUPT;
  }
  return 0;
}

static size_t ks_memory(const eddy_detector_t *d) {
  const ks_params_t *p = d->params;
  return sizeof(ks_state_t) + (size_t)(p->reference_size + 2 * p->window_size) * sizeof(double);
}

/* statistic: the KS statistic D of the last test (0 before the first);
 * threshold: that test's p-value (1 before the first). Unlike the other
 * detectors a drift is p-value < p_threshold, not statistic > threshold. */
static void ks_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const ks_state_t *s = d->state;
  *statistic = s->last_d;
  *threshold = s->last_p;
}

const eddy_detector_type_t eddy_detector_ks = {
    .name = "ks",
    .description = "two-sample Kolmogorov-Smirnov test of one feature, reference window against current",
    .kind = EDDY_DETECTOR_DATA,
    .options = ks_options,
    .params_size = sizeof(ks_params_t),
    .state_size = sizeof(ks_state_t),
    .init = ks_init,
    .update = ks_update,
    .reset = ks_reset,
    .save = ks_save,
    .load = ks_load,
    .memory = ks_memory,
    .destroy = ks_destroy,
    .stat = ks_stat,
};
