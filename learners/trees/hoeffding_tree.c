/* hoeffding_tree.c: the Hoeffding tree classifier (VFDT, Domingos & Hulten
 * 2000) exactly as MOA 2016.04's HoeffdingTree defines it, and the tree core
 * that the Hoeffding Adaptive Tree builds on (hoeffding_adaptive_tree.c).
 *
 * MOA's semantics kept on purpose (they decide which splits happen, so
 * parity with MOA's numbers needs them):
 *  - split suggestions are the null split (pre-pruning) then each
 *    attribute's best, sorted stably by Double.compare: on equal merits the
 *    later attribute wins; the info-gain merit of the null split is -inf
 *    (fewer than two branches above minBranchFrac), so with info gain
 *    pre-pruning never wins;
 *  - the tie threshold forces a split once the bound drops below it, even
 *    when the class does not depend on the inputs (at n > R^2 ln(1/delta) /
 *    (2 tau^2), 3224 with two classes and the defaults);
 *  - new leaves start with the class distribution the split estimated
 *    (Gaussian estimates, not counts) and attempt splits again once grace
 *    period weight more has arrived;
 *  - an instance whose split value is missing stops at the split node: it
 *    predicts the node's distribution and is not learned;
 *  - a branch never seen at split time (a new nominal value) gets a new
 *    leaf when an instance first goes there; predictions use the split
 *    node's distribution until then;
 *  - naive Bayes adaptive leaves compare the majority class and naive Bayes
 *    correct weights per leaf (an empty leaf's majority class is -1);
 *  - memory management follows estimateModelByteSizes and
 *    enforceTrackerLimit, with eddy's exact byte sizes instead of Java's.
 * Additions: max_depth (River's: a leaf at that depth stops splitting and
 * is deactivated); instances with weight <= 0 are ignored. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"
#include "learners/trees/trees.h"

static const char *const criteria[] = {"info_gain", "gini", NULL};
static const char *const predictors[] = {"mc", "nb", "nba", NULL};
static const char *const boots[] = {"moa", "seeded", "off", NULL};

#define HT_COMMON_OPTIONS                                                                          \
  EDDY_OPT_INT_(eddy__ht_params_t, "grace_period", grace_period, "200", 1, 1e9,                         \
                "weight a leaf observes between split attempts"),                                  \
      EDDY_OPT_DOUBLE_(eddy__ht_params_t, "split_confidence", split_confidence, "1e-7", 1e-300, 1,      \
                       "delta of the Hoeffding bound: the allowed error of a split decision"),     \
      EDDY_OPT_DOUBLE_(eddy__ht_params_t, "tie_threshold", tie_threshold, "0.05", 0, 1,                 \
                       "split anyway once the Hoeffding bound is below this (ties)"),              \
      EDDY_OPT_ENUM_(eddy__ht_params_t, "split_criterion", split_criterion, "info_gain", criteria,      \
                     "info_gain or gini"),                                                         \
      EDDY_OPT_INT_(eddy__ht_params_t, "split_points", n_split_points, "10", 1, 100000,                 \
                    "candidate split points of a numeric attribute (Gaussian observer)"),         \
      EDDY_OPT_BOOL_(eddy__ht_params_t, "binary_splits", binary_splits, "false",                        \
                     "only binary splits on nominal attributes (no multiway)"),                   \
      EDDY_OPT_ENUM_(eddy__ht_params_t, "leaf_prediction", leaf_prediction, "nba", predictors,          \
                     "mc (majority class), nb (naive Bayes) or nba (naive Bayes adaptive)"),      \
      EDDY_OPT_INT_(eddy__ht_params_t, "nb_threshold", nb_threshold, "0", 0, 1e12,                      \
                    "weight a leaf needs before naive Bayes predicts (leaf_prediction = nb)"),    \
      EDDY_OPT_INT_(eddy__ht_params_t, "max_depth", max_depth, "0", 0, 1e6,                             \
                    "leaves at this depth stop splitting; 0 = unlimited"),                        \
      EDDY_OPT_INT_(eddy__ht_params_t, "max_byte_size", max_byte_size, "33554432", 1024, 1e15,          \
                    "memory limit of the tree; the least promising leaves are deactivated"),      \
      EDDY_OPT_INT_(eddy__ht_params_t, "memory_estimate_period", memory_estimate_period, "1000000", 1,  \
                    1e15, "weight between memory checks"),                                         \
      EDDY_OPT_BOOL_(eddy__ht_params_t, "stop_mem_management", stop_mem_management, "false",            \
                     "stop growing when the memory limit is hit (instead of deactivating)"),      \
      EDDY_OPT_BOOL_(eddy__ht_params_t, "no_preprune", no_preprune, "false",                            \
                     "do not consider the null split (no pre-pruning)"),                           \
      EDDY_OPT_DOUBLE_(eddy__ht_params_t, "min_branch_frac", min_branch_frac, "0.01", 0, 0.5,           \
                       "info gain: fraction of weight at least two branches need")

const eddy_option_t eddy__ht_options[] = {HT_COMMON_OPTIONS, EDDY_OPT_END};

const eddy_option_t hat_options[] = {
    HT_COMMON_OPTIONS,
    EDDY_OPT_DOUBLE_(eddy__ht_params_t, "adwin_delta", adwin_delta, "0.002", 1e-12, 1,
                     "delta of the ADWIN error estimator at each node"),
    EDDY_OPT_ENUM_(eddy__ht_params_t, "bootstrap", bootstrap, "moa", boots,
                   "Poisson(1) leaf weights: moa (java.util.Random(1) per node, as MOA), seeded "
                   "(from the learner's seed) or off"),
    EDDY_OPT_DOUBLE_(eddy__ht_params_t, "switch_significance", switch_significance, "0.05", 1e-12, 1,
                     "significance of the test that swaps in or prunes an alternate tree"),
    EDDY_OPT_INT_(eddy__ht_params_t, "drift_window_threshold", drift_window_threshold, "300", 0, 1e12,
                  "instances both error estimators need before the swap test"),
    EDDY_OPT_END};

/* ------------------------------------------------------------ layout and pools */

/* The naive Bayes factor cache (eddy__ht_obs_nb_votes_cached) of one
 * active leaf for the instance in cache_x: after cache_votes' C entries in
 * the same block, so that the tree's struct keeps its size (which the
 * memory figures count, and checkpoints through `overhead`): the stamp it
 * is valid at, the leaf id (-1: none), C ok flags, C rows of n_attrs
 * factors. Learning class c at that leaf only outdates row c, so the
 * prediction after learning (a forest's member) recomputes one class. */
static size_t nb_block_len(size_t C, size_t n_attrs) { return C + 2 + C + C * n_attrs; }
static double *nb_ok(const eddy__ht_tree_t *t) { return t->cache_votes + t->st.L.C + 2; }
static double *nb_f(const eddy__ht_tree_t *t) { return t->cache_votes + 2 * (size_t)t->st.L.C + 2; }
static int32_t nb_leaf(const eddy__ht_tree_t *t) { return (int32_t)t->cache_votes[t->st.L.C + 1]; }
static uint64_t nb_stamp(const eddy__ht_tree_t *t) {
  uint64_t v;
  memcpy(&v, t->cache_votes + t->st.L.C, sizeof v);
  return v;
}
static void nb_set(eddy__ht_tree_t *t, int32_t leaf, uint64_t stamp) {
  memcpy(t->cache_votes + t->st.L.C, &stamp, sizeof stamp);
  t->cache_votes[t->st.L.C + 1] = leaf;
}
static void nb_drop(eddy__ht_tree_t *t) { nb_set(t, -1, 0); }

