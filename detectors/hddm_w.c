/* hddm_w.c: HDDM_W, the drift detection method based on McDiarmid's bound
 * over EWMAs (Frias-Blanco et al. 2015), as MOA's HDDM_W_Test: the EWMA of
 * all values (weight lambda = 0.05 on the newest) and, from the point where
 * EWMA + bound was lowest, the EWMA of the values since; the second above
 * the first by more than McDiarmid's bound at confidence 0.001 is a drift
 * (0.005: a warning). A drift restarts everything at once. With two_sided,
 * a significant fall restarts everything silently (MOA's default is
 * one-sided).
 *
 * MOA marks an unset EWMA with the value -1 (so it misreads negative
 * inputs) and keeps its samples in static fields shared by every instance;
 * here each detector has its own, with an explicit flag. River's HDDMW
 * reports a fall as a drift in two-sided mode. */
#include <math.h>
#include <string.h>

#include "detectors/detectors.h"

typedef struct {
  double drift_confidence, warning_confidence, lambda;
  int two_sided;
} hddm_w_params_t;

typedef struct {
  double ewma;
  double ibc; /* independent bounded condition sum: sum of squared weights */
  int set;
} hddm_sample_t;

typedef struct {
  hddm_sample_t total, incr1, incr2, decr1, decr2;
  double incr_cut, decr_cut;
  double last_stat, last_bound;
  double log_dc, log_wc; /* log(1/drift), log(1/warning) */
} hddm_w_state_t;

static const eddy_option_t hddm_w_options[] = {
    EDDY_OPT_DOUBLE_(hddm_w_params_t, "drift_confidence", drift_confidence, "0.001", 1e-300, 1,
                     "confidence of a drift (smaller: fewer, later drifts)"),
    EDDY_OPT_DOUBLE_(hddm_w_params_t, "warning_confidence", warning_confidence, "0.005", 1e-300,
                     1, "confidence of a warning"),
    EDDY_OPT_DOUBLE_(hddm_w_params_t, "lambda", lambda, "0.05", 0, 1,
                     "weight of the newest value in the EWMAs"),
    EDDY_OPT_BOOL_(hddm_w_params_t, "two_sided", two_sided, "false",
                   "a significant fall of the EWMA restarts the statistics"),
    EDDY_OPT_END,
};

/* Java's Double.MIN_VALUE, MOA's initial cut point for falls. */
#define JAVA_DOUBLE_MIN 4.9406564584124654e-324

static void hddm_w_reset(eddy_detector_t *d) {
  hddm_w_state_t *s = d->state;
  double stat = s->last_stat, bound = s->last_bound, log_dc = s->log_dc, log_wc = s->log_wc;
  memset(s, 0, sizeof *s);
  s->log_dc = log_dc;
  s->log_wc = log_wc;
  s->incr_cut = INFINITY;
  s->decr_cut = JAVA_DOUBLE_MIN;
  s->last_stat = stat;
  s->last_bound = bound;
}

static int hddm_w_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  (void)errstr;
  (void)errstr_size;
  const hddm_w_params_t *p = d->params;
  hddm_w_state_t *s = d->state;
  s->log_dc = log(1 / p->drift_confidence);
  s->log_wc = log(1 / p->warning_confidence);
  hddm_w_reset(d);
  return 0;
}

static void sample_add(hddm_sample_t *a, double x, double lambda) {
  if (!a->set) {
    a->ewma = x;
    a->ibc = 1;
    a->set = 1;
  } else {
    double decay = 1.0 - lambda;
    a->ewma = lambda * x + decay * a->ewma;
    a->ibc = lambda * lambda + decay * decay * a->ibc;
  }
}

/* MOA's detectMeanIncrement: is s2's EWMA above s1's beyond the bound? */
static int ewma_rose(const hddm_sample_t *s1, const hddm_sample_t *s2, double log_conf,
                     double *stat, double *bound) {
  if (!s1->set || !s2->set) return 0;
  *bound = sqrt((s1->ibc + s2->ibc) * log_conf / 2);
  *stat = s2->ewma - s1->ewma;
  return *stat > *bound;
}

