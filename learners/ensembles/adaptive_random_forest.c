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

#include "detectors/detectors.h"
#include "learners/ensembles/ensembles.h"
#include "learners/trees/trees.h"

enum { MODE_M = 0, MODE_SQRT, MODE_SQRT_INV, MODE_PERCENT };
static const char *const mode_names[] = {"specified_m", "sqrt_m1", "m_sqrt_m1", "percentage",
                                         NULL};
enum { ARITH_MOA = 0, ARITH_EXACT = 1 };
static const char *const arithmetic_names[] = {"moa", "exact", NULL};

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
    EDDY_OPT_INT_(arf_params_t, "ensemble_size", ensemble_size, "100", 1, 100000,
                  "number of trees (MOA -s)"),
    EDDY_OPT_ENUM_(arf_params_t, "features_mode", features_mode, "percentage", mode_names,
                   "how features_per_tree is read (MOA -o), M being the number of attributes: "
                   "specified_m (m itself; negative: M - m), sqrt_m1 (round(sqrt(M)) + 1), "
                   "m_sqrt_m1 (M - round(sqrt(M) + 1)), percentage (round(M * m / 100); "
                   "negative: M * (100 + m) / 100)"),
    EDDY_OPT_INT_(arf_params_t, "features_per_tree", features_per_tree, "60", -1e9, 1e9,
                  "m: attributes each leaf considers for its splits (MOA -m)"),
    EDDY_OPT_DOUBLE_(arf_params_t, "lambda", lambda, "6", 1, 1e300,
                     "lambda of the trees' Poisson weights (MOA -a)"),
    EDDY_OPT_DOUBLE_(arf_params_t, "drift_delta", drift_delta, "0.001", 0, 1,
                     "delta of each tree's ADWIN drift detector (MOA -x ADWINChangeDetector -a)"),
    EDDY_OPT_DOUBLE_(arf_params_t, "warning_delta", warning_delta, "0.01", 0, 1,
                     "delta of each tree's ADWIN warning detector, which starts a background "
                     "tree (MOA -p ADWINChangeDetector -a)"),
    EDDY_OPT_BOOL_(arf_params_t, "weighted_vote", weighted_vote, "true",
                   "weight each tree's normalised vote by its accuracy in percent (MOA: off "
                   "with -w)"),
    EDDY_OPT_BOOL_(arf_params_t, "drift_detection", drift_detection, "true",
                   "reset a tree when its drift detector fires (MOA: off with -u, which also "
                   "turns the background trees off)"),
    EDDY_OPT_BOOL_(arf_params_t, "background_learner", background_learner, "true",
                   "a warning starts a background tree that replaces the tree on drift (MOA: "
                   "off with -q: the tree is reset instead)"),
    EDDY_OPT_ENUM_(arf_params_t, "adwin_arithmetic", adwin_arithmetic, "moa", arithmetic_names,
                   "moa: the detectors' ADWINs multiply bucket sizes in 32-bit ints as MOA's "
                   "ADWIN.java does (they overflow on windows over ~130,000 values); exact: in "
                   "doubles"),
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

/* MOA's ARFBaseLearner. The evaluator is MOA's BasicClassificationPerformance
 * Evaluator as far as the vote reads it: the weight of the right
 * predictions over the number of predictions. */
typedef struct {
  eddy__ht_tree_t tree;
  eddy__ht_tree_t bkg; /* initialised always; in use while has_bkg */
  int has_bkg;
  eddy_adwin_t *drift, *warn;
  double eval_sum, eval_len;
  uint64_t created_on, n_drifts, n_warnings;
} arf_member_t;

typedef struct {
  arf_member_t *m;
  size_t n;
  eddy_jrandom_t jr; /* MOA's classifierRandom of the forest */
  uint64_t seen;     /* MOA's instancesSeen */
} arf_t;

static eddy_adwin_t *new_adwin(const arf_params_t *p, double delta) {
  eddy_adwin_t *a = eddy_adwin_new(delta);
  if (a) eddy_adwin_set_moa_ints(a, p->adwin_arithmetic == ARITH_MOA);
  return a;
}