static int alloc_scratch(eddy__ht_tree_t *t) {
  const eddy__ht_layout_t *L = &t->st.L;
  uint32_t vmax = eddy__ht_layout_vmax(L);
  size_t C = L->C;
  size_t obs = 2 * C + L->n_bins + 2;
  if ((size_t)vmax * C > obs) obs = (size_t)vmax * C;
  double *v1 = realloc(t->votes, C * sizeof *v1);
  if (v1) t->votes = v1;
  double *v2 = realloc(t->votes2, C * sizeof *v2);
  if (v2) t->votes2 = v2;
  double *cv = realloc(t->cache_votes, nb_block_len(C, L->n_attrs) * sizeof *cv);
  if (cv) t->cache_votes = cv;
  double *po = realloc(t->post, (size_t)vmax * C * sizeof *po);
  if (po) t->post = po;
  double *os = realloc(t->obs_scratch, obs * sizeof *os);
  if (os) t->obs_scratch = os;
  uint32_t *pl = realloc(t->post_len, (vmax + 2) * sizeof *pl);
  if (pl) t->post_len = pl;
  uint32_t *ol = realloc(t->obs_len, (vmax + 2) * sizeof *ol);
  if (ol) t->obs_len = ol;
  if (!v1 || !v2 || !cv || !po || !os || !pl || !ol) return EDDY_ENOMEM;
  nb_drop(t);
  t->cache_leaf = -1;
  t->cache_node = INT32_MIN;
  t->cache_nb = 0;
  return 0;
}

int eddy__ht_tree_init(eddy__ht_tree_t *t, const eddy_schema_t *s, const eddy__ht_params_t *p, int adaptive,
                 uint64_t seed) {
  memset(t, 0, sizeof *t);
  t->schema = s;
  t->p = p;
  t->adaptive = adaptive;
  t->seed = seed;
  t->overhead = 1.0;
  t->cache_leaf = -1;
  t->cache_node = INT32_MIN;
  uint32_t k = eddy_schema_n_classes(s);
  eddy__ht_store_init(&t->st, sizeof(eddy__ht_node_t), k > 2 ? k : 2);
  eddy__ht_layout_t *L = &t->st.L;
  L->n_attrs = s->n_attrs;
  L->C = t->st.row_len;
  L->n_bins = (uint32_t)p->n_split_points;
  L->V = calloc(s->n_attrs ? s->n_attrs : 1, sizeof *L->V);
  L->off = calloc(s->n_attrs ? s->n_attrs : 1, sizeof *L->off);
  t->cache_x = calloc(s->n_attrs ? s->n_attrs : 1, sizeof *t->cache_x);
  t->cache_miss = calloc(s->n_attrs ? s->n_attrs : 1, 1);
  t->cands = calloc(s->n_attrs + 1, sizeof *t->cands);
  if (!L->V || !L->off || !t->cache_x || !t->cache_miss || !t->cands) return EDDY_ENOMEM;
  for (size_t a = 0; a < s->n_attrs; a++) {
    if (s->attrs[a].kind == EDDY_NOMINAL) {
      uint32_t n = eddy_schema_n_values(s, a);
      L->V[a] = n > 2 ? n : 2;
    }
  }
  eddy__ht_layout_compute(L, s);
  t->sub_seed = 1;
  eddy_jrandom_seed(&t->jr, t->sub_seed);
  if (p->subspace_size > 0 && (size_t)p->subspace_size < s->n_attrs) {
    t->sub_k = (size_t)p->subspace_size;
    if (!(t->sub_pool = malloc(s->n_attrs * sizeof *t->sub_pool))) return EDDY_ENOMEM;
  }
  return alloc_scratch(t);
}

void eddy__ht_tree_seed_subspace(eddy__ht_tree_t *t, int64_t seed) {
  t->sub_seed = seed;
  eddy_jrandom_seed(&t->jr, seed);
}

void eddy__ht_tree_free(eddy__ht_tree_t *t) {
  for (size_t i = 0; i < t->st.n_nodes; i++) eddy_adwin_free(eddy__ht_node(t, (int32_t)i)->adwin);
  eddy__ht_store_free(&t->st);
  free(t->votes);
  free(t->votes2);
  free(t->post);
  free(t->obs_scratch);
  free(t->post_len);
  free(t->obs_len);
  free(t->cands);
  free(t->walk);
  free(t->cache_x);
  free(t->cache_votes);
  free(t->cache_miss);
  free(t->sub_mask);
  free(t->sub_pool);
  memset(t, 0, sizeof *t);
  t->st.root = -1;
}

void eddy__ht_tree_reset(eddy__ht_tree_t *t) {
  const eddy_schema_t *s = t->schema;
  const eddy__ht_params_t *p = t->p;
  int adaptive = t->adaptive;
  uint64_t seed = t->seed;
  int64_t sub_seed = t->sub_seed;
  const uint8_t *fixed = t->fixed_mask;
  eddy__ht_tree_free(t);
  eddy__ht_tree_init(t, s, p, adaptive, seed);
  eddy__ht_tree_seed_subspace(t, sub_seed);
  t->fixed_mask = fixed;
}

/* Re-lays out dist rows and slots for C1 classes and V1 values. */
static int relayout(eddy__ht_tree_t *t, uint32_t C1, const uint32_t *V1) {
  const eddy_schema_t *s = t->schema;
  eddy__ht_layout_t N = t->st.L;
  N.C = C1;
  N.V = malloc((s->n_attrs ? s->n_attrs : 1) * sizeof *N.V);
  N.off = malloc((s->n_attrs ? s->n_attrs : 1) * sizeof *N.off);
  if (!N.V || !N.off) goto oom;
  memcpy(N.V, V1, s->n_attrs * sizeof *N.V);
  eddy__ht_layout_compute(&N, s);
  double *dist = NULL, *stats = NULL;
  if (t->st.cap_rows) {
    dist = calloc(t->st.cap_rows * C1, sizeof *dist);
    if (!dist) goto oom;
    for (size_t i = 0; i < t->st.n_nodes; i++)
      memcpy(dist + i * C1, t->st.rows + i * t->st.L.C, t->st.L.C * sizeof *dist);
  }
  if (t->st.cap_slots) {
    stats = calloc(t->st.cap_slots * N.stride, sizeof *stats);
    if (!stats) {
      free(dist);
      goto oom;
    }
    for (size_t i = 0; i < t->st.n_slots; i++)
      eddy__ht_layout_copy_slot(&t->st.L, t->st.stats + i * t->st.L.stride, &N, stats + i * N.stride, s);
  }
  free(t->st.rows);
  free(t->st.stats);
  t->st.rows = dist;
  t->st.stats = stats;
  free(t->st.L.V);
  free(t->st.L.off);
  t->st.L = N;
  t->st.row_len = C1;
  t->st.stamp++;
  return alloc_scratch(t);
oom:
  free(N.V);
  free(N.off);
  return EDDY_ENOMEM;
}

