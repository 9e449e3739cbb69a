/* oza_bag.c: online bagging of Oza & Russell (2001) as MOA's meta.OzaBag:
 * each member learns the instance with weight k ~ Poisson(1); the
 * prediction is the sum of the members' votes, each normalised to sum 1.
 *
 * River's BaggingClassifier differs: it calls learn_one k times with weight
 * 1 instead of once with weight k, and sums the members' probabilities
 * without normalising each. For regression (which MOA's OzaBag does not
 * really support: normalising a one-value vote gives 1) the prediction is
 * the members' mean, as River's BaggingRegressor. */
#include "learners/ensembles/ensembles.h"

typedef struct {
  char base_learner[64];
  int64_t ensemble_size;
  int random;
} oza_bag_params_t;

static const eddy_option_t oza_bag_options[] = {
    EDDY_OPT_STRING_(oza_bag_params_t, "base_learner", base_learner, "hoeffding_tree",
                     "learner type of the members (a registry name); give its parameters "
                     "with a `base.` prefix, e.g. base.grace_period = 100"),
    EDDY_OPT_INT_(oza_bag_params_t, "ensemble_size", ensemble_size, "10", 1, 10000,
                  "number of members (MOA -s)"),
    EDDY_ENSEMBLE_RANDOM_OPTION(oza_bag_params_t, random),
    EDDY_OPT_END,
};

typedef struct {
  eddy_ensemble_t e;
} oza_bag_t;

static int oza_bag_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  const oza_bag_params_t *p = l->params;
  oza_bag_t *s = l->state;
  return eddy_ensemble_init(&s->e, l, p->base_learner, (size_t)p->ensemble_size, p->random,
                            errstr, errstr_size);
}

static int oza_bag_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  oza_bag_t *s = l->state;
  if (!(x->weight > 0.0)) return 0; /* MOA's trainOnInstance skips these */
  /* MOA's order: member i's draw, then its learning, for i = 0..n-1 */
  for (size_t i = 0; i < s->e.n; i++) {
    int err = eddy_ensemble_learn_member(&s->e, i, x, eddy_ensemble_poisson(&s->e, l, 1.0));
    if (err) return err;
  }
  return 0;
}

static int oza_bag_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                           size_t out_len) {
  oza_bag_t *s = l->state;
  return eddy_ensemble_bagging_predict(&s->e, l->schema, x, out, out_len);
}

static void oza_bag_reset(eddy_learner_t *l) {
  oza_bag_t *s = l->state;
  eddy_ensemble_reset(&s->e, l);
}

static int oza_bag_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const oza_bag_t *s = l->state;
  return eddy_ensemble_save(&s->e, b);
}

static int oza_bag_load(eddy_learner_t *l, eddy_reader_t *r) {
  oza_bag_t *s = l->state;
  return eddy_ensemble_load(&s->e, l, r);
}

static size_t oza_bag_memory(const eddy_learner_t *l) {
  const oza_bag_t *s = l->state;
  return sizeof *s + eddy_ensemble_memory(&s->e);
}

static void oza_bag_destroy(eddy_learner_t *l) {
  oza_bag_t *s = l->state;
  eddy_ensemble_destroy(&s->e);
}

static void oza_bag_describe(const eddy_learner_t *l, FILE *out) {
  const oza_bag_params_t *p = l->params;
  const oza_bag_t *s = l->state;
  fprintf(out, "oza_bag: %zu members of %s, %zu bytes\n", s->e.n, p->base_learner,
          eddy_learner_memory(l));
  for (size_t i = 0; i < s->e.n; i++) {
    char head[64];
    snprintf(head, sizeof head, "vote weight 1");
    eddy_ensemble_describe_member(&s->e, i, head, out);
  }
}

static int oza_bag_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const oza_bag_t *s = l->state;
  return eddy_ensemble_export(&s->e, NULL, b);
}

const eddy_learner_type_t eddy_learner_oza_bag = {
    .name = "oza_bag",
    .description = "online bagging of Oza & Russell (MOA OzaBag)",
    .tasks = EDDY_CLASSIFICATION | EDDY_REGRESSION,
    .options = oza_bag_options,
    .params_size = sizeof(oza_bag_params_t),
    .state_size = sizeof(oza_bag_t),
    .init = oza_bag_init,
    .predict = oza_bag_predict,
    .learn = oza_bag_learn,
    .reset = oza_bag_reset,
    .save = oza_bag_save,
    .load = oza_bag_load,
    .memory = oza_bag_memory,
    .destroy = oza_bag_destroy,
    .describe = oza_bag_describe,
    .export_json = oza_bag_export,
    .importance = eddy_ensemble_importance,
    .pass_prefix = EDDY_ENSEMBLE_PREFIX,
};
