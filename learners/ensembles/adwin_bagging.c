/* adwin_bagging.c: ADWIN bagging (Bifet et al., KDD 2009) as MOA
 * 2024.07.0's meta.OzaBagAdwin: online bagging (each member learns with
 * weight k ~ Poisson(1)) plus one ADWIN per member on its 0/1 error after
 * learning; when any member's ADWIN cuts its window and its error estimate
 * went up, the member with the highest error estimate is reset and gets a
 * fresh ADWIN (with MOA's 32-bit arithmetic: `adwin_arithmetic`). The new
 * member starts empty: it does not learn the current instance (MOA's
 * released jars, 2016.04 to 2024.07.0, do not train it; MOA's later
 * sources add `ensemble[imax].trainOnInstance(inst)`).
 *
 * River's ADWINBaggingClassifier differs: it feeds its ADWINs 1 for a
 * correct prediction (not an error), so "estimate went up" means accuracy
 * went up and the member replaced is the most accurate one; members learn
 * k times with weight 1 and their probabilities are summed without
 * normalising each. */
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"

typedef struct {
  char base_learner[64];
  int64_t ensemble_size;
  double adwin_delta;
  int adwin_arithmetic;
  int random;
} adwin_bagging_params_t;


static const eddy_option_t adwin_bagging_options[] = {
    EDDY_OPT_STRING_(adwin_bagging_params_t, "base_learner", base_learner, "hoeffding_tree",
                     "learner type of the members (a registry name); give its parameters "
                     "with a `base.` prefix, e.g. base.grace_period = 100"),
    EDDY_OPT_INT_(adwin_bagging_params_t, "ensemble_size", ensemble_size, "10", 1, 10000,
                  "number of members (MOA -s)"),
    EDDY_OPT_DOUBLE_(adwin_bagging_params_t, "adwin_delta", adwin_delta, "0.002", 1e-12, 1,
                     "confidence of each member's ADWIN on its error (MOA: 0.002, fixed)"),
    EDDY_OPT_ENUM_(adwin_bagging_params_t, "adwin_arithmetic", adwin_arithmetic, "moa",
                   eddy__adwin_arithmetic_names,
                   "moa: the members' ADWINs multiply bucket sizes as MOA's ADWIN.java does, in "
                   "32-bit ints that overflow on windows over ~130,000 values and change its "
                   "variance, so they cut (and members are replaced) where MOA's do; exact: in "
                   "doubles, as the adwin detector does"),
    EDDY_ENSEMBLE_RANDOM_OPTION(adwin_bagging_params_t, random),
    EDDY_OPT_END,
};

typedef struct {
  eddy_ensemble_t e;
  eddy_adwin_t **adwins; /* one per member, on its 0/1 error */
  uint64_t replacements;
} adwin_bagging_t;

static void free_adwins(adwin_bagging_t *s, size_t n) {
  eddy__member_adwins_free(s->adwins, n);
  s->adwins = NULL;
}

static int adwin_bagging_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  const adwin_bagging_params_t *p = l->params;
  adwin_bagging_t *s = l->state;
  size_t n = (size_t)p->ensemble_size;
  s->adwins = eddy__member_adwins_new(n, p->adwin_delta, p->adwin_arithmetic == EDDY__ADWIN_MOA);
  int err = s->adwins ? 0 : EDDY_ENOMEM;
  if (err) {
    free_adwins(s, n);
    return eddy_seterr(errstr, errstr_size, err, "out of memory");
  }
  err = eddy_ensemble_init(&s->e, l, p->base_learner, n, p->random, errstr, errstr_size);
  if (err) free_adwins(s, n);
  return err;
}

static int adwin_bagging_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  adwin_bagging_t *s = l->state;
  if (!(x->weight > 0.0)) return 0; /* MOA's trainOnInstance skips these */
  eddy_ensemble_begin_learn(&s->e, x);
  int change = 0;
  for (size_t i = 0; i < s->e.n; i++) {
    int err = eddy_ensemble_learn_member(&s->e, i, x, eddy_ensemble_poisson(&s->e, l, 1.0));
    if (err) return err;
    int ok = eddy_ensemble_correct(&s->e, i, x);
    if (ok < 0) return ok;
    if (eddy__member_adwin_change(s->adwins[i], ok ? 0.0 : 1.0)) change = 1;
  }
  if (!change) return 0;
  size_t imax = eddy__member_adwins_worst(s->adwins, s->e.n);
  if (imax == s->e.n) return 0;
  eddy_ensemble_reset_member(&s->e, imax);
  eddy_adwin_reset(s->adwins[imax]); /* MOA: new ADWIN(), delta 0.002 */
  s->replacements++;
  return 0;
}

