/* ensemble_data.h: data and prequential runs shared by the ensemble suites
 * (test_ensembles.c, test_forests.c): Elec2 and generator streams in memory,
 * test-then-train counts with a row-by-row fingerprint, and MOA's figures
 * checked against them. Header-only; include once per suite. */
#ifndef EDDY_ENSEMBLE_DATA_H
#define EDDY_ENSEMBLE_DATA_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generators/generators.h"
#include "learners/learners.h"

static inline eddy_learner_t *make(const char *type, const eddy_schema_t *s, const eddy_kv_t *kv,
                            size_t n, uint64_t seed) {
  char err[1024];
  eddy_learner_t *l = eddy_learner_new(type, s, kv, n, seed, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  return l;
}

/* Elec2 with every column numeric except `day` (nominal) and `class` (the
 * target, UP first as in MOA's ARFF header and in the file). With
 * moa_order, day's values are declared 1..7 first, as elecNormNew.arff's
 * header does; otherwise they get indices as they appear (2 first), as
 * `eddy eval` gives them. The order matters a little: MOA's naive Bayes
 * estimate for a nominal value divides by the number of value slots seen,
 * which depends on the largest index seen so far. */
typedef struct {
  eddy_schema_t *schema;
  eddy_instance_t *rows;
  size_t n;
} data_t;

static inline int elec2_load(data_t *d, int moa_order) {
  memset(d, 0, sizeof *d);
  const char *dir = getenv("EDDY_DATASETS") ? getenv("EDDY_DATASETS") : "../shared/datasets";
  char path[1024], line[1024];
  snprintf(path, sizeof path, "%s/elec2.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  d->schema = eddy_schema_new(EDDY_CLASSIFICATION, "class", 0, 0, NULL, 0);
  if (!fgets(line, sizeof line, f)) return -1;
  line[strcspn(line, "\r\n")] = '\0';
  char *cols[16];
  size_t nc = eddy_split_list(line, cols, 16);
  cr_assert_eq(nc, 9);
  cr_assert_str_eq(cols[8], "class");
  for (size_t j = 0; j < 8; j++)
    eddy_schema_add(d->schema, cols[j], strcmp(cols[j], "day") == 0 ? EDDY_NOMINAL : EDDY_NUMERIC);
  cr_assert_str_eq(cols[1], "day");
  for (char v[2] = "1"; moa_order && v[0] <= '7'; v[0]++)
    eddy_dict_intern(d->schema->attrs[1].dict, v, 1, eddy_hash(v, 1), NULL);
  size_t cap = 46000;
  d->rows = calloc(cap, sizeof *d->rows);
  while (fgets(line, sizeof line, f) && d->n < cap) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) continue;
    nc = eddy_split_list(line, cols, 16);
    cr_assert_eq(nc, 9, "row %zu", d->n);
    eddy_instance_t *in = &d->rows[d->n++];
    eddy_instance_init(in, 8);
    for (size_t j = 0; j < 8; j++) {
      in->missing[j] = 0;
      if (d->schema->attrs[j].kind == EDDY_NOMINAL) {
        size_t len = strlen(cols[j]);
        in->h[j] = eddy_hash(cols[j], len);
        in->x[j] = (double)eddy_dict_intern(d->schema->attrs[j].dict, cols[j], len, in->h[j], NULL);
      } else {
        cr_assert_eq(eddy_parse_double(cols[j], &in->x[j]), 0, "%s", cols[j]);
      }
    }
    size_t len = strlen(cols[8]);
    in->y = (double)eddy_dict_intern(d->schema->target.dict, cols[8], len, eddy_hash(cols[8], len),
                                     NULL);
    in->has_y = 1;
    in->weight = 1;
  }
  fclose(f);
  return 0;
}

static inline void data_free(data_t *d) {
  for (size_t i = 0; i < d->n; i++) eddy_instance_free(&d->rows[i]);
  free(d->rows);
  eddy_schema_free(d->schema);
}

/* Test-then-train over the data (MOA's EvaluatePrequential with the basic
 * evaluator): the number of instances whose argmax prediction was right;
 * *hash (when not NULL) gets h = h * 31 + predicted class index over the
 * rows (wrapping), a fingerprint of the predictions row by row. */
