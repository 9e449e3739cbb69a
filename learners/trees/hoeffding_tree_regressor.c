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

enum { HTR_MEAN = EDDY__HTR_MEAN, HTR_MODEL = EDDY__HTR_MODEL, HTR_ADAPTIVE = EDDY__HTR_ADAPTIVE };

typedef eddy__htr_params_t htr_params_t;

const char *const eddy__htr_leaf_preds[] = {"mean", "model", "adaptive", NULL};

static const eddy_option_t htr_options[] = {
    EDDY_OPT_INT_(htr_params_t, "grace_period", grace_period, "200", 1, 1e9,
                  "weight a leaf observes between split attempts"),
    EDDY_OPT_DOUBLE_(htr_params_t, "split_confidence", split_confidence, "1e-7", 1e-300, 1,
                     "delta of the Hoeffding bound (River's delta)"),
    EDDY_OPT_ENUM_(htr_params_t, "leaf_prediction", leaf_prediction, "adaptive",
                   eddy__htr_leaf_preds,
                   "mean, model (linear) or adaptive (the one with the lower faded error)"),
    EDDY_OPT_INT_(htr_params_t, "max_byte_size", max_byte_size, "33554432", 1024, 1e15,
                  "memory limit of the tree; the deepest leaves are deactivated"),
    EDDY__HTR_OPTIONS(htr_params_t, ),
    EDDY_OPT_END};

typedef struct {
  eddy__ht_base_t b;
  eddy__ht_var_t stats; /* the target at this node */
  double last_eval;
  double fmse_mean, fmse_model;
} htr_node_t;

typedef eddy__htr_tree_t htr_t;

/* ------------------------------------------------------------ pools */

static size_t model_len(const htr_t *t) { return t->n_num + 1; }
static size_t n_scratch(const htr_t *t) { return 2 * (size_t)t->st.L.n_bins + 2; }
static htr_node_t *node(const htr_t *t, int32_t id) { return (htr_node_t *)t->st.nodes + id; }
static double *node_model(const htr_t *t, int32_t id) { return eddy__ht_row(&t->st, id); }
static double *node_slot(const htr_t *t, int32_t id) { return eddy__ht_store_slot(&t->st, id); }

int eddy__htr_tree_init(htr_t *t, const eddy_schema_t *s, const htr_params_t *p) {
  memset(t, 0, sizeof *t);
  t->schema = s;
  t->p = p;
  size_t na = s->n_attrs ? s->n_attrs : 1;
  eddy__ht_layout_t *L = &t->st.L;
  L->n_attrs = s->n_attrs;
  if (p->subspace_size > 0 && s->n_attrs > 0) {
    t->sub_k = p->subspace_size < (int64_t)s->n_attrs ? (size_t)p->subspace_size : s->n_attrs;
    L->extra = s->n_attrs; /* the leaf's subspace, 1.0 per attribute in it */
  }
  eddy__htr_tree_seed_subspace(t, 1);
  L->n_bins = (uint32_t)((p->bins + 1) / 2 * 2);
  L->V = calloc(na, sizeof *L->V);
  L->off = calloc(na, sizeof *L->off);
  t->num_attr = calloc(na, sizeof *t->num_attr);
  t->cands = calloc(s->n_attrs + 1, sizeof *t->cands);
  if (!L->V || !L->off || !t->num_attr || !t->cands) return EDDY_ENOMEM;
  for (size_t a = 0; a < s->n_attrs; a++) {
    if (s->attrs[a].kind == EDDY_NOMINAL) {
      uint32_t n = eddy_schema_n_values(s, a);
      L->V[a] = n > 2 ? n : 2;
    } else {
      t->num_attr[t->n_num++] = a;
    }
  }
  eddy__ht_store_init(&t->st, sizeof(htr_node_t), (uint32_t)model_len(t));
  t->norm = calloc(t->n_num + 1, sizeof *t->norm);
  t->xn = calloc(t->n_num + 1, sizeof *t->xn);
  if (!t->norm || !t->xn) return EDDY_ENOMEM;
  eddy__ht_layout_compute(L, s);
  t->scratch = calloc(n_scratch(t), sizeof *t->scratch);
  t->post = calloc(eddy__ht_layout_vmax(L), sizeof *t->post);
  return t->scratch && t->post ? 0 : EDDY_ENOMEM;
}