static uint32_t grow_to(uint32_t cur, uint64_t need) {
  uint64_t n = cur ? cur : 2;
  while (n < need) n *= 2;
  return n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

int eddy__ht_tree_ensure(eddy__ht_tree_t *t, const eddy_instance_t *x) {
  const eddy_schema_t *s = t->schema;
  int need = 0;
  uint32_t C1 = t->st.L.C;
  if (s->task == EDDY_CLASSIFICATION && x->y >= C1) {
    C1 = grow_to(C1, (uint64_t)x->y + 1);
    need = 1;
  }
  for (size_t a = 0; a < s->n_attrs && !need; a++)
    if (s->attrs[a].kind == EDDY_NOMINAL && !(x->missing && x->missing[a]) && x->x[a] >= 0 &&
        x->x[a] >= t->st.L.V[a] && x->x[a] < 4294967296.0)
      need = 1;
  if (!need) return 0;
  uint32_t *V1 = malloc((s->n_attrs ? s->n_attrs : 1) * sizeof *V1);
  if (!V1) return EDDY_ENOMEM;
  for (size_t a = 0; a < s->n_attrs; a++) {
    V1[a] = t->st.L.V[a];
    if (s->attrs[a].kind == EDDY_NOMINAL && !(x->missing && x->missing[a]) && x->x[a] >= 0 &&
        x->x[a] >= V1[a] && x->x[a] < 4294967296.0)
      V1[a] = grow_to(V1[a], (uint64_t)x->x[a] + 1);
  }
  int err = relayout(t, C1, V1);
  free(V1);
  return err;
}

/* A node from the store; HAT's nodes keep their error estimator (reset)
 * and start a Poisson stream. */
static int32_t new_node(eddy__ht_tree_t *t) {
  int32_t reuse = t->st.free_node;
  eddy_adwin_t *adwin = reuse >= 0 ? eddy__ht_node(t, reuse)->adwin : NULL;
  int32_t id = eddy__ht_store_new_node(&t->st);
  if (id < 0) return id;
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->alt = -1;
  if (t->adaptive) {
    if (adwin)
      eddy_adwin_reset(adwin);
    else if (!(adwin = eddy_adwin_new(t->p->adwin_delta)))
      return EDDY_ENOMEM;
    n->rng = t->p->bootstrap == EDDY__HT_BOOT_SEEDED ? eddy_seed_derive(t->seed, t->n_created)
                                                     : eddy__ht_moa_random_state();
  }
  n->adwin = adwin;
  t->n_created++;
  return id;
}

void eddy__ht_free_subtree(eddy__ht_tree_t *t, int32_t id) {
  eddy__ht_store_free_subtree(&t->st, id, offsetof(eddy__ht_node_t, alt));
}

double eddy__ht_weight(const eddy__ht_tree_t *t, int32_t id) {
  const double *d = eddy__ht_dist(t, id);
  double s = 0.0;
  for (uint32_t c = 0; c < eddy__ht_node(t, id)->dist_len; c++) s += d[c];
  return s;
}

int eddy__ht_dist_max_index(const eddy__ht_tree_t *t, int32_t id) {
  const double *d = eddy__ht_dist(t, id);
  int m = -1;
  for (uint32_t c = 0; c < eddy__ht_node(t, id)->dist_len; c++)
    if (m < 0 || d[c] > d[m]) m = (int)c;
  return m;
}

/* An ARF leaf's subspace row for its new slot: the masks grow with the
 * slot pool (its capacity was old_cap before the slot was taken) and the
 * row starts empty. 0, or EDDY_ENOMEM. */
static int fit_sub_mask(eddy__ht_tree_t *t, int32_t slot, size_t old_cap) {
  if (!t->sub_k) return 0;
  size_t n = t->st.L.n_attrs;
  if (t->st.cap_slots != old_cap) {
    uint8_t *m = realloc(t->sub_mask, t->st.cap_slots * n);
    if (!m) return EDDY_ENOMEM;
    t->sub_mask = m;
  }
  memset(t->sub_mask + (size_t)slot * n, 0, n);
  return 0;
}

int32_t eddy__ht_new_leaf(eddy__ht_tree_t *t, const double *dist, uint32_t len, int32_t depth) {
  int32_t id = new_node(t);
  if (id < 0) return id;
  size_t cap = t->st.cap_slots;
  id = eddy__ht_store_new_leaf(&t->st, id, depth);
  if (id < 0) return id;
  if (fit_sub_mask(t, eddy__ht_node(t, id)->b.slot, cap)) {
    eddy__ht_store_free_node(&t->st, id);
    return EDDY_ENOMEM;
  }
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->dist_len = len;
  if (dist) memcpy(eddy__ht_dist(t, id), dist, t->st.L.C * sizeof(double));
  n->last_eval = eddy__ht_weight(t, id);
  return id;
}

/* Puts id at (parent, branch) and frees what was there. */
static int replace_at(eddy__ht_tree_t *t, int32_t parent, int branch, int32_t id) {
  int32_t old = eddy__ht_store_at(&t->st, parent, branch);
  int err = eddy__ht_store_set_child(&t->st, parent, branch, id);
  if (err) return err;
  if (old >= 0 && old != id) eddy__ht_free_subtree(t, old);
  return 0;
}

static int same_instance(const eddy__ht_tree_t *t, const eddy_instance_t *x) {
  size_t n = t->st.L.n_attrs;
  /* bytewise equality as memcmp's, inline: a forest asks this per member
   * several times per record, mostly of a few attributes */
  for (size_t a = 0; a < n; a++) {
    uint64_t u, v;
    memcpy(&u, &t->cache_x[a], sizeof u);
    memcpy(&v, &x->x[a], sizeof v);
    if (u != v) return 0;
  }
  for (size_t a = 0; a < n; a++)
    if (t->cache_miss[a] != (x->missing ? x->missing[a] != 0 : 0)) return 0;
  return 1;
}

void eddy__ht_cache_sort(eddy__ht_tree_t *t, const eddy_instance_t *x, int32_t id, int32_t parent,
                   int branch) {
  if (!same_instance(t, x)) { /* the naive Bayes factors were the old instance's */
    memcpy(t->cache_x, x->x, t->st.L.n_attrs * sizeof *x->x);
    for (size_t a = 0; a < t->st.L.n_attrs; a++) t->cache_miss[a] = x->missing ? x->missing[a] != 0 : 0;
    nb_drop(t);
  }
  t->cache_stamp = t->st.stamp;
  t->cache_node = id;
  t->cache_parent = parent;
  t->cache_branch = branch;
  t->cache_leaf = -1;
  t->cache_nb = 0;
}

static int cache_valid(const eddy__ht_tree_t *t, const eddy_instance_t *x) {
  return t->cache_stamp == t->st.stamp && t->cache_node != INT32_MIN && same_instance(t, x);
}

int32_t eddy__ht_sort_root(eddy__ht_tree_t *t, const eddy_instance_t *x, int32_t *parent, int *branch) {
  if (cache_valid(t, x)) {
    *parent = t->cache_parent;
    *branch = t->cache_branch;
    return t->cache_node;
  }
  *parent = -1;
  *branch = -1;
  return eddy__ht_store_sort(&t->st, t->st.root, x, parent, branch);
}

/* The attributes an active leaf observes (NULL: all). */
static const uint8_t *ht_sub_mask(const eddy__ht_tree_t *t, int32_t id) {
  if (t->fixed_mask) return t->fixed_mask;
  return t->sub_k ? t->sub_mask + (size_t)eddy__ht_node(t, id)->b.slot * t->st.L.n_attrs : NULL;
}

/* ARFHoeffdingTree's RandomLearningNode on its first instance: sub_k
 * attributes drawn without replacement, each nextInt(remaining) an index
 * into the remaining ones in order (MOA's ArrayList.remove). */
static void draw_subspace(eddy__ht_tree_t *t, int32_t id) {
  size_t n = t->st.L.n_attrs;
  uint8_t *m = t->sub_mask + (size_t)eddy__ht_node(t, id)->b.slot * n;
  memset(m, 0, n);
  for (size_t a = 0; a < n; a++) t->sub_pool[a] = (int32_t)a;
  size_t left = n;
  for (size_t i = 0; i < t->sub_k; i++) {
    size_t j = (size_t)eddy_jrandom_int(&t->jr, (int32_t)left);
    m[t->sub_pool[j]] = 1;
    memmove(t->sub_pool + j, t->sub_pool + j + 1, (left - j - 1) * sizeof *t->sub_pool);
    left--;
  }
}

/* Naive Bayes votes of an active leaf into v, through the cache. */
static void leaf_nb_votes(eddy__ht_tree_t *t, int32_t id, const eddy_instance_t *x, double *v) {
  const eddy__ht_node_t *n = eddy__ht_node(t, id);
  if (t->cache_nb && t->cache_leaf == id && cache_valid(t, x)) {
    memcpy(v, t->cache_votes, t->st.L.C * sizeof *v);
    return;
  }
  int same = same_instance(t, x);
  if (same && n->b.obs_init) { /* x is cache_x: through the factor cache */
    if (nb_leaf(t) != id || nb_stamp(t) != t->st.stamp) {
      nb_set(t, id, t->st.stamp);
      for (uint32_t c = 0; c < t->st.L.C; c++) nb_ok(t)[c] = 0.0;
    }
    eddy__ht_obs_nb_votes_cached(&t->st.L, t->schema, eddy__ht_slot(t, id), eddy__ht_dist(t, id),
                                 n->dist_len, x, v, ht_sub_mask(t, id), nb_f(t), nb_ok(t));
  } else {
    eddy__ht_obs_nb_votes(&t->st.L, t->schema, eddy__ht_slot(t, id), n->b.obs_init, eddy__ht_dist(t, id),
                          n->dist_len, x, v, ht_sub_mask(t, id));
  }
  if (t->cache_stamp == t->st.stamp && t->cache_node != INT32_MIN && same) {
    memcpy(t->cache_votes, v, t->st.L.C * sizeof *v);
    t->cache_leaf = id;
    t->cache_nb = 1;
  }
}

void eddy__ht_node_votes(eddy__ht_tree_t *t, int32_t id, const eddy_instance_t *x, double *votes) {
  const eddy__ht_node_t *n = eddy__ht_node(t, id);
  if (n->b.kind == EDDY__HT_LEAF) {
    int pred = t->p->leaf_prediction;
    int nb = pred == EDDY__HT_PRED_NB ? eddy__ht_weight(t, id) >= (double)t->p->nb_threshold
                                : pred == EDDY__HT_PRED_NBA && !(n->mc_correct > n->nb_correct);
    if (nb) {
      leaf_nb_votes(t, id, x, votes);
      return;
    }
  }
  memcpy(votes, eddy__ht_dist(t, id), t->st.L.C * sizeof *votes);
}

void eddy__ht_leaf_learn(eddy__ht_tree_t *t, int32_t id, const eddy_instance_t *x, uint32_t c, double w) {
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  const uint64_t before = t->st.stamp;
  const int was_init = n->b.obs_init;
  if (n->b.kind == EDDY__HT_LEAF) {
    if (t->p->leaf_prediction == EDDY__HT_PRED_NBA) {
      if (eddy__ht_dist_max_index(t, id) == (int)c) n->mc_correct += w;
      leaf_nb_votes(t, id, x, t->votes2);
      if (eddy_argmax(t->votes2, n->dist_len) == c) n->nb_correct += w;
    }
    if (!n->b.obs_init && t->sub_k) draw_subspace(t, id);
    n->b.obs_init = 1;
    eddy__ht_obs_update(&t->st.L, t->schema, eddy__ht_slot(t, id), x, c, w, ht_sub_mask(t, id));
  }
  eddy__ht_dist(t, id)[c] += w;
  if (n->dist_len < c + 1) n->dist_len = c + 1;
  t->st.stamp++;
  if (nb_stamp(t) == before && nb_leaf(t) >= 0) { /* only class c of leaf id changed */
    nb_set(t, nb_leaf(t) == id && !was_init ? -1 : nb_leaf(t), t->st.stamp);
    if (nb_leaf(t) == id) nb_ok(t)[c] = 0.0;
  }
}

/* ------------------------------------------------------------ memory management */

static size_t adwin_bytes(const void *node) {
  const eddy__ht_node_t *n = node;
  return n->adwin ? eddy_adwin_memory(n->adwin) : 0;
}

static size_t node_bytes(const eddy__ht_tree_t *t, int32_t id) {
  return eddy__ht_store_node_bytes(&t->st, id) + adwin_bytes(eddy__ht_node(t, id));
}

static void deactivate(eddy__ht_tree_t *t, int32_t id) {
  if (eddy__ht_store_deactivate(&t->st, id)) {
    eddy__ht_node_t *n = eddy__ht_node(t, id);
    n->mc_correct = n->nb_correct = 0;
  }
}

static int activate(eddy__ht_tree_t *t, int32_t id) {
  if (eddy__ht_node(t, id)->b.kind != EDDY__HT_LEAF_INACTIVE) return 0;
  size_t cap = t->st.cap_slots;
  int32_t slot = eddy__ht_store_alloc_slot(&t->st);
  if (slot < 0) return slot;
  if (fit_sub_mask(t, slot, cap)) {
    t->st.slot_free[t->st.n_slot_free++] = slot;
    return EDDY_ENOMEM;
  }
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->b.slot = slot;
  n->b.kind = EDDY__HT_LEAF;
  n->b.obs_init = 0;
  n->mc_correct = n->nb_correct = 0;
  n->last_eval = eddy__ht_weight(t, id);
  t->st.n_active++;
  t->st.n_inactive--;
  t->st.stamp++;
  /* MOA makes a new learning node here: HAT's error estimator and Poisson
   * stream start over too */
  if (t->adaptive) {
    eddy_adwin_reset(n->adwin);
    n->err_used = 0;
    n->rng = t->p->bootstrap == EDDY__HT_BOOT_SEEDED ? eddy_seed_derive(t->seed, t->n_created)
                                                : eddy__ht_moa_random_state();
    t->n_created++;
  }
  return 0;
}

/* The learning nodes of the main tree in MOA's findLearningNodes order. */
static int find_leaves(eddy__ht_tree_t *t, size_t *n_out) {
  size_t need = t->st.n_nodes * 2 + 1;
  if (need > t->cap_walk) {
    int32_t *w = realloc(t->walk, need * sizeof *w);
    if (!w) return EDDY_ENOMEM;
    t->walk = w;
    t->cap_walk = need;
  }
  /* walk[0 .. n) is the output; a stack grows down from the end */
  size_t n = 0, top = t->cap_walk;
  if (t->st.root >= 0) t->walk[--top] = t->st.root;
  while (top < t->cap_walk) {
    int32_t id = t->walk[top++];
    const eddy__ht_node_t *nd = eddy__ht_node(t, id);
    if (nd->b.kind == EDDY__HT_LEAF || nd->b.kind == EDDY__HT_LEAF_INACTIVE) t->walk[n++] = id;
    if (nd->b.kind == EDDY__HT_SPLIT)
      for (int32_t b = nd->b.n_kids - 1; b >= 0; b--) {
        int32_t c = eddy__ht_kid(t, id, b);
        if (c >= 0) t->walk[--top] = c;
      }
  }
  *n_out = n;
  return 0;
}

static double promise(const eddy__ht_tree_t *t, int32_t id) {
  double total = eddy__ht_weight(t, id);
  int m = eddy__ht_dist_max_index(t, id);
  return total > 0.0 ? total - eddy__ht_dist(t, id)[m] : 0.0;
}

typedef struct {
  double promise;
  size_t pos;
  int32_t id;
} ranked_t;

static int by_promise(const void *a, const void *b) {
  const ranked_t *x = a, *y = b;
  int c = eddy__ht_java_compare(x->promise, y->promise);
  return c ? c : (x->pos < y->pos ? -1 : x->pos > y->pos);
}

static int enforce_tracker_limit(eddy__ht_tree_t *t) {
  const eddy__ht_params_t *p = t->p;
  if (!(t->st.n_inactive > 0 ||
        (t->st.n_active * t->active_est + t->st.n_inactive * t->inactive_est) * t->overhead >
            (double)p->max_byte_size))
    return 0;
  if (p->stop_mem_management) {
    t->st.growth_allowed = 0;
    return 0;
  }
  size_t n;
  int err = find_leaves(t, &n);
  if (err) return err;
  ranked_t *r = malloc((n ? n : 1) * sizeof *r);
  if (!r) return EDDY_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    r[i].id = t->walk[i];
    r[i].pos = i;
    r[i].promise = promise(t, t->walk[i]);
  }
  qsort(r, n, sizeof *r, by_promise);
  size_t max_active = 0;
  while (max_active < n) {
    max_active++;
    if ((max_active * t->active_est + (n - max_active) * t->inactive_est) * t->overhead >
        (double)p->max_byte_size) {
      max_active--;
      break;
    }
  }
  size_t cutoff = n - max_active;
  for (size_t i = 0; i < cutoff; i++) deactivate(t, r[i].id);
  for (size_t i = cutoff; i < n && !err; i++) err = activate(t, r[i].id);
  free(r);
  return err;
}