/* MOA's initEnsemble: the subspace size from the mode and m (Java's
 * Math.round is floor(x + 0.5)), clamped to [1, M]. */
static int64_t subspace_size(const arf_params_t *p, size_t n_attrs) {
  int64_t n = (int64_t)n_attrs, k = p->features_per_tree;
  switch (p->features_mode) {
  case MODE_SQRT: k = (int64_t)floor(sqrt((double)n) + 0.5) + 1; break;
  case MODE_SQRT_INV: k = n - (int64_t)floor(sqrt((double)n) + 1 + 0.5); break;
  case MODE_PERCENT: {
    double pc = k < 0 ? (double)(100 + k) / 100.0 : (double)k / 100.0;
    k = (int64_t)floor((double)n * pc + 0.5);
    break;
  }
  default: break;
  }
  if (k < 0) k = n + k;
  if (k <= 0) k = 1;
  if (k > n) k = n;
  return k;
}

/* The seed of member i's subspace generator: MOA's trees all use their
 * default randomSeed 1; random = eddy gives each member its own. */
static int64_t tree_seed(const eddy_learner_t *l, size_t i) {
  const arf_params_t *p = l->params;
  return p->random == EDDY_ENSEMBLE_RANDOM_MOA ? 1 : (int64_t)(eddy_seed_derive(l->seed, i) >> 1);
}

static void arf_destroy(eddy_learner_t *l) {
  arf_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    eddy__ht_tree_free(&s->m[i].tree);
    eddy__ht_tree_free(&s->m[i].bkg);
    if (s->m[i].drift) eddy_adwin_free(s->m[i].drift);
    if (s->m[i].warn) eddy_adwin_free(s->m[i].warn);
  }
  free(s->m);
  memset(s, 0, sizeof *s);
}

static int arf_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  arf_params_t *p = l->params;
  arf_t *s = l->state;
  p->tree.subspace_size = subspace_size(p, l->schema->n_attrs);
  size_t n = (size_t)p->ensemble_size;
  eddy_jrandom_seed(&s->jr, (int64_t)l->seed);
  if (!(s->m = calloc(n, sizeof *s->m)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    arf_member_t *m = &s->m[i];
    s->n = i + 1;
    err = eddy__ht_tree_init(&m->tree, l->schema, &p->tree, 0, l->seed);
    if (!err) err = eddy__ht_tree_init(&m->bkg, l->schema, &p->tree, 0, l->seed);
    if (!err) {
      eddy__ht_tree_seed_subspace(&m->tree, tree_seed(l, i));
      eddy__ht_tree_seed_subspace(&m->bkg, tree_seed(l, i));
      m->drift = new_adwin(p, p->drift_delta);
      m->warn = new_adwin(p, p->warning_delta);
      if (!m->drift || !m->warn) err = EDDY_ENOMEM;
    }
  }
  if (err) {
    arf_destroy(l);
    return eddy_seterr(errstr, errstr_size, err, "adaptive_random_forest: out of memory");
  }
  return 0;
}

/* ADWINChangeDetector.input: a change is a cut that raised the estimate. */
static int detect(eddy_adwin_t *a, double err) {
  double before = eddy_adwin_estimation(a);
  return eddy_adwin_update(a, err) && eddy_adwin_estimation(a) > before;
}

/* MOA's ARFBaseLearner.reset on drift: the background tree takes over with
 * fresh detectors, or (none) the tree starts over (the warning detector
 * then goes on); the accuracy starts over either way. */
static void member_drift(const arf_params_t *p, arf_member_t *m, uint64_t seen) {
  if (p->background_learner && m->has_bkg) {
    eddy__ht_tree_t old = m->tree;
    m->tree = m->bkg;
    m->bkg = old;
    eddy__ht_tree_reset(&m->bkg);
    m->has_bkg = 0;
    eddy_adwin_reset(m->warn);
  } else {
    eddy__ht_tree_reset(&m->tree);
    m->created_on = seen;
  }
  eddy_adwin_reset(m->drift);
  m->eval_sum = m->eval_len = 0;
  m->n_drifts++;
}

