/* oza_boost.c: online boosting of Oza & Russell (2001) exactly as MOA's
 * meta.OzaBoost: each member learns the instance with weight k ~
 * Poisson(lambda) (or weight lambda with pure_boost), lambda starting at 1
 * and rescaled after each member from its weighted error; members vote
 * with weight log(1/beta), beta = e/(1-e).
 *
 * River's AdaBoostClassifier differs (and so would its numbers): it calls
 * learn_one k times with weight 1 instead of once with weight k; it
 * rescales lambda by (scm_i + swm_i) / (2 scm_i) -- the member's own
 * lambda-weighted total -- where MOA uses the ensemble's training weight
 * N; it gives members with e == 0 or e > 0.5 weight 1 instead of dropping
 * them, does not stop at the first such member, and sums the members'
 * probabilities without normalising each. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"

typedef struct {
  char base_learner[64];
  int64_t ensemble_size;
  int pure_boost;
  int random;
} oza_boost_params_t;

static const eddy_option_t oza_boost_options[] = {
    EDDY_OPT_STRING_(oza_boost_params_t, "base_learner", base_learner, "hoeffding_tree",
                     "learner type of the members (a registry name); give its parameters "
                     "with a `base.` prefix, e.g. base.grace_period = 100"),
    EDDY_OPT_INT_(oza_boost_params_t, "ensemble_size", ensemble_size, "10", 1, 10000,
                  "number of members (MOA -s)"),
    EDDY_OPT_BOOL_(oza_boost_params_t, "pure_boost", pure_boost, "false",
                   "boost with weights only: each member learns with weight lambda instead of "
                   "a Poisson(lambda) draw (MOA -p)"),
    EDDY_ENSEMBLE_RANDOM_OPTION(oza_boost_params_t, random),
    EDDY_OPT_END,
};

typedef struct {
  eddy_ensemble_t e;
  double *scms; /* lambda-weight of instances member i classified correctly */
  double *swms; /* ... and wrongly */
  double seen;  /* training weight seen (MOA's trainingWeightSeenByModel) */
} oza_boost_t;

/* MOA's getEnsembleMemberWeight: 0 for members with no error or one over
 * 0.5 (and, as MOA's NaN comparisons give, for members not yet scored). */
static double member_weight(const oza_boost_t *s, size_t i) {
  double total = s->scms[i] + s->swms[i];
  if (!(total > 0.0)) return 0.0;
  double em = s->swms[i] / total;
  if (em == 0.0 || em > 0.5) return 0.0;
  double bm = em / (1.0 - em);
  return log(1.0 / bm);
}

static int oza_boost_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  const oza_boost_params_t *p = l->params;
  oza_boost_t *s = l->state;
  size_t n = (size_t)p->ensemble_size;
  s->scms = calloc(n, sizeof *s->scms);
  s->swms = calloc(n, sizeof *s->swms);
  if (!s->scms || !s->swms) {
    free(s->scms);
    free(s->swms);
    s->scms = s->swms = NULL;
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  int err = eddy_ensemble_init(&s->e, l, p->base_learner, n, p->random, errstr, errstr_size);
  if (err) {
    free(s->scms);
    free(s->swms);
    s->scms = s->swms = NULL;
  }
  return err;
}

static int oza_boost_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  const oza_boost_params_t *p = l->params;
  oza_boost_t *s = l->state;
  if (!(x->weight > 0.0)) return 0; /* MOA's trainOnInstance skips these */
  s->seen += x->weight;
  eddy_ensemble_begin_learn(&s->e, x);
  double lambda = 1.0;
  for (size_t i = 0; i < s->e.n; i++) {
    double k = p->pure_boost ? lambda : (double)eddy_ensemble_poisson(&s->e, l, lambda);
    int err = eddy_ensemble_learn_member(&s->e, i, x, k);
    if (err) return err;
    int ok = eddy_ensemble_correct(&s->e, i, x);
    if (ok < 0) return ok;
    /* The ensemble's N, not the member's: MOA's trainingWeightSeenByModel. */
    if (ok) {
      s->scms[i] += lambda;
      lambda *= s->seen / (2.0 * s->scms[i]);
    } else {
      s->swms[i] += lambda;
      lambda *= s->seen / (2.0 * s->swms[i]);
    }
  }
  return 0;
}

static int oza_boost_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                             size_t out_len) {
  oza_boost_t *s = l->state;
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  memset(out, 0, k * sizeof *out);
  eddy_ensemble_begin_predict(&s->e, x);
  for (size_t i = 0; i < s->e.n; i++) {
    double w = member_weight(s, i);
    if (!(w > 0.0)) break; /* as MOA: the first excluded member ends the vote */
    int err = eddy_ensemble_add_vote(&s->e, i, x, w, out, k);
    if (err) return err;
  }
  eddy_ensemble_finish_vote(out, k);
  return (int)k;
}