static int adwin_bagging_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                                 size_t out_len) {
  adwin_bagging_t *s = l->state;
  return eddy_ensemble_bagging_predict(&s->e, l->schema, x, out, out_len);
}

static void adwin_bagging_reset(eddy_learner_t *l) {
  adwin_bagging_t *s = l->state;
  eddy_ensemble_reset(&s->e, l);
  eddy__member_adwins_reset(s->adwins, s->e.n);
  s->replacements = 0;
}

static int adwin_bagging_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const adwin_bagging_t *s = l->state;
  eddy_buf_put_u64(b, s->replacements);
  eddy__member_adwins_save(s->adwins, s->e.n, b);
  return eddy_ensemble_save(&s->e, b);
}

static int adwin_bagging_load(eddy_learner_t *l, eddy_reader_t *r) {
  const adwin_bagging_params_t *p = l->params;
  adwin_bagging_t *s = l->state;
  s->replacements = eddy_read_u64(r);
  int err = eddy__member_adwins_load(s->adwins, s->e.n, p->adwin_arithmetic == EDDY__ADWIN_MOA, r);
  if (err) return err;
  return eddy_ensemble_load(&s->e, l, r);
}

static size_t adwin_bagging_memory(const eddy_learner_t *l) {
  const adwin_bagging_t *s = l->state;
  size_t m = sizeof *s + eddy__member_adwins_memory(s->adwins, s->e.n) +
             eddy_ensemble_memory(&s->e);
  return m;
}

static void adwin_bagging_destroy(eddy_learner_t *l) {
  adwin_bagging_t *s = l->state;
  free_adwins(s, s->e.n);
  eddy_ensemble_destroy(&s->e);
}

static void adwin_bagging_describe(const eddy_learner_t *l, FILE *out) {
  const adwin_bagging_params_t *p = l->params;
  const adwin_bagging_t *s = l->state;
  fprintf(out, "adwin_bagging: %zu members of %s, %llu replaced on drift, %zu bytes\n", s->e.n,
          p->base_learner, (unsigned long long)s->replacements, eddy_learner_memory(l));
  for (size_t i = 0; i < s->e.n; i++) {
    char head[128];
    snprintf(head, sizeof head, "vote weight 1, error estimate %.6g over %llu instances",
             eddy_adwin_estimation(s->adwins[i]),
             (unsigned long long)eddy_adwin_width(s->adwins[i]));
    eddy_ensemble_describe_member(&s->e, i, head, out);
  }
}

static int adwin_bagging_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const adwin_bagging_t *s = l->state;
  return eddy_ensemble_export(&s->e, NULL, b);
}

const eddy_learner_type_t eddy_learner_adwin_bagging = {
    .name = "adwin_bagging",
    .description = "online bagging with an ADWIN per member, the worst replaced on drift "
                   "(MOA OzaBagAdwin)",
    .tasks = EDDY_CLASSIFICATION,
    .options = adwin_bagging_options,
    .params_size = sizeof(adwin_bagging_params_t),
    .state_size = sizeof(adwin_bagging_t),
    .init = adwin_bagging_init,
    .predict = adwin_bagging_predict,
    .learn = adwin_bagging_learn,
    .reset = adwin_bagging_reset,
    .save = adwin_bagging_save,
    .load = adwin_bagging_load,
    .memory = adwin_bagging_memory,
    .destroy = adwin_bagging_destroy,
    .describe = adwin_bagging_describe,
    .export_json = adwin_bagging_export,
    .importance = eddy_ensemble_importance,
    .pass_prefix = EDDY_ENSEMBLE_PREFIX,
};

uint64_t eddy_adwin_bagging_replacements(const eddy_learner_t *l) {
  if (!l || l->type != &eddy_learner_adwin_bagging) return 0;
  return ((const adwin_bagging_t *)l->state)->replacements;
}