/* MOA's ARFBaseLearner.trainOnInstance(instance, k, instancesSeen). */
static int member_train(const arf_params_t *p, arf_member_t *m, const eddy_instance_t *x, int k,
                        uint64_t seen) {
  eddy_instance_t w = *x; /* shares the arrays: only the weight differs */
  w.weight = x->weight * k;
  int err = eddy__ht_tree_learn(&m->tree, &w);
  if (!err && m->has_bkg) err = eddy__ht_tree_learn(&m->bkg, x);
  if (err || !p->drift_detection) return err;
  double e = eddy__ht_tree_predict(&m->tree, x) == (uint32_t)x->y ? 0.0 : 1.0;
  if (p->background_learner && detect(m->warn, e)) {
    eddy__ht_tree_reset(&m->bkg); /* MOA: a copy of the tree, reset */
    m->has_bkg = 1;
    m->n_warnings++;
    eddy_adwin_reset(m->warn);
  }
  if (detect(m->drift, e)) member_drift(p, m, seen);
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
    m->eval_len += 1.0;
    if (eddy__ht_tree_predict(&m->tree, x) == (uint32_t)x->y) m->eval_sum += x->weight;
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
  for (size_t i = 0; i < s->n; i++) {
    arf_member_t *m = &s->m[i];
    int n = eddy__ht_tree_votes(&m->tree, x);
    /* MOA: each tree's normalised vote times its accuracy in percent when
     * that is above 0 (NaN before its first prediction: unweighted) */
    double acc = (m->eval_sum / m->eval_len) * 100.0;
    eddy_ensemble_add_votes(m->tree.votes, (size_t)n, p->weighted_vote && acc > 0.0 ? acc : 1.0,
                            out, k);
  }
  eddy_ensemble_finish_vote(out, k);
  return (int)k;
}

static void arf_reset(eddy_learner_t *l) {
  arf_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    arf_member_t *m = &s->m[i];
    eddy__ht_tree_reset(&m->tree);
    eddy__ht_tree_reset(&m->bkg);
    m->has_bkg = 0;
    eddy_adwin_reset(m->drift);
    eddy_adwin_reset(m->warn);
    m->eval_sum = m->eval_len = 0;
    m->created_on = m->n_drifts = m->n_warnings = 0;
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
    const arf_member_t *m = &s->m[i];
    eddy_buf_put_f64(b, m->eval_sum);
    eddy_buf_put_f64(b, m->eval_len);
    eddy_buf_put_u64(b, m->created_on);
    eddy_buf_put_u64(b, m->n_drifts);
    eddy_buf_put_u64(b, m->n_warnings);
    eddy_adwin_save(m->drift, b);
    eddy_adwin_save(m->warn, b);
    int err = eddy__ht_tree_save_block(&m->tree, b);
    if (err) return err;
    eddy_buf_put_u8(b, (uint8_t)m->has_bkg);
    if (m->has_bkg && (err = eddy__ht_tree_save_block(&m->bkg, b))) return err;
  }
  return b->err;
}

static int load_adwin(const arf_params_t *p, eddy_adwin_t **slot, eddy_reader_t *r) {
  eddy_adwin_t *a = eddy_adwin_load(r);
  if (!a) return r->err ? r->err : EDDY_ECORRUPT;
  eddy_adwin_set_moa_ints(a, p->adwin_arithmetic == ARITH_MOA);
  eddy_adwin_free(*slot);
  *slot = a;
  return 0;
}

