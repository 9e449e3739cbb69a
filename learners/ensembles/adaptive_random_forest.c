/* adaptive_random_forest.c: Adaptive Random Forest (Gomes et al., Machine
 * Learning 2017) as MOA 2024.07.0's meta.AdaptiveRandomForest, single
 * thread: Hoeffding trees whose leaves each observe a random subset of the
 * attributes (MOA's ARFHoeffdingTree, the tree core of hoeffding_tree.c
 * with eddy__ht_params_t.subspace_size), online bagging with Poisson(lambda = 6)
 * weights, per tree an ADWIN warning detector that starts a background
 * tree and an ADWIN drift detector that replaces the tree by it, and votes
 * weighted by each tree's prequential accuracy. Draws are MOA's: the
 * forest's Poisson weights from a java.util.Random seeded with the seed,
 * each tree's subspaces from its own java.util.Random(1) (reseeded when
 * the tree is reset, as MOA's resetLearning does). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"
#include "learners/trees/trees.h"


typedef struct {
  eddy__ht_params_t tree; /* the members' tree parameters (MOA's -l ARFHoeffdingTree) */
  int64_t ensemble_size;
  int features_mode;
  int64_t features_per_tree;
  double lambda;
  double drift_delta, warning_delta;
  int weighted_vote, drift_detection, background_learner;
  int adwin_arithmetic;
  int random;
} arf_params_t;

static const eddy_option_t arf_options[] = {
    EDDY__ARF_OPTIONS(arf_params_t),
    EDDY_OPT_BOOL_(arf_params_t, "weighted_vote", weighted_vote, "true",
                   "weight each tree's normalised vote by its accuracy in percent (MOA: off "
                   "with -w)"),
    EDDY__ARF_DRIFT_OPTIONS(arf_params_t),
    EDDY_ENSEMBLE_RANDOM_OPTION(arf_params_t, random),
    /* the trees: MOA's default -l is ARFHoeffdingTree -e 2000000 -g 50 -c 0.01 */
    EDDY__HT_MEMBER_OPTIONS(arf_params_t),
    EDDY_OPT_INT_(arf_params_t, "max_depth", tree.max_depth, "0", 0, 1e6,
                  "leaves at this depth stop splitting; 0 = unlimited (not in MOA)"),
    EDDY_OPT_INT_(arf_params_t, "max_byte_size", tree.max_byte_size, "2000000", 1024, 1e15,
                  "memory limit of each tree (tree -e)"),
    EDDY_OPT_INT_(arf_params_t, "memory_estimate_period", tree.memory_estimate_period, "1000000",
                  1, 1e15, "weight between memory checks of a tree (tree -m)"),
    EDDY_OPT_BOOL_(arf_params_t, "stop_mem_management", tree.stop_mem_management, "false",
                   "stop growing at the memory limit (tree -z)"),
    EDDY__HT_MEMBER_PRUNE_OPTIONS(arf_params_t),
    EDDY_OPT_END,
};

/* MOA's ARFBaseLearner: the shared member (tree, background tree, ADWINs,
 * evaluator: MOA's BasicClassificationPerformanceEvaluator as far as the
 * vote reads it) and when it was created. */
typedef struct {
  eddy__forest_member_t f;
  uint64_t created_on;
} arf_member_t;

typedef struct {
  arf_member_t *m;
  size_t n;
  eddy_jrandom_t jr; /* MOA's classifierRandom of the forest */
  uint64_t seen;     /* MOA's instancesSeen */
} arf_t;

static void arf_destroy(eddy_learner_t *l) {
  arf_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) eddy__forest_member_free(&s->m[i].f);
  free(s->m);
  memset(s, 0, sizeof *s);
}

static int arf_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  arf_params_t *p = l->params;
  arf_t *s = l->state;
  p->tree.subspace_size =
      eddy__forest_subspace_size(p->features_mode, p->features_per_tree, l->schema->n_attrs);
  size_t n = (size_t)p->ensemble_size;
  eddy_jrandom_seed(&s->jr, (int64_t)l->seed);
  if (!(s->m = calloc(n, sizeof *s->m)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    eddy__forest_member_t *f = &s->m[i].f;
    s->n = i + 1;
    err = eddy__forest_member_init(f, l->schema, &p->tree, l->seed, p->drift_delta,
                                   p->warning_delta, p->adwin_arithmetic == EDDY__ADWIN_MOA);
    if (!err) {
      eddy__ht_tree_seed_subspace(&f->tree, eddy__forest_tree_seed(p->random, l->seed, i));
      eddy__ht_tree_seed_subspace(&f->bkg, eddy__forest_tree_seed(p->random, l->seed, i));
    }
  }
  if (err) {
    arf_destroy(l);
    return eddy_seterr(errstr, errstr_size, err, "adaptive_random_forest: out of memory");
  }
  return 0;
}

