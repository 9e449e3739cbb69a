/* bench_generators.c: `make bench` rows for the synthetic streams:
 * instances generated per second in memory (no formatting), then the
 * number formatting that dominates `eddy gen`'s output. */
#include <math.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "bench.h"
#include "core/core_int.h"
#include "generators/generators.h"

static int bench_gen(const char *label, const char *name, const eddy_kv_t *kv, size_t n_kv,
                     size_t n) {
  char err[512];
  eddy_generator_t *g = eddy_generator_new(name, kv, n_kv, 1, err, sizeof err);
  if (!g) {
    fprintf(stderr, "bench %s: %s\n", label, err);
    return 1;
  }
  eddy_instance_t in;
  if (eddy_instance_init(&in, eddy_generator_schema(g)->n_attrs)) return 1;
  double check = 0, t0 = eddy_now();
  for (size_t i = 0; i < n; i++) {
    eddy_generator_next(g, &in);
    check += in.y;
  }
  double dt = eddy_now() - t0;
  printf("%-40s %14.0f %10.1f %10.4f\n", label, n / dt, dt * 1e9 / n, check / n);
  fflush(stdout);
  eddy_instance_free(&in);
  eddy_generator_free(g);
  return 0;
}

static void bench_fmt(const char *label, int (*fmt)(char *, size_t, double), size_t n) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 1);
  char buf[64];
  size_t bytes = 0;
  double t0 = eddy_now();
  for (size_t i = 0; i < n; i++) bytes += (size_t)fmt(buf, sizeof buf, 10 * eddy_rng_uniform(&r));
  double dt = eddy_now() - t0;
  printf("%-40s %14.0f %10.1f %10.2f\n", label, n / dt, dt * 1e9 / n, (double)bytes / n);
  fflush(stdout);
}

int main(void) {
  const size_t n = 1000000;
  int rc = 0;
  printf("%-40s %14s %10s %10s\n", "generators (1M instances, in memory)", "rows/s", "ns/row",
         "mean y");
  rc |= bench_gen("sea", "sea", NULL, 0, n);
  eddy_kv_t sea_drift[] = {{"drift_to", "3", NULL, 0}, {"drift_at", "500000", NULL, 0}};
  rc |= bench_gen("sea, drift to 3 at 500k (width 1000)", "sea", sea_drift, 2, n);
  rc |= bench_gen("agrawal (function 1, perturbation 0.05)", "agrawal", NULL, 0, n);
  rc |= bench_gen("hyperplane (10 features)", "hyperplane", NULL, 0, n);
  eddy_kv_t hp[] = {{"magnitude", "0.001", NULL, 0}};
  rc |= bench_gen("hyperplane (magnitude 0.001)", "hyperplane", hp, 1, n);
  rc |= bench_gen("rbf (10 features, 50 centroids)", "rbf", NULL, 0, n);
  eddy_kv_t rbf[] = {{"speed", "0.0001", NULL, 0}};
  rc |= bench_gen("rbf (50 moving, speed 0.0001)", "rbf", rbf, 1, n);
  rc |= bench_gen("stagger", "stagger", NULL, 0, n);
  printf("\n%-40s %14s %10s %10s\n", "number text (uniform [0,10), 3M)", "numbers/s", "ns/number",
         "bytes");
  bench_fmt("eddy_fmt_double (exact integer path)", eddy_fmt_double, 3 * n);
  bench_fmt("snprintf + strtod (reference path)", eddy__fmt_double_slow, 3 * n);
  return rc;
}
