/* hoeffding_tree_regressor.c: the Hoeffding tree regressor as River's
 * HoeffdingTreeRegressor defines it (Ikonomovska's FIMT-DD lineage):
 * variance-reduction splits decided with the Hoeffding bound on the ratio
 * of the two best merits (split when best > 0 and second / best < 1 - bound,
 * or the bound falls below the tie threshold), leaves that predict the
 * target mean, a linear model, or whichever of the two has the lower faded
 * squared error (adaptive, the default). Children start from the split's
 * branch statistics and inherit the parent leaf's linear model and faded
 * errors, as River's do.
 *
 * Differences from River, each for a reason:
 *  - numeric attributes are observed by a fixed-size histogram (`bins`
 *    equal-width bins whose width doubles as the range grows, see
 *    ht_observers.c) instead of River's TE-BST, whose nodes grow with the
 *    number of distinct values: eddy's learn path allocates nothing per
 *    event. Candidate thresholds are the bin boundaries;
 *  - the leaf model is a linear model trained by SGD on inputs and target
 *    standardized online at the tree level ((v - mean) / 3 sd, FIMT-DD's
 *    normalization) rather than River's raw-input LinearRegression, so that
 *    it needs no scaler in front; nominal attributes do not enter it;
 *  - an instance whose split value is missing stops at the split node (it
 *    predicts that node's mean and is not learned; River follows the most
 *    traversed branch), as eddy's classification trees do;
 *  - memory management deactivates the deepest leaves first (River's
 *    promise for regression leaves) until the tree fits max_byte_size. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/trees/trees.h"

enum { HTR_MEAN = 0, HTR_MODEL = 1, HTR_ADAPTIVE = 2 };

typedef struct {
  int64_t grace_period;
  double split_confidence;
  double tie_threshold;
  int leaf_prediction;
  double model_selector_decay;
  double learning_rate;
  int64_t min_samples_split;
  int64_t bins;
  int binary_splits;
  int64_t max_depth;
  int64_t max_byte_size;
  int64_t memory_estimate_period;
  int stop_mem_management;
  int no_preprune;
} htr_params_t;

static const char *const leaf_preds[] = {"mean", "model", "adaptive", NULL};

static const eddy_option_t htr_options[] = {
    EDDY_OPT_INT_(htr_params_t, "grace_period", grace_period, "200", 1, 1e9,
                  "weight a leaf observes between split attempts"),
    EDDY_OPT_DOUBLE_(htr_params_t, "split_confidence", split_confidence, "1e-7", 1e-300, 1,
                     "delta of the Hoeffding bound (River's delta)"),
    EDDY_OPT_DOUBLE_(htr_params_t, "tie_threshold", tie_threshold, "0.05", 0, 1,
                     "split anyway once the Hoeffding bound is below this (River's tau)"),
    EDDY_OPT_ENUM_(htr_params_t, "leaf_prediction", leaf_prediction, "adaptive", leaf_preds,
                   "mean, model (linear) or adaptive (the one with the lower faded error)"),
    EDDY_OPT_DOUBLE_(htr_params_t, "model_selector_decay", model_selector_decay, "0.95", 0, 1,
                     "fading factor of the squared errors that adaptive leaves compare"),
    EDDY_OPT_DOUBLE_(htr_params_t, "learning_rate", learning_rate, "0.05", 0, 10,
                     "SGD step of the leaf linear models (standardized inputs)"),
    EDDY_OPT_INT_(htr_params_t, "min_samples_split", min_samples_split, "5", 1, 1e12,
                  "weight every branch of a candidate split needs"),
    EDDY_OPT_INT_(htr_params_t, "bins", bins, "32", 4, 100000,
                  "histogram bins per numeric attribute and leaf (rounded up to even)"),
    EDDY_OPT_BOOL_(htr_params_t, "binary_splits", binary_splits, "false",
                   "only binary splits on nominal attributes"),
    EDDY_OPT_INT_(htr_params_t, "max_depth", max_depth, "0", 0, 1e6,
                  "leaves at this depth stop splitting; 0 = unlimited"),
    EDDY_OPT_INT_(htr_params_t, "max_byte_size", max_byte_size, "33554432", 1024, 1e15,
                  "memory limit of the tree; the deepest leaves are deactivated"),
    EDDY_OPT_INT_(htr_params_t, "memory_estimate_period", memory_estimate_period, "1000000", 1,
                  1e15, "weight between memory checks"),
    EDDY_OPT_BOOL_(htr_params_t, "stop_mem_management", stop_mem_management, "false",
                   "stop growing when the memory limit is hit"),
    EDDY_OPT_BOOL_(htr_params_t, "no_preprune", no_preprune, "false",
                   "do not consider the null split (no pre-pruning)"),
    EDDY_OPT_END};

typedef struct {
  uint8_t kind, test, kids_log2, pad;
  int32_t attr;
  double value;
  int32_t kids, n_kids, slot, depth;
  eddy__ht_var_t stats; /* the target at this node */
  double last_eval;
  double fmse_mean, fmse_model;
} htr_node_t;

