/* ht_importance.c: feature importance of the Hoeffding trees as mean
 * decrease in impurity, derived from the tree as it stands (no state of its
 * own, so checkpoints carry it as they carry the tree): the node store's
 * walk, the classification trees' impurities and the forests' mean. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/trees/trees.h"

/* The walk's state: one statistic of ops->dim doubles per level. */
typedef struct imp_walk {
  const eddy__ht_store_t *st;
  const eddy__ht_impurity_ops_t *ops;
  const void *tree;
  double *buf;
  size_t levels;
  double *gain, *splits;
  size_t n_attrs;
} imp_walk_t;

/* The statistic of the leaves under id into buf[level]; adds each split's
 * weighted impurity decrease (unscaled) to its attribute. */
static void imp_node(imp_walk_t *w, int32_t id, size_t level) {
  const size_t dim = w->ops->dim;
  double *acc = w->buf + level * dim;
  const eddy__ht_base_t *n = eddy__ht_base(w->st, id);
  if (n->kind != EDDY__HT_SPLIT) {
    w->ops->leaf(w->tree, id, acc);
    return;
  }
  memset(acc, 0, dim * sizeof *acc);
  if (level + 1 >= w->levels) return; /* only when shape could not allocate (depth 0) */
  double *kid = acc + dim, children = 0.0, weight;
  for (int32_t b = 0; b < n->n_kids; b++) {
    int32_t c = eddy__ht_store_kid(w->st, id, b);
    if (c < 0) continue;
    imp_node(w, c, level + 1);
    children += w->ops->weighted_impurity(w->tree, kid, &weight);
    w->ops->merge(acc, kid, dim);
  }
  double decrease = w->ops->weighted_impurity(w->tree, acc, &weight) - children;
  if ((size_t)n->attr < w->n_attrs) {
    /* exact arithmetic never makes it negative (impurities are concave);
     * rounding may, by an ulp or so */
    w->gain[n->attr] += decrease > 0.0 ? decrease : 0.0;
    w->splits[n->attr] += 1.0;
  }
}

int eddy__ht_store_importance(const eddy__ht_store_t *st, const eddy__ht_impurity_ops_t *ops,
                              const void *tree, double *gain, double *splits, size_t n_attrs) {
  for (size_t a = 0; a < n_attrs; a++) gain[a] = splits[a] = 0.0;
  if (st->root < 0 || ops->dim == 0) return 0;
  size_t depth, nodes, leaves, inactive;
  eddy__ht_store_shape(st, &depth, &nodes, &leaves, &inactive);
  imp_walk_t w = {st, ops, tree, NULL, depth + 2, gain, splits, n_attrs};
  if (!(w.buf = calloc(w.levels * ops->dim, sizeof *w.buf))) return EDDY_ENOMEM;
  imp_node(&w, st->root, 0);
  double root_weight;
  ops->weighted_impurity(tree, w.buf, &root_weight);
  free(w.buf);
  for (size_t a = 0; a < n_attrs; a++) gain[a] = root_weight > 0.0 ? gain[a] / root_weight : 0.0;
  return 0;
}

/* ------------------------------------------------ classification trees */

static void class_leaf(const void *tree, int32_t id, double *acc) {
  const eddy__ht_tree_t *t = tree;
  const double *d = eddy__ht_dist(t, id);
  uint32_t len = eddy__ht_node(t, id)->dist_len;
  for (uint32_t c = 0; c < t->st.L.C; c++) acc[c] = c < len ? d[c] : 0.0;
}

static void class_merge(double *acc, const double *kid, size_t dim) {
  for (size_t c = 0; c < dim; c++) acc[c] += kid[c];
}

/* W times the entropy in bits (info_gain) or the Gini impurity (gini) of
 * the class weights. */
static double class_impurity(const void *tree, const double *acc, double *weight) {
  const eddy__ht_tree_t *t = tree;
  double w = 0.0, s = 0.0;
  for (uint32_t c = 0; c < t->st.L.C; c++)
    if (acc[c] > 0.0) w += acc[c];
  *weight = w;
  if (!(w > 0.0)) return 0.0;
  for (uint32_t c = 0; c < t->st.L.C; c++) {
    if (!(acc[c] > 0.0)) continue;
    s += t->p->split_criterion == EDDY__HT_GINI ? acc[c] * acc[c] / w : acc[c] * log2(acc[c] / w);
  }
  return t->p->split_criterion == EDDY__HT_GINI ? w - s : -s;
}

int eddy__ht_tree_importance(const eddy__ht_tree_t *t, double *gain, double *splits, size_t n_attrs) {
  const eddy__ht_impurity_ops_t ops = {t->st.L.C, class_leaf, class_merge, class_impurity};
  return eddy__ht_store_importance(&t->st, &ops, t, gain, splits, n_attrs);
}

int eddy__ht_l_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs) {
  return eddy__ht_tree_importance(l->state, gain, splits, n_attrs);
}

int eddy__ht_forest_importance(const void *first, size_t stride, size_t n, double *gain,
                               double *splits, size_t n_attrs) {
  for (size_t a = 0; a < n_attrs; a++) gain[a] = splits[a] = 0.0;
  if (!n) return 0;
  double *g = calloc(2 * n_attrs + 1, sizeof *g);
  if (!g) return EDDY_ENOMEM;
  int err = 0;
  for (size_t i = 0; i < n && !err; i++) {
    const eddy__ht_tree_t *t = (const void *)((const char *)first + i * stride);
    if ((err = eddy__ht_tree_importance(t, g, g + n_attrs, n_attrs))) break;
    for (size_t a = 0; a < n_attrs; a++) {
      gain[a] += g[a] / (double)n;
      splits[a] += g[n_attrs + a];
    }
  }
  free(g);
  return err;
}
