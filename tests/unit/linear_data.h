/* linear_data.h: seeded data for the linear-model suites (test_linear*.c):
 * in-memory datasets, and SEA, hyperplane and Agrawal streams from eddy's
 * generators (generators/). */
#ifndef EDDY_TEST_LINEAR_DATA_H
#define EDDY_TEST_LINEAR_DATA_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "generators/generators.h"
#include "learners/learners.h"

/* n rows of d attributes; nominal attributes hold a value index in x and
 * the hash of its text "v<index>" in h. */
typedef struct {
  size_t n, d;
  double *x;
  uint64_t *h;
  uint8_t *miss;
  double *y, *w;
  eddy_schema_t *schema;
} data_t;

static inline void data_alloc(data_t *D, size_t n, size_t d) {
  D->n = n;
  D->d = d;
  D->x = calloc(n * d, sizeof *D->x);
  D->h = calloc(n * d, sizeof *D->h);
  D->miss = calloc(n * d, 1);
  D->y = calloc(n, sizeof *D->y);
  D->w = calloc(n, sizeof *D->w);
  for (size_t i = 0; i < n; i++) D->w[i] = 1.0;
}

static inline void data_free(data_t *D) {
  free(D->x);
  free(D->h);
  free(D->miss);
  free(D->y);
  free(D->w);
  eddy_schema_free(D->schema);
  memset(D, 0, sizeof *D);
}

/* A schema "x0".."x{d-1}" (nominal where kinds[j] == 'c', else numeric),
 * target "y" with classes "0".."k-1" interned, or regression when k == 0. */
static inline eddy_schema_t *make_schema(size_t d, const char *kinds, unsigned k) {
  eddy_schema_t *s = eddy_schema_new(k ? EDDY_CLASSIFICATION : EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  char name[32];
  for (size_t j = 0; j < d; j++) {
    snprintf(name, sizeof name, "x%zu", j);
    eddy_schema_add(s, name, kinds && kinds[j] == 'c' ? EDDY_NOMINAL : EDDY_NUMERIC);
  }
  for (unsigned c = 0; c < k; c++) {
    snprintf(name, sizeof name, "%u", c);
    eddy_dict_intern(s->target.dict, name, strlen(name), eddy_hash(name, strlen(name)), NULL);
  }
  return s;
}

/* Sets nominal cell (i, j) to value index v (interning "v<v>"). */
static inline void data_nominal(data_t *D, size_t i, size_t j, unsigned v) {
  char t[32];
  int len = snprintf(t, sizeof t, "v%u", v);
  uint64_t h = eddy_hash(t, (size_t)len);
  int64_t idx = eddy_dict_intern(D->schema->attrs[j].dict, t, (size_t)len, h, NULL);
  D->x[i * D->d + j] = (double)idx;
  D->h[i * D->d + j] = h;
}

/* Row i as an instance (borrowing D's arrays). */
static inline void data_row(const data_t *D, size_t i, eddy_instance_t *in) {
  in->n = D->d;
  in->x = D->x + i * D->d;
  in->h = D->h + i * D->d;
  in->missing = D->miss + i * D->d;
  in->y = D->y[i];
  in->has_y = 1;
  in->weight = D->w[i];
}

/* n events of the named generator (generators/, `eddy gen NAME`) with the
 * given options, in memory; the schema is a copy of the generator's. */
static inline void gen_stream(data_t *D, const char *name, const eddy_kv_t *kv, size_t n_kv,
                              size_t n, uint64_t seed) {
  char err[256];
  eddy_generator_t *g = eddy_generator_new(name, kv, n_kv, seed, err, sizeof err);
  if (!g) {
    fprintf(stderr, "generator %s: %s\n", name, err);
    abort();
  }
  size_t d = eddy_generator_schema(g)->n_attrs;
  data_alloc(D, n, d);
  eddy_instance_t in;
  eddy_instance_init(&in, d);
  for (size_t i = 0; i < n; i++) {
    if (eddy_generator_next(g, &in)) abort();
    memcpy(D->x + i * d, in.x, d * sizeof *in.x);
    memcpy(D->h + i * d, in.h, d * sizeof *in.h);
    memcpy(D->miss + i * d, in.missing, d);
    D->y[i] = in.y;
  }
  D->schema = eddy_schema_clone(eddy_generator_schema(g));
  eddy_instance_free(&in);
  eddy_generator_free(g);
}

#define GKV(k, v) {(char *)(k), (char *)(v), NULL, 0}

/* SEA (Street & Kim 2001), MOA's definition: 3 attributes in [0, 10),
 * class 1 when attrib1 + attrib2 > 8, 9, 7, 9.5 (concepts 1-4), labels
 * flipped with probability noise (MOA: 10%). */
static inline void gen_sea(data_t *D, size_t n, int concept, double noise, uint64_t seed) {
  char c[8], z[32];
  snprintf(c, sizeof c, "%d", concept);
  snprintf(z, sizeof z, "%.17g", noise);
  eddy_kv_t kv[] = {GKV("concept", c), GKV("noise", z)};
  gen_stream(D, "sea", kv, 2, n, seed);
}

/* Hyperplane (Hulten et al. 2001), static (magnitude 0): d attributes in
 * [0, 1), class by a random hyperplane, label noise (MOA: 5%). */
static inline void gen_hyperplane(data_t *D, size_t n, size_t d, double noise, uint64_t seed) {
  char f[16], z[32];
  snprintf(f, sizeof f, "%zu", d);
  snprintf(z, sizeof z, "%.17g", noise);
  eddy_kv_t kv[] = {GKV("features", f), GKV("noise", z), GKV("magnitude", "0")};
  gen_stream(D, "hyperplane", kv, 3, n, seed);
}

/* Agrawal et al. (1993): salary, commission, age, elevel, car, zipcode
 * (nominal), hvalue, hyears, loan; function 1-10, numeric perturbation. */
static inline void gen_agrawal(data_t *D, size_t n, int function, double perturbation,
                               uint64_t seed) {
  char f[8], p[32];
  snprintf(f, sizeof f, "%d", function);
  snprintf(p, sizeof p, "%.17g", perturbation);
  eddy_kv_t kv[] = {GKV("function", f), GKV("perturbation", p)};
  gen_stream(D, "agrawal", kv, 2, n, seed);
}

/* Prequential (test-then-train) accuracy, or mean absolute error for
 * regression, of a learner over D. */
static inline double prequential(eddy_learner_t *l, const data_t *D) {
  eddy_instance_t in;
  double out[64], score = 0;
  int cls = D->schema->task == EDDY_CLASSIFICATION;
  for (size_t i = 0; i < D->n; i++) {
    data_row(D, i, &in);
    int k = eddy_learner_predict(l, &in, out, 64);
    if (cls)
      score += k > 0 && (double)eddy_argmax(out, (size_t)k) == in.y;
    else
      score += fabs(out[0] - in.y);
    eddy_learner_learn(l, &in);
  }
  return score / (double)D->n;
}

#endif /* EDDY_TEST_LINEAR_DATA_H */