typedef struct {
  const eddy_schema_t *schema;
  const htr_params_t *p;
  eddy__ht_layout_t L;
  size_t n_num;      /* numeric attributes: the linear model's inputs */
  size_t *num_attr;  /* their attribute indices */
  htr_node_t *nodes;
  size_t n_nodes, cap_nodes;
  int32_t free_node;
  double *model;     /* n_nodes rows of n_num + 1 (weights, bias) */
  double *stats;
  size_t n_slots, cap_slots;
  int32_t *slot_free;
  size_t n_slot_free;
  eddy__ht_kids_t kids;
  int32_t root;
  size_t n_split, n_active, n_inactive;
  int growth_allowed;
  double weight_seen;
  eddy__ht_var_t *norm;    /* n_num + 1: the inputs' and (last) the target's statistics */
  double *xn;        /* standardized inputs of the current instance */
  eddy__ht_cand_t *cands;
  eddy__ht_var_t *scratch, *post;
  size_t n_scratch, n_post;
  int64_t *walk;
  size_t cap_walk;
} htr_t;

/* ------------------------------------------------------------ pools */

static size_t model_len(const htr_t *t) { return t->n_num + 1; }
static double *node_model(const htr_t *t, int32_t id) {
  return t->model + (size_t)id * model_len(t);
}
static double *node_slot(const htr_t *t, int32_t id) {
  return t->stats + (size_t)t->nodes[id].slot * t->L.stride;
}
static int32_t kid(const htr_t *t, int32_t id, int b) {
  const htr_node_t *n = &t->nodes[id];
  return (b >= 0 && b < n->n_kids) ? t->kids.v[n->kids + b] : -1;
}

static int htr_tree_init(htr_t *t, const eddy_schema_t *s, const htr_params_t *p) {
  memset(t, 0, sizeof *t);
  t->schema = s;
  t->p = p;
  t->root = -1;
  t->free_node = -1;
  t->growth_allowed = 1;
  eddy__ht_kids_init(&t->kids);
  size_t na = s->n_attrs ? s->n_attrs : 1;
  t->L.n_attrs = s->n_attrs;
  t->L.n_bins = (uint32_t)((p->bins + 1) / 2 * 2);
  t->L.V = calloc(na, sizeof *t->L.V);
  t->L.off = calloc(na, sizeof *t->L.off);
  t->num_attr = calloc(na, sizeof *t->num_attr);
  t->cands = calloc(s->n_attrs + 1, sizeof *t->cands);
  if (!t->L.V || !t->L.off || !t->num_attr || !t->cands) return EDDY_ENOMEM;
  for (size_t a = 0; a < s->n_attrs; a++) {
    if (s->attrs[a].kind == EDDY_NOMINAL) {
      uint32_t n = eddy_schema_n_values(s, a);
      t->L.V[a] = n > 2 ? n : 2;
    } else {
      t->num_attr[t->n_num++] = a;
    }
  }
  t->norm = calloc(t->n_num + 1, sizeof *t->norm);
  t->xn = calloc(t->n_num + 1, sizeof *t->xn);
  if (!t->norm || !t->xn) return EDDY_ENOMEM;
  eddy__ht_layout_compute(&t->L, s);
  t->n_scratch = 2 * (size_t)t->L.n_bins + 2;
  t->scratch = calloc(t->n_scratch, sizeof *t->scratch);
  uint32_t vmax = 2;
  for (size_t a = 0; a < s->n_attrs; a++)
    if (t->L.V[a] > vmax) vmax = t->L.V[a];
  t->n_post = vmax;
  t->post = calloc(t->n_post, sizeof *t->post);
  return t->scratch && t->post ? 0 : EDDY_ENOMEM;
}

static void htr_tree_free(htr_t *t) {
  free(t->L.V);
  free(t->L.off);
  free(t->num_attr);
  free(t->cands);
  free(t->nodes);
  free(t->model);
  free(t->stats);
  free(t->slot_free);
  eddy__ht_kids_free_all(&t->kids);
  free(t->norm);
  free(t->xn);
  free(t->scratch);
  free(t->post);
  free(t->walk);
  memset(t, 0, sizeof *t);
  t->root = -1;
}

/* New nominal values widen their blocks (every slot is re-laid out). */
static int htr_ensure(htr_t *t, const eddy_instance_t *x) {
  const eddy_schema_t *s = t->schema;
  int need = 0;
  for (size_t a = 0; a < s->n_attrs && !need; a++)
    if (s->attrs[a].kind == EDDY_NOMINAL && !(x->missing && x->missing[a]) && x->x[a] >= 0 &&
        x->x[a] >= t->L.V[a] && x->x[a] < 4294967296.0)
      need = 1;
  if (!need) return 0;
  eddy__ht_layout_t N = t->L;
  size_t na = s->n_attrs ? s->n_attrs : 1;
  N.V = malloc(na * sizeof *N.V);
  N.off = malloc(na * sizeof *N.off);
  if (!N.V || !N.off) goto oom;
  memcpy(N.V, t->L.V, s->n_attrs * sizeof *N.V);
  uint32_t vmax = 2;
  for (size_t a = 0; a < s->n_attrs; a++) {
    if (s->attrs[a].kind == EDDY_NOMINAL && !(x->missing && x->missing[a]) && x->x[a] >= 0 &&
        x->x[a] >= N.V[a] && x->x[a] < 4294967296.0) {
      uint64_t n = N.V[a];
      while (n <= x->x[a]) n *= 2;
      N.V[a] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    }
    if (N.V[a] > vmax) vmax = N.V[a];
  }
  eddy__ht_layout_compute(&N, s);
  double *stats = NULL;
  if (t->cap_slots) {
    stats = calloc(t->cap_slots * N.stride, sizeof *stats);
    if (!stats) goto oom;
    for (size_t i = 0; i < t->n_slots; i++)
      eddy__ht_layout_copy_slot(&t->L, t->stats + i * t->L.stride, &N, stats + i * N.stride, s);
  }
  eddy__ht_var_t *post = realloc(t->post, vmax * sizeof *post);
  if (!post) {
    free(stats);
    goto oom;
  }
  t->post = post;
  t->n_post = vmax;
  free(t->stats);
  t->stats = stats;
  free(t->L.V);
  free(t->L.off);
  t->L = N;
  return 0;
oom:
  free(N.V);
  free(N.off);
  return EDDY_ENOMEM;
}