void eddy__htr_tree_free(htr_t *t) {
  eddy__ht_store_free(&t->st);
  free(t->num_attr);
  free(t->cands);
  free(t->norm);
  free(t->xn);
  free(t->scratch);
  free(t->post);
  free(t->walk);
  memset(t, 0, sizeof *t);
  t->st.root = -1;
}

/* The branch statistics scratch for the layout's widest nominal attribute. */
static int size_post(htr_t *t) {
  eddy__ht_var_t *post = realloc(t->post, eddy__ht_layout_vmax(&t->st.L) * sizeof *post);
  if (!post) return EDDY_ENOMEM;
  t->post = post;
  return 0;
}

static int new_value(const eddy_schema_t *s, const eddy_instance_t *x, size_t a, uint32_t v) {
  return s->attrs[a].kind == EDDY_NOMINAL && !(x->missing && x->missing[a]) && x->x[a] >= 0 &&
         x->x[a] >= v && x->x[a] < 4294967296.0;
}

/* New nominal values widen their blocks (every slot is re-laid out). */
static int htr_ensure(htr_t *t, const eddy_instance_t *x) {
  const eddy_schema_t *s = t->schema;
  eddy__ht_store_t *st = &t->st;
  int need = 0;
  for (size_t a = 0; a < s->n_attrs && !need; a++) need = new_value(s, x, a, st->L.V[a]);
  if (!need) return 0;
  eddy__ht_layout_t N = st->L;
  size_t na = s->n_attrs ? s->n_attrs : 1;
  N.V = malloc(na * sizeof *N.V);
  N.off = malloc(na * sizeof *N.off);
  if (!N.V || !N.off) goto oom;
  memcpy(N.V, st->L.V, s->n_attrs * sizeof *N.V);
  for (size_t a = 0; a < s->n_attrs; a++) {
    if (!new_value(s, x, a, N.V[a])) continue;
    uint64_t n = N.V[a];
    while (n <= x->x[a]) n *= 2;
    N.V[a] = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
  }
  eddy__ht_layout_compute(&N, s);
  double *stats = NULL;
  if (st->cap_slots) {
    stats = calloc(st->cap_slots * N.stride, sizeof *stats);
    if (!stats) goto oom;
    for (size_t i = 0; i < st->n_slots; i++)
      eddy__ht_layout_copy_slot(&st->L, st->stats + i * st->L.stride, &N, stats + i * N.stride, s);
  }
  eddy__ht_var_t *post = realloc(t->post, eddy__ht_layout_vmax(&N) * sizeof *post);
  if (!post) {
    free(stats);
    goto oom;
  }
  t->post = post;
  free(st->stats);
  st->stats = stats;
  free(st->L.V);
  free(st->L.off);
  st->L = N;
  return 0;
oom:
  free(N.V);
  free(N.off);
  return EDDY_ENOMEM;
}

/* A new active leaf; `from` (or -1) gives the linear model and faded errors. */
static int32_t new_leaf(htr_t *t, const eddy__ht_var_t *stats, int32_t depth, int32_t from) {
  int32_t id = eddy__ht_store_new_node(&t->st);
  if (id >= 0) id = eddy__ht_store_new_leaf(&t->st, id, depth);
  if (id < 0) return id;
  htr_node_t *n = node(t, id);
  if (stats) n->stats = *stats;
  n->last_eval = n->stats.n;
  if (from >= 0) {
    memcpy(node_model(t, id), node_model(t, from), model_len(t) * sizeof(double));
    n->fmse_mean = node(t, from)->fmse_mean;
    n->fmse_model = node(t, from)->fmse_model;
  }
  return id;
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
  const htr_node_t *n = node(t, id);
  switch (t->p->leaf_prediction) {
  case HTR_MEAN: return n->stats.mean;
  case HTR_MODEL: return model_predict(t, id);
  default: return n->fmse_mean < n->fmse_model ? n->stats.mean : model_predict(t, id);
  }
}

