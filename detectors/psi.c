/* psi.c: data drift of one feature by the population stability index,
 *   PSI = sum over bins of (c_i - r_i) ln(c_i / r_i),
 * r_i and c_i the shares of the reference and of the current window in bin
 * i (shares below 1e-4 count as 1e-4, so that an empty bin costs a finite
 * amount, as is customary).
 *
 * The reference window is the first reference_size values after creation,
 * a reset or a drift; it stays fixed until the next drift. For a numeric
 * feature its quantiles give the bins: edges at the (k / bins)-quantiles
 * (the smallest value with at least that share of the reference at or
 * below it), equal edges merged, bins (-inf, e1], (e1, e2], ..., (e_last,
 * inf). With nominal = true, values are category indices and each
 * category is a bin (indices from max_categories on share one bin).
 *
 * The current window is the last window_size values; once it is full, the
 * PSI is computed every interval values, and a PSI above the threshold is
 * a drift, after which a new reference is gathered. NaN values (missing)
 * are ignored. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"

#define PSI_FLOOR 1e-4

typedef struct {
  int64_t reference_size, window_size, interval, bins, max_categories;
  int nominal;
  double threshold;
} psi_params_t;

typedef struct {
  double *ref;       /* numeric: the reference values (sorted once full) */
  double *edges;     /* numeric: bins - 1 at most */
  uint32_t *ring;    /* the current window's bins */
  double *ref_count, *cur_count; /* per bin */
  size_t cap;        /* slots in ref_count and cur_count */
  uint64_t n_ref, n_cur, head, since;
  uint32_t n_edges;
  double last_psi;
} psi_state_t;

static const eddy_option_t psi_options[] = {
    EDDY_OPT_INT_(psi_params_t, "reference_size", reference_size, "1000", 2, 1 << 26,
                  "values in the reference window (the first ones, and again after a drift)"),
    EDDY_OPT_INT_(psi_params_t, "window_size", window_size, "1000", 2, 1 << 26,
                  "values in the current window (the last ones)"),
    EDDY_OPT_INT_(psi_params_t, "interval", interval, "1000", 1, (double)INT64_MAX,
                  "compare the windows every this many values"),
    EDDY_OPT_INT_(psi_params_t, "bins", bins, "10", 2, 1000,
                  "numeric features: quantile bins of the reference window"),
    EDDY_OPT_BOOL_(psi_params_t, "nominal", nominal, "false",
                   "values are category indices, one bin each"),
    EDDY_OPT_INT_(psi_params_t, "max_categories", max_categories, "1024", 1, 1 << 24,
                  "nominal: indices from this on share one bin"),
    EDDY_OPT_DOUBLE_(psi_params_t, "threshold", threshold, "0.2", 0, 1e300,
                     "drift when the PSI exceeds this"),
    EDDY_OPT_END,
};

static void psi_restart(eddy_detector_t *d) {
  psi_state_t *s = d->state;
  s->n_ref = s->n_cur = s->head = s->since = 0;
  s->n_edges = 0;
  if (s->cap) {
    memset(s->ref_count, 0, s->cap * sizeof *s->ref_count);
    memset(s->cur_count, 0, s->cap * sizeof *s->cur_count);
  }
}

static void psi_reset(eddy_detector_t *d) {
  psi_restart(d);
  ((psi_state_t *)d->state)->last_psi = 0;
}

static void psi_destroy(eddy_detector_t *d) {
  psi_state_t *s = d->state;
  free(s->ref);
  free(s->edges);
  free(s->ring);
  free(s->ref_count);
  free(s->cur_count);
  memset(s, 0, sizeof *s);
}

/* Makes bin index `need - 1` valid in both count arrays. */
static int psi_grow(psi_state_t *s, size_t need) {
  if (need <= s->cap) return 0;
  size_t cap = s->cap, cap2 = s->cap;
  if (eddy_grow((void **)&s->ref_count, &cap, need, sizeof *s->ref_count) ||
      eddy_grow((void **)&s->cur_count, &cap2, need, sizeof *s->cur_count))
    return EDDY_ENOMEM;
  s->cap = cap < cap2 ? cap : cap2;
  return 0;
}

