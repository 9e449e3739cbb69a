/* adwin.c: ADWIN (Bifet & Gavalda 2007), the adaptive sliding window, as MOA's
 * ADWIN.java implements it: an exponential histogram whose row i holds up
 * to M = 5 buckets of 2^i values each (a sixth is merged into row i + 1 at
 * once), and a cut check every `clock` updates (32) once the window holds
 * more than 10 values, over every split between buckets with both sides
 * longer than mintMinWinLength + 1 = 6; a cut drops the oldest bucket and
 * the check starts over. The `adwin` detector type wraps one.
 *
 * Deliberate departures from MOA, none of which changes a decision on
 * windows below ~100,000 values:
 * - MOA multiplies bucket sizes as 32-bit ints when it merges buckets
 *   (n1 * n2, zero from row 16 on) and when it deletes one (n1 * WIDTH,
 *   which overflows once buckets of 2^14 meet windows of ~130,000); here
 *   those products are doubles, so the variance stays right on long
 *   windows (eddy_adwin_set_moa_ints brings MOA's products back, for
 *   ADWIN bagging's parity with MOA).
 * - MOA also accumulates the sub-window variances v0 and v1 during the
 *   check but never uses them; they are not computed here.
 * River's ADWIN (adwin_c.pyx) differs from MOA in its check: it tests
 * n0, n1 >= 5 instead of > 6 and skips the newest bucket of every row. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"

#define ADWIN_M 5           /* buckets per row (MOA's MAXBUCKETS) */
#define ADWIN_MIN_WIDTH 10  /* no check below this width (mintMinimLongitudWindow) */
#define ADWIN_MIN_SUB 5     /* mintMinWinLength */
#define ADWIN_MAX_ROWS 64
#define ADWIN_SAVE_VERSION 1

typedef struct {
  uint32_t n; /* buckets in use; index 0 is the oldest */
  double total[ADWIN_M + 1];
  double var[ADWIN_M + 1];
} adwin_row_t;

struct eddy_adwin {
  double delta;
  uint32_t clock;
  uint32_t n_rows, cap_rows;
  uint64_t time;  /* updates since creation or reset (mintTime) */
  uint64_t width; /* values in the window */
  double total;   /* their sum */
  double variance; /* their sum of squared deviations from the mean */
  uint64_t n_detections;
  int moa_ints; /* MOA's 32-bit products of bucket sizes (eddy_adwin_set_moa_ints) */
  /* The split of the last check closest to a cut (largest |diff| - eps), or
   * the split that was cut: what stat() reports. */
  double last_diff, last_eps;
  adwin_row_t *rows; /* row 0: buckets of one value */
};

static int adwin_init(eddy_adwin_t *a, double delta, uint32_t clock) {
  memset(a, 0, sizeof *a);
  a->delta = delta;
  a->clock = clock ? clock : 32;
  a->cap_rows = 4;
  a->rows = calloc(a->cap_rows, sizeof *a->rows);
  if (!a->rows) return EDDY_ENOMEM;
  a->n_rows = 1;
  return 0;
}

void eddy_adwin_reset(eddy_adwin_t *a) {
  memset(a->rows, 0, a->cap_rows * sizeof *a->rows);
  a->n_rows = 1;
  a->time = a->width = a->n_detections = 0;
  a->total = a->variance = a->last_diff = a->last_eps = 0;
}

eddy_adwin_t *eddy_adwin_new(double delta) {
  eddy_adwin_t *a = malloc(sizeof *a);
  if (!a) return NULL;
  if (adwin_init(a, delta, 32)) {
    free(a);
    return NULL;
  }
  return a;
}

void eddy_adwin_free(eddy_adwin_t *a) {
  if (!a) return;
  free(a->rows);
  free(a);
}

void eddy_adwin_set_moa_ints(eddy_adwin_t *a, int on) { a->moa_ints = on != 0; }

/* a * b as Java multiplies two ints (wrapping modulo 2^32), as a double. */
static double java_imul(uint64_t a, uint64_t b) {
  return (double)(int32_t)(uint32_t)((uint32_t)a * (uint32_t)b);
}