static int32_t alloc_slot(htr_t *t) {
  int32_t slot;
  if (t->n_slot_free) {
    slot = t->slot_free[--t->n_slot_free];
  } else {
    if (t->n_slots == t->cap_slots) {
      size_t cap = t->cap_slots ? t->cap_slots * 2 : 8;
      double *st = realloc(t->stats, cap * t->L.stride * sizeof *st);
      if (!st) return EDDY_ENOMEM;
      t->stats = st;
      int32_t *fr = realloc(t->slot_free, cap * sizeof *fr);
      if (!fr) return EDDY_ENOMEM;
      t->slot_free = fr;
      t->cap_slots = cap;
    }
    slot = (int32_t)t->n_slots++;
  }
  memset(t->stats + (size_t)slot * t->L.stride, 0, t->L.stride * sizeof(double));
  return slot;
}

static int32_t new_node(htr_t *t) {
  int32_t id;
  if (t->free_node >= 0) {
    id = t->free_node;
    t->free_node = t->nodes[id].kids;
  } else {
    if (t->n_nodes >= INT32_MAX) return EDDY_ERANGE;
    if (t->n_nodes == t->cap_nodes) {
      size_t cap = t->cap_nodes ? t->cap_nodes * 2 : 16;
      htr_node_t *n = realloc(t->nodes, cap * sizeof *n);
      if (!n) return EDDY_ENOMEM;
      t->nodes = n;
      double *m = realloc(t->model, cap * model_len(t) * sizeof *m);
      if (!m) return EDDY_ENOMEM;
      t->model = m;
      t->cap_nodes = cap;
    }
    id = (int32_t)t->n_nodes++;
  }
  htr_node_t *n = &t->nodes[id];
  memset(n, 0, sizeof *n);
  n->kids = -1;
  n->slot = -1;
  memset(node_model(t, id), 0, model_len(t) * sizeof(double));
  return id;
}

static void free_node(htr_t *t, int32_t id) {
  htr_node_t *n = &t->nodes[id];
  switch (n->kind) {
  case EDDY__HT_LEAF:
    t->slot_free[t->n_slot_free++] = n->slot;
    t->n_active--;
    break;
  case EDDY__HT_LEAF_INACTIVE: t->n_inactive--; break;
  case EDDY__HT_SPLIT:
    if (n->kids >= 0) eddy__ht_kids_release(&t->kids, n->kids, n->kids_log2);
    t->n_split--;
    break;
  default: return;
  }
  n->kind = EDDY__HT_FREE;
  n->slot = -1;
  n->kids = t->free_node;
  t->free_node = id;
}

static void free_subtree(htr_t *t, int32_t id) {
  if (id < 0 || t->nodes[id].kind == EDDY__HT_FREE) return;
  if (t->nodes[id].kind == EDDY__HT_SPLIT)
    for (int32_t b = 0; b < t->nodes[id].n_kids; b++) free_subtree(t, kid(t, id, b));
  free_node(t, id);
}

/* A new active leaf; `from` (or -1) gives the linear model and faded errors. */
static int32_t new_leaf(htr_t *t, const eddy__ht_var_t *stats, int32_t depth, int32_t from) {
  int32_t id = new_node(t);
  if (id < 0) return id;
  int32_t slot = alloc_slot(t);
  if (slot < 0) {
    t->nodes[id].kind = EDDY__HT_LEAF_INACTIVE;
    t->n_inactive++;
    free_node(t, id);
    return slot;
  }
  htr_node_t *n = &t->nodes[id];
  n->kind = EDDY__HT_LEAF;
  n->slot = slot;
  n->depth = depth;
  if (stats) n->stats = *stats;
  n->last_eval = n->stats.n;
  if (from >= 0) {
    memcpy(node_model(t, id), node_model(t, from), model_len(t) * sizeof(double));
    n->fmse_mean = t->nodes[from].fmse_mean;
    n->fmse_model = t->nodes[from].fmse_model;
  }
  t->n_active++;
  return id;
}

static int set_child(htr_t *t, int32_t parent, int branch, int32_t id) {
  if (parent < 0) {
    t->root = id;
    return 0;
  }
  htr_node_t *p = &t->nodes[parent];
  if (p->kids < 0 || branch >= (1 << p->kids_log2)) {
    unsigned lg = eddy__ht_log2_ceil((size_t)branch + 1);
    int64_t off = eddy__ht_kids_alloc(&t->kids, lg);
    if (off < 0) return (int)off;
    p = &t->nodes[parent];
    if (p->kids >= 0) {
      memcpy(t->kids.v + off, t->kids.v + p->kids, ((size_t)1 << p->kids_log2) * sizeof(int32_t));
      eddy__ht_kids_release(&t->kids, p->kids, p->kids_log2);
    }
    p->kids = (int32_t)off;
    p->kids_log2 = (uint8_t)lg;
  }
  t->kids.v[p->kids + branch] = id;
  if (branch >= p->n_kids) p->n_kids = branch + 1;
  return 0;
}

