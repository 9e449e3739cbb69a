/* eddm.c: EDDM, the early drift detection method of Baena-Garcia et al.
 * (2006), as MOA's EDDM.java: the mean distance between two errors and its
 * standard deviation s; m2s = mean + 2 s is compared with its maximum so
 * far, and once more than 30 values and more than 30 errors were seen a
 * ratio m2s / max below 0.90 is a drift (below 0.95 a warning). Only a
 * value of exactly 1 is an error; other values only advance the position.
 * As in MOA, a warning holds until the next error, and a drift starts
 * everything over at the next value.
 *
 * River's EDDM differs: it uses the sample variance (n - 1) of the
 * distances, and its warm-up counts one value later (n > 30 against MOA's
 * n + 1 > 30). */
#include <math.h>

#include "detectors/detectors.h"

typedef struct {
  int64_t min_instances, min_errors;
  double warning_level, drift_level;
} eddm_params_t;

typedef struct {
  int64_t n; /* values seen + 1, as MOA's m_n */
  double n_errors;
  int64_t d, last_d; /* positions of the last two errors */
  double mean, std_temp, m2s_max;
  double ratio; /* m2s / m2s_max at the last error that was tested */
  int warning, drifted;
} eddm_state_t;

static const eddy_option_t eddm_options[] = {
    EDDY_OPT_INT_(eddm_params_t, "min_instances", min_instances, "30", 0, (double)INT64_MAX,
                  "values seen before the maximum is recorded and tests start"),
    EDDY_OPT_INT_(eddm_params_t, "min_errors", min_errors, "30", 0, (double)INT64_MAX,
                  "errors seen before a warning or a drift can be reported"),
    EDDY_OPT_DOUBLE_(eddm_params_t, "warning_level", warning_level, "0.95", 0, 1,
                     "warning when (mean + 2 sd) / its maximum falls below this"),
    EDDY_OPT_DOUBLE_(eddm_params_t, "drift_level", drift_level, "0.90", 0, 1,
                     "drift when (mean + 2 sd) / its maximum falls below this"),
    EDDY_OPT_END,
};

static void eddm_reset(eddy_detector_t *d) {
  eddm_state_t *s = d->state;
  s->n = 1;
  s->n_errors = 0;
  s->d = s->last_d = 0;
  s->mean = s->std_temp = s->m2s_max = 0;
  s->ratio = 1;
  s->warning = s->drifted = 0;
}

static int eddm_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  const eddm_params_t *p = d->params;
  if (p->drift_level > p->warning_level)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "eddm: drift_level must not exceed warning_level");
  eddm_reset(d);
  return 0;
}

static eddy_drift_t eddm_update(eddy_detector_t *d, double x) {
  const eddm_params_t *p = d->params;
  eddm_state_t *s = d->state;
  if (s->drifted) eddm_reset(d);
  s->n++;
  if (x != 1.0) return s->warning ? EDDY_DRIFT_WARNING : EDDY_DRIFT_NONE;
  s->warning = 0;
  s->n_errors += 1;
  s->last_d = s->d;
  s->d = s->n - 1;
  double distance = (double)(s->d - s->last_d);
  double old_mean = s->mean;
  s->mean = s->mean + (distance - s->mean) / s->n_errors;
  s->std_temp = s->std_temp + (distance - s->mean) * (distance - old_mean);
  double m2s = s->mean + 2 * sqrt(s->std_temp / s->n_errors);
  if (m2s > s->m2s_max) {
    if (s->n > p->min_instances) s->m2s_max = m2s;
    return EDDY_DRIFT_NONE;
  }
  double ratio = m2s / s->m2s_max;
  if (s->n > p->min_instances && s->n_errors > (double)p->min_errors) {
    s->ratio = ratio;
    if (ratio < p->drift_level) {
      s->drifted = 1;
      return EDDY_DRIFT_DRIFT;
    }
    if (ratio < p->warning_level) {
      s->warning = 1;
      return EDDY_DRIFT_WARNING;
    }
  }
  return EDDY_DRIFT_NONE;
}

static int eddm_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const eddm_state_t *s = d->state;
  eddy_buf_put_i64(b, s->n);
  eddy_buf_put_f64(b, s->n_errors);
  eddy_buf_put_i64(b, s->d);
  eddy_buf_put_i64(b, s->last_d);
  eddy_buf_put_f64(b, s->mean);
  eddy_buf_put_f64(b, s->std_temp);
  eddy_buf_put_f64(b, s->m2s_max);
  eddy_buf_put_f64(b, s->ratio);
  eddy_buf_put_u8(b, (uint8_t)(s->warning | s->drifted << 1));
  return b->err;
}

static int eddm_load(eddy_detector_t *d, eddy_reader_t *r) {
  eddm_state_t *s = d->state;
  s->n = eddy_read_i64(r);
  s->n_errors = eddy_read_f64(r);
  s->d = eddy_read_i64(r);
  s->last_d = eddy_read_i64(r);
  s->mean = eddy_read_f64(r);
  s->std_temp = eddy_read_f64(r);
  s->m2s_max = eddy_read_f64(r);
  s->ratio = eddy_read_f64(r);
  uint8_t flags = eddy_read_u8(r);
  s->warning = flags & 1;
  s->drifted = flags >> 1 & 1;
  if (!r->err && (s->n < 1 || flags > 3)) r->err = EDDY_ECORRUPT;
  return r->err;
}

/* statistic: (mean + 2 sd) / its maximum at the last error tested (1
 * before any); threshold: drift_level. A drift when statistic < threshold:
 * EDDM watches a ratio that falls. */
static void eddm_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const eddm_params_t *p = d->params;
  const eddm_state_t *s = d->state;
  *statistic = s->ratio;
  *threshold = p->drift_level;
}

const eddy_detector_type_t eddy_detector_eddm = {
    .name = "eddm",
    .description = "EDDM early drift detection method (Baena-Garcia et al. 2006), as MOA's EDDM",
    .kind = EDDY_DETECTOR_CONCEPT,
    .input = EDDY_INPUT_BINARY,
    .options = eddm_options,
    .params_size = sizeof(eddm_params_t),
    .state_size = sizeof(eddm_state_t),
    .init = eddm_init,
    .update = eddm_update,
    .reset = eddm_reset,
    .save = eddm_save,
    .load = eddm_load,
    .stat = eddm_stat,
};
