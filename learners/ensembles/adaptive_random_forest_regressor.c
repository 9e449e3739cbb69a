/* adaptive_random_forest_regressor.c: Adaptive Random Forest for
 * regression (Gomes, Barddal, Ferreira & Bifet, ESANN 2018) as MOA
 * 2024.07.0's meta.AdaptiveRandomForestRegressor, single thread: regression
 * trees whose leaves each consider a random subset of the attributes for
 * their splits (the tree of hoeffding_tree_regressor.c with
 * eddy__htr_params_t.subspace_size, in place of MOA's ARFFIMTDD), online
 * bagging with Poisson(lambda = 6) weights, per tree an ADWIN warning
 * detector that starts a background tree and an ADWIN drift detector that
 * replaces the tree by it, and the prediction the members' mean. Draws are
 * MOA's: the Poisson weights from a java.util.Random seeded with the seed,
 * each tree's subspaces from its own java.util.Random(1).
 *
 * MOA's detectors read each tree's prediction after it learned (not its
 * error): `detector_input = prediction` keeps that, `error` feeds them the
 * absolute error instead. The trees differ from MOA's ARFFIMTDD (see
 * hoeffding_tree_regressor.c: histogram observers, nominal attributes
 * split on too), so the predictions are near MOA's, not equal. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"
#include "learners/trees/trees.h"

enum { INPUT_PREDICTION = 0, INPUT_ERROR = 1 };
static const char *const input_names[] = {"prediction", "error", NULL};

typedef struct {
  eddy__htr_params_t tree; /* the members' tree parameters (MOA's -l ARFFIMTDD) */
  int64_t ensemble_size;
  int features_mode;
  int64_t features_per_tree;
  double lambda;
  double drift_delta, warning_delta;
  int drift_detection, background_learner;
  int detector_input;
  int adwin_arithmetic;
  int random;
} arfr_params_t;

static const eddy_option_t arfr_options[] = {
    EDDY__ARF_OPTIONS(arfr_params_t),
    EDDY__ARF_DRIFT_OPTIONS(arfr_params_t),
    EDDY_OPT_ENUM_(arfr_params_t, "detector_input", detector_input, "prediction", input_names,
                   "what each tree's detectors read after it learned: prediction (its "
                   "prediction for the instance, as MOA 2024.07 does) or error (its absolute "
                   "error)"),
    EDDY_ENSEMBLE_RANDOM_OPTION(arfr_params_t, random),
    /* the trees: MOA's default -l is ARFFIMTDD -s VarianceReductionSplitCriterion -g 50 -c 0.01 */
    EDDY_OPT_INT_(arfr_params_t, "grace_period", tree.grace_period, "50", 1, 1e9,
                  "weight a leaf observes between split attempts (tree -g)"),
    EDDY_OPT_DOUBLE_(arfr_params_t, "split_confidence", tree.split_confidence, "0.01", 1e-300, 1,
                     "delta of the Hoeffding bound (tree -c)"),
    EDDY_OPT_ENUM_(arfr_params_t, "leaf_prediction", tree.leaf_prediction, "mean",
                   eddy__htr_leaf_preds,
                   "mean (MOA's ARFFIMTDD leaves predict the target mean), model (linear) or "
                   "adaptive (the one with the lower faded error)"),
    EDDY_OPT_INT_(arfr_params_t, "max_byte_size", tree.max_byte_size, "33554432", 1024, 1e15,
                  "memory limit of each tree; its deepest leaves are deactivated"),
    EDDY__HTR_OPTIONS(arfr_params_t, tree.),
    EDDY_OPT_END,
};

/* MOA's ARFFIMTDDBaseLearner: the tree, its background tree (initialised
 * always; in use while has_bkg), the detectors and the evaluator (here the
 * sum of squared errors over the predictions: MOA keeps it but does not
 * weight the mean by it). */