/* MOA's ARFBaseLearner.trainOnInstance(instance, k, instancesSeen); on
 * drift its reset: the background tree takes over with fresh detectors,
 * or (none) the tree starts over (the warning detector then goes on). */
static int member_train(const arf_params_t *p, arf_member_t *m, const eddy_instance_t *x, int k,
                        uint64_t seen) {
  eddy__forest_member_t *f = &m->f;
  eddy_instance_t w = *x; /* shares the arrays: only the weight differs */
  w.weight = x->weight * k;
  int err = eddy__ht_tree_learn(&f->tree, &w);
  if (!err && f->has_bkg) err = eddy__ht_tree_learn(&f->bkg, x);
  if (err || !p->drift_detection) return err;
  double e = eddy__ht_tree_predict(&f->tree, x) == (uint32_t)x->y ? 0.0 : 1.0;
  int fired = eddy__forest_watch_input(&f->w, e, p->background_learner);
  if (fired & EDDY__FOREST_WARNING) eddy__forest_member_start_bkg(f);
  if (fired & EDDY__FOREST_DRIFT) {
    int swap = p->background_learner && f->has_bkg;
    if (swap) {
      eddy__forest_member_swap(f);
    } else {
      eddy__ht_tree_reset(&f->tree);
      m->created_on = seen;
    }
    eddy__forest_watch_drifted(&f->w, swap);
  }
  return 0;
}

static int arf_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  const arf_params_t *p = l->params;
  arf_t *s = l->state;
  if (!(x->weight > 0.0) || !x->has_y) return 0; /* MOA's trainOnInstance skips these */
  if (!(x->y >= 0) || x->y >= l->schema->max_classes) return EDDY_EINVAL;
  s->seen++;
  for (size_t i = 0; i < s->n; i++) {
    arf_member_t *m = &s->m[i];
    /* the tree's prequential accuracy, on what it predicts before learning */
    eddy__forest_member_score(&m->f, x);
    int k = p->random == EDDY_ENSEMBLE_RANDOM_MOA ? eddy_jrandom_poisson(&s->jr, p->lambda)
                                                  : (int)eddy_rng_poisson(&l->rng, p->lambda);
    if (k > 0) {
      int err = member_train(p, m, x, k, s->seen);
      if (err) return err;
    }
  }
  return 0;
}

static int arf_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                       size_t out_len) {
  const arf_params_t *p = l->params;
  arf_t *s = l->state;
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  memset(out, 0, k * sizeof *out);
  for (size_t i = 0; i < s->n; i++) eddy__forest_member_add_vote(&s->m[i].f, x, p->weighted_vote, out, k);
  eddy_ensemble_finish_vote(out, k);
  return (int)k;
}

static void arf_reset(eddy_learner_t *l) {
  arf_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    eddy__forest_member_reset(&s->m[i].f);
    s->m[i].created_on = 0;
  }
  eddy_jrandom_seed(&s->jr, (int64_t)l->seed);
  eddy_rng_seed(&l->rng, l->seed);
  s->seen = 0;
}

static int arf_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const arf_t *s = l->state;
  eddy_buf_put_u64(b, s->n);
  eddy_buf_put_u64(b, s->seen);
  eddy_jrandom_save(&s->jr, b);
  for (size_t i = 0; i < s->n; i++) {
    const eddy__forest_member_t *f = &s->m[i].f;
    eddy__forest_watch_save_eval(&f->w, b);
    eddy_buf_put_u64(b, s->m[i].created_on);
    eddy__forest_watch_save_counts(&f->w, b);
    eddy__forest_watch_save_detectors(&f->w, b);
    int err = eddy__ht_tree_save_block(&f->tree, b);
    if (err) return err;
    eddy_buf_put_u8(b, (uint8_t)f->has_bkg);
    if (f->has_bkg && (err = eddy__ht_tree_save_block(&f->bkg, b))) return err;
  }
  return b->err;
}

