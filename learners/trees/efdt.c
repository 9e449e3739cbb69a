/* efdt.c: the Extremely Fast Decision Tree (Hoeffding Anytime Tree;
 * Manapragada, Webb & Salehi 2018) as MOA 2024.07's trees.EFDT implements
 * it, on the Hoeffding tree core (hoeffding_tree.c) and its node store.
 *
 * What differs from the Hoeffding tree, as MOA's code does it:
 *  - a leaf splits as soon as its best attribute beats the null split (not
 *    the second best) by the Hoeffding bound, on merits averaged over the
 *    leaf's split attempts (a sum per attribute, divided by the attempts),
 *    or when the bound is below the tie threshold; never on a best merit
 *    under 1e-10, nor on a nominal attribute that the run of nominal
 *    splits right above the leaf used (MOA's usedNominalAttributes: a
 *    numeric split starts the list over);
 *  - split nodes keep learning (class distribution and observers, handed
 *    over from the leaf) and every `reevaluation_period` instances of the
 *    whole stream (MOA's numInstances % R, counted before this one), each
 *    split node the instance passes re-evaluates: when the best attribute's
 *    average merit beats the current one's by the bound (or, under the tie
 *    threshold, by half of it), the subtree is replaced by a new split on
 *    the best attribute with fresh leaves (the instance then learns no
 *    further in the new subtree; MOA sends it into the detached one);
 *  - a leaf attempts a split every grace_period instances it learned (its
 *    nodeTime), whatever their weight; a new split node starts its attempt
 *    count at 0 but takes over the merit sums, so its averages are sums
 *    over all attempts divided by its own; its Hoeffding bound uses the
 *    class count it had when made;
 *  - leaves always predict naive Bayes adaptive (MOA's EFDT ignores -l;
 *    `leaf_prediction = mc` or `nb` are eddy's additions);
 *  - the null split winning a leaf's attempt (Gini: its merit is 1 - the
 *    leaf's Gini, over all the weight the leaf holds, where the attributes'
 *    cover only what its observers saw) restarts the leaf's statistics,
 *    keeping its class weights (MOA deactivates it, then its memory check
 *    at once makes it a new active leaf);
 *  - the null split winning a re-evaluation turns the node into an empty
 *    leaf only when a re-evaluation made it below another split (MOA only
 *    knows the parent of those); with info gain the null split's merit is
 *    -inf, so this never happens there.
 * Deviations: MOA's EFDT never estimates its size, so it never deactivates
 * leaves and there is no memory limit here either; an instance missing the
 * value a split tests stops there (MOA fails). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/trees/trees.h"

typedef eddy__efdt_params_t efdt_params_t;

static const eddy_option_t efdt_options[] = {
    EDDY_OPT_INT_(efdt_params_t, "grace_period", tree.grace_period, "200", 1, 1e9,
                  "instances a leaf learns between split attempts (MOA -g)"),
    EDDY_OPT_DOUBLE_(efdt_params_t, "split_confidence", tree.split_confidence, "1e-7", 1e-300, 1,
                     "delta of the Hoeffding bound (MOA -c)"),
    EDDY_OPT_DOUBLE_(efdt_params_t, "tie_threshold", tree.tie_threshold, "0.05", 0, 1,
                     "split anyway once the Hoeffding bound is below this (MOA -t)"),
    EDDY_OPT_ENUM_(efdt_params_t, "split_criterion", tree.split_criterion, "info_gain",
                   eddy__ht_criteria, "info_gain or gini (MOA -s)"),
    EDDY_OPT_INT_(efdt_params_t, "split_points", tree.n_split_points, "10", 1, 100000,
                  "candidate split points of a numeric attribute (MOA's Gaussian observer -n)"),
    EDDY_OPT_BOOL_(efdt_params_t, "binary_splits", tree.binary_splits, "false",
                   "only binary splits on nominal attributes (MOA -b)"),
    EDDY_OPT_ENUM_(efdt_params_t, "leaf_prediction", tree.leaf_prediction, "nba",
                   eddy__ht_predictors, "nba (naive Bayes adaptive, MOA's EFDT always), mc or nb"),
    EDDY_OPT_INT_(efdt_params_t, "nb_threshold", tree.nb_threshold, "0", 0, 1e12,
                  "weight a leaf needs before naive Bayes predicts (leaf_prediction = nb, MOA -q)"),
    EDDY_OPT_BOOL_(efdt_params_t, "no_preprune", tree.no_preprune, "false",
                   "do not consider the null split (MOA -p)"),
    EDDY_OPT_DOUBLE_(efdt_params_t, "min_branch_frac", tree.min_branch_frac, "0.01", 0, 0.5,
                     "info gain: fraction of weight at least two branches need"),
    EDDY_OPT_INT_(efdt_params_t, "reevaluation_period", reeval_period, "2000", 1, 1e15,
                  "instances of the stream between split re-evaluations (MOA -R)"),
    EDDY_OPT_END};

/* ------------------------------------------------------------ per-node rows */

