/* streaming_random_patches.c: Streaming Random Patches (Gomes, Read &
 * Bifet, ICDM 2019) as MOA 2024.07.0's meta.StreamingRandomPatches,
 * classification: Hoeffding trees each trained on its own random subset of
 * the attributes (drawn once per tree, all k-combinations when there are
 * at most 20 attributes) and on Poisson(6)-weighted instances (random
 * patches; or either alone), an ADWIN warning detector starting a
 * background tree with a new subset and an ADWIN drift detector replacing
 * the tree, votes weighted by each tree's prequential accuracy. Every draw
 * comes from one java.util.Random seeded with the seed, in MOA's order.
 *
 * MOA's quirk kept on purpose: after a background tree takes over, MOA's
 * member still holds it as its background learner, so the tree learns each
 * of its instances twice until the next warning, and a drift in that time
 * only resets its accuracy (`stale` below). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/ensembles/ensembles.h"
#include "learners/trees/trees.h"

enum { MODE_M = 0, MODE_SQRT, MODE_SQRT_INV, MODE_PERCENT };
static const char *const mode_names[] = {"specified_m", "sqrt_m1", "m_sqrt_m1", "percentage",
                                         NULL};
enum { TRAIN_SUBSPACES = 0, TRAIN_RESAMPLING, TRAIN_PATCHES };
static const char *const training_names[] = {"random_subspaces", "resampling", "random_patches",
                                             NULL};

typedef struct {
  eddy__ht_params_t tree; /* MOA's -l trees.HoeffdingTree -g 50 -c 0.01 */
  int64_t ensemble_size;
  int subspace_mode;
  int64_t subspace_size;
  int training_method;
  double lambda;
  double drift_delta, warning_delta;
  int weighted_vote, drift_detection, background_learner;
  int adwin_arithmetic;
} srp_params_t;

static const eddy_option_t srp_options[] = {
    EDDY_OPT_INT_(srp_params_t, "ensemble_size", ensemble_size, "100", 1, 100000,
                  "number of trees (MOA -s)"),
    EDDY_OPT_ENUM_(srp_params_t, "subspace_mode", subspace_mode, "percentage", mode_names,
                   "how subspace_size is read (MOA -o), M being the number of attributes: "
                   "specified_m, sqrt_m1 (round(sqrt(M)) + 1), m_sqrt_m1 (M - round(sqrt(M) + "
                   "1)), percentage (round(M * m / 100), at least 2)"),
    EDDY_OPT_INT_(srp_params_t, "subspace_size", subspace_size, "60", -1e9, 1e9,
                  "m: attributes per tree (MOA -m; negative: M - m)"),
    EDDY_OPT_ENUM_(srp_params_t, "training_method", training_method, "random_patches",
                   training_names,
                   "random_patches (subsets and Poisson weights), random_subspaces (subsets, "
                   "weight 1) or resampling (every attribute, Poisson weights) (MOA -t)"),
    EDDY_OPT_DOUBLE_(srp_params_t, "lambda", lambda, "6", 1, 1e300,
                     "lambda of the Poisson weights (MOA -a)"),
    EDDY_OPT_DOUBLE_(srp_params_t, "drift_delta", drift_delta, "0.00001", 0, 1,
                     "delta of each tree's ADWIN drift detector (MOA -x)"),
    EDDY_OPT_DOUBLE_(srp_params_t, "warning_delta", warning_delta, "0.0001", 0, 1,
                     "delta of each tree's ADWIN warning detector (MOA -p)"),
    EDDY_OPT_BOOL_(srp_params_t, "weighted_vote", weighted_vote, "true",
                   "weight each tree's normalised vote by its accuracy in percent (MOA: off "
                   "with -w)"),
    EDDY_OPT_BOOL_(srp_params_t, "drift_detection", drift_detection, "true",
                   "drift and warning detection (MOA: off with -u)"),
    EDDY_OPT_BOOL_(srp_params_t, "background_learner", background_learner, "true",
                   "warnings start background trees (MOA: off with -q)"),
    EDDY_OPT_ENUM_(srp_params_t, "adwin_arithmetic", adwin_arithmetic, "moa", eddy__adwin_arithmetic_names,
                   "moa: the detectors' ADWINs in MOA's 32-bit ints; exact: in doubles"),
    EDDY__HT_MEMBER_OPTIONS(srp_params_t),
    EDDY_OPT_INT_(srp_params_t, "max_byte_size", tree.max_byte_size, "33554432", 1024, 1e15,
                  "memory limit of each tree (tree -e)"),
    EDDY_OPT_INT_(srp_params_t, "memory_estimate_period", tree.memory_estimate_period, "1000000",
                  1, 1e15, "weight between memory checks of a tree (tree -m)"),
    EDDY__HT_MEMBER_PRUNE_OPTIONS(srp_params_t),
    EDDY_OPT_END,
};