static int32_t sort_x(const htr_t *t, const eddy_instance_t *x, int32_t *parent, int *branch) {
  int32_t n = t->root;
  while (n >= 0 && t->nodes[n].kind == EDDY__HT_SPLIT) {
    const htr_node_t *nd = &t->nodes[n];
    int b = eddy__ht_branch(nd->test, (size_t)nd->attr, nd->value, x);
    if (b < 0) return n;
    int32_t c = kid(t, n, b);
    *parent = n;
    *branch = b;
    if (c < 0) return -1;
    n = c;
  }
  return n;
}

/* ------------------------------------------------------------ leaf models */

static double norm_sd(const eddy__ht_var_t *v) { return sqrt(eddy__ht_var_get(v)); }

/* Standardizes x's numeric inputs into t->xn with the tree's statistics. */
static void standardize(htr_t *t, const eddy_instance_t *x) {
  for (size_t j = 0; j < t->n_num; j++) {
    size_t a = t->num_attr[j];
    double sd = norm_sd(&t->norm[j]);
    if ((x->missing && x->missing[a]) || !isfinite(x->x[a]) || !(sd > 0.0))
      t->xn[j] = 0.0;
    else
      t->xn[j] = (x->x[a] - t->norm[j].mean) / (3.0 * sd);
  }
}

/* The model's output on t->xn, in standardized target units. */
static double model_raw(const htr_t *t, int32_t id) {
  const double *w = node_model(t, id);
  double z = w[t->n_num];
  for (size_t j = 0; j < t->n_num; j++) z += w[j] * t->xn[j];
  return z;
}

static double model_predict(const htr_t *t, int32_t id) {
  const eddy__ht_var_t *ty = &t->norm[t->n_num];
  double sd = norm_sd(ty);
  return sd > 0.0 ? ty->mean + 3.0 * sd * model_raw(t, id) : ty->mean;
}

static void model_learn(htr_t *t, int32_t id, double y, double w) {
  const eddy__ht_var_t *ty = &t->norm[t->n_num];
  double sd = norm_sd(ty);
  if (!(sd > 0.0)) return;
  double err = (y - ty->mean) / (3.0 * sd) - model_raw(t, id);
  double step = t->p->learning_rate * w * err;
  double *m = node_model(t, id);
  for (size_t j = 0; j < t->n_num; j++) m[j] += step * t->xn[j];
  m[t->n_num] += step;
}

static double leaf_predict(const htr_t *t, int32_t id) {
  const htr_node_t *n = &t->nodes[id];
  switch (t->p->leaf_prediction) {
  case HTR_MEAN: return n->stats.mean;
  case HTR_MODEL: return model_predict(t, id);
  default: return n->fmse_mean < n->fmse_model ? n->stats.mean : model_predict(t, id);
  }
}

/* ------------------------------------------------------------ memory */

static size_t htr_memory_bytes(const htr_t *t) {
  size_t m = sizeof *t;
  m += t->cap_nodes * (sizeof *t->nodes + model_len(t) * sizeof(double));
  m += t->cap_slots * (t->L.stride * sizeof(double) + sizeof(int32_t));
  m += eddy__ht_kids_memory(&t->kids);
  m += t->L.n_attrs * (sizeof *t->L.V + sizeof *t->L.off + sizeof *t->num_attr);
  m += (t->L.n_attrs + 1) * sizeof *t->cands;
  m += (t->n_num + 1) * (sizeof *t->norm + sizeof *t->xn);
  m += (t->n_scratch + t->n_post) * sizeof(eddy__ht_var_t);
  m += t->cap_walk * sizeof(int64_t);
  return m;
}

static void deactivate(htr_t *t, int32_t id) {
  htr_node_t *n = &t->nodes[id];
  if (n->kind != EDDY__HT_LEAF) return;
  t->slot_free[t->n_slot_free++] = n->slot;
  n->slot = -1;
  n->kind = EDDY__HT_LEAF_INACTIVE;
  t->n_active--;
  t->n_inactive++;
}

static int cmp_key(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Bytes the live tree uses: fixed parts, live nodes with their models,
 * active leaves' statistics and children blocks in use (the pools' spare
 * capacity is left out, as MOA and River measure live objects). */
static size_t live_bytes(const htr_t *t) {
  size_t m = htr_memory_bytes(t) - t->cap_nodes * (sizeof *t->nodes + model_len(t) * sizeof(double)) -
             t->cap_slots * (t->L.stride * sizeof(double) + sizeof(int32_t)) -
             eddy__ht_kids_memory(&t->kids);
  for (size_t i = 0; i < t->n_nodes; i++) {
    const htr_node_t *n = &t->nodes[i];
    if (n->kind == EDDY__HT_FREE) continue;
    m += sizeof *n + model_len(t) * sizeof(double);
    if (n->kind == EDDY__HT_LEAF) m += t->L.stride * sizeof(double);
    if (n->kind == EDDY__HT_SPLIT) m += ((size_t)1 << n->kids_log2) * sizeof(int32_t);
  }
  return m;
}

/* Deactivates the deepest active leaves (River's promise for regression
 * leaves) until the live tree fits the limit. */
