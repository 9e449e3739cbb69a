/* hoeffding_adaptive_tree.c: the Hoeffding Adaptive Tree (Bifet & Gavaldà
 * 2009) as MOA 2016.04's HoeffdingAdaptiveTree implements it, on the tree
 * core of hoeffding_tree.c. Every node keeps an ADWIN over its 0/1 errors;
 * when a split node's error rises significantly (ADWIN cuts and the mean
 * went up), it starts an alternate tree; once both estimators hold more
 * than 300 instances, the alternate replaces the node's subtree when it is
 * better by the bound sqrt(2 e (1 - e) ln(2 / 0.05) (1/n_alt + 1/n)), or is
 * dropped when worse by the same bound.
 *
 * MOA's behaviour kept on purpose, because its numbers come from it:
 *  - an alternate learns with its owner's parent and branch, so when the
 *    alternate (a leaf) first splits, the new split node takes the owner's
 *    place at once (River passes the same parent and behaves the same);
 *    alternates are therefore always single leaves;
 *  - leaves learn each instance with weight w * k, k ~ Poisson(1) drawn from
 *    a java.util.Random(1) of their own (k = 0 keeps w); `bootstrap =
 *    seeded` draws from the learner's seed instead, `off` disables it;
 *  - a split node predicts for its ADWIN with the leaf its main path reaches
 *    (0 when that branch has no child), and an instance reaching a branch
 *    without a child is not learned below (no leaf is created, unlike HT);
 *  - predictions come from the main path only (alternates are leaves and
 *    MOA leaves them out); a leaf's votes are scaled by 1 / (sum * error^2),
 *    which does not change the predicted class.
 * Deviations: an instance whose split value is missing predicts the split
 * node's class distribution (MOA returns no votes) and stops there when
 * learning; memory management uses eddy's exact sizes (MOA's HAT never
 * estimates them, so never deactivates); with max_depth, leaves at that
 * depth stay active (their error estimator and naive Bayes keep working)
 * but no longer attempt splits, where HT deactivates them as River does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detectors/detectors.h"
#include "learners/trees/trees.h"

/* The class predicted for the ADWINs of the split nodes on the main path,
 * computed once per instance: every split node on the path reaches the same
 * leaf, unchanged until that leaf learns. */
typedef struct {
  int done;
  uint32_t pred;
} path_pred_t;

static uint32_t node_pred(eddy__ht_tree_t *t, int32_t id, const eddy_instance_t *x) {
  eddy__ht_node_votes(t, id, x, t->votes);
  return (uint32_t)eddy_argmax(t->votes, eddy__ht_node(t, id)->dist_len);
}

static uint32_t path_pred(eddy__ht_tree_t *t, int32_t from, const eddy_instance_t *x, path_pred_t *pp) {
  if (!pp->done) {
    int32_t parent = -1;
    int branch = -1;
    int32_t id = from == t->st.root ? eddy__ht_sort_root(t, x, &parent, &branch)
                                 : eddy__ht_store_sort(&t->st, from, x, &parent, &branch);
    pp->pred = id < 0 ? 0 : node_pred(t, id, x);
    pp->done = 1;
  }
  return pp->pred;
}

/* Feeds the node's ADWIN with this instance's error; 1 when it detected an
 * increase of the error (MOA ignores a cut after which the mean fell). */
static int error_change(eddy__ht_tree_t *t, int32_t id, int wrong) {
  eddy__ht_node_t *n = eddy__ht_node(t, id);
  double old = n->err_used ? eddy_adwin_estimation(n->adwin) : 0.0;
  n->err_used = 1;
  int change = eddy_adwin_update(n->adwin, wrong ? 1.0 : 0.0);
  if (change && old > eddy_adwin_estimation(n->adwin)) change = 0;
  return change;
}

static double leaf_weight_factor(eddy__ht_tree_t *t, int32_t id) {
  int k;
  switch (t->p->bootstrap) {
  case EDDY__HT_BOOT_MOA: k = eddy__ht_poisson1_java(&eddy__ht_node(t, id)->rng); break;
  case EDDY__HT_BOOT_SEEDED: k = eddy__ht_poisson1_splitmix(&eddy__ht_node(t, id)->rng); break;
  default: k = 0; break;
  }
  return k > 0 ? (double)k : 1.0;
}

/* Learns x at node id, which sits at (parent, branch) of the main tree or
 * is the alternate of the node there. Returns 1 when id no longer holds
 * that place (it was swapped out, or an alternate's split replaced it),
 * 0 otherwise, or a negative code. */