static size_t ig_len(const eddy__efdt_t *e) { return e->t.st.L.n_attrs + 1; }
static double *ig_row(const eddy__efdt_t *e, int32_t id) { return e->ig + (size_t)id * ig_len(e); }
static uint8_t *used_row(const eddy__efdt_t *e, int32_t id) {
  return e->used + (size_t)id * e->used_bytes;
}

/* The rows follow the node pool's capacity; new rows start empty. */
static int fit(eddy__efdt_t *e) {
  size_t cap = e->t.st.cap_nodes;
  if (cap <= e->cap) return 0;
  eddy__efdt_extra_t *ex = realloc(e->ex, cap * sizeof *ex);
  if (ex) e->ex = ex;
  double *ig = realloc(e->ig, cap * ig_len(e) * sizeof *ig);
  if (ig) e->ig = ig;
  uint8_t *u = realloc(e->used, cap * e->used_bytes);
  if (u) e->used = u;
  if (!ex || !ig || !u) return EDDY_ENOMEM;
  size_t n = cap - e->cap;
  memset(e->ex + e->cap, 0, n * sizeof *e->ex);
  memset(e->ig + e->cap * ig_len(e), 0, n * ig_len(e) * sizeof *e->ig);
  memset(e->used + e->cap * e->used_bytes, 0, n * e->used_bytes);
  e->cap = cap;
  return 0;
}

/* A new active leaf (MOA's new EFDTLearningNode) with that distribution. */
static int32_t new_leaf(eddy__efdt_t *e, const double *dist, uint32_t len, int32_t depth) {
  int32_t id = eddy__ht_new_leaf(&e->t, dist, len, depth);
  if (id < 0) return id;
  int err = fit(e);
  if (err) return err;
  memset(&e->ex[id], 0, sizeof e->ex[id]);
  e->ex[id].create_len = len;
  memset(ig_row(e, id), 0, ig_len(e) * sizeof(double));
  memset(used_row(e, id), 0, e->used_bytes);
  return id;
}

/* Frees the children of split id and its children block. */
static void drop_children(eddy__efdt_t *e, int32_t id) {
  eddy__ht_tree_t *t = &e->t;
  eddy__ht_base_t *b = &eddy__ht_node(t, id)->b;
  for (int32_t k = 0; k < b->n_kids; k++) eddy__ht_free_subtree(t, eddy__ht_kid(t, id, k));
  b = &eddy__ht_node(t, id)->b;
  if (b->kids >= 0) eddy__ht_kids_release(&t->st.kids, b->kids, b->kids_log2);
  b->kids = -1;
  b->kids_log2 = 0;
  b->n_kids = 0;
  t->st.stamp++;
}

/* ------------------------------------------------------------ splitting */

/* Adds each candidate's merit to the node's sums; the null split's sum is
 * kept at 0 or more on a leaf (Math.max(0.0, sum + merit)), not on a split. */
static void add_merits(eddy__efdt_t *e, int32_t id, size_t n_c, int clamp) {
  double *g = ig_row(e, id);
  for (size_t i = 0; i < n_c; i++) {
    const eddy__ht_cand_t *c = &e->t.cands[i];
    if (c->attr >= 0) {
      g[1 + c->attr] += c->merit;
    } else {
      double v = g[0] + c->merit;
      g[0] = (clamp && !(v != v)) ? (v > 0.0 ? v : 0.0) : v;
    }
  }
}

/* Node id (an active leaf, or a split being re-evaluated) becomes the split
 * on cand, keeping its observers, distribution and merit sums, with a new
 * leaf per branch holding the distribution the split estimates. The new
 * leaves' used attributes (MOA's usedNominalAttributes): after a nominal
 * split, the leaf's (none for a split: MOA's split nodes keep no list)
 * plus its attribute; after a numeric split, none. */