/* ------------------------------------------------------------ memory */

static size_t htr_memory_bytes(const htr_t *t) {
  const eddy__ht_layout_t *L = &t->st.L;
  size_t m = sizeof *t + eddy__ht_store_capacity(&t->st);
  m += L->n_attrs * (sizeof *L->V + sizeof *L->off + sizeof *t->num_attr);
  m += (L->n_attrs + 1) * sizeof *t->cands;
  m += (t->n_num + 1) * (sizeof *t->norm + sizeof *t->xn);
  m += (n_scratch(t) + eddy__ht_layout_vmax(L)) * sizeof(eddy__ht_var_t);
  m += t->cap_walk * sizeof(int64_t);
  return m;
}

static int cmp_key(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* Deactivates the deepest active leaves (River's promise for regression
 * leaves) until the live tree fits the limit. */
static int enforce_size(htr_t *t) {
  const htr_params_t *p = t->p;
  eddy__ht_store_t *st = &t->st;
  size_t total = eddy__ht_store_live_bytes(st, htr_memory_bytes(t), NULL);
  if (total <= (size_t)p->max_byte_size) return 0;
  if (p->stop_mem_management) {
    st->growth_allowed = 0;
    return 0;
  }
  if (st->n_nodes > t->cap_walk) {
    int64_t *w = realloc(t->walk, st->n_nodes * sizeof *w);
    if (!w) return EDDY_ENOMEM;
    t->walk = w;
    t->cap_walk = st->n_nodes;
  }
  /* deepest first, then by id: keys (INT32_MAX - depth, id) ascending */
  size_t n = 0;
  for (size_t i = 0; i < st->n_nodes; i++)
    if (node(t, (int32_t)i)->b.kind == EDDY__HT_LEAF)
      t->walk[n++] = ((int64_t)(INT32_MAX - node(t, (int32_t)i)->b.depth) << 32) | (int64_t)i;
  qsort(t->walk, n, sizeof *t->walk, cmp_key);
  size_t per_leaf = st->L.stride * sizeof(double);
  for (size_t i = 0; i < n && total > (size_t)p->max_byte_size; i++) {
    eddy__ht_store_deactivate(st, (int32_t)(t->walk[i] & 0xffffffff));
    total -= per_leaf;
  }
  return 0;
}

/* ------------------------------------------------------------ splitting */

/* The candidates of a leaf into t->cands: the null split (pre-pruning),
 * then each attribute's best; their count. */
static size_t gather_cands(htr_t *t, int32_t leaf) {
  const htr_params_t *p = t->p;
  size_t n_c = 0;
  if (!p->no_preprune) {
    eddy__ht_cand_t *c = &t->cands[n_c++];
    memset(c, 0, sizeof *c);
    c->attr = -1;
    c->merit = -INFINITY;
  }
  const eddy__ht_var_t pre = node(t, leaf)->stats;
  const double *slot = node_slot(t, leaf);
  for (size_t a = 0; a < t->st.L.n_attrs; a++)
    if ((!t->sub_k || slot[a] != 0.0) &&
        htr_obs_best_split(&t->st.L, t->schema, slot, a, &pre, (double)p->min_samples_split,
                           p->binary_splits, t->scratch, &t->cands[n_c]) == 0)
      n_c++;
  return n_c;
}

/* The leaf's split on cand goes to (parent, branch), with a leaf for each
 * branch that saw weight (from the branch statistics, with the leaf's
 * model and faded errors): 1. */
static int split_leaf(htr_t *t, int32_t leaf, int32_t parent, int branch,
                      const eddy__ht_cand_t *cand) {
  htr_obs_post_stats(&t->st.L, t->schema, node_slot(t, leaf), cand, t->post);
  int32_t sid = eddy__ht_store_new_node(&t->st);
  if (sid < 0) return sid;
  node(t, sid)->stats = node(t, leaf)->stats;
  int err = eddy__ht_store_split_node(&t->st, sid, leaf, cand);
  if (err) return err;
  int32_t depth = node(t, sid)->b.depth + 1;
  for (uint32_t i = 0; i < cand->n_branches; i++) {
    if (!(t->post[i].n > 0.0)) continue; /* a value never seen here: created on arrival */
    int32_t c = new_leaf(t, &t->post[i], depth, leaf);
    if (c < 0) return c;
    t->st.kids.v[node(t, sid)->b.kids + i] = c;
  }
  if ((err = eddy__ht_store_set_child(&t->st, parent, branch, sid))) return err;
  eddy__ht_store_free_subtree(&t->st, leaf, SIZE_MAX);
  return 1;
}

static int attempt_split(htr_t *t, int32_t leaf, int32_t parent, int branch) {
  const htr_params_t *p = t->p;
  size_t n_c = gather_cands(t, leaf);
  /* stable ascending sort, last two (as River's list.sort of suggestions) */
  int best, second;
  eddy__ht_best_two(t->cands, n_c, 0, &best, &second);
  int should = n_c > 0;
  if (n_c >= 2) {
    double hb = eddy__ht_hoeffding_bound(1.0, p->split_confidence, node(t, leaf)->stats.n);
    double bm = t->cands[best].merit, sm = t->cands[second].merit;
    should = bm > 0.0 && (sm / bm < 1.0 - hb || hb < p->tie_threshold);
  }
  if (!should) return 0;
  eddy__ht_cand_t cand = t->cands[best];
  if (cand.attr < 0) {
    eddy__ht_store_deactivate(&t->st, leaf);
    return enforce_size(t);
  }
  int r = split_leaf(t, leaf, parent, branch, &cand);
  if (r < 0) return r;
  int err = enforce_size(t);
  return err ? err : 1;
}

/* ------------------------------------------------------------ the learner */

static int htr_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  int err = eddy__htr_tree_init(l->state, l->schema, l->params);
  if (err) eddy_seterr(errstr, errstr_size, err, "hoeffding_tree_regressor: out of memory");
  return err;
}