static void oza_boost_reset(eddy_learner_t *l) {
  oza_boost_t *s = l->state;
  eddy_ensemble_reset(&s->e, l);
  memset(s->scms, 0, s->e.n * sizeof *s->scms);
  memset(s->swms, 0, s->e.n * sizeof *s->swms);
  s->seen = 0;
}

static int oza_boost_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const oza_boost_t *s = l->state;
  eddy_buf_put_f64(b, s->seen);
  eddy_buf_put_u64(b, s->e.n);
  eddy_buf_put_f64s(b, s->scms, s->e.n);
  eddy_buf_put_f64s(b, s->swms, s->e.n);
  return eddy_ensemble_save(&s->e, b);
}

static int oza_boost_load(eddy_learner_t *l, eddy_reader_t *r) {
  oza_boost_t *s = l->state;
  s->seen = eddy_read_f64(r);
  if (eddy_read_u64(r) != s->e.n) return r->err ? r->err : EDDY_ECORRUPT;
  eddy_read_f64s(r, s->scms, s->e.n);
  eddy_read_f64s(r, s->swms, s->e.n);
  if (r->err) return r->err;
  /* Sums of weights (>= 0): anything else would steer lambda and the vote
   * weights anywhere. */
  if (!(s->seen >= 0)) return EDDY_ECORRUPT;
  for (size_t i = 0; i < s->e.n; i++)
    if (!(s->scms[i] >= 0) || !(s->swms[i] >= 0)) return EDDY_ECORRUPT;
  return eddy_ensemble_load(&s->e, l, r);
}

static size_t oza_boost_memory(const eddy_learner_t *l) {
  const oza_boost_t *s = l->state;
  return sizeof *s + 2 * s->e.n * sizeof(double) + eddy_ensemble_memory(&s->e);
}

static void oza_boost_destroy(eddy_learner_t *l) {
  oza_boost_t *s = l->state;
  eddy_ensemble_destroy(&s->e);
  free(s->scms);
  free(s->swms);
}

static void oza_boost_describe(const eddy_learner_t *l, FILE *out) {
  const oza_boost_params_t *p = l->params;
  const oza_boost_t *s = l->state;
  fprintf(out, "oza_boost: %zu members of %s%s, training weight %.17g, %zu bytes\n", s->e.n,
          p->base_learner, p->pure_boost ? " (pure boost)" : "", s->seen,
          eddy_learner_memory(l));
  for (size_t i = 0; i < s->e.n; i++) {
    double total = s->scms[i] + s->swms[i];
    char head[256];
    snprintf(head, sizeof head, "vote weight %.6g, error %.6g (scm %.6g, swm %.6g)",
             member_weight(s, i), total > 0 ? s->swms[i] / total : 0.0, s->scms[i], s->swms[i]);
    eddy_ensemble_describe_member(&s->e, i, head, out);
  }
}

/* Members with their vote weights log(1/beta) (0: excluded). */
static int oza_boost_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const oza_boost_t *s = l->state;
  double *w = calloc(s->e.n ? s->e.n : 1, sizeof *w);
  if (!w) return EDDY_ENOMEM;
  for (size_t i = 0; i < s->e.n; i++) w[i] = member_weight(s, i);
  int err = eddy_ensemble_export(&s->e, w, b);
  free(w);
  return err;
}

const eddy_learner_type_t eddy_learner_oza_boost = {
    .name = "oza_boost",
    .description = "online boosting of Oza & Russell (MOA OzaBoost)",
    .tasks = EDDY_CLASSIFICATION,
    .options = oza_boost_options,
    .params_size = sizeof(oza_boost_params_t),
    .state_size = sizeof(oza_boost_t),
    .init = oza_boost_init,
    .predict = oza_boost_predict,
    .learn = oza_boost_learn,
    .reset = oza_boost_reset,
    .save = oza_boost_save,
    .load = oza_boost_load,
    .memory = oza_boost_memory,
    .destroy = oza_boost_destroy,
    .describe = oza_boost_describe,
    .export_json = oza_boost_export,
    .importance = eddy_ensemble_importance,
    .pass_prefix = EDDY_ENSEMBLE_PREFIX,
};

int eddy_oza_boost_member(const eddy_learner_t *l, size_t i, double *scm, double *swm,
                          double *vote_weight) {
  if (!l || l->type != &eddy_learner_oza_boost) return EDDY_EINVAL;
  const oza_boost_t *s = l->state;
  if (i >= s->e.n) return EDDY_EINVAL;
  if (scm) *scm = s->scms[i];
  if (swm) *swm = s->swms[i];
  if (vote_weight) *vote_weight = member_weight(s, i);
  return 0;
}