static int split_here(eddy__efdt_t *e, int32_t id, const eddy__ht_cand_t *cand, int32_t parent) {
  eddy__ht_tree_t *t = &e->t;
  const uint32_t C = t->st.L.C;
  int was_leaf = eddy__ht_node(t, id)->b.kind == EDDY__HT_LEAF;
  eddy__ht_obs_post_dists(&t->st.L, t->schema, eddy__ht_slot(t, id), cand, t->post, t->post_len);
  memset(e->used_tmp, 0, e->used_bytes);
  if (cand->test != EDDY__HT_TEST_NUM_LE) {
    if (was_leaf) memcpy(e->used_tmp, used_row(e, id), e->used_bytes);
    e->used_tmp[cand->attr / 8] |= (uint8_t)(1u << (cand->attr % 8));
  }
  if (was_leaf) {
    t->st.n_active--;
    t->st.n_split++;
  } else {
    drop_children(e, id);
  }
  unsigned lg = eddy__ht_log2_ceil(cand->n_branches);
  int64_t off = eddy__ht_kids_alloc(&t->st.kids, lg);
  if (off < 0) return (int)off;
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->b.kind = EDDY__HT_SPLIT;
  n->b.test = (uint8_t)cand->test;
  n->b.attr = cand->attr;
  n->b.value = cand->value;
  n->b.kids = (int32_t)off;
  n->b.kids_log2 = (uint8_t)lg;
  n->b.n_kids = (int32_t)cand->n_branches;
  n->mc_correct = n->nb_correct = 0;
  eddy__efdt_extra_t *x = &e->ex[id];
  x->time = 0;
  x->attempts = 0;
  x->create_len = n->dist_len;
  x->reeval_made = !was_leaf && parent >= 0;
  memset(used_row(e, id), 0, e->used_bytes);
  int32_t depth = n->b.depth + 1;
  for (uint32_t i = 0; i < cand->n_branches; i++) {
    int32_t child = new_leaf(e, t->post + (size_t)i * C, t->post_len[i], depth);
    if (child < 0) return child;
    memcpy(used_row(e, child), e->used_tmp, e->used_bytes);
    t->st.kids.v[eddy__ht_node(t, id)->b.kids + i] = child;
  }
  t->st.stamp++;
  e->n_splits += was_leaf;
  return 1;
}

static int is_pure(const eddy__ht_tree_t *t, int32_t id) {
  const double *d = eddy__ht_dist(t, id);
  int nz = 0;
  for (uint32_t c = 0; c < eddy__ht_node(t, id)->dist_len; c++) nz += d[c] != 0.0;
  return nz < 2;
}

/* The null split won a leaf's attempt: MOA deactivates the leaf, and the
 * memory check that follows (any inactive leaf triggers it; EFDT's size
 * estimates stay 0, so every leaf fits) makes it active again as a new
 * learning node with the same class weights: fresh observers, merit sums,
 * attempt count and node time. */
static void restart_leaf(eddy__efdt_t *e, int32_t id) {
  eddy__ht_tree_t *t = &e->t;
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->b.obs_init = 0;
  eddy__ht_layout_clear_slot(&t->st.L, eddy__ht_slot(t, id), t->schema);
  n->mc_correct = n->nb_correct = 0;
  n->last_eval = eddy__ht_weight(t, id);
  memset(&e->ex[id], 0, sizeof e->ex[id]);
  e->ex[id].create_len = n->dist_len;
  memset(ig_row(e, id), 0, ig_len(e) * sizeof(double));
  memset(used_row(e, id), 0, e->used_bytes);
  t->st.stamp++;
  e->n_restarts++;
}