/* MOA's StreamingRandomPatchesClassifier. mask/bmask: the attributes of
 * the tree and of the background tree (NULL without subsets). */
typedef struct {
  eddy__forest_member_t f;
  uint8_t *mask, *bmask;
  int stale;
} srp_member_t;

typedef struct {
  srp_member_t *m;
  size_t n;
  int method; /* the training method in effect (MOA falls back to resampling) */
  size_t k;   /* attributes per tree */
  eddy_jrandom_t jr;
  uint64_t seen;
  uint32_t *pool; /* scratch: the subspaces while they are dealt out, then n_attrs */
  size_t pool_cap;
} srp_t;

static void srp_destroy(eddy_learner_t *l) {
  srp_t *s = l->state;
  for (size_t i = 0; i < s->n; i++) {
    srp_member_t *m = &s->m[i];
    eddy__forest_member_free(&m->f);
    free(m->mask);
    free(m->bmask);
  }
  free(s->m);
  free(s->pool);
  memset(s, 0, sizeof *s);
}

/* MOA's initEnsemble: k from the mode; subsets unless k is 0 or n. */
static int64_t subspace_k(const srp_params_t *p, int64_t n) {
  int64_t k = p->subspace_size;
  switch (p->subspace_mode) {
  case MODE_SQRT: k = (int64_t)floor(sqrt((double)n) + 0.5) + 1; break;
  case MODE_SQRT_INV: k = n - (int64_t)floor(sqrt((double)n) + 1 + 0.5); break;
  case MODE_PERCENT: {
    double pc = k < 0 ? (double)(100 + k) / 100.0 : (double)k / 100.0;
    k = (int64_t)floor((double)n * pc + 0.5);
    if (k < 2) k++;
    break;
  }
  default: break;
  }
  if (k < 0) k = n + k;
  return k;
}

/* MOA's applySubsetResetStrategy: every attribute, then n - k removed at
 * random positions, from the forest's generator. */
static void reset_subset(srp_t *s, size_t n_attrs, uint8_t *mask) {
  size_t left = n_attrs;
  for (size_t a = 0; a < n_attrs; a++) s->pool[a] = (uint32_t)a;
  for (size_t j = 0; j < n_attrs - s->k; j++) {
    size_t r = (size_t)eddy_jrandom_int(&s->jr, (int32_t)left);
    memmove(s->pool + r, s->pool + r + 1, (left - r - 1) * sizeof *s->pool);
    left--;
  }
  memset(mask, 0, n_attrs);
  for (size_t j = 0; j < left; j++) mask[s->pool[j]] = 1;
}

/* The subspaces (as bit rows of n_attrs) dealt to the members: all
 * k-combinations in lexicographic order, padded with copies from the first
 * on, when n <= 20 (or k < 2); else one random subset per member. Each
 * member takes nextInt(remaining) of the list. */
static int deal_subspaces(eddy_learner_t *l) {
  srp_t *s = l->state;
  size_t n = l->schema->n_attrs, k = s->k, M = s->n;
  size_t count = 0;
  uint8_t *rows = NULL;
  if (n <= 20 || k < 2) {
    if (k == 1 && n + 1 > 2) k = s->k = 2;
    /* C(n, k) <= C(20, 10) = 184756 rows */
    size_t c = 1;
    for (size_t i = 0; i < k; i++) c = c * (n - i) / (i + 1);
    size_t total = c < M ? M : c;
    if (!(rows = calloc(total, n))) return EDDY_ENOMEM;
    size_t idx[64];
    for (size_t i = 0; i < k; i++) idx[i] = i;
    for (;;) {
      for (size_t i = 0; i < k; i++) rows[count * n + idx[i]] = 1;
      count++;
      size_t i = k;
      while (i > 0 && idx[i - 1] == n - k + i - 1) i--;
      if (i == 0) break;
      idx[i - 1]++;
      for (size_t j = i; j < k; j++) idx[j] = idx[j - 1] + 1;
    }
    for (size_t i = 0; count < M; i++) memcpy(rows + count++ * n, rows + i * n, n);
  } else {
    if (!(rows = calloc(M, n))) return EDDY_ENOMEM;
    for (count = 0; count < M; count++) reset_subset(s, n, rows + count * n);
  }
  for (size_t i = 0; i < M; i++) {
    size_t sel = (size_t)eddy_jrandom_int(&s->jr, (int32_t)count);
    memcpy(s->m[i].mask, rows + sel * n, n);
    memmove(rows + sel * n, rows + (sel + 1) * n, (count - sel - 1) * n);
    count--;
  }
  free(rows);
  return 0;
}