static int psi_init(eddy_detector_t *d, char *errstr, size_t errstr_size) {
  const psi_params_t *p = d->params;
  psi_state_t *s = d->state;
  s->ring = calloc((size_t)p->window_size, sizeof *s->ring);
  int err = !s->ring;
  if (!p->nominal) {
    s->ref = calloc((size_t)p->reference_size, sizeof *s->ref);
    s->edges = calloc((size_t)p->bins, sizeof *s->edges);
    err |= !s->ref || !s->edges || psi_grow(s, (size_t)p->bins);
  } else {
    err |= psi_grow(s, 16) != 0;
  }
  if (err) {
    psi_destroy(d);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  psi_reset(d);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* The bin of x: the number of edges below it. */
static uint32_t psi_bin(const psi_state_t *s, double x) {
  uint32_t lo = 0, hi = s->n_edges;
  while (lo < hi) {
    uint32_t mid = (lo + hi) / 2;
    if (s->edges[mid] < x)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

/* The reference is complete: its quantile edges and its count per bin. */
static void psi_set_reference(const psi_params_t *p, psi_state_t *s) {
  uint64_t n = s->n_ref;
  qsort(s->ref, n, sizeof *s->ref, cmp_double);
  s->n_edges = 0;
  for (int64_t k = 1; k < p->bins; k++) {
    uint64_t rank = ((uint64_t)k * n + (uint64_t)p->bins - 1) / (uint64_t)p->bins; /* ceil */
    double e = s->ref[rank - 1];
    if (s->n_edges == 0 || e > s->edges[s->n_edges - 1]) s->edges[s->n_edges++] = e;
  }
  memset(s->ref_count, 0, s->cap * sizeof *s->ref_count);
  for (uint64_t i = 0; i < n; i++) s->ref_count[psi_bin(s, s->ref[i])] += 1;
}

static double psi_value(const psi_params_t *p, const psi_state_t *s) {
  size_t nb = p->nominal ? s->cap : (size_t)s->n_edges + 1;
  double psi = 0;
  for (size_t i = 0; i < nb; i++) {
    if (s->ref_count[i] == 0 && s->cur_count[i] == 0) continue;
    double r = fmax(s->ref_count[i] / (double)s->n_ref, PSI_FLOOR);
    double c = fmax(s->cur_count[i] / (double)s->n_cur, PSI_FLOOR);
    psi += (c - r) * log(c / r);
  }
  return psi;
}

static eddy_drift_t psi_update(eddy_detector_t *d, double x) {
  const psi_params_t *p = d->params;
  psi_state_t *s = d->state;
  if (isnan(x)) return EDDY_DRIFT_NONE;
  uint32_t bin = 0;
  if (p->nominal) {
    if (x < 0) return EDDY_DRIFT_NONE;
    bin = x >= (double)p->max_categories ? (uint32_t)p->max_categories : (uint32_t)x;
    if (psi_grow(s, (size_t)bin + 1)) return EDDY_DRIFT_NONE; /* out of memory: skip */
  }
  if (s->n_ref < (uint64_t)p->reference_size) {
    if (p->nominal) {
      s->ref_count[bin] += 1;
      s->n_ref++;
    } else {
      s->ref[s->n_ref++] = x;
      if (s->n_ref == (uint64_t)p->reference_size) psi_set_reference(p, s);
    }
    return EDDY_DRIFT_NONE;
  }
  if (!p->nominal) bin = psi_bin(s, x);
  uint64_t w = (uint64_t)p->window_size;
  if (s->n_cur == w)
    s->cur_count[s->ring[s->head]] -= 1;
  else
    s->n_cur++;
  s->ring[s->head] = bin;
  s->cur_count[bin] += 1;
  s->head = s->head + 1 == w ? 0 : s->head + 1;
  s->since++;
  if (s->n_cur < w || s->since < (uint64_t)p->interval) return EDDY_DRIFT_NONE;
  s->since = 0;
  s->last_psi = psi_value(p, s);
  if (s->last_psi > p->threshold) {
    psi_restart(d);
    return EDDY_DRIFT_DRIFT;
  }
  return EDDY_DRIFT_NONE;
}

static int psi_save(const eddy_detector_t *d, eddy_buf_t *b) {
  const psi_params_t *p = d->params;
  const psi_state_t *s = d->state;
  eddy_buf_put_u64(b, s->n_ref);
  eddy_buf_put_u64(b, s->n_cur);
  eddy_buf_put_u64(b, s->head);
  eddy_buf_put_u64(b, s->since);
  eddy_buf_put_f64(b, s->last_psi);
  if (p->nominal) {
    eddy_buf_put_u64(b, s->cap);
    eddy_buf_put_f64s(b, s->ref_count, s->cap);
  } else {
    eddy_buf_put_f64s(b, s->ref, s->n_ref); /* the edges follow from it */
  }
  for (uint64_t i = 0; i < s->n_cur; i++) eddy_buf_put_u32(b, s->ring[i]);
  return b->err;
}

static int psi_load(eddy_detector_t *d, eddy_reader_t *r) {
  const psi_params_t *p = d->params;
  psi_state_t *s = d->state;
  psi_reset(d);
  uint64_t n_ref = eddy_read_u64(r), n_cur = eddy_read_u64(r), head = eddy_read_u64(r);
  uint64_t since = eddy_read_u64(r);
  double last = eddy_read_f64(r);
  if (r->err) return r->err;
  uint64_t w = (uint64_t)p->window_size;
  if (n_ref > (uint64_t)p->reference_size || n_cur > w || (n_cur && n_ref < (uint64_t)p->reference_size) ||
      head >= w || (n_cur < w && head != n_cur))
    return r->err = EDDY_ECORRUPT;
  if (p->nominal) {
    size_t cap = eddy_read_count(r, 8);
    if (r->err) return r->err;
    if (cap > 2 * ((size_t)p->max_categories + 1) + 16 || psi_grow(s, cap))
      return r->err = EDDY_ECORRUPT;
    eddy_read_f64s(r, s->ref_count, cap);
  } else {
    eddy_read_f64s(r, s->ref, n_ref);
  }
  s->n_ref = n_ref;
  if (!p->nominal && n_ref == (uint64_t)p->reference_size) psi_set_reference(p, s);
  size_t nb = p->nominal ? (size_t)p->max_categories + 1 : (size_t)s->n_edges + 1;
  for (uint64_t i = 0; i < n_cur && !r->err; i++) {
    uint32_t bin = eddy_read_u32(r);
    if (bin >= nb || (p->nominal && psi_grow(s, (size_t)bin + 1))) return r->err = EDDY_ECORRUPT;
    s->ring[i] = bin;
    s->cur_count[bin] += 1;
  }
  s->n_cur = n_cur;
  s->head = head;
  s->since = since;
  s->last_psi = last;
  return r->err;
}

static size_t psi_memory(const eddy_detector_t *d) {
  const psi_params_t *p = d->params;
  const psi_state_t *s = d->state;
  size_t m = sizeof *s + (size_t)p->window_size * sizeof *s->ring + 2 * s->cap * sizeof(double);
  if (!p->nominal) m += (size_t)(p->reference_size + p->bins) * sizeof(double);
  return m;
}

/* statistic: the PSI of the last comparison (0 before the first);
 * threshold: the threshold option (a drift when statistic > threshold). */
static void psi_stat(const eddy_detector_t *d, double *statistic, double *threshold) {
  const psi_params_t *p = d->params;
  const psi_state_t *s = d->state;
  *statistic = s->last_psi;
  *threshold = p->threshold;
}

const eddy_detector_type_t eddy_detector_psi = {
    .name = "psi",
    .description = "population stability index of one feature, reference window against current",
    .kind = EDDY_DETECTOR_DATA,
    .options = psi_options,
    .params_size = sizeof(psi_params_t),
    .state_size = sizeof(psi_state_t),
    .init = psi_init,
    .update = psi_update,
    .reset = psi_reset,
    .save = psi_save,
    .load = psi_load,
    .memory = psi_memory,
    .destroy = psi_destroy,
    .stat = psi_stat,
};