static eddy_drift_t hddm_w_update(eddy_detector_t *d, double x) {
  const hddm_w_params_t *p = d->params;
  hddm_w_state_t *s = d->state;
  sample_add(&s->total, x, p->lambda);
  /* Rises: the cut point is where EWMA + bound was lowest. */
  double bound = sqrt(s->total.ibc * s->log_dc / 2);
  if (s->total.ewma + bound < s->incr_cut) {
    s->incr_cut = s->total.ewma + bound;
    s->incr1 = s->total;
    s->incr2 = (hddm_sample_t){0};
  } else {
    sample_add(&s->incr2, x, p->lambda);
  }
  double stat = 0, thr = 0, wstat, wthr;
  eddy_drift_t state = EDDY_DRIFT_NONE;
  if (ewma_rose(&s->incr1, &s->incr2, s->log_dc, &stat, &thr)) {
    hddm_w_reset(d);
    state = EDDY_DRIFT_DRIFT;
  } else if (ewma_rose(&s->incr1, &s->incr2, s->log_wc, &wstat, &wthr)) {
    state = EDDY_DRIFT_WARNING;
  }
  s->last_stat = stat;
  s->last_bound = thr;
  /* Falls: the cut point is where EWMA - bound was highest. After a drift
   * the total is unset, and MOA (reading its -1 marker) takes the else
   * branch: the value starts the second sample. */
  double eps = sqrt(s->total.ibc * s->log_dc / 2);
  if (s->total.set && s->total.ewma - eps > s->decr_cut) {
    s->decr_cut = s->total.ewma - eps;
    s->decr1 = s->total;
    s->decr2 = (hddm_sample_t){0};
  } else {
    sample_add(&s->decr2, x, p->lambda);
  }
  if (p->two_sided && ewma_rose(&s->decr2, &s->decr1, s->log_dc, &wstat, &wthr))
    hddm_w_reset(d);
  return state;
}

static void put_sample(eddy_buf_t *b, const hddm_sample_t *a) {
  eddy_buf_put_f64(b, a->ewma);
  eddy_buf_put_f64(b, a->ibc);
  eddy_buf_put_u8(b, (uint8_t)a->set);
}

static void read_sample(eddy_reader_t *r, hddm_sample_t *a) {
  a->ewma = eddy_read_f64(r);
  a->ibc = eddy_read_f64(r);
  a->set = eddy_read_u8(r);
  if (a->set > 1 && !r->err) r->err = EDDY_ECORRUPT;
}

static int hddm_w_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const hddm_w_state_t *s = d->state;
  put_sample(b, &s->total);
  put_sample(b, &s->incr1);
  put_sample(b, &s->incr2);
  put_sample(b, &s->decr1);
  put_sample(b, &s->decr2);
  eddy_buf_put_f64(b, s->incr_cut);
  eddy_buf_put_f64(b, s->decr_cut);
  eddy_buf_put_f64(b, s->last_stat);
  eddy_buf_put_f64(b, s->last_bound);
  return b->err;
}

static int hddm_w_load(eddy_detector_t *d, eddy_reader_t *r) {
  hddm_w_state_t *s = d->state;
  read_sample(r, &s->total);
  read_sample(r, &s->incr1);
  read_sample(r, &s->incr2);
  read_sample(r, &s->decr1);
  read_sample(r, &s->decr2);
  s->incr_cut = eddy_read_f64(r);
  s->decr_cut = eddy_read_f64(r);
  s->last_stat = eddy_read_f64(r);
  s->last_bound = eddy_read_f64(r);
  return r->err;
}

/* statistic: the EWMA since the cut point minus the EWMA at the cut point,
 * at the last update; threshold: McDiarmid's bound at drift_confidence (a
 * drift when statistic > threshold; 0 when there was nothing to test). */
static void hddm_w_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const hddm_w_state_t *s = d->state;
  *statistic = s->last_stat;
  *threshold = s->last_bound;
}

const eddy_detector_type_t eddy_detector_hddm_w = {
    .name = "hddm_w",
    .description = "HDDM_W McDiarmid-bound test on EWMAs (Frias-Blanco et al. 2015), as MOA's",
    .kind = EDDY_DETECTOR_CONCEPT,
    .input = EDDY_INPUT_UNIT,
    .options = hddm_w_options,
    .params_size = sizeof(hddm_w_params_t),
    .state_size = sizeof(hddm_w_state_t),
    .init = hddm_w_init,
    .update = hddm_w_update,
    .reset = hddm_w_reset,
    .save = hddm_w_save,
    .load = hddm_w_load,
    .stat = hddm_w_stat,
};