typedef struct {
  eddy__htr_tree_t tree, bkg;
  int has_bkg;
  eddy__forest_watch_t w;
  uint64_t created_on;
} arfr_member_t;

typedef struct {
  arfr_member_t *m;
  size_t n;
  eddy_jrandom_t jr; /* MOA's classifierRandom of the forest */
  uint64_t seen;     /* MOA's instancesSeen */
} arfr_t;

static void arfr_destroy(eddy_learner_t *l) {
  arfr_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    eddy__htr_tree_free(&s->m[i].tree);
    eddy__htr_tree_free(&s->m[i].bkg);
    eddy__forest_watch_free(&s->m[i].w);
  }
  free(s->m);
  memset(s, 0, sizeof *s);
}

static int arfr_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  arfr_params_t *p = l->params;
  arfr_t *s = l->state;
  /* MOA's ARFFIMTDD draws its subspace even when it holds every attribute */
  p->tree.subspace_size =
      eddy__forest_subspace_size(p->features_mode, p->features_per_tree, l->schema->n_attrs);
  size_t n = (size_t)p->ensemble_size;
  eddy_jrandom_seed(&s->jr, (int64_t)l->seed);
  if (!(s->m = calloc(n, sizeof *s->m)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    arfr_member_t *m = &s->m[i];
    s->n = i + 1;
    err = eddy__htr_tree_init(&m->tree, l->schema, &p->tree);
    if (!err) err = eddy__htr_tree_init(&m->bkg, l->schema, &p->tree);
    if (!err)
      err = eddy__forest_watch_init(&m->w, p->drift_delta, p->warning_delta,
                                    p->adwin_arithmetic == EDDY__ADWIN_MOA);
    if (!err) {
      eddy__htr_tree_seed_subspace(&m->tree, eddy__forest_tree_seed(p->random, l->seed, i));
      eddy__htr_tree_seed_subspace(&m->bkg, eddy__forest_tree_seed(p->random, l->seed, i));
    }
  }
  if (err) {
    arfr_destroy(l);
    return eddy_seterr(errstr, errstr_size, err, "adaptive_random_forest_regressor: out of memory");
  }
  return 0;
}

/* MOA's ARFFIMTDDBaseLearner.trainOnInstance(instance, k, instancesSeen);
 * on drift its reset: the background tree takes over with its fresh
 * detectors, or (none) the tree starts over (the warning detector then
 * goes on). */
static int member_train(const arfr_params_t *p, arfr_member_t *m, const eddy_instance_t *x,
                        int k, uint64_t seen) {
  eddy_instance_t w = *x; /* shares the arrays: only the weight differs */
  w.weight = x->weight * k;
  int err = eddy__htr_tree_learn(&m->tree, &w);
  if (!err && m->has_bkg) err = eddy__htr_tree_learn(&m->bkg, x);
  if (err || !p->drift_detection) return err;
  double v = eddy__htr_tree_predict(&m->tree, x);
  if (p->detector_input == INPUT_ERROR) v = fabs(x->y - v);
  int fired = eddy__forest_watch_input(&m->w, v, p->background_learner);
  if ((fired & EDDY__FOREST_WARNING) && (err = eddy__htr_tree_reset(&m->bkg))) return err;
  if (fired & EDDY__FOREST_WARNING) m->has_bkg = 1; /* MOA: a copy of the tree, reset */
  if (fired & EDDY__FOREST_DRIFT) {
    int swap = p->background_learner && m->has_bkg;
    if (swap) {
      eddy__htr_tree_t old = m->tree;
      m->tree = m->bkg;
      m->bkg = old;
      m->has_bkg = 0;
      err = eddy__htr_tree_reset(&m->bkg);
    } else {
      err = eddy__htr_tree_reset(&m->tree);
      m->created_on = seen;
    }
    eddy__forest_watch_drifted(&m->w, swap);
  }
  return err;
}