double eddy__htr_tree_predict(htr_t *t, const eddy_instance_t *x) {
  if (t->st.root < 0) return 0.0;
  int32_t parent = -1;
  int branch = -1;
  int32_t id = eddy__ht_store_sort(&t->st, t->st.root, x, &parent, &branch);
  if (id < 0) id = parent;
  if (node(t, id)->b.kind == EDDY__HT_SPLIT) return node(t, id)->stats.mean;
  standardize(t, x);
  return leaf_predict(t, id);
}

static int htr_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  if (out_len < 1) return EDDY_ENOSPC;
  out[0] = eddy__htr_tree_predict(l->state, x);
  return 1;
}

/* MOA's ARFFIMTDD LeafNode on its first instance: sub_k distinct
 * attributes, each nextInt(n_attrs) drawn again while it repeats one
 * before it, marked in the slot's first doubles. */
static void draw_subspace(htr_t *t, double *slot) {
  size_t n = t->st.L.n_attrs;
  for (size_t a = 0; a < n; a++)
    if (slot[a] != 0.0) return; /* drawn already */
  for (size_t j = 0; j < t->sub_k; j++) {
    int32_t a;
    do a = eddy_jrandom_int(&t->jr, (int32_t)n);
    while (slot[a] != 0.0);
    slot[a] = 1.0;
  }
}

