/* page_hinkley.c: the Page-Hinkley test as MOA's PageHinkleyDM (release
 * 2024.07.0): with m the running mean since the last drift, the faded sum
 * S = alpha S + (x - m - delta) grows while the values rise above their
 * mean; from the 29th value on (MOA's m_n >= 30), S > threshold is a drift,
 * and the test starts over at the next value. No warning state.
 *
 * MOA compares S itself with the threshold; the textbook test (and River,
 * and MOA's source after its 2021 pull request, not yet released) compares
 * S - min S. With alpha = 0.9999 and delta = 0.005, S rests near
 * -delta / (1 - alpha) = -50 on a long stationary stream, so MOA's form
 * needs a rise of about 100 where the textbook form needs 50.
 *
 * MOA watches increases only (an error rate that rises); direction = down
 * or both also watches decreases with the mirrored sum
 * S' = alpha S' + (x - m + delta), a drift when -S' > threshold. River's
 * PageHinkley defaults to both directions, and tests from the 30th value. */
#include <math.h>

#include "detectors/detectors.h"

enum { DIR_UP, DIR_DOWN, DIR_BOTH };
static const char *const ph_directions[] = {"up", "down", "both", NULL};

typedef struct {
  int64_t min_instances;
  double delta, threshold, alpha;
  int direction;
} ph_params_t;

typedef struct {
  int64_t n; /* values seen + 1, as MOA's m_n */
  double mean, sum_up, sum_down;
  int drifted;
} ph_state_t;

static const eddy_option_t ph_options[] = {
    EDDY_OPT_INT_(ph_params_t, "min_instances", min_instances, "30", 0, (double)INT64_MAX,
                  "values seen before a drift can be reported"),
    EDDY_OPT_DOUBLE_(ph_params_t, "delta", delta, "0.005", 0, 1,
                     "magnitude of change tolerated per value"),
    EDDY_OPT_DOUBLE_(ph_params_t, "threshold", threshold, "50", 0, 1e300,
                     "drift when the cumulative sum exceeds this (MOA's lambda)"),
    EDDY_OPT_DOUBLE_(ph_params_t, "alpha", alpha, "0.9999", 0, 1,
                     "fading factor of the cumulative sum"),
    EDDY_OPT_ENUM_(ph_params_t, "direction", direction, "up", ph_directions,
                   "watch increases of the values (MOA), decreases, or both"),
    EDDY_OPT_END,
};

static void ph_reset(eddy_detector_t *d) {
  ph_state_t *s = d->state;
  s->n = 1;
  s->mean = s->sum_up = s->sum_down = 0;
  s->drifted = 0;
}

static int ph_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  (void)errstr;
  (void)errstr_size;
  ph_reset(d);
  return 0;
}

static eddy_drift_t ph_update(eddy_detector_t *d, double x) {
  const ph_params_t *p = d->params;
  ph_state_t *s = d->state;
  if (s->drifted) ph_reset(d);
  s->mean = s->mean + (x - s->mean) / (double)s->n;
  s->sum_up = p->alpha * s->sum_up + (x - s->mean - p->delta);
  if (p->direction != DIR_UP) s->sum_down = p->alpha * s->sum_down + (x - s->mean + p->delta);
  s->n++;
  if (s->n < p->min_instances) return EDDY_DRIFT_NONE;
  if ((p->direction != DIR_DOWN && s->sum_up > p->threshold) ||
      (p->direction != DIR_UP && -s->sum_down > p->threshold)) {
    s->drifted = 1;
    return EDDY_DRIFT_DRIFT;
  }
  return EDDY_DRIFT_NONE;
}

static int ph_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const ph_state_t *s = d->state;
  eddy_buf_put_i64(b, s->n);
  eddy_buf_put_f64(b, s->mean);
  eddy_buf_put_f64(b, s->sum_up);
  eddy_buf_put_f64(b, s->sum_down);
  eddy_buf_put_u8(b, (uint8_t)s->drifted);
  return b->err;
}

static int ph_load(eddy_detector_t *d, eddy_reader_t *r) {
  ph_state_t *s = d->state;
  s->n = eddy_read_i64(r);
  s->mean = eddy_read_f64(r);
  s->sum_up = eddy_read_f64(r);
  s->sum_down = eddy_read_f64(r);
  s->drifted = eddy_read_u8(r);
  if (!r->err && (s->n < 1 || s->drifted > 1)) r->err = EDDY_ECORRUPT;
  return r->err;
}

/* statistic: the cumulative sum S (direction up), -S' (down), or the larger
 * of the two (both); threshold: the threshold option. */
static void ph_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const ph_params_t *p = d->params;
  const ph_state_t *s = d->state;
  double up = s->sum_up, down = -s->sum_down;
  *statistic = p->direction == DIR_UP ? up : p->direction == DIR_DOWN ? down : fmax(up, down);
  *threshold = p->threshold;
}

const eddy_detector_type_t eddy_detector_page_hinkley = {
    .name = "page_hinkley",
    .description = "Page-Hinkley test of a rise in the mean, as MOA's PageHinkleyDM",
    .kind = EDDY_DETECTOR_CONCEPT,
    .options = ph_options,
    .params_size = sizeof(ph_params_t),
    .state_size = sizeof(ph_state_t),
    .init = ph_init,
    .update = ph_update,
    .reset = ph_reset,
    .save = ph_save,
    .load = ph_load,
    .stat = ph_stat,
};
