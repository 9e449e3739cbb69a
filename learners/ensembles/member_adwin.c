/* member_adwin.c: the ADWIN detectors that ensembles keep per member
 * (adwin_bagging, leveraging_bagging, the forests' warning and drift
 * detectors): creation with MOA's 32-bit arithmetic or exact, MOA's
 * ADWINChangeDetector test, and the bagging ensembles' row of them (the
 * worst member on a change, save/load). */
#include <stdlib.h>

#include "learners/ensembles/ensembles.h"

const char *const eddy__adwin_arithmetic_names[] = {"moa", "exact", NULL};

eddy_adwin_t *eddy__member_adwin_new(double delta, int moa_ints) {
  eddy_adwin_t *a = eddy_adwin_new(delta);
  if (a) eddy_adwin_set_moa_ints(a, moa_ints);
  return a;
}

int eddy__member_adwin_change(eddy_adwin_t *a, double v) {
  double before = eddy_adwin_estimation(a);
  return eddy_adwin_update(a, v) && eddy_adwin_estimation(a) > before;
}

int eddy__member_adwin_load(eddy_adwin_t **slot, int moa_ints, eddy_reader_t *r) {
  eddy_adwin_t *a = eddy_adwin_load(r);
  if (!a) return r->err ? r->err : EDDY_ECORRUPT;
  eddy_adwin_set_moa_ints(a, moa_ints);
  eddy_adwin_free(*slot);
  *slot = a;
  return 0;
}

eddy_adwin_t **eddy__member_adwins_new(size_t n, double delta, int moa_ints) {
  eddy_adwin_t **a = calloc(n ? n : 1, sizeof *a);
  for (size_t i = 0; a && i < n; i++)
    if (!(a[i] = eddy__member_adwin_new(delta, moa_ints))) {
      eddy__member_adwins_free(a, n);
      return NULL;
    }
  return a;
}

void eddy__member_adwins_free(eddy_adwin_t **a, size_t n) {
  if (!a) return;
  for (size_t i = 0; i < n; i++)
    if (a[i]) eddy_adwin_free(a[i]);
  free(a);
}

void eddy__member_adwins_reset(eddy_adwin_t **a, size_t n) {
  for (size_t i = 0; i < n; i++) eddy_adwin_reset(a[i]);
}

size_t eddy__member_adwins_worst(eddy_adwin_t *const *a, size_t n) {
  /* MOA starts from max = 0 with a strict comparison */
  double worst = 0.0;
  size_t imax = n;
  for (size_t i = 0; i < n; i++) {
    double est = eddy_adwin_estimation(a[i]);
    if (worst < est) {
      worst = est;
      imax = i;
    }
  }
  return imax;
}

void eddy__member_adwins_save(eddy_adwin_t *const *a, size_t n, eddy_buf_t *b) {
  eddy_buf_put_u64(b, n);
  for (size_t i = 0; i < n; i++) eddy_adwin_save(a[i], b);
}

int eddy__member_adwins_load(eddy_adwin_t **a, size_t n, int moa_ints, eddy_reader_t *r) {
  if (eddy_read_u64(r) != n) return r->err ? r->err : EDDY_ECORRUPT;
  for (size_t i = 0; i < n; i++) {
    int err = eddy__member_adwin_load(&a[i], moa_ints, r);
    if (err) return err;
  }
  return 0;
}

size_t eddy__member_adwins_memory(eddy_adwin_t *const *a, size_t n) {
  size_t m = n * sizeof *a;
  for (size_t i = 0; i < n; i++) m += eddy_adwin_memory(a[i]);
  return m;
}