static int enforce_size(htr_t *t) {
  const htr_params_t *p = t->p;
  size_t total = live_bytes(t);
  if (total <= (size_t)p->max_byte_size) return 0;
  if (p->stop_mem_management) {
    t->growth_allowed = 0;
    return 0;
  }
  if (t->n_nodes > t->cap_walk) {
    int64_t *w = realloc(t->walk, t->n_nodes * sizeof *w);
    if (!w) return EDDY_ENOMEM;
    t->walk = w;
    t->cap_walk = t->n_nodes;
  }
  /* deepest first, then by id: keys (INT32_MAX - depth, id) ascending */
  size_t n = 0;
  for (size_t i = 0; i < t->n_nodes; i++)
    if (t->nodes[i].kind == EDDY__HT_LEAF)
      t->walk[n++] = ((int64_t)(INT32_MAX - t->nodes[i].depth) << 32) | (int64_t)i;
  qsort(t->walk, n, sizeof *t->walk, cmp_key);
  size_t per_leaf = t->L.stride * sizeof(double);
  for (size_t i = 0; i < n && total > (size_t)p->max_byte_size; i++) {
    deactivate(t, (int32_t)(t->walk[i] & 0xffffffff));
    total -= per_leaf;
  }
  return 0;
}

/* ------------------------------------------------------------ splitting */

static int attempt_split(htr_t *t, int32_t leaf, int32_t parent, int branch) {
  const htr_params_t *p = t->p;
  size_t n_c = 0;
  if (!p->no_preprune) {
    eddy__ht_cand_t *c = &t->cands[n_c++];
    memset(c, 0, sizeof *c);
    c->attr = -1;
    c->merit = -INFINITY;
  }
  const eddy__ht_var_t pre = t->nodes[leaf].stats;
  const double *slot = node_slot(t, leaf);
  for (size_t a = 0; a < t->L.n_attrs; a++)
    if (htr_obs_best_split(&t->L, t->schema, slot, a, &pre, (double)p->min_samples_split,
                           p->binary_splits, t->scratch, &t->cands[n_c]) == 0)
      n_c++;
  /* stable ascending sort, last two (as River's list.sort of suggestions) */
  int best = -1, second = -1;
  for (size_t i = 0; i < n_c; i++) {
    if (best < 0 || !(t->cands[i].merit < t->cands[best].merit)) {
      second = best;
      best = (int)i;
    } else if (second < 0 || !(t->cands[i].merit < t->cands[second].merit)) {
      second = (int)i;
    }
  }
  int should = 0;
  if (n_c < 2) {
    should = n_c > 0;
  } else {
    double hb = eddy__ht_hoeffding_bound(1.0, p->split_confidence, pre.n);
    double bm = t->cands[best].merit, sm = t->cands[second].merit;
    if (bm > 0.0 && (sm / bm < 1.0 - hb || hb < p->tie_threshold)) should = 1;
  }
  if (!should) return 0;
  eddy__ht_cand_t cand = t->cands[best];
  if (cand.attr < 0) {
    deactivate(t, leaf);
    return enforce_size(t);
  }
  htr_obs_post_stats(&t->L, t->schema, slot, &cand, t->post);
  int32_t sid = new_node(t);
  if (sid < 0) return sid;
  htr_node_t *sn = &t->nodes[sid];
  sn->kind = EDDY__HT_SPLIT;
  sn->test = (uint8_t)cand.test;
  sn->attr = cand.attr;
  sn->value = cand.value;
  sn->depth = t->nodes[leaf].depth;
  sn->stats = t->nodes[leaf].stats;
  memcpy(node_model(t, sid), node_model(t, leaf), model_len(t) * sizeof(double));
  t->n_split++;
  unsigned lg = eddy__ht_log2_ceil(cand.n_branches);
  int64_t off = eddy__ht_kids_alloc(&t->kids, lg);
  if (off < 0) return (int)off;
  t->nodes[sid].kids = (int32_t)off;
  t->nodes[sid].kids_log2 = (uint8_t)lg;
  t->nodes[sid].n_kids = (int32_t)cand.n_branches;
  for (uint32_t i = 0; i < cand.n_branches; i++) {
    if (!(t->post[i].n > 0.0)) continue; /* a value never seen here: created on arrival */
    int32_t c = new_leaf(t, &t->post[i], t->nodes[sid].depth + 1, leaf);
    if (c < 0) return c;
    t->kids.v[t->nodes[sid].kids + i] = c;
  }
  int err = set_child(t, parent, branch, sid);
  if (err) return err;
  free_subtree(t, leaf);
  err = enforce_size(t);
  return err ? err : 1;
}

/* ------------------------------------------------------------ the learner */

static int htr_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  int err = htr_tree_init(l->state, l->schema, l->params);
  if (err) eddy_seterr(errstr, errstr_size, err, "hoeffding_tree_regressor: out of memory");
  return err;
}

static int htr_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  htr_t *t = l->state;
  if (out_len < 1) return EDDY_ENOSPC;
  out[0] = 0.0;
  if (t->root < 0) return 1;
  int32_t parent = -1;
  int branch = -1;
  int32_t id = sort_x(t, x, &parent, &branch);
  if (id < 0) id = parent;
  if (t->nodes[id].kind == EDDY__HT_SPLIT) {
    out[0] = t->nodes[id].stats.mean;
  } else {
    standardize(t, x);
    out[0] = leaf_predict(t, id);
  }
  return 1;
}