/* MOA's EFDT.attemptToSplit: 1 when the leaf split (or restarted). */
static int attempt_split(eddy__efdt_t *e, int32_t leaf, int32_t parent) {
  eddy__ht_tree_t *t = &e->t;
  const eddy__ht_params_t *p = t->p;
  if (is_pure(t, leaf)) return 0;
  double n_att = (double)++e->ex[leaf].attempts;
  size_t n_c = eddy__ht_gather_cands(t, leaf);
  add_merits(e, leaf, n_c, 1);
  int best, second;
  eddy__ht_best_two(t->cands, n_c, 1, &best, &second);
  int split = n_c > 0;
  if (n_c >= 2) {
    const eddy__ht_node_t *n = eddy__ht_node(t, leaf);
    double hb = eddy__ht_hoeffding_bound(eddy__ht_merit_range(p->split_criterion, n->dist_len),
                                         p->split_confidence, eddy__ht_weight(t, leaf));
    const double *g = ig_row(e, leaf);
    const eddy__ht_cand_t *b = &t->cands[best];
    double best_avg = g[1 + b->attr] / n_att, null_avg = g[0] / n_att;
    split = !(b->merit < 1e-10) && (best_avg - null_avg > hb || hb < p->tie_threshold);
    if (split && b->attr >= 0 && (used_row(e, leaf)[b->attr / 8] >> (b->attr % 8) & 1)) split = 0;
  }
  if (!split) return 0;
  eddy__ht_cand_t cand = t->cands[best];
  if (cand.attr < 0) {
    restart_leaf(e, leaf);
    return 1;
  }
  return split_here(e, leaf, &cand, parent);
}

/* A split node becomes an empty active leaf (MOA's replacement
 * EFDTLearningNode): fresh observers, no class weights, the merit sums kept. */
static void to_empty_leaf(eddy__efdt_t *e, int32_t id) {
  eddy__ht_tree_t *t = &e->t;
  drop_children(e, id);
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->b.kind = EDDY__HT_LEAF;
  n->b.test = 0;
  n->b.attr = 0;
  n->b.value = 0;
  n->b.obs_init = 0;
  eddy__ht_layout_clear_slot(&t->st.L, eddy__ht_slot(t, id), t->schema);
  memset(eddy__ht_dist(t, id), 0, t->st.L.C * sizeof(double));
  n->dist_len = 0;
  n->mc_correct = n->nb_correct = n->last_eval = 0;
  t->st.n_split--;
  t->st.n_active++;
  memset(&e->ex[id], 0, sizeof e->ex[id]);
  memset(used_row(e, id), 0, e->used_bytes);
}

/* MOA's reEvaluateBestSplit at split node id: 1 when the node was
 * replaced (this instance learns no further), else 0. */
static int reevaluate(eddy__efdt_t *e, int32_t id, int32_t parent) {
  eddy__ht_tree_t *t = &e->t;
  const eddy__ht_params_t *p = t->p;
  double n_att = (double)++e->ex[id].attempts;
  double range = eddy__ht_merit_range(p->split_criterion, e->ex[id].create_len);
  double hb = eddy__ht_hoeffding_bound(range, p->split_confidence, eddy__ht_weight(t, id));
  size_t n_c = eddy__ht_gather_cands(t, id);
  if (n_c == 0) return 0;
  int best, second;
  eddy__ht_best_two(t->cands, n_c, 1, &best, &second);
  add_merits(e, id, n_c, 0);
  eddy__ht_cand_t cand = t->cands[best];
  const double *g = ig_row(e, id);
  double delta = g[1 + cand.attr] / n_att - g[1 + eddy__ht_node(t, id)->b.attr] / n_att;
  if (!(delta > hb || (hb < p->tie_threshold && delta > p->tie_threshold / 2))) return 0;
  e->n_reevals++;
  if (cand.attr < 0) {
    if (!e->ex[id].reeval_made) return 0; /* MOA's replacement goes nowhere */
    to_empty_leaf(e, id);
    e->n_replaced++;
    return 1;
  }
  e->n_replaced++;
  return split_here(e, id, &cand, parent);
}

/* A split node learns x: class weights and observers. */
static void split_observe(eddy__efdt_t *e, int32_t id, const eddy_instance_t *x, uint32_t c,
                          double w) {
  eddy__ht_tree_t *t = &e->t;
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  e->ex[id].time++;
  n->b.obs_init = 1;
  eddy__ht_obs_update(&t->st.L, t->schema, eddy__ht_slot(t, id), x, c, w, NULL);
  eddy__ht_dist(t, id)[c] += w;
  if (n->dist_len < c + 1) n->dist_len = c + 1;
}

