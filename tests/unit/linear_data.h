/* linear_data.h: seeded data for the linear-model suites (test_linear*.c):
 * in-memory datasets, and SEA, rotating-hyperplane (static) and Agrawal
 * streams built with eddy_rng after MOA's / River's definitions (the `gen`
 * branch's generators had not landed when these suites were written). */
#ifndef EDDY_TEST_LINEAR_DATA_H
#define EDDY_TEST_LINEAR_DATA_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* SEA (Street & Kim 2001; MOA's SEAGenerator): 3 attributes uniform in
 * [0, 10), class 1 when x0 + x1 <= threshold (8, 9, 7, 9.5 for functions
 * 1-4), then the label flipped with probability noise (MOA: 10%). */
static inline void gen_sea(data_t *D, size_t n, int function, double noise, uint64_t seed) {
  static const double th[] = {8, 9, 7, 9.5};
  data_alloc(D, n, 3);
  D->schema = make_schema(3, NULL, 2);
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) {
    double *x = D->x + 3 * i;
    for (int j = 0; j < 3; j++) x[j] = 10 * eddy_rng_uniform(&r);
    int c = x[0] + x[1] <= th[function - 1];
    if (eddy_rng_uniform(&r) < noise) c = !c;
    D->y[i] = c;
  }
}

/* Hyperplane (Hulten et al. 2001; MOA's HyperplaneGenerator without
 * drift): d attributes uniform in [0, 1), weights uniform in [0, 1), class
 * 1 when sum w_i x_i >= sum w_i / 2, label noise (MOA: 5%). */
static inline void gen_hyperplane(data_t *D, size_t n, size_t d, double noise, uint64_t seed) {
  data_alloc(D, n, d);
  D->schema = make_schema(d, NULL, 2);
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  double w[64], half = 0;
  for (size_t j = 0; j < d; j++) half += (w[j] = eddy_rng_uniform(&r)) / 2;
  for (size_t i = 0; i < n; i++) {
    double *x = D->x + d * i, s = 0;
    for (size_t j = 0; j < d; j++) s += w[j] * (x[j] = eddy_rng_uniform(&r));
    int c = s >= half;
    if (eddy_rng_uniform(&r) < noise) c = !c;
    D->y[i] = c;
  }
}

/* Agrawal et al. (1993), as MOA's AgrawalGenerator / River's Agrawal:
 * salary, commission, age, elevel (nominal, 5), car (nominal, 20), zipcode
 * (nominal, 9), hvalue, hyears, loan; perturbation 5%. function is MOA's
 * numbering (1-10); only the ones used here: 7, 8, 9 (the "disposable
 * income" rules, linear in the attributes, elevel one-hot). */
static inline int agrawal_class(int f, double salary, double commission, int elevel, double hvalue,
                                int hyears, double loan) {
  double disposable;
  if (f == 7) {
    disposable = 2 * (salary + commission) / 3 - loan / 5 - 20000;
  } else if (f == 8) {
    disposable = 2 * (salary + commission) / 3 - 5000 * elevel - 20000;
  } else {
    disposable = 2 * (salary + commission) / 3 - 5000 * elevel - loan / 5 - 10000;
  }
  (void)hvalue;
  (void)hyears;
  return disposable > 1 ? 0 : 1;
}

static inline double agrawal_perturb(eddy_rng_t *r, double v, double lo, double hi, double range,
                                     double p) {
  v += range * (2 * (eddy_rng_uniform(r) - 0.5)) * p;
  return v < lo ? lo : v > hi ? hi : v;
}

static inline void gen_agrawal(data_t *D, size_t n, int function, double perturbation,
                               uint64_t seed) {
  data_alloc(D, n, 9);
  D->schema = make_schema(9, "nnncccnnn", 2); /* elevel, car, zipcode nominal */
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  for (size_t i = 0; i < n; i++) {
    double salary = 20000 + 130000 * eddy_rng_uniform(&r);
    double commission = salary >= 75000 ? 0 : 10000 + 75000 * eddy_rng_uniform(&r);
    double age = 20 + (double)eddy_rng_below(&r, 61);
    int elevel = (int)eddy_rng_below(&r, 5);
    int car = 1 + (int)eddy_rng_below(&r, 20);
    int zipcode = (int)eddy_rng_below(&r, 9);
    double hvalue = (9 - zipcode) * 100000 * (0.5 + eddy_rng_uniform(&r));
    int hyears = 1 + (int)eddy_rng_below(&r, 30);
    double loan = eddy_rng_uniform(&r) * 500000;
    D->y[i] = agrawal_class(function, salary, commission, elevel, hvalue, hyears, loan);
    double p = perturbation;
    if (p > 0) {
      salary = agrawal_perturb(&r, salary, 20000, 150000, 130000, p);
      if (commission > 0) commission = agrawal_perturb(&r, commission, 10000, 75000, 65000, p);
      age = round(agrawal_perturb(&r, age, 20, 80, 60, p));
      hvalue = agrawal_perturb(&r, hvalue, (9 - zipcode) * 100000, 0, 135000, p);
      hyears = (int)round(agrawal_perturb(&r, hyears, 1, 30, 29, p));
      loan = agrawal_perturb(&r, loan, 0, 500000, 500000, p);
    }
    double *x = D->x + 9 * i;
    /* attribute order: salary commission age | elevel car zipcode | hvalue hyears loan */
    x[0] = salary;
    x[1] = commission;
    x[2] = age;
    data_nominal(D, i, 3, (unsigned)elevel);
    data_nominal(D, i, 4, (unsigned)car);
    data_nominal(D, i, 5, (unsigned)zipcode);
    x[6] = hvalue;
    x[7] = hyears;
    x[8] = loan;
  }
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