/* estimateModelByteSizes */
static int estimate_sizes(eddy__ht_tree_t *t) {
  size_t n;
  int err = find_leaves(t, &n);
  if (err) return err;
  double act = 0, inact = 0;
  size_t n_act = 0, n_inact = 0;
  for (size_t i = 0; i < n; i++) {
    int32_t id = t->walk[i];
    if (eddy__ht_node(t, id)->b.kind == EDDY__HT_LEAF) {
      act += (double)node_bytes(t, id);
      n_act++;
    } else {
      inact += (double)node_bytes(t, id);
      n_inact++;
    }
  }
  if (act > 0) t->active_est = act / (double)n_act;
  if (inact > 0) t->inactive_est = inact / (double)n_inact;
  double actual = (double)eddy__ht_store_live_bytes(&t->st, eddy__ht_tree_memory(t), adwin_bytes);
  double estimated = t->st.n_active * t->active_est + t->st.n_inactive * t->inactive_est;
  t->overhead = actual / estimated;
  if (actual > (double)t->p->max_byte_size) return enforce_tracker_limit(t);
  return 0;
}

int eddy__ht_after_learn(eddy__ht_tree_t *t, double w) {
  t->st.weight_seen += w;
  if (fmod(t->st.weight_seen, (double)t->p->memory_estimate_period) == 0.0) return estimate_sizes(t);
  return 0;
}

