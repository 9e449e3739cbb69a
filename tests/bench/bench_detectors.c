/* bench_detectors.c: `make bench` rows for every drift detector: updates
 * per second over 10M values of a seeded Bernoulli error stream that
 * switches once (0.2 -> 0.5 at 5M). */
#include "bench.h"

int main(void) {
  size_t n = 10000000;
  double *xs = malloc(n * sizeof *xs);
  if (!xs) return 1;
  eddy_rng_t r;
  eddy_rng_seed(&r, 1);
  for (size_t i = 0; i < n; i++) xs[i] = eddy_rng_uniform(&r) < (i < n / 2 ? 0.2 : 0.5);
  bench_header("detectors (10M Bernoulli, one switch)");
  int rc = 0;
  for (const eddy_detector_type_t *const *t = eddy_detector_types; *t; t++)
    rc |= bench_detector((*t)->name, (*t)->name, NULL, 0, xs, n);
  free(xs);
  return rc;
}