/* Drops the oldest bucket (MOA's deleteElement). */
static void adwin_delete_oldest(eddy_adwin_t *a) {
  uint32_t last = a->n_rows - 1;
  adwin_row_t *r = &a->rows[last];
  double n1 = (double)(1ull << last);
  a->width -= 1ull << last;
  a->total -= r->total[0];
  double w = (double)a->width;
  double u1 = r->total[0] / n1;
  double d = u1 - a->total / w;
  double n1w = a->moa_ints ? java_imul(1ull << last, a->width) : n1 * w;
  a->variance -= r->var[0] + n1w * d * d / (n1 + w);
  memmove(r->total, r->total + 1, ADWIN_M * sizeof(double));
  memmove(r->var, r->var + 1, ADWIN_M * sizeof(double));
  r->total[ADWIN_M] = r->var[ADWIN_M] = 0;
  r->n--;
  if (r->n == 0 && a->n_rows > 1) a->n_rows--;
}

/* Merges the two oldest buckets of every full row into the next row. */
static void adwin_compress(eddy_adwin_t *a) {
  for (uint32_t i = 0; i < a->n_rows && a->rows[i].n == ADWIN_M + 1; i++) {
    if (i + 1 == a->n_rows) {
      if (a->n_rows == a->cap_rows) {
        uint32_t cap = a->cap_rows * 2;
        adwin_row_t *rows =
            cap <= ADWIN_MAX_ROWS ? realloc(a->rows, cap * sizeof *rows) : NULL;
        if (!rows) {
          /* Out of memory: forget the oldest bucket instead of growing. */
          adwin_delete_oldest(a);
          return;
        }
        memset(rows + a->cap_rows, 0, (cap - a->cap_rows) * sizeof *rows);
        a->rows = rows;
        a->cap_rows = cap;
      }
      a->n_rows++;
    }
    adwin_row_t *r = &a->rows[i], *next = &a->rows[i + 1];
    double n = (double)(1ull << i);
    double u1 = r->total[0] / n, u2 = r->total[1] / n;
    double nn = a->moa_ints ? java_imul(1ull << i, 1ull << i) : n * n;
    double inc = nn * (u1 - u2) * (u1 - u2) / (n + n);
    next->total[next->n] = r->total[0] + r->total[1];
    next->var[next->n] = r->var[0] + r->var[1] + inc;
    next->n++;
    memmove(r->total, r->total + 2, (ADWIN_M - 1) * sizeof(double));
    memmove(r->var, r->var + 2, (ADWIN_M - 1) * sizeof(double));
    r->total[ADWIN_M - 1] = r->total[ADWIN_M] = r->var[ADWIN_M - 1] = r->var[ADWIN_M] = 0;
    r->n -= 2;
  }
}

/* One check: scans every split from the oldest bucket on; cuts while a split
 * shows a significant difference of means. Returns 1 when it cut. */
static int adwin_check(eddy_adwin_t *a) {
  int changed = 0, again = 1;
  double best = -INFINITY;
  while (again) {
    again = 0;
    double n = (double)a->width;
    double dd = log(2 * log(n) / a->delta);
    double v = a->variance / n;
    double n0 = 0, n1 = n, u0 = 0, u1 = a->total;
    int done = 0;
    for (int i = (int)a->n_rows - 1; i >= 0 && !done; i--) {
      const adwin_row_t *r = &a->rows[i];
      double size = (double)(1ull << i);
      for (uint32_t k = 0; k < r->n; k++) {
        n0 += size;
        n1 -= size;
        u0 += r->total[k];
        u1 -= r->total[k];
        if (i == 0 && k == r->n - 1) {
          done = 1;
          break;
        }
        if (n1 > ADWIN_MIN_SUB + 1 && n0 > ADWIN_MIN_SUB + 1) {
          double diff = fabs(u0 / n0 - u1 / n1);
          double m = 1.0 / (n0 - ADWIN_MIN_SUB + 1) + 1.0 / (n1 - ADWIN_MIN_SUB + 1);
          double eps = sqrt(2 * m * v * dd) + 2.0 / 3 * dd * m;
          if (diff > eps) {
            if (!changed) {
              a->last_diff = diff;
              a->last_eps = eps;
            }
            changed = again = done = 1;
            adwin_delete_oldest(a);
            break;
          }
          if (!changed && diff - eps > best) {
            best = diff - eps;
            a->last_diff = diff;
            a->last_eps = eps;
          }
        }
      }
    }
  }
  return changed;
}