/* ------------------------------------------------------------ splitting */

static int is_pure(const eddy__ht_tree_t *t, int32_t id) {
  const double *d = eddy__ht_dist(t, id);
  int nz = 0;
  for (uint32_t c = 0; c < eddy__ht_node(t, id)->dist_len; c++) nz += d[c] != 0.0;
  return nz < 2;
}

size_t eddy__ht_gather_cands(eddy__ht_tree_t *t, int32_t leaf) {
  const eddy__ht_params_t *p = t->p;
  const eddy__ht_node_t *n = eddy__ht_node(t, leaf);
  const double *pre = eddy__ht_dist(t, leaf);
  size_t n_c = 0;
  if (!p->no_preprune) {
    eddy__ht_cand_t *c = &t->cands[n_c++];
    c->attr = -1;
    c->test = 0;
    c->value = 0;
    c->n_branches = 0;
    c->merit = eddy__ht_merit(p->split_criterion, p->min_branch_frac, pre, t->st.L.C, pre,
                              &n->dist_len, 1);
  }
  if (!n->b.obs_init) return n_c;
  const double *slot = eddy__ht_slot(t, leaf);
  const uint8_t *mask = ht_sub_mask(t, leaf);
  for (size_t a = 0; a < t->st.L.n_attrs; a++)
    if ((!mask || mask[a]) && /* MOA: no observer, no suggestion */
        eddy__ht_obs_best_split(&t->st.L, t->schema, slot, a, p->split_criterion,
                                p->min_branch_frac, p->binary_splits, pre, n->dist_len,
                                t->obs_scratch, t->obs_len, &t->cands[n_c]) == 0)
      n_c++;
  return n_c;
}

/* Pre-pruning: the null split wins and the leaf is deactivated (0), or,
 * when (parent, branch) holds another node (HAT's alternate's owner), an
 * inactive copy of the leaf replaces that (1). */
static int null_split(eddy__ht_tree_t *t, int32_t leaf, int32_t parent, int branch) {
  if (eddy__ht_store_at(&t->st, parent, branch) == leaf) {
    deactivate(t, leaf);
    return 0;
  }
  int32_t id = new_node(t);
  if (id < 0) return id;
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  n->b.kind = EDDY__HT_LEAF_INACTIVE;
  n->b.depth = eddy__ht_node(t, leaf)->b.depth;
  n->dist_len = eddy__ht_node(t, leaf)->dist_len;
  memcpy(eddy__ht_dist(t, id), eddy__ht_dist(t, leaf), t->st.L.C * sizeof(double));
  t->st.n_inactive++;
  int err = replace_at(t, parent, branch, id);
  return err ? err : 1;
}

/* The leaf's split on cand, with a leaf per branch that starts with the
 * class distribution the split estimates, goes to (parent, branch): 1. */