int eddy__htr_tree_learn(htr_t *t, const eddy_instance_t *x) {
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
  if (t->st.root < 0) {
    int32_t r = new_leaf(t, NULL, 0, -1);
    if (r < 0) return r;
    t->st.root = r;
  }
  int32_t parent = -1;
  int branch = -1;
  int32_t id = eddy__ht_store_sort(&t->st, t->st.root, x, &parent, &branch);
  if (id < 0) {
    id = new_leaf(t, NULL, node(t, parent)->b.depth + 1, -1);
    if (id < 0) return id;
    if ((err = eddy__ht_store_set_child(&t->st, parent, branch, id))) return err;
  }
  htr_node_t *n = node(t, id);
  if (n->b.kind != EDDY__HT_SPLIT) {
    standardize(t, x);
    if (p->leaf_prediction == HTR_ADAPTIVE) {
      double em = y - n->stats.mean, ed = y - model_predict(t, id);
      n->fmse_mean = p->model_selector_decay * n->fmse_mean + em * em;
      n->fmse_model = p->model_selector_decay * n->fmse_model + ed * ed;
    }
    eddy__ht_var_add(&n->stats, y, w);
    if (n->b.kind == EDDY__HT_LEAF) {
      if (t->sub_k) draw_subspace(t, node_slot(t, id));
      htr_obs_update(&t->st.L, t->schema, node_slot(t, id), x, y, w,
                     t->sub_k ? node_slot(t, id) : NULL);
    }
    if (p->leaf_prediction != HTR_MEAN) model_learn(t, id, y, w);
    if (t->st.growth_allowed && n->b.kind == EDDY__HT_LEAF &&
        n->stats.n - n->last_eval >= p->grace_period) {
      if (p->max_depth > 0 && n->b.depth >= p->max_depth) {
        eddy__ht_store_deactivate(&t->st, id);
      } else {
        double seen = n->stats.n;
        int r = attempt_split(t, id, parent, branch);
        if (r < 0) return r;
        if (r == 0) node(t, id)->last_eval = seen;
      }
    }
  }
  t->st.weight_seen += w;
  if (fmod(t->st.weight_seen, (double)p->memory_estimate_period) == 0.0) return enforce_size(t);
  return 0;
}

static int htr_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  return eddy__htr_tree_learn(l->state, x);
}

void eddy__htr_tree_seed_subspace(htr_t *t, int64_t seed) {
  t->sub_seed = seed;
  eddy_jrandom_seed(&t->jr, seed);
}

int eddy__htr_tree_reset(htr_t *t) {
  const eddy_schema_t *s = t->schema;
  const htr_params_t *p = t->p;
  int64_t seed = t->sub_seed;
  eddy__htr_tree_free(t);
  int err = eddy__htr_tree_init(t, s, p);
  eddy__htr_tree_seed_subspace(t, seed);
  return err;
}

static void htr_reset(eddy_learner_t *l) { eddy__htr_tree_reset(l->state); }

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

static int tree_save(const htr_t *t, eddy_buf_t *b) {
  const eddy__ht_layout_t *L = &t->st.L;
  eddy_buf_put_u32(b, HTR_SAVE_VERSION);
  eddy_buf_put_u64(b, L->n_attrs);
  eddy_buf_put_u32(b, L->n_bins);
  for (size_t a = 0; a < L->n_attrs; a++) eddy_buf_put_u32(b, L->V[a]);
  eddy_buf_put_u64(b, L->stride);
  for (size_t j = 0; j <= t->n_num; j++) put_var(b, &t->norm[j]);
  eddy_buf_put_u64(b, t->st.n_nodes);
  for (size_t i = 0; i < t->st.n_nodes; i++) {
    const htr_node_t *n = node(t, (int32_t)i);
    eddy__ht_base_save(&n->b, NULL, 0, b);
    put_var(b, &n->stats);
    eddy_buf_put_f64(b, n->last_eval);
    eddy_buf_put_f64(b, n->fmse_mean);
    eddy_buf_put_f64(b, n->fmse_model);
    eddy_buf_put_f64s(b, node_model(t, (int32_t)i), model_len(t));
  }
  eddy__ht_store_save_pools(&t->st, b);
  if (t->sub_k) eddy_jrandom_save(&t->jr, b); /* forest trees only */
  return b->err;
}

static int htr_save(const eddy_learner_t *l, eddy_buf_t *b) { return tree_save(l->state, b); }

