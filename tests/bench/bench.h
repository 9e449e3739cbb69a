/* bench.h: the shared harness of `make bench`: builds a seeded stream in
 * memory and times learners (learn + predict per event) and detectors over
 * it, printing one row each in a common format. Header-only: each bench
 * binary includes it once. */
#ifndef EDDY_BENCH_H
#define EDDY_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "detectors/detectors.h"
#include "learners/learners.h"

typedef struct bench_stream {
  eddy_schema_t *schema;
  eddy_instance_t *rows;
  size_t n;
  double *x;
  uint64_t *h;
  uint8_t *missing;
} bench_stream_t;

/* n events with d numeric attributes uniform in [0, 1) and k classes from a
 * fixed random linear concept (argmax of k random projections) with 5%
 * label noise; k == 0 gives a regression target (one projection + N(0,
 * 0.1) noise). */
static inline int bench_stream_linear(bench_stream_t *s, size_t n, size_t d, unsigned k,
                                      uint64_t seed) {
  memset(s, 0, sizeof *s);
  s->schema = eddy_schema_new(k ? EDDY_CLASSIFICATION : EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  char name[16];
  for (size_t j = 0; j < d; j++) {
    snprintf(name, sizeof name, "x%zu", j);
    eddy_schema_add(s->schema, name, EDDY_NUMERIC);
  }
  for (unsigned c = 0; c < k; c++) {
    snprintf(name, sizeof name, "%u", c);
    eddy_dict_intern(s->schema->target.dict, name, strlen(name), eddy_hash(name, strlen(name)),
                     NULL);
  }
  s->n = n;
  s->rows = calloc(n, sizeof *s->rows);
  s->x = calloc(n * d, sizeof *s->x);
  s->h = calloc(n * d, sizeof *s->h);
  s->missing = calloc(n * d, 1);
  if (!s->rows || !s->x || !s->h || !s->missing) return EDDY_ENOMEM;
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  unsigned m = k ? k : 1;
  double *w = calloc(m * d, sizeof *w);
  for (size_t i = 0; i < m * d; i++) w[i] = 2 * eddy_rng_uniform(&r) - 1;
  for (size_t i = 0; i < n; i++) {
    eddy_instance_t *in = &s->rows[i];
    in->n = d;
    in->x = s->x + i * d;
    in->h = s->h + i * d;
    in->missing = s->missing + i * d;
    in->weight = 1;
    in->has_y = 1;
    for (size_t j = 0; j < d; j++) in->x[j] = eddy_rng_uniform(&r);
    double best = -1e300;
    for (unsigned c = 0; c < m; c++) {
      double z = 0;
      for (size_t j = 0; j < d; j++) z += w[c * d + j] * (in->x[j] - 0.5);
      if (!k) {
        in->y = z + 0.1 * eddy_rng_gauss(&r);
      } else if (z > best) {
        best = z;
        in->y = c;
      }
    }
    if (k && eddy_rng_uniform(&r) < 0.05) in->y = (double)eddy_rng_below(&r, k);
  }
  free(w);
  return 0;
}

static inline void bench_stream_free(bench_stream_t *s) {
  free(s->rows);
  free(s->x);
  free(s->h);
  free(s->missing);
  eddy_schema_free(s->schema);
  memset(s, 0, sizeof *s);
}

static inline void bench_header(const char *what) {
  printf("%-34s %14s %10s %14s %10s\n", what, "events/s", "ns/event", "bytes", "accuracy");
}

/* Prequential learn + predict over the stream; prints one row. For
 * regression the last column is the mean absolute error. */
static inline int bench_learner(const char *label, const char *learner, const eddy_kv_t *kv,
                                size_t n_kv, const bench_stream_t *s) {
  char err[512];
  eddy_learner_t *l = eddy_learner_new(learner, s->schema, kv, n_kv, 1, err, sizeof err);
  if (!l) {
    fprintf(stderr, "bench %s: %s\n", label, err);
    return 1;
  }
  double out[256];
  double score = 0;
  int cls = s->schema->task == EDDY_CLASSIFICATION;
  double t0 = eddy_now();
  for (size_t i = 0; i < s->n; i++) {
    const eddy_instance_t *in = &s->rows[i];
    int k = eddy_learner_predict(l, in, out, 256);
    if (cls)
      score += (k > 0 && (double)eddy_argmax(out, (size_t)k) == in->y);
    else
      score += k > 0 ? (out[0] > in->y ? out[0] - in->y : in->y - out[0]) : 0;
    eddy_learner_learn(l, in);
  }
  double dt = eddy_now() - t0;
  printf("%-34s %14.0f %10.1f %14zu %10.4f\n", label, s->n / dt, dt * 1e9 / s->n,
         eddy_learner_memory(l), score / s->n);
  fflush(stdout);
  eddy_learner_free(l);
  return 0;
}

/* Updates a detector with each value of xs; prints updates/s and the number
 * of drifts it reported. */
static inline int bench_detector(const char *label, const char *detector, const eddy_kv_t *kv,
                                 size_t n_kv, const double *xs, size_t n) {
  char err[512];
  eddy_detector_t *d = eddy_detector_new(detector, kv, n_kv, 1, err, sizeof err);
  if (!d) {
    fprintf(stderr, "bench %s: %s\n", label, err);
    return 1;
  }
  size_t drifts = 0;
  double t0 = eddy_now();
  for (size_t i = 0; i < n; i++) drifts += eddy_detector_update(d, xs[i]) == EDDY_DRIFT_DRIFT;
  double dt = eddy_now() - t0;
  printf("%-34s %14.0f %10.2f %14zu %10zu drifts\n", label, n / dt, dt * 1e9 / n,
         eddy_detector_memory(d), drifts);
  fflush(stdout);
  eddy_detector_free(d);
  return 0;
}

#endif /* EDDY_BENCH_H */