int eddy_adwin_update(eddy_adwin_t *a, double x) {
  a->time++;
  /* Insert x as a new bucket of row 0 (MOA's insertElement). */
  a->width++;
  adwin_row_t *r0 = &a->rows[0];
  r0->total[r0->n] = x;
  r0->var[r0->n] = 0;
  r0->n++;
  if (a->width > 1) {
    double w1 = (double)(a->width - 1);
    double d = x - a->total / w1;
    a->variance += w1 * d * d / (double)a->width;
  }
  a->total += x;
  if (r0->n == ADWIN_M + 1) adwin_compress(a);
  if (a->time % a->clock == 0 && a->width > ADWIN_MIN_WIDTH && adwin_check(a)) {
    a->n_detections++;
    return 1;
  }
  return 0;
}

double eddy_adwin_estimation(const eddy_adwin_t *a) {
  return a->width ? a->total / (double)a->width : 0.0;
}

double eddy_adwin_variance(const eddy_adwin_t *a) {
  return a->width ? a->variance / (double)a->width : 0.0;
}

uint64_t eddy_adwin_width(const eddy_adwin_t *a) { return a->width; }

size_t eddy_adwin_memory(const eddy_adwin_t *a) {
  return sizeof *a + a->cap_rows * sizeof *a->rows;
}

static void adwin_save_body(const eddy_adwin_t *a, eddy_buf_t *b) {
  eddy_buf_put_u8(b, ADWIN_SAVE_VERSION);
  eddy_buf_put_f64(b, a->delta);
  eddy_buf_put_u32(b, a->clock);
  eddy_buf_put_u64(b, a->time);
  eddy_buf_put_u64(b, a->width);
  eddy_buf_put_f64(b, a->total);
  eddy_buf_put_f64(b, a->variance);
  eddy_buf_put_u64(b, a->n_detections);
  eddy_buf_put_f64(b, a->last_diff);
  eddy_buf_put_f64(b, a->last_eps);
  eddy_buf_put_u32(b, a->n_rows);
  for (uint32_t i = 0; i < a->n_rows; i++) {
    eddy_buf_put_u8(b, (uint8_t)a->rows[i].n);
    eddy_buf_put_f64s(b, a->rows[i].total, a->rows[i].n);
    eddy_buf_put_f64s(b, a->rows[i].var, a->rows[i].n);
  }
}

void eddy_adwin_save(const eddy_adwin_t *a, eddy_buf_t *b) { adwin_save_body(a, b); }

/* Reads a saved window into a (initialised, rows allocated). */
static int adwin_load_body(eddy_adwin_t *a, eddy_reader_t *r) {
  if (eddy_read_u8(r) != ADWIN_SAVE_VERSION && !r->err) r->err = EDDY_EVERSION;
  double delta = eddy_read_f64(r);
  uint32_t clock = eddy_read_u32(r);
  uint64_t time = eddy_read_u64(r), width = eddy_read_u64(r);
  double total = eddy_read_f64(r), variance = eddy_read_f64(r);
  uint64_t n_det = eddy_read_u64(r);
  double last_diff = eddy_read_f64(r), last_eps = eddy_read_f64(r);
  uint32_t n_rows = eddy_read_u32(r);
  if (r->err) return r->err;
  if (!(delta > 0 && delta < 1) || clock == 0 || n_rows == 0 || n_rows > ADWIN_MAX_ROWS)
    return r->err = EDDY_ECORRUPT;
  uint32_t cap = a->cap_rows;
  while (cap < n_rows) cap *= 2;
  if (cap != a->cap_rows) {
    adwin_row_t *rows = realloc(a->rows, cap * sizeof *rows);
    if (!rows) return r->err = EDDY_ENOMEM;
    a->rows = rows;
    a->cap_rows = cap;
  }
  memset(a->rows, 0, a->cap_rows * sizeof *a->rows);
  uint64_t count = 0;
  for (uint32_t i = 0; i < n_rows; i++) {
    uint32_t n = eddy_read_u8(r);
    if (r->err) return r->err;
    if (n > ADWIN_M) return r->err = EDDY_ECORRUPT;
    a->rows[i].n = n;
    eddy_read_f64s(r, a->rows[i].total, n);
    eddy_read_f64s(r, a->rows[i].var, n);
    count += (uint64_t)n << i;
  }
  if (r->err) return r->err;
  if (count != width) return r->err = EDDY_ECORRUPT;
  a->delta = delta;
  a->clock = clock;
  a->n_rows = n_rows;
  a->time = time;
  a->width = width;
  a->total = total;
  a->variance = variance;
  a->n_detections = n_det;
  a->last_diff = last_diff;
  a->last_eps = last_eps;
  return 0;
}