static int split_leaf(eddy__ht_tree_t *t, int32_t leaf, int32_t parent, int branch,
                      const eddy__ht_cand_t *cand) {
  const uint32_t C = t->st.L.C;
  eddy__ht_obs_post_dists(&t->st.L, t->schema, eddy__ht_slot(t, leaf), cand, t->post, t->post_len);
  int32_t sid = new_node(t);
  if (sid < 0) return sid;
  eddy__ht_node(t, sid)->dist_len = eddy__ht_node(t, leaf)->dist_len;
  int err = eddy__ht_store_split_node(&t->st, sid, leaf, cand);
  if (err) return err;
  int32_t depth = eddy__ht_node(t, sid)->b.depth + 1;
  for (uint32_t i = 0; i < cand->n_branches; i++) {
    int32_t child = eddy__ht_new_leaf(t, t->post + (size_t)i * C, t->post_len[i], depth);
    if (child < 0) return child;
    t->st.kids.v[eddy__ht_node(t, sid)->b.kids + i] = child;
  }
  if (eddy__ht_store_at(&t->st, parent, branch) != leaf) t->n_takeovers++; /* HAT's alternates */
  err = replace_at(t, parent, branch, sid);
  return err ? err : 1;
}

int eddy__ht_attempt_split(eddy__ht_tree_t *t, int32_t leaf, int32_t parent, int branch) {
  const eddy__ht_params_t *p = t->p;
  if (is_pure(t, leaf)) return 0;
  size_t n_c = eddy__ht_gather_cands(t, leaf);
  int best, second;
  eddy__ht_best_two(t->cands, n_c, 1, &best, &second);
  int should_split = n_c > 0;
  if (n_c >= 2) {
    double range = eddy__ht_merit_range(p->split_criterion, eddy__ht_node(t, leaf)->dist_len);
    double hb = eddy__ht_hoeffding_bound(range, p->split_confidence, eddy__ht_weight(t, leaf));
    should_split = t->cands[best].merit - t->cands[second].merit > hb || hb < p->tie_threshold;
  }
  if (!should_split) return 0;
  eddy__ht_cand_t cand = t->cands[best];
  int r = cand.attr < 0 ? null_split(t, leaf, parent, branch) : split_leaf(t, leaf, parent, branch, &cand);
  if (r < 0) return r;
  int err = enforce_tracker_limit(t);
  return err ? err : r;
}

/* ------------------------------------------------------------ outputs */

int eddy__ht_votes_out(const double *votes, uint32_t C, double *out, size_t out_len, size_t k) {
  if (out_len < k) return EDDY_ENOSPC;
  double sum = 0.0;
  for (uint32_t c = 0; c < C; c++) sum += votes[c];
  if (sum > 0.0 && isfinite(sum)) {
    for (size_t c = 0; c < k; c++) out[c] = c < C ? votes[c] / sum : 0.0;
  } else {
    size_t m = eddy_argmax(votes, C);
    int hot = votes[m] != 0.0; /* NaN or infinite votes: one-hot on MOA's maxIndex */
    for (size_t c = 0; c < k; c++) out[c] = (hot && c == m) ? 1.0 : 0.0;
  }
  return (int)k;
}

/* ------------------------------------------------------------ size, save, load */

size_t eddy__ht_tree_memory(const eddy__ht_tree_t *t) {
  const eddy__ht_layout_t *L = &t->st.L;
  size_t m = sizeof *t + eddy__ht_store_capacity(&t->st);
  m += L->n_attrs * (sizeof *L->V + sizeof *L->off + sizeof(double) + 1);
  m += (L->n_attrs + 1) * sizeof *t->cands;
  m += (3 * (size_t)L->C + (size_t)eddy__ht_layout_vmax(L) * L->C) * sizeof(double);
  m += t->cap_walk * sizeof(int32_t);
  for (size_t i = 0; i < t->st.n_nodes; i++) m += adwin_bytes(eddy__ht_node(t, (int32_t)i));
  return m;
}

#define HT_SAVE_VERSION 1

int eddy__ht_tree_save(const eddy__ht_tree_t *t, eddy_buf_t *b) {
  const eddy__ht_layout_t *L = &t->st.L;
  eddy_buf_put_u32(b, HT_SAVE_VERSION);
  eddy_buf_put_u32(b, (uint32_t)t->adaptive);
  eddy_buf_put_u64(b, L->n_attrs);
  eddy_buf_put_u32(b, L->C);
  for (size_t a = 0; a < L->n_attrs; a++) eddy_buf_put_u32(b, L->V[a]);
  eddy_buf_put_u64(b, L->stride);
  eddy_buf_put_u64(b, t->st.n_nodes);
  for (size_t i = 0; i < t->st.n_nodes; i++) {
    const eddy__ht_node_t *n = eddy__ht_node(t, (int32_t)i);
    uint8_t mid[2] = {n->b.obs_init, n->err_used};
    eddy__ht_base_save(&n->b, mid, 2, b);
    eddy_buf_put_u32(b, n->dist_len);
    eddy_buf_put_u32(b, (uint32_t)n->alt);
    eddy_buf_put_f64(b, n->last_eval);
    eddy_buf_put_f64(b, n->mc_correct);
    eddy_buf_put_f64(b, n->nb_correct);
    eddy_buf_put_u64(b, n->rng);
    eddy_buf_put_f64s(b, eddy__ht_dist(t, (int32_t)i), L->C);
    eddy_buf_put_u8(b, n->b.kind != EDDY__HT_FREE && n->adwin != NULL);
    if (n->b.kind != EDDY__HT_FREE && n->adwin) eddy_adwin_save(n->adwin, b);
  }
  eddy__ht_store_save_pools(&t->st, b);
  eddy_buf_put_f64(b, t->active_est);
  eddy_buf_put_f64(b, t->inactive_est);
  eddy_buf_put_f64(b, t->overhead);
  eddy_buf_put_u64(b, t->n_created);
  eddy_buf_put_u64(b, t->n_alternates);
  eddy_buf_put_u64(b, t->n_switched);
  eddy_buf_put_u64(b, t->n_pruned);
  eddy_buf_put_u64(b, t->n_takeovers);
  if (t->sub_k) { /* ARF trees only: plain trees' checkpoints end above */
    eddy_buf_put_i64(b, t->sub_seed);
    eddy_jrandom_save(&t->jr, b);
    eddy_buf_put(b, t->sub_mask, t->st.n_slots * t->st.L.n_attrs);
  }
  return b->err;
}

static uint32_t ht_slots_bound(uint32_t n) {
  uint64_t b = 2 * (uint64_t)(n > 2 ? n : 2);
  return b > (1u << 24) ? (1u << 24) : (uint32_t)b;
}

/* The layout as saved: class and value slots start at what the schema has
 * (at least 2) and double when a larger index arrives, so they stay below
 * twice what the schema (which only grows) has now: larger counts are
 * corrupt, and their products would size the scratch beyond any memory. */
static int load_layout(eddy__ht_tree_t *t, eddy_reader_t *r) {
  const eddy_schema_t *s = t->schema;
  if (eddy_read_u64(r) != s->n_attrs) return EDDY_ECORRUPT;
  uint32_t C = eddy_read_u32(r);
  if (r->err) return r->err;
  if (C < 2 || C > ht_slots_bound(eddy_schema_n_classes(s))) return EDDY_ECORRUPT;
  uint32_t *V = malloc((s->n_attrs ? s->n_attrs : 1) * sizeof *V);
  if (!V) return EDDY_ENOMEM;
  for (size_t a = 0; a < s->n_attrs; a++) {
    V[a] = eddy_read_u32(r);
    if (s->attrs[a].kind == EDDY_NOMINAL
            ? (V[a] < 2 || V[a] > ht_slots_bound(eddy_schema_n_values(s, a)))
            : V[a] != 0) {
      free(V);
      return EDDY_ECORRUPT;
    }
  }
  int err = r->err ? r->err : relayout(t, C, V);
  free(V);
  if (err) return err;
  return eddy_read_u64(r) != t->st.L.stride ? EDDY_ECORRUPT : 0;
}