static int htr_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  htr_t *t = l->state;
  const htr_params_t *p = t->p;
  double w = x->weight, y = x->y;
  if (!(w > 0.0) || !x->has_y || !isfinite(y)) return 0;
  int err = htr_ensure(t, x);
  if (err) return err;
  /* the tree-level statistics that standardize the leaf models */
  for (size_t j = 0; j < t->n_num; j++) {
    size_t a = t->num_attr[j];
    if (!(x->missing && x->missing[a]) && isfinite(x->x[a])) eddy__ht_var_add(&t->norm[j], x->x[a], w);
  }
  eddy__ht_var_add(&t->norm[t->n_num], y, w);
  if (t->root < 0) {
    int32_t r = new_leaf(t, NULL, 0, -1);
    if (r < 0) return r;
    t->root = r;
  }
  int32_t parent = -1;
  int branch = -1;
  int32_t id = sort_x(t, x, &parent, &branch);
  if (id < 0) {
    id = new_leaf(t, NULL, t->nodes[parent].depth + 1, -1);
    if (id < 0) return id;
    if ((err = set_child(t, parent, branch, id))) return err;
  }
  htr_node_t *n = &t->nodes[id];
  if (n->kind != EDDY__HT_SPLIT) {
    standardize(t, x);
    if (p->leaf_prediction == HTR_ADAPTIVE) {
      double em = y - n->stats.mean, ed = y - model_predict(t, id);
      n->fmse_mean = p->model_selector_decay * n->fmse_mean + em * em;
      n->fmse_model = p->model_selector_decay * n->fmse_model + ed * ed;
    }
    eddy__ht_var_add(&n->stats, y, w);
    if (n->kind == EDDY__HT_LEAF) htr_obs_update(&t->L, t->schema, node_slot(t, id), x, y, w);
    if (p->leaf_prediction != HTR_MEAN) model_learn(t, id, y, w);
    if (t->growth_allowed && n->kind == EDDY__HT_LEAF && n->stats.n - n->last_eval >= p->grace_period) {
      if (p->max_depth > 0 && n->depth >= p->max_depth) {
        deactivate(t, id);
      } else {
        double seen = n->stats.n;
        int r = attempt_split(t, id, parent, branch);
        if (r < 0) return r;
        if (r == 0) t->nodes[id].last_eval = seen;
      }
    }
  }
  t->weight_seen += w;
  if (fmod(t->weight_seen, (double)p->memory_estimate_period) == 0.0) return enforce_size(t);
  return 0;
}

static void htr_reset(eddy_learner_t *l) {
  htr_t *t = l->state;
  const eddy_schema_t *s = t->schema;
  const htr_params_t *p = t->p;
  htr_tree_free(t);
  htr_tree_init(t, s, p);
}

#define HTR_SAVE_VERSION 1

static void put_var(eddy_buf_t *b, const eddy__ht_var_t *v) {
  eddy_buf_put_f64(b, v->n);
  eddy_buf_put_f64(b, v->mean);
  eddy_buf_put_f64(b, v->m2);
}

static void get_var(eddy_reader_t *r, eddy__ht_var_t *v) {
  v->n = eddy_read_f64(r);
  v->mean = eddy_read_f64(r);
  v->m2 = eddy_read_f64(r);
}

static int htr_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const htr_t *t = l->state;
  eddy_buf_put_u32(b, HTR_SAVE_VERSION);
  eddy_buf_put_u64(b, t->L.n_attrs);
  eddy_buf_put_u32(b, t->L.n_bins);
  for (size_t a = 0; a < t->L.n_attrs; a++) eddy_buf_put_u32(b, t->L.V[a]);
  eddy_buf_put_u64(b, t->L.stride);
  for (size_t j = 0; j <= t->n_num; j++) put_var(b, &t->norm[j]);
  eddy_buf_put_u64(b, t->n_nodes);
  for (size_t i = 0; i < t->n_nodes; i++) {
    const htr_node_t *n = &t->nodes[i];
    eddy_buf_put_u8(b, n->kind);
    eddy_buf_put_u8(b, n->test);
    eddy_buf_put_u8(b, n->kids_log2);
    eddy_buf_put_u32(b, (uint32_t)n->attr);
    eddy_buf_put_f64(b, n->value);
    eddy_buf_put_u32(b, (uint32_t)n->kids);
    eddy_buf_put_u32(b, (uint32_t)n->n_kids);
    eddy_buf_put_u32(b, (uint32_t)n->slot);
    eddy_buf_put_u32(b, (uint32_t)n->depth);
    put_var(b, &n->stats);
    eddy_buf_put_f64(b, n->last_eval);
    eddy_buf_put_f64(b, n->fmse_mean);
    eddy_buf_put_f64(b, n->fmse_model);
    eddy_buf_put_f64s(b, node_model(t, (int32_t)i), model_len(t));
  }
  eddy_buf_put_u32(b, (uint32_t)t->free_node);
  eddy_buf_put_u64(b, t->n_slots);
  eddy_buf_put_f64s(b, t->stats, t->n_slots * t->L.stride);
  eddy_buf_put_u64(b, t->n_slot_free);
  for (size_t i = 0; i < t->n_slot_free; i++) eddy_buf_put_u32(b, (uint32_t)t->slot_free[i]);
  eddy__ht_kids_save(&t->kids, b);
  eddy_buf_put_u32(b, (uint32_t)t->root);
  eddy_buf_put_u64(b, t->n_split);
  eddy_buf_put_u64(b, t->n_active);
  eddy_buf_put_u64(b, t->n_inactive);
  eddy_buf_put_u8(b, (uint8_t)t->growth_allowed);
  eddy_buf_put_f64(b, t->weight_seen);
  return b->err;
}

static int valid(const htr_t *t, int32_t id) {
  return id == -1 || (id >= 0 && (size_t)id < t->n_nodes);
}

