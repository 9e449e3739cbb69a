/* kswin.c: KSWIN, Kolmogorov-Smirnov windowing (Raab et al. 2020), as
 * River's KSWIN (MOA has none): a sliding window of the last window_size
 * values; once it is full, every value draws stat_size values at random
 * (without replacement, through the detector's seeded RNG) from the window's
 * older window_size - stat_size, and tests them against the newest stat_size
 * with the two-sample KS test (scipy's exact p-value for equal sizes, as
 * River's ks_2samp(method="auto") uses). A p-value <= alpha with D > 0.1 is
 * a drift. No warning state.
 *
 * After a drift River keeps the newest stat_size values, but its reset at
 * the next value empties the window and re-seeds the RNG; eddy does the
 * same, so the window refills from nothing and a reset detector draws the
 * same samples as a new one. The draws differ from River's (Python's
 * random.sample), so drift indices agree only in distribution. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"

typedef struct {
  double alpha;
  int64_t window_size, stat_size;
} kswin_params_t;

typedef struct {
  double *window;   /* ring of window_size values */
  uint32_t *perm;   /* a permutation of the older positions, for drawing */
  double *sample, *recent; /* stat_size each */
  double *pvalue;   /* p-value of D = h / stat_size, h = 0..stat_size */
  uint64_t n;       /* values in the window */
  uint64_t head;    /* where the next value goes */
  uint32_t h_crit;  /* the smallest h with p <= alpha and h / stat_size > 0.1 */
  double last_d, last_p;
  int drifted;
} kswin_state_t;

static const eddy_option_t kswin_options[] = {
    EDDY_OPT_DOUBLE_(kswin_params_t, "alpha", alpha, "0.005", 0, 1,
                     "drift when the KS p-value is at most this (and D > 0.1)"),
    EDDY_OPT_INT_(kswin_params_t, "window_size", window_size, "100", 2, 1 << 24,
                  "values in the sliding window"),
    EDDY_OPT_INT_(kswin_params_t, "stat_size", stat_size, "30", 1, 1 << 23,
                  "values in each of the two samples tested"),
    EDDY_OPT_END,
};

static void kswin_reset(eddy_detector_t *d) {
  const kswin_params_t *p = d->params;
  kswin_state_t *s = d->state;
  s->n = s->head = 0;
  s->last_d = 0;
  s->last_p = 1;
  s->drifted = 0;
  uint64_t older = (uint64_t)(p->window_size - p->stat_size);
  for (uint64_t i = 0; i < older; i++) s->perm[i] = (uint32_t)i;
  eddy_rng_seed(&d->rng, d->seed);
}

static void kswin_destroy(eddy_detector_t *d) {
  kswin_state_t *s = d->state;
  free(s->window);
  free(s->perm);
  free(s->sample);
  free(s->pvalue);
  s->window = NULL;
  s->perm = NULL;
  s->sample = s->recent = s->pvalue = NULL;
}

static int kswin_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  const kswin_params_t *p = d->params;
  kswin_state_t *s = d->state;
  if (p->stat_size * 2 > p->window_size)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "kswin: window_size (%lld) must be at least twice stat_size (%lld)",
                       (long long)p->window_size, (long long)p->stat_size);
  size_t w = (size_t)p->window_size, r = (size_t)p->stat_size;
  s->window = calloc(w, sizeof *s->window);
  s->perm = calloc(w - r, sizeof *s->perm);
  s->sample = calloc(2 * r, sizeof *s->sample);
  s->pvalue = calloc(r + 1, sizeof *s->pvalue);
  if (!s->window || !s->perm || !s->sample || !s->pvalue) {
    kswin_destroy(d); /* the generic code calls destroy only after a good init */
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  s->recent = s->sample + r;
  s->h_crit = (uint32_t)r + 1;
  for (size_t h = 0; h <= r; h++) {
    s->pvalue[h] = eddy_ks_pvalue_exact_equal(r, h);
    if (s->h_crit > r && s->pvalue[h] <= p->alpha && (double)h / (double)r > 0.1)
      s->h_crit = (uint32_t)h;
  }
  kswin_reset(d);
  return 0;
}