static int arfr_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  const arfr_params_t *p = l->params;
  arfr_t *s = l->state;
  /* MOA's trainOnInstance skips weight 0; a target that is not a number
   * teaches nothing */
  if (!(x->weight > 0.0) || !x->has_y || !isfinite(x->y)) return 0;
  s->seen++;
  for (size_t i = 0; i < s->n; i++) {
    arfr_member_t *m = &s->m[i];
    /* the evaluator, on what the tree predicts before learning */
    double e = x->y - eddy__htr_tree_predict(&m->tree, x);
    m->w.eval_len += 1.0;
    m->w.eval_sum += x->weight * e * e;
    int k = p->random == EDDY_ENSEMBLE_RANDOM_MOA ? eddy_jrandom_poisson(&s->jr, p->lambda)
                                                  : (int)eddy_rng_poisson(&l->rng, p->lambda);
    if (k > 0) {
      int err = member_train(p, m, x, k, s->seen);
      if (err) return err;
    }
  }
  return 0;
}

/* MOA: the members' mean. */
static int arfr_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                        size_t out_len) {
  arfr_t *s = l->state;
  if (out_len < 1) return EDDY_ENOSPC;
  double sum = 0.0;
  for (size_t i = 0; i < s->n; i++) sum += eddy__htr_tree_predict(&s->m[i].tree, x);
  out[0] = sum / (double)s->n;
  return 1;
}

static void arfr_reset(eddy_learner_t *l) {
  arfr_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    arfr_member_t *m = &s->m[i];
    eddy__htr_tree_reset(&m->tree);
    eddy__htr_tree_reset(&m->bkg);
    m->has_bkg = 0;
    eddy__forest_watch_reset(&m->w);
    m->created_on = 0;
  }
  eddy_jrandom_seed(&s->jr, (int64_t)l->seed);
  eddy_rng_seed(&l->rng, l->seed);
  s->seen = 0;
}

static int arfr_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const arfr_t *s = l->state;
  eddy_buf_put_u64(b, s->n);
  eddy_buf_put_u64(b, s->seen);
  eddy_jrandom_save(&s->jr, b);
  for (size_t i = 0; i < s->n; i++) {
    const arfr_member_t *m = &s->m[i];
    eddy__forest_watch_save_eval(&m->w, b);
    eddy_buf_put_u64(b, m->created_on);
    eddy__forest_watch_save_counts(&m->w, b);
    eddy__forest_watch_save_detectors(&m->w, b);
    int err = eddy__htr_tree_save_block(&m->tree, b);
    if (err) return err;
    eddy_buf_put_u8(b, (uint8_t)m->has_bkg);
    if (m->has_bkg && (err = eddy__htr_tree_save_block(&m->bkg, b))) return err;
  }
  return b->err;
}

static int arfr_load(eddy_learner_t *l, eddy_reader_t *r) {
  const arfr_params_t *p = l->params;
  arfr_t *s = l->state;
  if (eddy_read_u64(r) != s->n) return r->err ? r->err : EDDY_ECORRUPT;
  s->seen = eddy_read_u64(r);
  eddy_jrandom_load(&s->jr, r);
  for (size_t i = 0; i < s->n; i++) {
    arfr_member_t *m = &s->m[i];
    int err = eddy__forest_watch_load_eval(&m->w, r);
    if (err) return err;
    m->created_on = eddy_read_u64(r);
    if ((err = eddy__forest_watch_load_counts(&m->w, r))) return err;
    err = eddy__forest_watch_load_detectors(&m->w, p->adwin_arithmetic == EDDY__ADWIN_MOA, r);
    if (!err) err = eddy__htr_tree_load_block(&m->tree, r);
    if (err) return err;
    uint8_t hb = eddy_read_u8(r);
    if (r->err) return r->err;
    if (hb > 1) return EDDY_ECORRUPT;
    m->has_bkg = hb;
    err = hb ? eddy__htr_tree_load_block(&m->bkg, r) : eddy__htr_tree_reset(&m->bkg);
    if (err) return err;
  }
  return r->err;
}