eddy_adwin_t *eddy_adwin_load(eddy_reader_t *r) {
  eddy_adwin_t *a = eddy_adwin_new(0.002);
  if (!a) {
    if (!r->err) r->err = EDDY_ENOMEM;
    return NULL;
  }
  if (adwin_load_body(a, r)) {
    eddy_adwin_free(a);
    return NULL;
  }
  return a;
}

/* ------------------------------------------------------- the detector type */

typedef struct {
  double delta;
  int64_t clock;
  int direction;
} adwin_params_t;

enum { DIR_UP, DIR_DOWN, DIR_BOTH };
static const char *const adwin_directions[] = {"up", "down", "both", NULL};

typedef struct {
  struct eddy_adwin a; /* first: the state is also an eddy_adwin_t */
  int direction;
} adwin_state_t;

static const eddy_option_t adwin_options[] = {
    EDDY_OPT_DOUBLE_(adwin_params_t, "delta", delta, "0.002", 1e-300, 1,
                     "confidence of a cut: smaller cuts later and less often"),
    EDDY_OPT_INT_(adwin_params_t, "clock", clock, "32", 1, 1 << 30,
                  "check for a cut every this many updates"),
    EDDY_OPT_ENUM_(adwin_params_t, "direction", direction, "up", adwin_directions,
                   "report a cut as drift when the window's mean went up (MOA), down, or both"),
    EDDY_OPT_END,
};

static int adwin_type_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  const adwin_params_t *p = d->params;
  if (!(p->delta < 1))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "adwin: delta must be below 1");
  adwin_state_t *s = d->state;
  if (adwin_init(&s->a, p->delta, (uint32_t)p->clock))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  s->direction = p->direction;
  return 0;
}

/* MOA's ADWINChangeDetector (as released in 2024.07) reports a cut only when
 * the window's mean rose with it: an error rate that drops is no drift.
 * River's ADWIN reports every cut (direction = both). */
static eddy_drift_t adwin_type_update(eddy_detector_t *d, double x) {
  adwin_state_t *s = d->state;
  double before = eddy_adwin_estimation(&s->a);
  if (!eddy_adwin_update(&s->a, x)) return EDDY_DRIFT_NONE;
  double after = eddy_adwin_estimation(&s->a);
  switch (s->direction) {
  case DIR_UP: return after > before ? EDDY_DRIFT_DRIFT : EDDY_DRIFT_NONE;
  case DIR_DOWN: return after < before ? EDDY_DRIFT_DRIFT : EDDY_DRIFT_NONE;
  default: return EDDY_DRIFT_DRIFT;
  }
}

static void adwin_type_reset(eddy_detector_t *d) { eddy_adwin_reset(&((adwin_state_t *)d->state)->a); }

static int adwin_type_save(const eddy_detector_t *d, eddy_buf_t *b) {
  adwin_save_body(d->state, b);
  return b->err;
}

static int adwin_type_load(eddy_detector_t *d, eddy_reader_t *r) {
  return adwin_load_body(d->state, r);
}

static size_t adwin_type_memory(const eddy_detector_t *d) {
  return sizeof(adwin_state_t) - sizeof(eddy_adwin_t) + eddy_adwin_memory(d->state);
}

static void adwin_type_destroy(eddy_detector_t *d) {
  eddy_adwin_t *a = d->state;
  free(a->rows);
  a->rows = NULL;
}

/* statistic: |mean of the older part - mean of the newer part| at the split
 * that was cut, or at the last check's split closest to a cut; threshold:
 * the epsilon_cut it was compared with (a cut when statistic > threshold). */
static void adwin_type_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const eddy_adwin_t *a = d->state;
  *statistic = a->last_diff;
  *threshold = a->last_eps;
}

const eddy_detector_type_t eddy_detector_adwin = {
    .name = "adwin",
    .description = "ADWIN adaptive sliding window (Bifet & Gavalda 2007), as MOA's ADWIN",
    .kind = EDDY_DETECTOR_CONCEPT,
    .options = adwin_options,
    .params_size = sizeof(adwin_params_t),
    .state_size = sizeof(adwin_state_t),
    .init = adwin_type_init,
    .update = adwin_type_update,
    .reset = adwin_type_reset,
    .save = adwin_type_save,
    .load = adwin_type_load,
    .memory = adwin_type_memory,
    .destroy = adwin_type_destroy,
    .stat = adwin_type_stat,
};