static int htr_load(eddy_learner_t *l, eddy_reader_t *r) {
  htr_t *t = l->state;
  htr_reset(l);
  const eddy_schema_t *s = t->schema;
  if (eddy_read_u32(r) != HTR_SAVE_VERSION) return r->err ? r->err : EDDY_EVERSION;
  if (eddy_read_u64(r) != s->n_attrs || eddy_read_u32(r) != t->L.n_bins) return EDDY_ECORRUPT;
  /* widen nominal blocks as saved (through a fake instance per attribute) */
  for (size_t a = 0; a < s->n_attrs; a++) {
    uint32_t v = eddy_read_u32(r);
    if (r->err) return r->err;
    /* Value slots start at the schema's count (at least 2) and double past
     * it, so they stay below twice what the schema has now. */
    uint32_t nv = eddy_schema_n_values(s, a);
    uint64_t most = 2 * (uint64_t)(nv > 2 ? nv : 2);
    if (s->attrs[a].kind == EDDY_NUMERIC ? v != 0 : (v < 2 || v > most || v > (1u << 24)))
      return EDDY_ECORRUPT;
    t->L.V[a] = v;
  }
  eddy__ht_layout_compute(&t->L, s);
  uint32_t vmax = 2;
  for (size_t a = 0; a < s->n_attrs; a++)
    if (t->L.V[a] > vmax) vmax = t->L.V[a];
  eddy__ht_var_t *post = realloc(t->post, vmax * sizeof *post);
  if (!post) return EDDY_ENOMEM;
  t->post = post;
  t->n_post = vmax;
  if (eddy_read_u64(r) != t->L.stride) return EDDY_ECORRUPT;
  for (size_t j = 0; j <= t->n_num; j++) get_var(r, &t->norm[j]);
  size_t n = eddy_read_count(r, 80);
  if (r->err) return r->err;
  for (size_t i = 0; i < n; i++)
    if (new_node(t) < 0) return EDDY_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    htr_node_t *nd = &t->nodes[i];
    nd->kind = eddy_read_u8(r);
    nd->test = eddy_read_u8(r);
    nd->kids_log2 = eddy_read_u8(r);
    nd->attr = (int32_t)eddy_read_u32(r);
    nd->value = eddy_read_f64(r);
    nd->kids = (int32_t)eddy_read_u32(r);
    nd->n_kids = (int32_t)eddy_read_u32(r);
    nd->slot = (int32_t)eddy_read_u32(r);
    nd->depth = (int32_t)eddy_read_u32(r);
    get_var(r, &nd->stats);
    nd->last_eval = eddy_read_f64(r);
    nd->fmse_mean = eddy_read_f64(r);
    nd->fmse_model = eddy_read_f64(r);
    eddy_read_f64s(r, node_model(t, (int32_t)i), model_len(t));
    if (r->err) return r->err;
    if (nd->kind > EDDY__HT_LEAF_INACTIVE || nd->depth < 0) return EDDY_ECORRUPT;
  }
  t->free_node = (int32_t)eddy_read_u32(r);
  size_t ns = eddy_read_count(r, 8 * t->L.stride);
  if (r->err) return r->err;
  if (ns) {
    double *st = realloc(t->stats, ns * t->L.stride * sizeof *st);
    int32_t *fr = realloc(t->slot_free, ns * sizeof *fr);
    if (st) t->stats = st;
    if (fr) t->slot_free = fr;
    if (!st || !fr) return EDDY_ENOMEM;
    t->cap_slots = ns;
  }
  t->n_slots = ns;
  eddy_read_f64s(r, t->stats, ns * t->L.stride);
  t->n_slot_free = eddy_read_count(r, 4);
  if (r->err) return r->err;
  if (t->n_slot_free > ns) return EDDY_ECORRUPT;
  for (size_t i = 0; i < t->n_slot_free; i++) {
    t->slot_free[i] = (int32_t)eddy_read_u32(r);
    if (t->slot_free[i] < 0 || (size_t)t->slot_free[i] >= ns) return EDDY_ECORRUPT;
  }
  int err = eddy__ht_kids_load(&t->kids, r);
  if (err) return err;
  t->root = (int32_t)eddy_read_u32(r);
  t->n_split = eddy_read_u64(r);
  t->n_active = eddy_read_u64(r);
  t->n_inactive = eddy_read_u64(r);
  t->growth_allowed = eddy_read_u8(r);
  t->weight_seen = eddy_read_f64(r);
  if (r->err) return r->err;
  if (!valid(t, t->root) || !valid(t, t->free_node)) return EDDY_ECORRUPT;
  for (size_t i = 0; i < n; i++) {
    const htr_node_t *nd = &t->nodes[i];
    if (nd->kind == EDDY__HT_FREE) {
      if (!valid(t, nd->kids)) return EDDY_ECORRUPT;
      continue;
    }
    if (nd->kind == EDDY__HT_LEAF && (nd->slot < 0 || (size_t)nd->slot >= ns)) return EDDY_ECORRUPT;
    if (nd->kind != EDDY__HT_LEAF && nd->slot != -1) return EDDY_ECORRUPT;
    if (nd->kind == EDDY__HT_SPLIT) {
      if (nd->attr < 0 || (size_t)nd->attr >= s->n_attrs || nd->test > EDDY__HT_TEST_NOM_MULTI ||
          nd->kids_log2 > 30 || nd->kids < 0 ||
          (size_t)nd->kids + ((size_t)1 << nd->kids_log2) > t->kids.len || nd->n_kids < 0 ||
          nd->n_kids > (1 << nd->kids_log2) ||
          (nd->test == EDDY__HT_TEST_NUM_LE) != (s->attrs[nd->attr].kind == EDDY_NUMERIC) ||
          (nd->test == EDDY__HT_TEST_NOM_EQ && !(nd->value >= 0 && nd->value < 2147483648.0)))
        return EDDY_ECORRUPT;
      for (int32_t b = 0; b < nd->n_kids; b++)
        if (!valid(t, t->kids.v[nd->kids + b])) return EDDY_ECORRUPT;
    }
  }
  eddy__ht_pool_view_t v = {(const uint8_t *)t->nodes,
                      t->n_nodes,
                      sizeof *t->nodes,
                      offsetof(htr_node_t, kind),
                      offsetof(htr_node_t, kids),
                      offsetof(htr_node_t, kids_log2),
                      offsetof(htr_node_t, n_kids),
                      offsetof(htr_node_t, slot),
                      SIZE_MAX};
  return eddy__ht_check_pools(&v, &t->kids, t->root, t->free_node, ns, t->slot_free, t->n_slot_free,
                        t->n_split, t->n_active, t->n_inactive);
}