/* MOA's learnFromInstance of the EFDT nodes from the root down. */
static int learn_path(eddy__efdt_t *e, const eddy_instance_t *x, uint32_t c, double w) {
  eddy__ht_tree_t *t = &e->t;
  int32_t parent = -1, id = t->st.root;
  while (id >= 0) {
    int kind = eddy__ht_node(t, id)->b.kind;
    if (kind != EDDY__HT_SPLIT) {
      eddy__ht_leaf_learn(t, id, x, c, w);
      if (kind != EDDY__HT_LEAF || ++e->ex[id].time % t->p->grace_period != 0) return 0;
      int r = attempt_split(e, id, parent);
      return r < 0 ? r : 0;
    }
    split_observe(e, id, x, c, w);
    if (e->n_instances % e->period == 0) {
      int r = reevaluate(e, id, parent);
      if (r) return r < 0 ? r : 0;
    }
    const eddy__ht_base_t *b = &eddy__ht_node(t, id)->b;
    int br = eddy__ht_branch(b->test, (size_t)b->attr, b->value, x);
    if (br < 0) return 0;
    parent = id;
    id = eddy__ht_kid(t, id, br);
  }
  return 0;
}

static int efdt_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy__efdt_t *e = l->state;
  eddy__ht_tree_t *t = &e->t;
  int err = eddy__ht_learn_begin(t, x);
  if (err <= 0) return err;
  if ((err = fit(e))) return err;
  /* MOA's trainOnInstanceImpl: a branch without a child gets a leaf first */
  int32_t parent = -1;
  int branch = -1;
  if (eddy__ht_sort_root(t, x, &parent, &branch) < 0) {
    int32_t id = new_leaf(e, NULL, 0, eddy__ht_node(t, parent)->b.depth + 1);
    if (id < 0) return id;
    if ((err = eddy__ht_store_set_child(&t->st, parent, branch, id))) return err;
  }
  err = learn_path(e, x, (uint32_t)x->y, x->weight);
  e->n_instances++;
  return err;
}

/* ------------------------------------------------------------ the learner */

static void efdt_free_rows(eddy__efdt_t *e) {
  free(e->ex);
  free(e->ig);
  free(e->used);
  e->ex = NULL;
  e->ig = NULL;
  e->used = NULL;
  e->cap = 0;
}

static int efdt_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  eddy__efdt_t *e = l->state;
  eddy__efdt_params_t *p = l->params;
  int err = eddy__ht_tree_init(&e->t, l->schema, &p->tree, 0, l->seed);
  e->period = p->reeval_period;
  e->used_bytes = (l->schema->n_attrs + 7) / 8 + 1;
  e->used_tmp = calloc(e->used_bytes, 1);
  if (!err && !e->used_tmp) err = EDDY_ENOMEM;
  if (!err) err = fit(e);
  if (err) eddy_seterr(errstr, errstr_size, err, "%s: out of memory", l->type->name);
  return err;
}

static void efdt_reset(eddy_learner_t *l) {
  eddy__efdt_t *e = l->state;
  eddy__ht_tree_reset(&e->t);
  efdt_free_rows(e);
  e->n_instances = 0;
  e->n_splits = e->n_reevals = e->n_replaced = e->n_restarts = 0;
  fit(e); /* an empty pool: nothing to allocate */
}

static void efdt_destroy(eddy_learner_t *l) {
  eddy__efdt_t *e = l->state;
  eddy__ht_tree_free(&e->t);
  efdt_free_rows(e);
  free(e->used_tmp);
  e->used_tmp = NULL;
}

static size_t efdt_memory(const eddy_learner_t *l) {
  const eddy__efdt_t *e = l->state;
  return eddy__ht_tree_memory(&e->t) + sizeof *e - sizeof e->t + e->used_bytes +
         e->cap * (sizeof *e->ex + ig_len(e) * sizeof(double) + e->used_bytes);
}

/* MOA's getVotesForInstance, as long as its array (see hoeffding_tree.c). */
static int efdt_votes(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  eddy__efdt_t *e = l->state;
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  size_t n = (size_t)eddy__ht_tree_votes(&e->t, x);
  if (n > k) n = k;
  memcpy(out, e->t.votes, n * sizeof *out);
  return (int)n;
}

#define EFDT_SAVE_VERSION 1

