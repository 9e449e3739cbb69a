/* hyperplane.c: the rotating hyperplane (Hulten, Spencer & Domingos,
 * "Mining time-changing data streams", KDD 2001), as MOA's
 * HyperplaneGenerator: d attributes uniform in [0, 1); class 1 when
 * sum_i w_i x_i >= 0.5 * sum_i w_i (the threshold normalised by the
 * weights, so that about half the space is each class), 0 otherwise; the
 * label flipped with probability `noise`. After each instance the first
 * `drift_features` weights move by sigma_i * magnitude, and each sigma_i
 * (starting at +1) reverses with probability `sigma`, as MOA's addDrift.
 * Initial weights are uniform in [0, 1).
 *
 * Difference from MOA: MOA draws the weights from the instance Random;
 * here they come from a model RNG seeded with `model_seed` (0: derived
 * from the stream's seed) so that `drift_to` can name another hyperplane.
 * The draws per instance are MOA's: d attributes, one noise draw, then
 * one reversal draw per drifting weight. */
#include <stdlib.h>

#include "internal.h"

typedef struct {
  int64_t features;
  int64_t drift_features;
  double magnitude;
  double noise;
  double sigma;
  int64_t model_seed;
} hyperplane_params_t;

typedef struct {
  double *w;
  int *dir;
} hyperplane_state_t;

static const eddy_option_t hyperplane_options[] = {
    EDDY_OPT_INT_(hyperplane_params_t, "features", features, "10", 1, 1000000,
                  "number of attributes"),
    EDDY_OPT_INT_(hyperplane_params_t, "drift_features", drift_features, "2", 0, 1000000,
                  "number of attributes whose weight drifts (at most features)"),
    EDDY_OPT_DOUBLE_(hyperplane_params_t, "magnitude", magnitude, "0", 0, 1,
                     "change of each drifting weight per instance (MOA's magChange)"),
    EDDY_OPT_DOUBLE_(hyperplane_params_t, "noise", noise, "0.05", 0, 1,
                     "probability that a label is flipped"),
    EDDY_OPT_DOUBLE_(hyperplane_params_t, "sigma", sigma, "0.1", 0, 1,
                     "probability, per instance and drifting weight, that its direction of "
                     "change reverses"),
    EDDY_OPT_INT_(hyperplane_params_t, "model_seed", model_seed, "0", 0, 9.0e15,
                  "seed of the initial weights; 0 derives it from the stream's seed"),
    EDDY_OPT_END,
};

static int hyperplane_init(eddy_generator_t *g, char *errstr, size_t errstr_size) {
  const hyperplane_params_t *p = g->params;
  hyperplane_state_t *s = g->state;
  if (p->drift_features > p->features)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "key 'drift_features': %lld is more than features (%lld)",
                       (long long)p->drift_features, (long long)p->features);
  size_t d = (size_t)p->features;
  s->w = calloc(d, sizeof *s->w);
  s->dir = calloc(d, sizeof *s->dir);
  g->schema = eddy_gen_schema(2, errstr, errstr_size);
  if (!s->w || !s->dir || !g->schema)
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  char name[32];
  for (size_t i = 0; i < d; i++) {
    snprintf(name, sizeof name, "att%zu", i + 1);
    if (eddy_gen_add_numeric(g->schema, name))
      return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  eddy_rng_t model;
  eddy_rng_seed(&model, p->model_seed ? (uint64_t)p->model_seed : eddy_seed_derive(g->seed, 3));
  for (size_t i = 0; i < d; i++) {
    s->w[i] = eddy_rng_uniform(&model);
    s->dir[i] = (int64_t)i < p->drift_features ? 1 : 0;
  }
  return 0;
}

static int hyperplane_next(eddy_generator_t *g, eddy_instance_t *out) {
  const hyperplane_params_t *p = g->params;
  hyperplane_state_t *s = g->state;
  size_t d = (size_t)p->features;
  double sum = 0.0, sum_w = 0.0;
  for (size_t i = 0; i < d; i++) {
    double x = eddy_rng_uniform(&g->rng);
    eddy_gen_num(out, i, x);
    sum += s->w[i] * x;
    sum_w += s->w[i];
  }
  unsigned c = sum >= sum_w * 0.5 ? 1 : 0;
  if (eddy_gen_chance(&g->rng, p->noise)) c = !c;
  eddy_gen_label(out, c);
  for (int64_t i = 0; i < p->drift_features; i++) {
    s->w[i] += (double)s->dir[i] * p->magnitude;
    if (eddy_gen_chance(&g->rng, p->sigma)) s->dir[i] = -s->dir[i];
  }
  return 0;
}

static void hyperplane_destroy(eddy_generator_t *g) {
  hyperplane_state_t *s = g->state;
  free(s->w);
  free(s->dir);
}

const eddy_generator_type_t eddy_generator_hyperplane = {
    .name = "hyperplane",
    .description = "rotating hyperplane (Hulten et al. 2001): weights drift by magnitude per "
                   "instance",
    .options = hyperplane_options,
    .params_size = sizeof(hyperplane_params_t),
    .state_size = sizeof(hyperplane_state_t),
    .init = hyperplane_init,
    .next = hyperplane_next,
    .destroy = hyperplane_destroy,
    .concept_key = "model_seed",
};