static int learn_node(eddy__ht_tree_t *t, int32_t id, int32_t parent, int branch,
                      const eddy_instance_t *x, uint32_t c, double w, path_pred_t *pp) {
  const eddy__ht_params_t *p = t->p;
  int kind = eddy__ht_node(t, id)->b.kind;
  if (kind == EDDY__HT_LEAF) {
    double wl = w * leaf_weight_factor(t, id);
    uint32_t pred = node_pred(t, id, x);
    error_change(t, id, pred != c);
    eddy__ht_leaf_learn(t, id, x, c, wl);
    double seen = eddy__ht_weight(t, id);
    if (seen - eddy__ht_node(t, id)->last_eval >= (double)p->grace_period) {
      if (p->max_depth > 0 && eddy__ht_node(t, id)->b.depth >= p->max_depth) return 0;
      int r = eddy__ht_attempt_split(t, id, parent, branch);
      if (r < 0) return r;
      if (r == 0) eddy__ht_node(t, id)->last_eval = seen;
      return r;
    }
    return 0;
  }
  if (kind == EDDY__HT_LEAF_INACTIVE) {
    eddy__ht_leaf_learn(t, id, x, c, w);
    return 0;
  }
  /* split node */
  uint32_t pred = path_pred(t, id, x, pp);
  if (error_change(t, id, pred != c)) {
    if (eddy__ht_node(t, id)->alt >= 0) eddy__ht_free_subtree(t, eddy__ht_node(t, id)->alt);
    int32_t alt = eddy__ht_new_leaf(t, NULL, 0, eddy__ht_node(t, id)->b.depth);
    if (alt < 0) return alt;
    eddy__ht_node(t, id)->alt = alt;
    t->n_alternates++;
  } else if (eddy__ht_node(t, id)->alt >= 0 && eddy__ht_node(t, eddy__ht_node(t, id)->alt)->err_used) {
    int32_t alt = eddy__ht_node(t, id)->alt;
    const eddy_adwin_t *ea = eddy__ht_node(t, alt)->adwin, *en = eddy__ht_node(t, id)->adwin;
    double thr = (double)p->drift_window_threshold;
    if ((double)eddy_adwin_width(en) > thr && (double)eddy_adwin_width(ea) > thr) {
      double old_rate = eddy_adwin_estimation(en), alt_rate = eddy_adwin_estimation(ea);
      double fn = 1.0 / (double)eddy_adwin_width(ea) + 1.0 / (double)eddy_adwin_width(en);
      double bound =
          sqrt(2.0 * old_rate * (1.0 - old_rate) * log(2.0 / p->switch_significance) * fn);
      if (bound < old_rate - alt_rate) {
        /* the alternate takes this node's place; it then learns x there */
        eddy__ht_node(t, id)->alt = -1;
        int err = eddy__ht_store_set_child(&t->st, parent, branch, alt);
        if (err) return err;
        eddy__ht_free_subtree(t, id);
        t->n_switched++;
        int r = learn_node(t, alt, parent, branch, x, c, w, pp);
        return r < 0 ? r : 1;
      } else if (bound < alt_rate - old_rate) {
        eddy__ht_free_subtree(t, alt);
        eddy__ht_node(t, id)->alt = -1;
        t->n_pruned++;
      }
    }
  }
  if (eddy__ht_node(t, id)->alt >= 0) {
    int r = learn_node(t, eddy__ht_node(t, id)->alt, parent, branch, x, c, w, pp);
    if (r < 0) return r;
    if (r == 1) return 1; /* the alternate split and replaced this node */
  }
  const eddy__ht_node_t *n = eddy__ht_node(t, id);
  int b = eddy__ht_branch(n->b.test, (size_t)n->b.attr, n->b.value, x);
  int32_t child = eddy__ht_kid(t, id, b);
  if (child >= 0) {
    int r = learn_node(t, child, id, b, x, c, w, pp);
    if (r < 0) return r;
  }
  return 0;
}

static int hat_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  eddy__ht_tree_t *t = l->state;
  int err = eddy__ht_learn_begin(t, x);
  if (err <= 0) return err;
  double w = x->weight;
  path_pred_t pp = {0, 0};
  int r = learn_node(t, t->st.root, -1, -1, x, (uint32_t)x->y, w, &pp);
  if (r < 0) return r;
  return eddy__ht_after_learn(t, w);
}

const eddy_learner_type_t eddy_learner_hoeffding_adaptive_tree = {
    .name = "hoeffding_adaptive_tree",
    .description = "Hoeffding Adaptive Tree as MOA's HoeffdingAdaptiveTree: ADWIN per node, "
                   "alternate subtrees swapped in when significantly better",
    .options = hat_options,
    EDDY__HT_LEARNER_COMMON,
    .learn = hat_learn,
};