static int efdt_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const eddy__efdt_t *e = l->state;
  int err = eddy__ht_tree_save(&e->t, b);
  if (err) return err;
  eddy_buf_put_u32(b, EFDT_SAVE_VERSION);
  eddy_buf_put_i64(b, e->n_instances);
  eddy_buf_put_u64(b, e->n_splits);
  eddy_buf_put_u64(b, e->n_reevals);
  eddy_buf_put_u64(b, e->n_replaced);
  eddy_buf_put_u64(b, e->n_restarts);
  for (size_t i = 0; i < e->t.st.n_nodes; i++) {
    const eddy__efdt_extra_t *x = &e->ex[i];
    eddy_buf_put_i64(b, x->time);
    eddy_buf_put_i64(b, x->attempts);
    eddy_buf_put_u32(b, x->create_len);
    eddy_buf_put_u8(b, x->reeval_made);
    eddy_buf_put_f64s(b, ig_row(e, (int32_t)i), ig_len(e));
    eddy_buf_put(b, used_row(e, (int32_t)i), e->used_bytes);
  }
  return b->err;
}

static int efdt_load(eddy_learner_t *l, eddy_reader_t *r) {
  eddy__efdt_t *e = l->state;
  efdt_reset(l);
  int err = eddy__ht_tree_load(&e->t, r);
  if (err) return err;
  if ((err = fit(e))) return err;
  if (eddy_read_u32(r) != EFDT_SAVE_VERSION) return r->err ? r->err : EDDY_EVERSION;
  e->n_instances = eddy_read_i64(r);
  e->n_splits = eddy_read_u64(r);
  e->n_reevals = eddy_read_u64(r);
  e->n_replaced = eddy_read_u64(r);
  e->n_restarts = eddy_read_u64(r);
  /* counters far below where ++ could overflow */
  const int64_t lim = INT64_C(1) << 62;
  if (e->n_instances < 0 || e->n_instances > lim) return EDDY_ECORRUPT;
  for (size_t i = 0; i < e->t.st.n_nodes && !r->err; i++) {
    eddy__efdt_extra_t *x = &e->ex[i];
    x->time = eddy_read_i64(r);
    x->attempts = eddy_read_i64(r);
    x->create_len = eddy_read_u32(r);
    x->reeval_made = eddy_read_u8(r);
    eddy_read_f64s(r, ig_row(e, (int32_t)i), ig_len(e));
    eddy_read(r, used_row(e, (int32_t)i), e->used_bytes);
    if (x->time < 0 || x->time > lim || x->attempts < 0 || x->attempts > lim ||
        x->create_len > e->t.st.L.C || x->reeval_made > 1)
      return EDDY_ECORRUPT;
    /* EFDT's split nodes learn: each holds its observers */
    const eddy__ht_base_t *b = &eddy__ht_node(&e->t, (int32_t)i)->b;
    if (b->kind == EDDY__HT_SPLIT && b->slot < 0) return EDDY_ECORRUPT;
  }
  return r->err;
}

static void efdt_describe(const eddy_learner_t *l, FILE *out) {
  const eddy__efdt_t *e = l->state;
  eddy__ht_tree_describe(&e->t, l->type->name, out);
  fprintf(out,
          "splits: %llu from leaves, %llu re-evaluations replaced a subtree, %llu leaves "
          "restarted; %zu bytes with the merit sums\n",
          (unsigned long long)e->n_splits, (unsigned long long)e->n_replaced,
          (unsigned long long)e->n_restarts, efdt_memory(l));
}

const eddy_learner_type_t eddy_learner_efdt = {
    .name = "efdt",
    .description = "Extremely Fast Decision Tree (Hoeffding Anytime Tree) as MOA's trees.EFDT: "
                   "splits once better than none, split nodes re-evaluated",
    .tasks = EDDY_CLASSIFICATION,
    .options = efdt_options,
    .params_size = sizeof(eddy__efdt_params_t),
    .state_size = sizeof(eddy__efdt_t),
    .init = efdt_init,
    .predict = eddy__ht_l_predict,
    .learn = efdt_learn,
    .reset = efdt_reset,
    .save = efdt_save,
    .load = efdt_load,
    .memory = efdt_memory,
    .destroy = efdt_destroy,
    .describe = efdt_describe,
    .votes = efdt_votes,
    .export_json = eddy__ht_export,
    .importance = eddy__ht_l_importance, /* mean decrease in impurity, as for the other trees */
};