static inline size_t prequential_hash(const data_t *d, const char *learner, const eddy_kv_t *kv,
                               size_t n_kv, uint64_t seed, uint64_t *hash) {
  eddy_learner_t *l = make(learner, d->schema, kv, n_kv, seed);
  double p[8];
  size_t correct = 0;
  uint64_t h = 0;
  for (size_t i = 0; i < d->n; i++) {
    int k = eddy_learner_predict(l, &d->rows[i], p, 8);
    cr_assert_geq(k, 0);
    size_t c = eddy_argmax(p, (size_t)k);
    h = h * 31 + c;
    correct += (double)c == d->rows[i].y;
    cr_assert_eq(eddy_learner_learn(l, &d->rows[i]), 0);
  }
  eddy_learner_free(l);
  if (hash) *hash = h;
  return correct;
}

static inline size_t prequential(const data_t *d, const char *learner, const eddy_kv_t *kv, size_t n_kv,
                          uint64_t seed) {
  return prequential_hash(d, learner, kv, n_kv, seed, NULL);
}

#define ELEC2_OR_SKIP(d, moa_order)                                                           \
  do {                                                                                        \
    if (elec2_load(&(d), (moa_order)))                                                        \
      cr_skip_test("elec2.csv not found in ../shared/datasets or $EDDY_DATASETS");            \
    cr_assert_eq((d).n, 45312);                                                               \
  } while (0)

/* n instances of a generator (abrupt drift: drift_width 1) in memory. */
static inline void generate(data_t *d, const char *gen, const eddy_kv_t *kv, size_t n_kv, size_t n,
                     uint64_t seed) {
  char err[512];
  eddy_generator_t *g = eddy_generator_new(gen, kv, n_kv, seed, err, sizeof err);
  cr_assert_not_null(g, "%s", err);
  const eddy_schema_t *gs = eddy_generator_schema(g);
  d->n = n;
  d->rows = calloc(n, sizeof *d->rows);
  for (size_t i = 0; i < n; i++) {
    eddy_instance_init(&d->rows[i], gs->n_attrs);
    cr_assert_eq(eddy_generator_next(g, &d->rows[i]), 0);
  }
  d->schema = eddy_schema_clone(gs);
  eddy_generator_free(g);
}

/* MOA 2024.07.0's prequential runs of its ensembles with their defaults (10
 * trees.HoeffdingTree members) on this machine (OpenJDK 17), measured
 * with the driver of `make compare`:
 *   python3 tools/compare/csv2arff.py ../shared/datasets/elec2.csv elec2.arff \
 *       day:1,2,3,4,5,6,7 class:UP,DOWN
 *   javac -d CLASSES -cp .cache/moa/libs/moa-2024.07.0.jar tools/compare/MoaPrequential.java
 *   java -cp .cache/moa/libs/moa-2024.07.0.jar:CLASSES MoaPrequential elec2.arff \
 *       meta.OzaBag [--seed 7] --predictions P
 * (tests/reference/moa_prequential.sh does the same for seed 1): `correct`
 * is accuracy x 45312 from its last line, `hash` is h = h * 31 + the
 * predicted index (P's first column) over the rows, computed from P. The
 * seed is MOA's randomSeed (-r, Classifier.setRandomSeed; default 1) and
 * eddy's learner seed ([pipeline] seed). */
typedef struct {
  const char *eddy, *moa;
  uint64_t seed;
  size_t correct;
  uint64_t hash;
} moa_run_t;

static inline void check_moa_runs(const data_t *d, const moa_run_t *runs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t h;
    size_t c = prequential_hash(d, runs[i].eddy, NULL, 0, runs[i].seed, &h);
    cr_log_info("%s seed %llu: eddy %zu correct (hash %016llx), MOA %s %zu (%016llx)",
                runs[i].eddy, (unsigned long long)runs[i].seed, c, (unsigned long long)h,
                runs[i].moa, runs[i].correct, (unsigned long long)runs[i].hash);
    cr_assert_eq(c, runs[i].correct, "%s seed %llu: eddy %zu correct, MOA %zu", runs[i].eddy,
                 (unsigned long long)runs[i].seed, c, runs[i].correct);
    cr_assert_eq(h, runs[i].hash, "%s seed %llu: the same count, other rows", runs[i].eddy,
                 (unsigned long long)runs[i].seed);
  }
}

#endif /* EDDY_ENSEMBLE_DATA_H */