static size_t htr_memory(const eddy_learner_t *l) { return htr_memory_bytes(l->state); }

static void htr_destroy(eddy_learner_t *l) { htr_tree_free(l->state); }

static double reach_weight(const htr_t *t, int32_t id) {
  const htr_node_t *n = &t->nodes[id];
  if (n->kind != EDDY__HT_SPLIT) return n->stats.n;
  double w = 0;
  for (int32_t b = 0; b < n->n_kids; b++) {
    int32_t c = kid(t, id, b);
    if (c >= 0) w += reach_weight(t, c);
  }
  return w;
}

static void describe_node(const htr_t *t, int32_t id, int indent, size_t depth, size_t *maxd,
                          size_t *nodes, size_t *leaves, FILE *out) {
  const htr_node_t *n = &t->nodes[id];
  (*nodes)++;
  if (depth > *maxd) *maxd = depth;
  char a[32], b[32], c[32];
  if (n->kind != EDDY__HT_SPLIT) {
    (*leaves)++;
    if (out) {
      eddy__ht_fmt_value(a, sizeof a, n->stats.mean);
      eddy__ht_fmt_value(b, sizeof b, sqrt(eddy__ht_var_get(&n->stats)));
      eddy__ht_fmt_value(c, sizeof c, n->stats.n);
      const char *by = t->p->leaf_prediction == HTR_MEAN    ? "mean"
                       : t->p->leaf_prediction == HTR_MODEL ? "model"
                       : n->fmse_mean < n->fmse_model       ? "mean"
                                                            : "model";
      fprintf(out, "%*sleaf: mean %s, sd %s (n=%s) predicts by %s%s\n", indent, "", a, b, c, by,
              n->kind == EDDY__HT_LEAF_INACTIVE ? ", inactive" : "");
    }
    return;
  }
  for (int32_t br = 0; br < n->n_kids; br++) {
    int32_t ch = kid(t, id, br);
    if (ch < 0) continue;
    if (out) {
      char cond[256];
      double v = n->value;
      /* numeric tests hold the bin boundary as x <= nextafter(boundary): show x < boundary */
      if (n->test == EDDY__HT_TEST_NUM_LE) {
        eddy__ht_fmt_value(a, sizeof a, nextafter(v, INFINITY));
        snprintf(cond, sizeof cond, "%s %s %s", t->schema->attrs[n->attr].name,
                 br == 0 ? "<" : ">=", a);
      } else {
        eddy__ht_describe_branch(t->schema, n->test, (size_t)n->attr, v, br, cond, sizeof cond);
      }
      eddy__ht_fmt_value(c, sizeof c, reach_weight(t, ch));
      fprintf(out, "%*sif %s (n=%s)\n", indent, "", cond, c);
    }
    describe_node(t, ch, indent + 2, depth + 1, maxd, nodes, leaves, out);
  }
}

static void htr_describe(const eddy_learner_t *l, FILE *out) {
  const htr_t *t = l->state;
  size_t d = 0, nodes = 0, leaves = 0;
  if (t->root >= 0) describe_node(t, t->root, 0, 0, &d, &nodes, &leaves, NULL);
  fprintf(out,
          "hoeffding_tree_regressor: depth %zu, %zu nodes, %zu leaves (%zu active, %zu "
          "inactive), %zu bytes\n",
          d, nodes, leaves, t->n_active, t->n_inactive, htr_memory_bytes(t));
  if (t->root >= 0) describe_node(t, t->root, 0, 0, &d, &nodes, &leaves, out);
}

const eddy_learner_type_t eddy_learner_hoeffding_tree_regressor = {
    .name = "hoeffding_tree_regressor",
    .description = "Hoeffding tree regressor (River's HoeffdingTreeRegressor): variance "
                   "reduction splits, mean, linear or adaptive leaves",
    .tasks = EDDY_REGRESSION,
    .options = htr_options,
    .params_size = sizeof(htr_params_t),
    .state_size = sizeof(htr_t),
    .init = htr_init,
    .predict = htr_predict,
    .learn = htr_learn,
    .reset = htr_reset,
    .save = htr_save,
    .load = htr_load,
    .memory = htr_memory,
    .destroy = htr_destroy,
    .describe = htr_describe,
};