/* The layout as saved: nominal blocks widened as they were. */
static int load_layout(htr_t *t, eddy_reader_t *r) {
  const eddy_schema_t *s = t->schema;
  eddy__ht_layout_t *L = &t->st.L;
  if (eddy_read_u64(r) != s->n_attrs || eddy_read_u32(r) != L->n_bins) return EDDY_ECORRUPT;
  for (size_t a = 0; a < s->n_attrs; a++) {
    uint32_t v = eddy_read_u32(r);
    if (r->err) return r->err;
    /* Value slots start at the schema's count (at least 2) and double past
     * it, so they stay below twice what the schema has now. */
    uint32_t nv = eddy_schema_n_values(s, a);
    uint64_t most = 2 * (uint64_t)(nv > 2 ? nv : 2);
    if (s->attrs[a].kind == EDDY_NUMERIC ? v != 0 : (v < 2 || v > most || v > (1u << 24)))
      return EDDY_ECORRUPT;
    L->V[a] = v;
  }
  eddy__ht_layout_compute(L, s);
  if (size_post(t)) return EDDY_ENOMEM;
  if (eddy_read_u64(r) != L->stride) return EDDY_ECORRUPT;
  for (size_t j = 0; j <= t->n_num; j++) get_var(r, &t->norm[j]);
  return r->err;
}

/* Each active leaf's subspace: 0/1 marks, none (not drawn yet) or sub_k. */
static int check_subspaces(const htr_t *t) {
  for (size_t i = 0; i < t->st.n_nodes; i++) {
    const htr_node_t *n = node(t, (int32_t)i);
    if (n->b.kind != EDDY__HT_LEAF) continue;
    const double *slot = node_slot(t, (int32_t)i);
    size_t k = 0;
    for (size_t a = 0; a < t->st.L.n_attrs; a++) {
      if (slot[a] != 0.0 && slot[a] != 1.0) return EDDY_ECORRUPT;
      k += slot[a] == 1.0;
    }
    if (k != 0 && k != t->sub_k) return EDDY_ECORRUPT;
  }
  return 0;
}

static int tree_load(htr_t *t, eddy_reader_t *r) {
  int err = eddy__htr_tree_reset(t);
  if (err) return err;
  if (eddy_read_u32(r) != HTR_SAVE_VERSION) return r->err ? r->err : EDDY_EVERSION;
  err = load_layout(t, r);
  if (err) return err;
  size_t n = eddy_read_count(r, 80);
  if (r->err) return r->err;
  for (size_t i = 0; i < n; i++)
    if (eddy__ht_store_new_node(&t->st) < 0) return EDDY_ENOMEM;
  for (size_t i = 0; i < n; i++) {
    htr_node_t *nd = node(t, (int32_t)i);
    eddy__ht_base_load(&nd->b, NULL, 0, r);
    get_var(r, &nd->stats);
    nd->last_eval = eddy_read_f64(r);
    nd->fmse_mean = eddy_read_f64(r);
    nd->fmse_model = eddy_read_f64(r);
    eddy_read_f64s(r, node_model(t, (int32_t)i), model_len(t));
    if (r->err) return r->err;
    if (nd->b.kind > EDDY__HT_LEAF_INACTIVE || nd->b.depth < 0) return EDDY_ECORRUPT;
  }
  if ((err = eddy__ht_store_load_pools(&t->st, r))) return err;
  if ((err = eddy__ht_store_check(&t->st, t->schema, SIZE_MAX))) return err;
  if (t->sub_k) {
    eddy_jrandom_load(&t->jr, r);
    if ((err = check_subspaces(t))) return err;
  }
  return r->err;
}

static int htr_load(eddy_learner_t *l, eddy_reader_t *r) { return tree_load(l->state, r); }

static int block_save(const void *t, eddy_buf_t *b) { return tree_save(t, b); }

static int block_load(void *t, eddy_reader_t *r) { return tree_load(t, r); }

int eddy__htr_tree_save_block(const htr_t *t, eddy_buf_t *b) {
  return eddy__ht_block_save(t, block_save, b);
}

int eddy__htr_tree_load_block(htr_t *t, eddy_reader_t *r) {
  return eddy__ht_block_load(t, block_load, r);
}

static size_t htr_memory(const eddy_learner_t *l) { return htr_memory_bytes(l->state); }

size_t eddy__htr_tree_memory(const htr_t *t) { return htr_memory_bytes(t); }

static void htr_destroy(eddy_learner_t *l) { eddy__htr_tree_free(l->state); }

