/* rbf.c: random radial basis functions with moving centroids, as MOA's
 * RandomRBFGeneratorDrift (over RandomRBFGenerator). The model: `centroids`
 * centres uniform in [0, 1)^d, each with a class uniform in 0..k-1, a
 * standard deviation uniform in [0, 1) and a weight uniform in [0, 1)
 * (drawn in that order, centroid by centroid, from the model RNG). The
 * first `drift_centroids` centroids move: each has a speed vector of d
 * uniform [0, 1) values normalised to length 1, drawn from the model RNG
 * seeded afresh (as MOA does, so the speeds repeat the first centres'
 * draws); before each instance every coordinate moves by speed * `speed`
 * and bounces off 0 and 1 (clamped, its speed reversed). An instance: a
 * centroid chosen with probability proportional to its weight (MOA's
 * chooseRandomIndexBasedOnWeights), a direction of d values uniform in
 * [-1, 1), and a length N(0, 1) * the centroid's standard deviation; its
 * class is the centroid's. Defaults are MOA's (speed 0: no movement).
 *
 * Difference from MOA: MOA's modelRandomSeed is 1 unless set; here
 * `model_seed` 0 derives it from the stream's seed, so `--seed` alone
 * changes the model too. Per instance the draws are MOA's: the centroid,
 * d direction values, one Gaussian (the polar method, as Java's). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
  int64_t features;
  int64_t classes;
  int64_t centroids;
  int64_t drift_centroids;
  double speed;
  int64_t model_seed;
} rbf_params_t;

typedef struct {
  size_t d, k, n_moving;
  double *centre; /* k x d */
  double *velocity; /* n_moving x d */
  double *sd;
  double *cum_weight; /* prefix sums of the weights, in MOA's summing order */
  unsigned *label;
  double *dir; /* scratch: one direction */
} rbf_state_t;

static const eddy_option_t rbf_options[] = {
    EDDY_OPT_INT_(rbf_params_t, "features", features, "10", 1, 1000000, "number of attributes"),
    EDDY_OPT_INT_(rbf_params_t, "classes", classes, "2", 2, 100000, "number of classes"),
    EDDY_OPT_INT_(rbf_params_t, "centroids", centroids, "50", 1, 10000000,
                  "number of centroids in the model"),
    EDDY_OPT_INT_(rbf_params_t, "drift_centroids", drift_centroids, "50", 0, 10000000,
                  "number of centroids that move (at most centroids)"),
    EDDY_OPT_DOUBLE_(rbf_params_t, "speed", speed, "0", 0, 1e300,
                     "distance a moving centroid travels per instance (MOA's speedChange)"),
    EDDY_OPT_INT_(rbf_params_t, "model_seed", model_seed, "0", 0, 9.0e15,
                  "seed of the centroids; 0 derives it from the stream's seed"),
    EDDY_OPT_END,
};

static int rbf_init(eddy_generator_t *g, char *errstr, size_t errstr_size) {
  const rbf_params_t *p = g->params;
  rbf_state_t *s = g->state;
  size_t d = s->d = (size_t)p->features;
  size_t k = s->k = (size_t)p->centroids;
  s->n_moving = p->drift_centroids < p->centroids ? (size_t)p->drift_centroids : k;
  s->centre = calloc(k * d, sizeof *s->centre);
  s->velocity = calloc(s->n_moving * d + 1, sizeof *s->velocity);
  s->sd = calloc(k, sizeof *s->sd);
  s->cum_weight = calloc(k, sizeof *s->cum_weight);
  s->label = calloc(k, sizeof *s->label);
  s->dir = calloc(d, sizeof *s->dir);
  g->schema = eddy_gen_schema((uint32_t)p->classes, errstr, errstr_size);
  if (!s->centre || !s->velocity || !s->sd || !s->cum_weight || !s->label || !s->dir ||
      !g->schema)
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  char name[32];
  for (size_t i = 0; i < d; i++) {
    snprintf(name, sizeof name, "att%zu", i + 1);
    if (eddy_gen_add_numeric(g->schema, name))
      return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  uint64_t seed = p->model_seed ? (uint64_t)p->model_seed : eddy_seed_derive(g->seed, 3);
  eddy_rng_t model;
  eddy_rng_seed(&model, seed);
  double sum = 0.0;
  for (size_t c = 0; c < k; c++) {
    for (size_t j = 0; j < d; j++) s->centre[c * d + j] = eddy_rng_uniform(&model);
    s->label[c] = (unsigned)eddy_rng_below(&model, (uint64_t)p->classes);
    s->sd[c] = eddy_rng_uniform(&model);
    sum += eddy_rng_uniform(&model);
    s->cum_weight[c] = sum;
  }
  eddy_rng_seed(&model, seed); /* MOA: a new Random(modelRandomSeed) for the speeds */
  for (size_t c = 0; c < s->n_moving; c++) {
    double *v = s->velocity + c * d, norm = 0.0;
    for (size_t j = 0; j < d; j++) {
      v[j] = eddy_rng_uniform(&model);
      norm += v[j] * v[j];
    }
    norm = sqrt(norm);
    for (size_t j = 0; j < d; j++) v[j] /= norm;
  }
  return 0;
}

/* The first index whose running weight sum exceeds u * total (the last
 * when none does), as MOA's linear scan, by bisection. */
static size_t choose(const rbf_state_t *s, double u) {
  double val = u * s->cum_weight[s->k - 1];
  size_t lo = 0, hi = s->k - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->cum_weight[mid] > val)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

static int rbf_next(eddy_generator_t *g, eddy_instance_t *out) {
  const rbf_params_t *p = g->params;
  rbf_state_t *s = g->state;
  size_t d = s->d;
  if (p->speed > 0.0) { /* with speed 0 MOA's update changes nothing */
    for (size_t c = 0; c < s->n_moving; c++) {
      double *x = s->centre + c * d, *v = s->velocity + c * d;
      for (size_t j = 0; j < d; j++) {
        x[j] += v[j] * p->speed;
        if (x[j] > 1) {
          x[j] = 1;
          v[j] = -v[j];
        }
        if (x[j] < 0) {
          x[j] = 0;
          v[j] = -v[j];
        }
      }
    }
  }
  size_t c = choose(s, eddy_rng_uniform(&g->rng));
  double mag = 0.0;
  for (size_t j = 0; j < d; j++) {
    s->dir[j] = eddy_rng_uniform(&g->rng) * 2.0 - 1.0;
    mag += s->dir[j] * s->dir[j];
  }
  mag = sqrt(mag);
  double scale = eddy_rng_gauss(&g->rng) * s->sd[c] / mag;
  const double *x = s->centre + c * d;
  for (size_t j = 0; j < d; j++) eddy_gen_num(out, j, x[j] + s->dir[j] * scale);
  eddy_gen_label(out, s->label[c]);
  return 0;
}

static void rbf_destroy(eddy_generator_t *g) {
  rbf_state_t *s = g->state;
  free(s->centre);
  free(s->velocity);
  free(s->sd);
  free(s->cum_weight);
  free(s->label);
  free(s->dir);
}

const eddy_generator_type_t eddy_generator_rbf = {
    .name = "rbf",
    .description = "random radial basis functions with moving centroids (MOA's "
                   "RandomRBFGeneratorDrift)",
    .options = rbf_options,
    .params_size = sizeof(rbf_params_t),
    .state_size = sizeof(rbf_state_t),
    .init = rbf_init,
    .next = rbf_next,
    .destroy = rbf_destroy,
    .concept_key = "model_seed",
};