/* Every member fresh, the subspaces dealt (MOA's initEnsemble). */
static int srp_start(eddy_learner_t *l) {
  const srp_params_t *p = l->params;
  srp_t *s = l->state;
  size_t n = l->schema->n_attrs;
  eddy_jrandom_seed(&s->jr, (int64_t)l->seed);
  s->seen = 0;
  s->method = p->training_method;
  if (s->method != TRAIN_RESAMPLING) {
    int64_t k = subspace_k(p, (int64_t)n);
    if (k != 0 && k < (int64_t)n && k > 0)
      s->k = (size_t)k;
    else
      s->method = TRAIN_RESAMPLING;
  }
  for (size_t i = 0; i < s->n; i++) {
    srp_member_t *m = &s->m[i];
    int use = s->method != TRAIN_RESAMPLING;
    m->f.tree.fixed_mask = use ? m->mask : NULL;
    m->f.bkg.fixed_mask = use ? m->bmask : NULL;
    eddy__forest_member_reset(&m->f);
    m->stale = 0;
  }
  return s->method != TRAIN_RESAMPLING ? deal_subspaces(l) : 0;
}

static int srp_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  srp_params_t *p = l->params;
  srp_t *s = l->state;
  size_t n = (size_t)p->ensemble_size, na = l->schema->n_attrs ? l->schema->n_attrs : 1;
  if (!(s->m = calloc(n, sizeof *s->m)) || !(s->pool = calloc(na, sizeof *s->pool)))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    srp_member_t *m = &s->m[i];
    s->n = i + 1;
    err = eddy__forest_member_init(&m->f, l->schema, &p->tree, l->seed, p->drift_delta,
                                   p->warning_delta, p->adwin_arithmetic == EDDY__ADWIN_MOA);
    if (!err) {
      m->mask = calloc(na, 1);
      m->bmask = calloc(na, 1);
      if (!m->mask || !m->bmask) err = EDDY_ENOMEM;
    }
  }
  if (!err) err = srp_start(l);
  if (err) {
    srp_destroy(l);
    return eddy_seterr(errstr, errstr_size, err, "streaming_random_patches: out of memory");
  }
  return 0;
}

/* The background tree takes over, with its attributes. */
static void swap_trees(srp_member_t *m) {
  eddy__forest_member_swap(&m->f);
  uint8_t *k = m->mask;
  m->mask = m->bmask;
  m->bmask = k;
}

/* MOA's reset(instance, instancesSeen, random) on drift (the watch has
 * counted it and reset the accuracy). */
static void member_drift(srp_t *s, const srp_params_t *p, srp_member_t *m, size_t n_attrs) {
  if (p->background_learner && m->stale) return; /* the same tree and detectors */
  if (p->background_learner && m->f.has_bkg) {
    swap_trees(m);
    m->stale = 1;
    eddy__forest_watch_drifted(&m->f.w, 1);
    return;
  }
  eddy__ht_tree_reset(&m->f.tree);
  eddy__forest_watch_drifted(&m->f.w, 0);
  if (s->method != TRAIN_RESAMPLING) reset_subset(s, n_attrs, m->mask);
}

static int member_train(srp_t *s, const srp_params_t *p, srp_member_t *m,
                        const eddy_instance_t *x, double k, size_t n_attrs) {
  eddy__forest_member_t *f = &m->f;
  eddy_instance_t w = *x; /* shares the arrays: only the weight differs */
  /* MOA: the projected instance has weight k; the whole one weight x k */
  w.weight = s->method != TRAIN_RESAMPLING ? k : x->weight * k;
  int err = eddy__ht_tree_learn(&f->tree, &w);
  if (err) return err;
  int ok = eddy__ht_tree_predict(&f->tree, x) == (uint32_t)x->y;
  if (m->stale)
    err = eddy__ht_tree_learn(&f->tree, &w);
  else if (f->has_bkg)
    err = eddy__ht_tree_learn(&f->bkg, &w);
  if (err || !p->drift_detection) return err;
  int fired = eddy__forest_watch_input(&f->w, ok ? 0.0 : 1.0, p->background_learner);
  if (fired & EDDY__FOREST_WARNING) {
    eddy__forest_member_start_bkg(f);
    if (s->method != TRAIN_RESAMPLING) reset_subset(s, n_attrs, m->bmask);
    m->stale = 0;
  }
  if (fired & EDDY__FOREST_DRIFT) member_drift(s, p, m, n_attrs);
  return 0;
}

