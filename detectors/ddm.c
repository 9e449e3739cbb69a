/* ddm.c: DDM, the drift detection method of Gama et al. (2004), as MOA's
 * DDM.java: the error rate p and its deviation s = sqrt(p (1 - p) / n)
 * over the values since the last drift; the minimum of p + s is recorded
 * from the 29th value on, and from the 30th a value with p + s above
 * p_min + 3 s_min is a drift (above p_min + 2 s_min a warning). A drift
 * starts everything over at the next value.
 *
 * River's DDM differs in its warm-up: it records the minimum and tests only
 * once more than 30 values were seen (MOA: from the 29th and the 30th). */
#include <float.h>
#include <math.h>

#include "detectors/detectors.h"

typedef struct {
  int64_t min_instances;
  double warning_level, drift_level;
} ddm_params_t;

typedef struct {
  int64_t n; /* values seen + 1, as MOA's m_n */
  double p, s;
  double ps_min, p_min, s_min;
  int drifted; /* the last update was a drift: start over at the next one */
} ddm_state_t;

static const eddy_option_t ddm_options[] = {
    EDDY_OPT_INT_(ddm_params_t, "min_instances", min_instances, "30", 0, (double)INT64_MAX,
                  "values seen before a warning or a drift can be reported"),
    EDDY_OPT_DOUBLE_(ddm_params_t, "warning_level", warning_level, "2.0", 1, 4,
                     "warning when p + s > p_min + this * s_min"),
    EDDY_OPT_DOUBLE_(ddm_params_t, "drift_level", drift_level, "3.0", 1, 5,
                     "drift when p + s > p_min + this * s_min"),
    EDDY_OPT_END,
};

static void ddm_reset(eddy_detector_t *d) {
  ddm_state_t *s = d->state;
  s->n = 1;
  s->p = 1;
  s->s = 0;
  s->ps_min = s->p_min = s->s_min = DBL_MAX;
  s->drifted = 0;
}

static int ddm_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  (void)errstr;
  (void)errstr_size;
  ddm_reset(d);
  return 0;
}

static eddy_drift_t ddm_update(eddy_detector_t *d, double x) {
  const ddm_params_t *p = d->params;
  ddm_state_t *s = d->state;
  if (s->drifted) ddm_reset(d);
  s->p = s->p + (x - s->p) / (double)s->n;
  s->s = sqrt(s->p * (1 - s->p) / (double)s->n);
  s->n++;
  if (s->n < p->min_instances) return EDDY_DRIFT_NONE;
  if (s->p + s->s <= s->ps_min) {
    s->p_min = s->p;
    s->s_min = s->s;
    s->ps_min = s->p + s->s;
  }
  if (s->n > p->min_instances && s->p + s->s > s->p_min + p->drift_level * s->s_min) {
    s->drifted = 1;
    return EDDY_DRIFT_DRIFT;
  }
  if (s->p + s->s > s->p_min + p->warning_level * s->s_min) return EDDY_DRIFT_WARNING;
  return EDDY_DRIFT_NONE;
}

static int ddm_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const ddm_state_t *s = d->state;
  eddy_buf_put_i64(b, s->n);
  eddy_buf_put_f64(b, s->p);
  eddy_buf_put_f64(b, s->s);
  eddy_buf_put_f64(b, s->ps_min);
  eddy_buf_put_f64(b, s->p_min);
  eddy_buf_put_f64(b, s->s_min);
  eddy_buf_put_u8(b, (uint8_t)s->drifted);
  return b->err;
}

static int ddm_load(eddy_detector_t *d, eddy_reader_t *r) {
  ddm_state_t *s = d->state;
  s->n = eddy_read_i64(r);
  s->p = eddy_read_f64(r);
  s->s = eddy_read_f64(r);
  s->ps_min = eddy_read_f64(r);
  s->p_min = eddy_read_f64(r);
  s->s_min = eddy_read_f64(r);
  s->drifted = eddy_read_u8(r);
  if (!r->err && (s->n < 1 || s->drifted > 1)) r->err = EDDY_ECORRUPT;
  return r->err;
}

/* statistic: p + s; threshold: p_min + drift_level * s_min (a drift when
 * statistic > threshold; both 0 before min_instances values). */
static void ddm_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const ddm_params_t *p = d->params;
  const ddm_state_t *s = d->state;
  if (s->p_min == DBL_MAX) return;
  *statistic = s->p + s->s;
  *threshold = s->p_min + p->drift_level * s->s_min;
}

const eddy_detector_type_t eddy_detector_ddm = {
    .name = "ddm",
    .description = "DDM drift detection method (Gama et al. 2004), as MOA's DDM",
    .kind = EDDY_DETECTOR_CONCEPT,
    .input = EDDY_INPUT_BINARY,
    .options = ddm_options,
    .params_size = sizeof(ddm_params_t),
    .state_size = sizeof(ddm_state_t),
    .init = ddm_init,
    .update = ddm_update,
    .reset = ddm_reset,
    .save = ddm_save,
    .load = ddm_load,
    .stat = ddm_stat,
};