static int arf_load(eddy_learner_t *l, eddy_reader_t *r) {
  const arf_params_t *p = l->params;
  arf_t *s = l->state;
  if (eddy_read_u64(r) != s->n) return r->err ? r->err : EDDY_ECORRUPT;
  s->seen = eddy_read_u64(r);
  eddy_jrandom_load(&s->jr, r);
  for (size_t i = 0; i < s->n; i++) {
    eddy__forest_member_t *f = &s->m[i].f;
    int err = eddy__forest_watch_load_eval(&f->w, r);
    if (err) return err;
    s->m[i].created_on = eddy_read_u64(r);
    if ((err = eddy__forest_watch_load_counts(&f->w, r))) return err;
    err = eddy__forest_watch_load_detectors(&f->w, p->adwin_arithmetic == EDDY__ADWIN_MOA, r);
    if (!err) err = eddy__ht_tree_load_block(&f->tree, r);
    if (err) return err;
    uint8_t hb = eddy_read_u8(r);
    if (r->err) return r->err;
    if (hb > 1) return EDDY_ECORRUPT;
    f->has_bkg = hb;
    if (hb && (err = eddy__ht_tree_load_block(&f->bkg, r))) return err;
    if (!hb) eddy__ht_tree_reset(&f->bkg);
  }
  return r->err;
}

static size_t arf_memory(const eddy_learner_t *l) {
  const arf_t *s = l->state;
  size_t b = sizeof *s + s->n * sizeof *s->m;
  for (size_t i = 0; i < s->n; i++) b += eddy__forest_member_memory(&s->m[i].f);
  return b;
}

static void arf_describe(const eddy_learner_t *l, FILE *out) {
  const arf_params_t *p = l->params;
  const arf_t *s = l->state;
  uint64_t drifts = 0, warnings = 0;
  for (size_t i = 0; i < s->n; i++) drifts += s->m[i].f.w.n_drifts, warnings += s->m[i].f.w.n_warnings;
  fprintf(out,
          "adaptive_random_forest: %zu trees, %lld of %zu attributes per leaf, lambda %g, "
          "%llu instances, %llu warnings, %llu drifts, %zu bytes\n",
          s->n, (long long)p->tree.subspace_size, l->schema->n_attrs, p->lambda,
          (unsigned long long)s->seen, (unsigned long long)warnings, (unsigned long long)drifts,
          eddy_learner_memory(l));
  for (size_t i = 0; i < s->n; i++) {
    const eddy__forest_member_t *f = &s->m[i].f;
    size_t depth, nodes, leaves, inactive;
    eddy__ht_store_shape(&f->tree.st, &depth, &nodes, &leaves, &inactive);
    fprintf(out,
            "  tree %zu: accuracy %.4f over %.0f, %zu nodes, %zu leaves, depth %zu, "
            "%llu warnings, %llu drifts%s\n",
            i, eddy__forest_watch_accuracy(&f->w), f->w.eval_len, nodes, leaves, depth,
            (unsigned long long)f->w.n_warnings, (unsigned long long)f->w.n_drifts,
            f->has_bkg ? ", background tree growing" : "");
  }
}

/* {"family": "forest", "trees": [{"vote_weight", "accuracy", "tree"}]}:
 * each tree's vote weight as predict uses it (its accuracy in percent, or
 * 1 while that is not above 0 or votes are not weighted). */
static int arf_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const arf_params_t *p = l->params;
  const arf_t *s = l->state;
  eddy_buf_printf(b, "{\"family\":\"forest\",\"trees\":[");
  for (size_t i = 0; i < s->n; i++) {
    const eddy__forest_member_t *f = &s->m[i].f;
    eddy__forest_member_export_head(f, p->weighted_vote, i, b);
    eddy_buf_printf(b, ",\"tree\":");
    int err = eddy__ht_tree_export(&f->tree, b);
    if (err) return err;
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_printf(b, "]}");
  return b->err;
}

/* The members' trees (not the background ones), as ht_importance.c says. */
static int arf_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  const arf_t *s = l->state;
  return eddy__ht_forest_importance(s->n ? (const void *)&s->m[0].f.tree : NULL, sizeof *s->m,
                                    s->n, gain, splits, n_attrs);
}

const eddy_learner_type_t eddy_learner_adaptive_random_forest = {
    .name = "adaptive_random_forest",
    .description = "adaptive random forest: random-subspace Hoeffding trees, Poisson(6) "
                   "bagging, ADWIN warning and drift per tree with background trees, votes "
                   "weighted by accuracy (MOA AdaptiveRandomForest)",
    .tasks = EDDY_CLASSIFICATION,
    .options = arf_options,
    .params_size = sizeof(arf_params_t),
    .state_size = sizeof(arf_t),
    .init = arf_init,
    .predict = arf_predict,
    .learn = arf_learn,
    .reset = arf_reset,
    .save = arf_save,
    .load = arf_load,
    .memory = arf_memory,
    .destroy = arf_destroy,
    .describe = arf_describe,
    .export_json = arf_export,
    .importance = arf_importance,
};