static int srp_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  const srp_params_t *p = l->params;
  srp_t *s = l->state;
  if (!(x->weight > 0.0) || !x->has_y) return 0;
  if (!(x->y >= 0) || x->y >= l->schema->max_classes) return EDDY_EINVAL;
  s->seen++;
  for (size_t i = 0; i < s->n; i++) {
    srp_member_t *m = &s->m[i];
    eddy__forest_member_score(&m->f, x);
    double k = 1.0;
    if (s->method != TRAIN_SUBSPACES) k = eddy_jrandom_poisson(&s->jr, p->lambda);
    if (k > 0) {
      int err = member_train(s, p, m, x, k, l->schema->n_attrs);
      if (err) return err;
    }
  }
  return 0;
}

static int srp_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                       size_t out_len) {
  const srp_params_t *p = l->params;
  srp_t *s = l->state;
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  memset(out, 0, k * sizeof *out);
  for (size_t i = 0; i < s->n; i++) eddy__forest_member_add_vote(&s->m[i].f, x, p->weighted_vote, out, k);
  eddy_ensemble_finish_vote(out, k);
  return (int)k;
}

static void srp_reset(eddy_learner_t *l) {
  srp_start(l); /* allocates only the dealing list, freed before it returns */
}

static int srp_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const srp_t *s = l->state;
  size_t na = l->schema->n_attrs;
  eddy_buf_put_u64(b, s->n);
  eddy_buf_put_u8(b, (uint8_t)s->method);
  eddy_buf_put_u64(b, s->k);
  eddy_buf_put_u64(b, s->seen);
  eddy_jrandom_save(&s->jr, b);
  for (size_t i = 0; i < s->n; i++) {
    const srp_member_t *m = &s->m[i];
    eddy__forest_watch_save_eval(&m->f.w, b);
    eddy__forest_watch_save_counts(&m->f.w, b);
    eddy_buf_put(b, m->mask, na);
    eddy_buf_put(b, m->bmask, na);
    eddy__forest_watch_save_detectors(&m->f.w, b);
    eddy_buf_put_u8(b, (uint8_t)(m->f.has_bkg | m->stale << 1));
    int err = eddy__ht_tree_save_block(&m->f.tree, b);
    if (!err && m->f.has_bkg) err = eddy__ht_tree_save_block(&m->f.bkg, b);
    if (err) return err;
  }
  return b->err;
}

/* A subset's mask: 0/1 bytes, exactly k ones. */
static int check_mask(const uint8_t *m, size_t na, size_t k) {
  size_t ones = 0;
  for (size_t a = 0; a < na; a++) {
    if (m[a] > 1) return EDDY_ECORRUPT;
    ones += m[a];
  }
  return ones == k ? 0 : EDDY_ECORRUPT;
}

static int srp_load(eddy_learner_t *l, eddy_reader_t *r) {
  const srp_params_t *p = l->params;
  srp_t *s = l->state;
  size_t na = l->schema->n_attrs;
  if (eddy_read_u64(r) != s->n) return r->err ? r->err : EDDY_ECORRUPT;
  if (eddy_read_u8(r) != (uint8_t)s->method || eddy_read_u64(r) != s->k)
    return r->err ? r->err : EDDY_ECORRUPT;
  s->seen = eddy_read_u64(r);
  eddy_jrandom_load(&s->jr, r);
  for (size_t i = 0; i < s->n; i++) {
    srp_member_t *m = &s->m[i];
    int err = eddy__forest_watch_load_eval(&m->f.w, r);
    if (!err) err = eddy__forest_watch_load_counts(&m->f.w, r);
    if (err) return err;
    eddy_read(r, m->mask, na);
    eddy_read(r, m->bmask, na);
    if (r->err) return r->err;
    if (s->method != TRAIN_RESAMPLING) err = check_mask(m->mask, na, s->k);
    if (!err)
      err = eddy__forest_watch_load_detectors(&m->f.w, p->adwin_arithmetic == EDDY__ADWIN_MOA, r);
    if (err) return err;
    uint8_t f = eddy_read_u8(r);
    if (r->err) return r->err;
    if (f > 2) return EDDY_ECORRUPT; /* background and stale never both */
    m->f.has_bkg = f & 1;
    m->stale = f >> 1;
    if ((err = eddy__ht_tree_load_block(&m->f.tree, r))) return err;
    if (m->f.has_bkg) {
      if (s->method != TRAIN_RESAMPLING && (err = check_mask(m->bmask, na, s->k))) return err;
      if ((err = eddy__ht_tree_load_block(&m->f.bkg, r))) return err;
    } else {
      eddy__ht_tree_reset(&m->f.bkg);
    }
  }
  return r->err;
}