/* Node i as saved (HAT: with its error estimator). */
static int load_node(eddy__ht_tree_t *t, size_t i, eddy_reader_t *r) {
  eddy__ht_node_t *nd = eddy__ht_node(t, (int32_t)i);
  eddy_adwin_t *keep = nd->adwin;
  uint8_t mid[2];
  eddy__ht_base_load(&nd->b, mid, 2, r);
  nd->b.obs_init = mid[0];
  nd->err_used = mid[1];
  nd->dist_len = eddy_read_u32(r);
  nd->alt = (int32_t)eddy_read_u32(r);
  nd->last_eval = eddy_read_f64(r);
  nd->mc_correct = eddy_read_f64(r);
  nd->nb_correct = eddy_read_f64(r);
  nd->rng = eddy_read_u64(r);
  eddy_read_f64s(r, eddy__ht_dist(t, (int32_t)i), t->st.L.C);
  if (eddy_read_u8(r)) {
    nd->adwin = NULL;
    eddy_adwin_free(keep);
    keep = eddy_adwin_load(r);
    if (!keep) return r->err ? r->err : EDDY_ECORRUPT;
  }
  nd->adwin = keep;
  if (r->err) return r->err;
  int32_t alt = nd->alt;
  if (nd->b.kind > EDDY__HT_LEAF_INACTIVE || nd->dist_len > t->st.L.C ||
      !(alt == -1 || (alt >= 0 && (size_t)alt < t->st.n_nodes)) || nd->b.depth < 0)
    return EDDY_ECORRUPT;
  return 0;
}

int eddy__ht_tree_load(eddy__ht_tree_t *t, eddy_reader_t *r) {
  if (eddy_read_u32(r) != HT_SAVE_VERSION) return r->err ? r->err : EDDY_EVERSION;
  if ((int)eddy_read_u32(r) != t->adaptive) return EDDY_ECORRUPT;
  int err = load_layout(t, r);
  if (err) return err;
  size_t n = eddy_read_count(r, 60);
  if (r->err) return r->err;
  for (size_t i = 0; i < n; i++) {
    int32_t id = new_node(t);
    if (id < 0) return id;
  }
  for (size_t i = 0; i < n; i++)
    if ((err = load_node(t, i, r))) return err;
  if ((err = eddy__ht_store_load_pools(&t->st, r))) return err;
  t->active_est = eddy_read_f64(r);
  t->inactive_est = eddy_read_f64(r);
  t->overhead = eddy_read_f64(r);
  t->n_created = eddy_read_u64(r);
  t->n_alternates = eddy_read_u64(r);
  t->n_switched = eddy_read_u64(r);
  t->n_pruned = eddy_read_u64(r);
  t->n_takeovers = eddy_read_u64(r);
  if (t->sub_k) {
    t->sub_seed = eddy_read_i64(r);
    eddy_jrandom_load(&t->jr, r);
    if (r->err) return r->err;
    size_t ns = t->st.n_slots, bytes = ns * t->st.L.n_attrs;
    if (bytes > r->len - r->pos) return EDDY_ECORRUPT;
    if (ns) {
      uint8_t *m = realloc(t->sub_mask, bytes);
      if (!m) return EDDY_ENOMEM;
      t->sub_mask = m;
      eddy_read(r, m, bytes);
      /* a leaf that has learned observes exactly sub_k attributes */
      for (size_t i = 0; i < ns; i++) {
        size_t k = 0;
        for (size_t a = 0; a < t->st.L.n_attrs; a++) {
          if (m[i * t->st.L.n_attrs + a] > 1) return EDDY_ECORRUPT;
          k += m[i * t->st.L.n_attrs + a];
        }
        if (k != t->sub_k && k != 0) return EDDY_ECORRUPT;
      }
    }
  }
  if (r->err) return r->err;
  if ((err = eddy__ht_store_check(&t->st, t->schema, offsetof(eddy__ht_node_t, alt)))) return err;
  t->st.stamp++;
  t->cache_leaf = -1;
  t->cache_node = INT32_MIN;
  nb_drop(t);
  return 0;
}

/* ------------------------------------------------------------ describe */

static void describe_error(const eddy__ht_tree_t *t, int32_t id, FILE *out) {
  const eddy__ht_node_t *n = eddy__ht_node(t, id);
  if (t->adaptive && n->adwin && n->err_used)
    fprintf(out, " [error %.4f over %llu]", eddy_adwin_estimation(n->adwin),
            (unsigned long long)eddy_adwin_width(n->adwin));
}

static void describe_leaf(const void *tree, int32_t id, FILE *out) {
  const eddy__ht_tree_t *t = tree;
  const eddy__ht_node_t *n = eddy__ht_node(t, id);
  const eddy_schema_t *s = t->schema;
  int m = eddy__ht_dist_max_index(t, id);
  const char *name = m >= 0 ? eddy_dict_name(s->target.dict, (uint32_t)m) : NULL;
  char w[32];
  eddy__ht_fmt_value(w, sizeof w, eddy__ht_weight(t, id));
  fprintf(out, "leaf: %s (n=%s;", name ? name : "?", w);
  const double *d = eddy__ht_dist(t, id);
  for (uint32_t c = 0; c < n->dist_len; c++) {
    const char *cn = eddy_dict_name(s->target.dict, c);
    eddy__ht_fmt_value(w, sizeof w, d[c]);
    fprintf(out, " %s %s", cn ? cn : "?", w);
  }
  fprintf(out, ")%s", n->b.kind == EDDY__HT_LEAF_INACTIVE ? " inactive" : "");
  describe_error(t, id, out);
}

static void describe_cond(const void *tree, int32_t id, int b, char *buf, size_t size) {
  const eddy__ht_tree_t *t = tree;
  const eddy__ht_base_t *n = &eddy__ht_node(t, id)->b;
  eddy__ht_describe_branch(t->schema, n->test, (size_t)n->attr, n->value, b, buf, size);
}

static double describe_weight(const void *tree, int32_t id) { return eddy__ht_weight(tree, id); }

static void describe_split(const void *tree, int32_t id, int indent, FILE *out);

static const eddy__ht_describe_ops_t describe_ops = {describe_leaf, describe_cond, describe_weight,
                                                     describe_split};

/* HAT: a split's alternate tree before its branches. */
static void describe_split(const void *tree, int32_t id, int indent, FILE *out) {
  const eddy__ht_tree_t *t = tree;
  int32_t alt = eddy__ht_node(t, id)->alt;
  if (alt < 0) return;
  fprintf(out, "%*salternate tree:", indent, "");
  describe_error(t, id, out);
  fputc('\n', out);
  eddy__ht_describe_node(&t->st, &describe_ops, t, alt, indent + 4, out);
}

