/* hddm_a.c: HDDM_A, the drift detection method based on Hoeffding's bound
 * over averages (Frias-Blanco et al. 2015), as MOA's HDDM_A_Test: the mean
 * of all values since the last drift is compared with the mean up to the
 * cut point where it was lowest (plus its bound); a rise beyond the bound
 * at confidence 0.001 is a drift, at 0.005 a warning. After a drift the
 * statistics restart with the next value. With two_sided (MOA's default), a
 * significant fall from the highest mean also restarts them, silently.
 *
 * River's HDDMA defaults to one-sided, and in two-sided mode reports a fall
 * as a drift; MOA (and eddy) only restart. */
#include <math.h>

#include "detectors/detectors.h"

typedef struct {
  double drift_confidence, warning_confidence;
  int two_sided;
} hddm_a_params_t;

typedef struct {
  int64_t n_min, n_max, total_n;
  double c_min, c_max, total_c;
  double last_stat, last_bound; /* of the last drift test */
  double log_dc, log2_dc, log2_wc; /* log(1/drift), log(2/drift), log(2/warning) */
} hddm_a_state_t;

static const eddy_option_t hddm_a_options[] = {
    EDDY_OPT_DOUBLE_(hddm_a_params_t, "drift_confidence", drift_confidence, "0.001", 1e-300, 1,
                     "confidence of a drift (smaller: fewer, later drifts)"),
    EDDY_OPT_DOUBLE_(hddm_a_params_t, "warning_confidence", warning_confidence, "0.005", 1e-300,
                     1, "confidence of a warning"),
    EDDY_OPT_BOOL_(hddm_a_params_t, "two_sided", two_sided, "true",
                   "a significant fall of the mean restarts the statistics (MOA's default)"),
    EDDY_OPT_END,
};

static void hddm_a_reset(eddy_detector_t *d) {
  hddm_a_state_t *s = d->state;
  s->n_min = s->n_max = s->total_n = 0;
  s->c_min = s->c_max = s->total_c = 0;
  s->last_stat = s->last_bound = 0;
}

static int hddm_a_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  (void)errstr;
  (void)errstr_size;
  const hddm_a_params_t *p = d->params;
  hddm_a_state_t *s = d->state;
  s->log_dc = log(1.0 / p->drift_confidence);
  s->log2_dc = log(2.0 / p->drift_confidence);
  s->log2_wc = log(2.0 / p->warning_confidence);
  hddm_a_reset(d);
  return 0;
}

/* Hoeffding's test of a rise from the mean c1 / n1 (over the first n1
 * values) to the mean c / n of all n (MOA's meanIncr). */
static int mean_rose(double c1, int64_t n1, double c, int64_t n, double log2_conf,
                     double *stat, double *bound) {
  if (n1 == n) return 0;
  double m = (double)(n - n1) / (double)n1 * (1.0 / (double)n);
  *bound = sqrt(m / 2 * log2_conf);
  *stat = c / (double)n - c1 / (double)n1;
  return *stat >= *bound;
}

static eddy_drift_t hddm_a_update(eddy_detector_t *d, double x) {
  const hddm_a_params_t *p = d->params;
  hddm_a_state_t *s = d->state;
  s->total_n++;
  s->total_c += x;
  if (s->n_min == 0) {
    s->n_min = s->total_n;
    s->c_min = s->total_c;
  }
  if (s->n_max == 0) {
    s->n_max = s->total_n;
    s->c_max = s->total_c;
  }
  double log_dc = s->log_dc;
  double mean = s->total_c / (double)s->total_n;
  double bound = sqrt(1.0 / (double)(2 * s->n_min) * log_dc);
  double bound_n = sqrt(1.0 / (double)(2 * s->total_n) * log_dc);
  if (s->c_min / (double)s->n_min + bound >= mean + bound_n) {
    s->c_min = s->total_c;
    s->n_min = s->total_n;
  }
  bound = sqrt(1.0 / (double)(2 * s->n_max) * log_dc);
  if (s->c_max / (double)s->n_max - bound <= mean - bound_n) {
    s->c_max = s->total_c;
    s->n_max = s->total_n;
  }
  double stat = 0, thr = 0, wstat, wthr;
  eddy_drift_t state = EDDY_DRIFT_NONE;
  if (mean_rose(s->c_min, s->n_min, s->total_c, s->total_n, s->log2_dc, &stat, &thr)) {
    s->n_min = s->n_max = s->total_n = 0;
    s->c_min = s->c_max = s->total_c = 0;
    state = EDDY_DRIFT_DRIFT;
  } else if (mean_rose(s->c_min, s->n_min, s->total_c, s->total_n, s->log2_wc, &wstat, &wthr)) {
    state = EDDY_DRIFT_WARNING;
  }
  s->last_stat = stat;
  s->last_bound = thr;
  /* MOA's meanDecr: a significant fall from the highest mean. */
  if (p->two_sided && s->n_max != s->total_n) {
    double m = (double)(s->total_n - s->n_max) / (double)s->n_max * (1.0 / (double)s->total_n);
    double fall_bound = sqrt(m / 2 * s->log2_dc);
    if (s->c_max / (double)s->n_max - s->total_c / (double)s->total_n >= fall_bound) {
      s->n_min = s->n_max = s->total_n = 0;
      s->c_min = s->c_max = s->total_c = 0;
    }
  }
  return state;
}

static int hddm_a_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const hddm_a_state_t *s = d->state;
  eddy_buf_put_i64(b, s->n_min);
  eddy_buf_put_i64(b, s->n_max);
  eddy_buf_put_i64(b, s->total_n);
  eddy_buf_put_f64(b, s->c_min);
  eddy_buf_put_f64(b, s->c_max);
  eddy_buf_put_f64(b, s->total_c);
  eddy_buf_put_f64(b, s->last_stat);
  eddy_buf_put_f64(b, s->last_bound);
  return b->err;
}

static int hddm_a_load(eddy_detector_t *d, eddy_reader_t *r) {
  hddm_a_state_t *s = d->state;
  s->n_min = eddy_read_i64(r);
  s->n_max = eddy_read_i64(r);
  s->total_n = eddy_read_i64(r);
  s->c_min = eddy_read_f64(r);
  s->c_max = eddy_read_f64(r);
  s->total_c = eddy_read_f64(r);
  s->last_stat = eddy_read_f64(r);
  s->last_bound = eddy_read_f64(r);
  if (!r->err && (s->total_n < 0 || s->n_min < 0 || s->n_max < 0 || s->n_min > s->total_n ||
                  s->n_max > s->total_n))
    r->err = EDDY_ECORRUPT;
  return r->err;
}

/* statistic: the rise of the mean over the mean at the cut point, at the
 * last update; threshold: its Hoeffding bound at drift_confidence (a drift
 * when statistic >= threshold; both 0 when there was nothing to test). */
static void hddm_a_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const hddm_a_state_t *s = d->state;
  *statistic = s->last_stat;
  *threshold = s->last_bound;
}

const eddy_detector_type_t eddy_detector_hddm_a = {
    .name = "hddm_a",
    .description = "HDDM_A Hoeffding-bound test on averages (Frias-Blanco et al. 2015), as MOA's",
    .kind = EDDY_DETECTOR_CONCEPT,
    .input = EDDY_INPUT_UNIT,
    .options = hddm_a_options,
    .params_size = sizeof(hddm_a_params_t),
    .state_size = sizeof(hddm_a_state_t),
    .init = hddm_a_init,
    .update = hddm_a_update,
    .reset = hddm_a_reset,
    .save = hddm_a_save,
    .load = hddm_a_load,
    .stat = hddm_a_stat,
};