static size_t srp_memory(const eddy_learner_t *l) {
  const srp_t *s = l->state;
  size_t na = l->schema->n_attrs;
  size_t b = sizeof *s + s->n * sizeof *s->m + na * sizeof *s->pool;
  for (size_t i = 0; i < s->n; i++) {
    const srp_member_t *m = &s->m[i];
    b += eddy__forest_member_memory(&m->f) + 2 * na;
  }
  return b;
}

static void srp_describe(const eddy_learner_t *l, FILE *out) {
  const srp_params_t *p = l->params;
  const srp_t *s = l->state;
  size_t na = l->schema->n_attrs;
  fprintf(out, "streaming_random_patches (%s): %zu trees, %zu of %zu attributes each, lambda %g, "
          "%llu instances, %zu bytes\n",
          training_names[s->method], s->n, s->method == TRAIN_RESAMPLING ? na : s->k, na,
          p->lambda, (unsigned long long)s->seen, eddy_learner_memory(l));
  for (size_t i = 0; i < s->n; i++) {
    const srp_member_t *m = &s->m[i];
    size_t depth, nodes, leaves, inactive;
    eddy__ht_store_shape(&m->f.tree.st, &depth, &nodes, &leaves, &inactive);
    fprintf(out, "  tree %zu:", i);
    for (size_t a = 0; a < na && s->method != TRAIN_RESAMPLING; a++)
      if (m->mask[a]) fprintf(out, " %s", l->schema->attrs[a].name);
    fprintf(out,
            "; accuracy %.4f over %.0f, %zu nodes, depth %zu, %llu warnings, %llu drifts%s\n",
            eddy__forest_watch_accuracy(&m->f.w), m->f.w.eval_len, nodes, depth,
            (unsigned long long)m->f.w.n_warnings, (unsigned long long)m->f.w.n_drifts,
            m->f.has_bkg ? ", background tree growing" : "");
  }
}

/* {"family": "forest", "trees": [{"vote_weight", "accuracy", "attributes", "tree"}]}:
 * each tree's vote weight as predict uses it (its accuracy in percent, or
 * 1 while that is not above 0 or votes are not weighted). */
static int srp_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const srp_params_t *p = l->params;
  const srp_t *s = l->state;
  eddy_buf_printf(b, "{\"family\":\"forest\",\"trees\":[");
  for (size_t i = 0; i < s->n; i++) {
    const srp_member_t *m = &s->m[i];
    eddy__forest_member_export_head(&m->f, p->weighted_vote, i, b);
    if (s->method != TRAIN_RESAMPLING) {
      eddy_buf_printf(b, ",\"attributes\":[");
      for (size_t a = 0, j = 0; a < l->schema->n_attrs; a++)
        if (m->mask[a]) {
          if (j++) eddy_buf_put_u8(b, ',');
          const char *nm = l->schema->attrs[a].name;
          eddy_json_string(b, nm, strlen(nm));
        }
      eddy_buf_put_u8(b, ']');
    }
    eddy_buf_printf(b, ",\"tree\":");
    int err = eddy__ht_tree_export(&m->f.tree, b);
    if (err) return err;
    eddy_buf_put_u8(b, '}');
  }
  eddy_buf_printf(b, "]}");
  return b->err;
}

/* The members' trees (not the background ones), as ht_importance.c says. */
static int srp_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  const srp_t *s = l->state;
  return eddy__ht_forest_importance(s->n ? (const void *)&s->m[0].f.tree : NULL, sizeof *s->m,
                                    s->n, gain, splits, n_attrs);
}

const eddy_learner_type_t eddy_learner_streaming_random_patches = {
    .name = "streaming_random_patches",
    .description = "streaming random patches: Hoeffding trees on random attribute subsets and "
                   "Poisson(6) weights, ADWIN warning and drift with background trees, votes "
                   "weighted by accuracy (MOA StreamingRandomPatches)",
    .tasks = EDDY_CLASSIFICATION,
    .options = srp_options,
    .params_size = sizeof(srp_params_t),
    .state_size = sizeof(srp_t),
    .init = srp_init,
    .predict = srp_predict,
    .learn = srp_learn,
    .reset = srp_reset,
    .save = srp_save,
    .load = srp_load,
    .memory = srp_memory,
    .destroy = srp_destroy,
    .describe = srp_describe,
    .export_json = srp_export,
    .importance = srp_importance,
};