static size_t arfr_memory(const eddy_learner_t *l) {
  const arfr_t *s = l->state;
  size_t b = sizeof *s + s->n * sizeof *s->m;
  for (size_t i = 0; i < s->n; i++) {
    const arfr_member_t *m = &s->m[i];
    b += eddy__htr_tree_memory(&m->tree) + eddy__htr_tree_memory(&m->bkg) -
         2 * sizeof(eddy__htr_tree_t) + eddy__forest_watch_memory(&m->w);
  }
  return b;
}

static void arfr_describe(const eddy_learner_t *l, FILE *out) {
  const arfr_params_t *p = l->params;
  const arfr_t *s = l->state;
  uint64_t drifts = 0, warnings = 0;
  for (size_t i = 0; i < s->n; i++) drifts += s->m[i].w.n_drifts, warnings += s->m[i].w.n_warnings;
  fprintf(out,
          "adaptive_random_forest_regressor: %zu trees, %lld of %zu attributes per leaf, "
          "lambda %g, %llu instances, %llu warnings, %llu drifts, %zu bytes\n",
          s->n, (long long)p->tree.subspace_size, l->schema->n_attrs, p->lambda,
          (unsigned long long)s->seen, (unsigned long long)warnings, (unsigned long long)drifts,
          eddy_learner_memory(l));
  for (size_t i = 0; i < s->n; i++) {
    const arfr_member_t *m = &s->m[i];
    size_t depth, nodes, leaves, inactive;
    eddy__ht_store_shape(&m->tree.st, &depth, &nodes, &leaves, &inactive);
    double rmse = m->w.eval_len > 0 ? sqrt(m->w.eval_sum / m->w.eval_len) : 0.0;
    fprintf(out,
            "  tree %zu: RMSE %.6g over %.0f since its last drift, %zu nodes, %zu leaves, "
            "depth %zu, %llu warnings, %llu drifts%s\n",
            i, rmse, m->w.eval_len, nodes, leaves, depth, (unsigned long long)m->w.n_warnings,
            (unsigned long long)m->w.n_drifts, m->has_bkg ? ", background tree growing" : "");
  }
}

/* The members' trees (not the background ones): each tree's gain averaged,
 * splits summed, as the classification forests do (ht_importance.c). */
static int arfr_importance(const eddy_learner_t *l, double *gain, double *splits,
                           size_t n_attrs) {
  const arfr_t *s = l->state;
  for (size_t a = 0; a < n_attrs; a++) gain[a] = splits[a] = 0.0;
  double *g = calloc(2 * n_attrs + 1, sizeof *g); /* describe time, not the record path */
  if (!g) return EDDY_ENOMEM;
  int err = 0;
  for (size_t i = 0; i < s->n && !err; i++) {
    if ((err = eddy__htr_tree_importance(&s->m[i].tree, g, g + n_attrs, n_attrs))) break;
    for (size_t a = 0; a < n_attrs; a++) {
      gain[a] += g[a] / (double)s->n;
      splits[a] += g[n_attrs + a];
    }
  }
  free(g);
  return err;
}

const eddy_learner_type_t eddy_learner_adaptive_random_forest_regressor = {
    .name = "adaptive_random_forest_regressor",
    .description = "adaptive random forest regressor: random-subspace regression trees, "
                   "Poisson(6) bagging, ADWIN warning and drift per tree with background "
                   "trees, the members' mean (MOA AdaptiveRandomForestRegressor)",
    .tasks = EDDY_REGRESSION,
    .options = arfr_options,
    .params_size = sizeof(arfr_params_t),
    .state_size = sizeof(arfr_t),
    .init = arfr_init,
    .predict = arfr_predict,
    .learn = arfr_learn,
    .reset = arfr_reset,
    .save = arfr_save,
    .load = arfr_load,
    .memory = arfr_memory,
    .destroy = arfr_destroy,
    .describe = arfr_describe,
    .importance = arfr_importance,
};