void eddy__ht_tree_describe(const eddy__ht_tree_t *t, const char *name, FILE *out) {
  size_t depth, nodes, leaves, inactive;
  eddy__ht_store_shape(&t->st, &depth, &nodes, &leaves, &inactive);
  fprintf(out, "%s: depth %zu, %zu nodes, %zu leaves (%zu active, %zu inactive), %zu bytes\n",
          name, depth, nodes, leaves, leaves - inactive, inactive, eddy__ht_tree_memory(t));
  if (t->adaptive)
    fprintf(out,
            "alternate trees: %llu started, %llu swapped in, %llu pruned, %llu took over by "
            "splitting\n",
            (unsigned long long)t->n_alternates, (unsigned long long)t->n_switched,
            (unsigned long long)t->n_pruned, (unsigned long long)t->n_takeovers);
  if (t->st.root >= 0) eddy__ht_describe_node(&t->st, &describe_ops, t, t->st.root, 0, out);
}

/* ------------------------------------------------------------ the learner */

/* The learner callbacks (shared with HAT, whose state is the same tree). */

int eddy__ht_l_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  int adaptive = l->type->options == hat_options; /* HAT is the type with HAT's options */
  int err = eddy__ht_tree_init(l->state, l->schema, l->params, adaptive, l->seed);
  if (err) eddy_seterr(errstr, errstr_size, err, "%s: out of memory", l->type->name);
  return err;
}

/* MOA's getVotesForInstance into t->votes: the node x reaches (its parent
 * split when the branch has no child); -1 without a tree. */
static int32_t ht_raw_votes(eddy__ht_tree_t *t, const eddy_instance_t *x) {
  if (t->st.root < 0) return -1;
  int32_t parent = -1, id;
  int branch = -1;
  if (cache_valid(t, x)) { /* asked again (a forest's member: vote, accuracy, learn) */
    id = t->cache_node;
    parent = t->cache_parent;
  } else {
    id = eddy__ht_store_sort(&t->st, t->st.root, x, &parent, &branch);
    eddy__ht_cache_sort(t, x, id, parent, branch);
  }
  if (id < 0) id = parent;
  eddy__ht_node_votes(t, id, x, t->votes);
  return id;
}

int eddy__ht_l_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  eddy__ht_tree_t *t = l->state;
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  if (ht_raw_votes(t, x) < 0) {
    for (size_t c = 0; c < k; c++) out[c] = 0.0;
    return (int)k;
  }
  return eddy__ht_votes_out(t->votes, t->st.L.C, out, out_len, k);
}

/* The votes unnormalised, as long as MOA's array: the node's class
 * distribution length (MOA's tree without a root gives numClasses zeros,
 * which weigh as nothing). */
static int ht_votes(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  eddy__ht_tree_t *t = l->state;
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  int32_t id = ht_raw_votes(t, x);
  if (id < 0) return 0;
  size_t n = eddy__ht_node(t, id)->dist_len < k ? eddy__ht_node(t, id)->dist_len : k;
  memcpy(out, t->votes, n * sizeof *out);
  return (int)n;
}

int eddy__ht_learn_begin(eddy__ht_tree_t *t, const eddy_instance_t *x) {
  if (!(x->weight > 0.0) || !x->has_y) return 0;
  if (!(x->y >= 0) || x->y >= t->schema->max_classes) return EDDY_EINVAL;
  int err = eddy__ht_tree_ensure(t, x);
  if (err) return err;
  if (t->st.root < 0) {
    int32_t r = eddy__ht_new_leaf(t, NULL, 0, 0);
    if (r < 0) return r;
    t->st.root = r;
  }
  return 1;
}

int eddy__ht_tree_votes(eddy__ht_tree_t *t, const eddy_instance_t *x) {
  int32_t id = ht_raw_votes(t, x);
  return id < 0 ? 0 : (int)eddy__ht_node(t, id)->dist_len;
}

uint32_t eddy__ht_tree_predict(eddy__ht_tree_t *t, const eddy_instance_t *x) {
  int n = eddy__ht_tree_votes(t, x);
  return n > 0 ? (uint32_t)eddy_argmax(t->votes, (size_t)n) : 0;
}

static int block_save(const void *t, eddy_buf_t *b) { return eddy__ht_tree_save(t, b); }

static int block_load(void *t, eddy_reader_t *r) {
  eddy__ht_tree_reset(t);
  return eddy__ht_tree_load(t, r);
}

int eddy__ht_tree_save_block(const eddy__ht_tree_t *t, eddy_buf_t *b) {
  return eddy__ht_block_save(t, block_save, b);
}

int eddy__ht_tree_load_block(eddy__ht_tree_t *t, eddy_reader_t *r) {
  return eddy__ht_block_load(t, block_load, r);
}

static int ht_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  return eddy__ht_tree_learn(l->state, x);
}

int eddy__ht_tree_learn(eddy__ht_tree_t *t, const eddy_instance_t *x) {
  const eddy__ht_params_t *p = t->p;
  int err = eddy__ht_learn_begin(t, x);
  if (err <= 0) return err;
  double w = x->weight;
  uint32_t c = (uint32_t)x->y;
  int32_t parent = -1;
  int branch = -1;
  int32_t id = eddy__ht_sort_root(t, x, &parent, &branch);
  if (id < 0) {
    id = eddy__ht_new_leaf(t, NULL, 0, eddy__ht_node(t, parent)->b.depth + 1);
    if (id < 0) return id;
    if ((err = eddy__ht_store_set_child(&t->st, parent, branch, id))) return err;
  }
  int kind = eddy__ht_node(t, id)->b.kind;
  if (kind == EDDY__HT_LEAF || kind == EDDY__HT_LEAF_INACTIVE) {
    eddy__ht_leaf_learn(t, id, x, c, w);
    if (t->st.growth_allowed && kind == EDDY__HT_LEAF) {
      double seen = eddy__ht_weight(t, id);
      if (seen - eddy__ht_node(t, id)->last_eval >= (double)p->grace_period) {
        if (p->max_depth > 0 && eddy__ht_node(t, id)->b.depth >= p->max_depth) {
          deactivate(t, id);
        } else {
          int r = eddy__ht_attempt_split(t, id, parent, branch);
          if (r < 0) return r;
          if (r == 0) eddy__ht_node(t, id)->last_eval = seen;
        }
      }
    }
  }
  return eddy__ht_after_learn(t, w);
}

void eddy__ht_l_reset(eddy_learner_t *l) { eddy__ht_tree_reset(l->state); }

int eddy__ht_l_save(const eddy_learner_t *l, eddy_buf_t *b) { return eddy__ht_tree_save(l->state, b); }

int eddy__ht_l_load(eddy_learner_t *l, eddy_reader_t *r) {
  eddy__ht_tree_t *t = l->state;
  eddy__ht_tree_reset(t);
  return eddy__ht_tree_load(t, r);
}

size_t eddy__ht_l_memory(const eddy_learner_t *l) { return eddy__ht_tree_memory(l->state); }

void eddy__ht_l_destroy(eddy_learner_t *l) { eddy__ht_tree_free(l->state); }

void eddy__ht_l_describe(const eddy_learner_t *l, FILE *out) {
  eddy__ht_tree_describe(l->state, l->type->name, out);
}

const eddy_learner_type_t eddy_learner_hoeffding_tree = {
    .name = "hoeffding_tree",
    .description = "Hoeffding tree (VFDT) as MOA's HoeffdingTree: info gain or Gini, Gaussian "
                   "numeric observers, naive Bayes adaptive leaves",
    .options = eddy__ht_options,
    EDDY__HT_LEARNER_COMMON,
    .learn = ht_learn,
    .votes = ht_votes,
};