static void sort_small(double *v, size_t n) {
  for (size_t i = 1; i < n; i++) {
    double x = v[i];
    size_t j = i;
    for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
}

static eddy_drift_t kswin_update(eddy_detector_t *d, double x) {
  const kswin_params_t *p = d->params;
  kswin_state_t *s = d->state;
  /* A NaN (the loss of a NaN prediction) orders with nothing: in the window
   * it would stop the count of D below from ever advancing. */
  if (isnan(x)) return EDDY_DRIFT_NONE;
  if (s->drifted) kswin_reset(d);
  uint64_t w = (uint64_t)p->window_size, r = (uint64_t)p->stat_size, older = w - r;
  s->window[s->head] = x;
  s->head = s->head + 1 == w ? 0 : s->head + 1;
  if (s->n < w) s->n++;
  if (s->n < w) return EDDY_DRIFT_NONE;
  /* The window is full: its oldest value is at head. Draw r of the older
   * positions by a partial Fisher-Yates shuffle of perm. */
  for (uint64_t i = 0; i < r; i++) {
    uint64_t j = i + eddy_rng_below(&d->rng, older - i);
    uint32_t t = s->perm[i];
    s->perm[i] = s->perm[j];
    s->perm[j] = t;
    uint64_t pos = s->head + s->perm[i];
    s->sample[i] = s->window[pos >= w ? pos - w : pos];
  }
  for (uint64_t i = 0; i < r; i++) {
    uint64_t pos = s->head + older + i;
    s->recent[i] = s->window[pos >= w ? pos - w : pos];
  }
  sort_small(s->sample, r);
  sort_small(s->recent, r);
  /* D in units of 1 / r: the largest difference of counts <= v. */
  uint64_t i = 0, j = 0, h = 0;
  while (i < r || j < r) {
    double v = j >= r || (i < r && s->sample[i] <= s->recent[j]) ? s->sample[i] : s->recent[j];
    while (i < r && s->sample[i] <= v) i++;
    while (j < r && s->recent[j] <= v) j++;
    uint64_t diff = i > j ? i - j : j - i;
    if (diff > h) h = diff;
  }
  s->last_d = (double)h / (double)r;
  s->last_p = s->pvalue[h];
  if (h >= s->h_crit) {
    s->drifted = 1;
    return EDDY_DRIFT_DRIFT;
  }
  return EDDY_DRIFT_NONE;
}

static int kswin_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const kswin_params_t *p = d->params;
  const kswin_state_t *s = d->state;
  eddy_buf_put_u64(b, s->n);
  eddy_buf_put_u64(b, s->head);
  eddy_buf_put_f64s(b, s->window, (size_t)p->window_size);
  for (int64_t i = 0; i < p->window_size - p->stat_size; i++) eddy_buf_put_u32(b, s->perm[i]);
  eddy_buf_put_f64(b, s->last_d);
  eddy_buf_put_f64(b, s->last_p);
  eddy_buf_put_u8(b, (uint8_t)s->drifted);
  return b->err;
}

static int kswin_load(eddy_detector_t *d, eddy_reader_t *r) {
  const kswin_params_t *p = d->params;
  kswin_state_t *s = d->state;
  uint64_t w = (uint64_t)p->window_size, older = w - (uint64_t)p->stat_size;
  s->n = eddy_read_u64(r);
  s->head = eddy_read_u64(r);
  eddy_read_f64s(r, s->window, w);
  for (uint64_t i = 0; i < older; i++) s->perm[i] = eddy_read_u32(r);
  s->last_d = eddy_read_f64(r);
  s->last_p = eddy_read_f64(r);
  s->drifted = eddy_read_u8(r);
  if (r->err) return r->err;
  if (s->n > w || s->head >= w || s->drifted > 1) return r->err = EDDY_ECORRUPT;
  for (uint64_t i = 0; i < w; i++)
    if (isnan(s->window[i])) return r->err = EDDY_ECORRUPT;
  for (uint64_t i = 0; i < older; i++)
    if (s->perm[i] >= older) return r->err = EDDY_ECORRUPT;
  return 0;
}

static size_t kswin_memory(const eddy_detector_t *d) {
  const kswin_params_t *p = d->params;
  size_t w = (size_t)p->window_size, r = (size_t)p->stat_size;
  return sizeof(kswin_state_t) + w * sizeof(double) + (w - r) * sizeof(uint32_t) +
         (3 * r + 1) * sizeof(double);
}


/* statistic: the KS statistic D of the last test; threshold: the smallest D
 * that is a drift (p-value <= alpha and D > 0.1), so a drift when
 * statistic >= threshold; 2 when no D of stat_size values can be one. */
static void kswin_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const kswin_params_t *p = d->params;
  const kswin_state_t *s = d->state;
  *statistic = s->last_d;
  *threshold = s->h_crit > p->stat_size ? 2.0 : (double)s->h_crit / (double)p->stat_size;
}

const eddy_detector_type_t eddy_detector_kswin = {
    .name = "kswin",
    .description = "KSWIN Kolmogorov-Smirnov windowing (Raab et al. 2020), as River's KSWIN",
    .kind = EDDY_DETECTOR_CONCEPT,
    .options = kswin_options,
    .params_size = sizeof(kswin_params_t),
    .state_size = sizeof(kswin_state_t),
    .init = kswin_init,
    .update = kswin_update,
    .reset = kswin_reset,
    .save = kswin_save,
    .load = kswin_load,
    .memory = kswin_memory,
    .destroy = kswin_destroy,
    .stat = kswin_stat,
};