static int arf_load(eddy_learner_t *l, eddy_reader_t *r) {
  const arf_params_t *p = l->params;
  arf_t *s = l->state;
  if (eddy_read_u64(r) != s->n) return r->err ? r->err : EDDY_ECORRUPT;
  s->seen = eddy_read_u64(r);
  eddy_jrandom_load(&s->jr, r);
  for (size_t i = 0; i < s->n; i++) {
    arf_member_t *m = &s->m[i];
    m->eval_sum = eddy_read_f64(r);
    m->eval_len = eddy_read_f64(r);
    m->created_on = eddy_read_u64(r);
    m->n_drifts = eddy_read_u64(r);
    m->n_warnings = eddy_read_u64(r);
    if (r->err) return r->err;
    /* a count of predictions, and at most its weight right per... weight:
     * both finite and not negative */
    if (!(m->eval_len >= 0 && m->eval_len < INFINITY && m->eval_sum >= 0 &&
          m->eval_sum < INFINITY))
      return EDDY_ECORRUPT;
    int err = load_adwin(p, &m->drift, r);
    if (!err) err = load_adwin(p, &m->warn, r);
    if (!err) err = eddy__ht_tree_load_block(&m->tree, r);
    if (err) return err;
    uint8_t hb = eddy_read_u8(r);
    if (r->err) return r->err;
    if (hb > 1) return EDDY_ECORRUPT;
    m->has_bkg = hb;
    if (hb && (err = eddy__ht_tree_load_block(&m->bkg, r))) return err;
    if (!hb) eddy__ht_tree_reset(&m->bkg);
  }
  return r->err;
}

static size_t arf_memory(const eddy_learner_t *l) {
  const arf_t *s = l->state;
  size_t b = sizeof *s + s->n * sizeof *s->m;
  for (size_t i = 0; i < s->n; i++) {
    const arf_member_t *m = &s->m[i];
    b += eddy__ht_tree_memory(&m->tree) + eddy__ht_tree_memory(&m->bkg) - 2 * sizeof(eddy__ht_tree_t);
    b += eddy_adwin_memory(m->drift) + eddy_adwin_memory(m->warn);
  }
  return b;
}

static void arf_describe(const eddy_learner_t *l, FILE *out) {
  const arf_params_t *p = l->params;
  const arf_t *s = l->state;
  uint64_t drifts = 0, warnings = 0;
  for (size_t i = 0; i < s->n; i++) drifts += s->m[i].n_drifts, warnings += s->m[i].n_warnings;
  fprintf(out,
          "adaptive_random_forest: %zu trees, %lld of %zu attributes per leaf, lambda %g, "
          "%llu instances, %llu warnings, %llu drifts, %zu bytes\n",
          s->n, (long long)p->tree.subspace_size, l->schema->n_attrs, p->lambda,
          (unsigned long long)s->seen, (unsigned long long)warnings, (unsigned long long)drifts,
          eddy_learner_memory(l));
  for (size_t i = 0; i < s->n; i++) {
    const arf_member_t *m = &s->m[i];
    size_t depth, nodes, leaves, inactive;
    eddy__ht_store_shape(&m->tree.st, &depth, &nodes, &leaves, &inactive);
    double acc = m->eval_len > 0 ? m->eval_sum / m->eval_len : 0.0;
    fprintf(out,
            "  tree %zu: accuracy %.4f over %.0f, %zu nodes, %zu leaves, depth %zu, "
            "%llu warnings, %llu drifts%s\n",
            i, acc, m->eval_len, nodes, leaves, depth, (unsigned long long)m->n_warnings,
            (unsigned long long)m->n_drifts, m->has_bkg ? ", background tree growing" : "");
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
    const arf_member_t *m = &s->m[i];
    double acc = (m->eval_sum / m->eval_len) * 100.0;
    eddy_buf_printf(b, "%s{\"vote_weight\":", i ? "," : "");
    eddy_json_double(b, p->weighted_vote && acc > 0.0 ? acc : 1.0);
    eddy_buf_printf(b, ",\"accuracy\":");
    eddy_json_double(b, m->eval_len > 0 ? m->eval_sum / m->eval_len : 0.0);
    eddy_buf_printf(b, ",\"tree\":");
    int err = eddy__ht_tree_export(&m->tree, b);
    if (err) return err;
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_printf(b, "]}");
  return b->err;
}

/* The members' trees (not the background ones), as ht_importance.c says. */
static int arf_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  const arf_t *s = l->state;
  return eddy__ht_forest_importance(s->n ? (const void *)&s->m[0].tree : NULL, sizeof *s->m, s->n, gain, splits,
                                    n_attrs);
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