/* ------------------------------------------------------------ describe */

static void describe_leaf(const void *tree, int32_t id, FILE *out) {
  const htr_t *t = tree;
  const htr_node_t *n = node(t, id);
  char a[32], b[32], c[32];
  eddy__ht_fmt_value(a, sizeof a, n->stats.mean);
  eddy__ht_fmt_value(b, sizeof b, sqrt(eddy__ht_var_get(&n->stats)));
  eddy__ht_fmt_value(c, sizeof c, n->stats.n);
  const char *by = t->p->leaf_prediction == HTR_MEAN    ? "mean"
                   : t->p->leaf_prediction == HTR_MODEL ? "model"
                   : n->fmse_mean < n->fmse_model       ? "mean"
                                                        : "model";
  fprintf(out, "leaf: mean %s, sd %s (n=%s) predicts by %s%s", a, b, c, by,
          n->b.kind == EDDY__HT_LEAF_INACTIVE ? ", inactive" : "");
}

static void describe_cond(const void *tree, int32_t id, int br, char *buf, size_t size) {
  const htr_t *t = tree;
  const eddy__ht_base_t *n = &node(t, id)->b;
  /* numeric tests hold the bin boundary as x <= nextafter(boundary): show x < boundary */
  if (n->test == EDDY__HT_TEST_NUM_LE) {
    char a[32];
    eddy__ht_fmt_value(a, sizeof a, nextafter(n->value, INFINITY));
    snprintf(buf, size, "%s %s %s", t->schema->attrs[n->attr].name, br == 0 ? "<" : ">=", a);
  } else {
    eddy__ht_describe_branch(t->schema, n->test, (size_t)n->attr, n->value, br, buf, size);
  }
}

static double describe_weight(const void *tree, int32_t id) { return node(tree, id)->stats.n; }

static const eddy__ht_describe_ops_t describe_ops = {describe_leaf, describe_cond, describe_weight,
                                                     NULL};

static void htr_describe(const eddy_learner_t *l, FILE *out) {
  const htr_t *t = l->state;
  size_t d, nodes, leaves, inactive;
  eddy__ht_store_shape(&t->st, &d, &nodes, &leaves, &inactive);
  fprintf(out,
          "hoeffding_tree_regressor: depth %zu, %zu nodes, %zu leaves (%zu active, %zu "
          "inactive), %zu bytes\n",
          d, nodes, leaves, t->st.n_active, t->st.n_inactive, htr_memory_bytes(t));
  if (t->st.root >= 0) eddy__ht_describe_node(&t->st, &describe_ops, t, t->st.root, 0, out);
}

/* ---------------------------------------------------- feature importance */

/* A node's statistic: the target's eddy__ht_var_t (n, mean, m2). */
static void imp_leaf(const void *tree, int32_t id, double *acc) {
  const eddy__ht_var_t *v = &node(tree, id)->stats;
  acc[0] = v->n;
  acc[1] = v->mean;
  acc[2] = v->m2;
}

static void imp_merge(double *acc, const double *kid, size_t dim) {
  (void)dim;
  eddy__ht_var_t a = {acc[0], acc[1], acc[2]}, b = {kid[0], kid[1], kid[2]};
  eddy__ht_var_merge(&a, &b);
  acc[0] = a.n;
  acc[1] = a.mean;
  acc[2] = a.m2;
}

/* W times the (population) variance of the target: the sum of squared
 * deviations. */
static double imp_impurity(const void *tree, const double *acc, double *weight) {
  (void)tree;
  *weight = acc[0] > 0.0 ? acc[0] : 0.0;
  return acc[0] > 0.0 ? acc[2] : 0.0;
}

int eddy__htr_tree_importance(const htr_t *t, double *gain, double *splits, size_t n_attrs) {
  static const eddy__ht_impurity_ops_t ops = {3, imp_leaf, imp_merge, imp_impurity};
  return eddy__ht_store_importance(&t->st, &ops, t, gain, splits, n_attrs);
}

static int htr_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  return eddy__htr_tree_importance(l->state, gain, splits, n_attrs);
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
    .importance = htr_importance,
};
