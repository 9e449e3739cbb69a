/* learners/trees/trees.h: the Hoeffding trees' internals (node pools,
 * observers, split attempts, checkpoint walks), shared by the classifier,
 * the adaptive tree and the regressor. Private: eddy__ht_ names. */
#ifndef EDDY_TREES_H
#define EDDY_TREES_H

#include <math.h>

#include "learners/learners.h"

/* ===================================================================
 * Hoeffding tree internals
 * Shared by ht_store.c (the node store: pools, tree edits, checkpoint
 * walks and checks, describe), ht_common.c (slot layout, MOA numerics),
 * ht_observers.c (attribute observers and split criteria),
 * hoeffding_tree.c (the classification tree core and `hoeffding_tree`),
 * hoeffding_adaptive_tree.c and hoeffding_tree_regressor.c. Not a public
 * API: names start with eddy__ht_ and may change.
 *
 * A tree is a pool of nodes indexed by id (int32, -1 = none), not one
 * allocation per node: ids are recycled through a free list, children lists
 * live in a second pool (power-of-two blocks), and the statistics of active
 * leaves (attribute observers) live in a third pool of fixed-stride slots.
 * Both trees keep these pools in one eddy__ht_store_t, whose nodes are the
 * tree's own type (node_size bytes) starting with eddy__ht_base_t.
 * Save/load is a straight serialization of the pools and memory is their
 * capacity. The learn path allocates only when a pool grows (a node split,
 * a new branch) or when a class or nominal value first appears (the slot
 * stride grows and every slot is re-laid out).
 * =================================================================== */

/* Split tests. Branch 0 of EDDY__HT_TEST_NUM_LE is x <= value (MOA's
 * NumericAttributeBinaryTest with equalsPassesTest); branch 0 of
 * EDDY__HT_TEST_NOM_EQ is x == value; EDDY__HT_TEST_NOM_MULTI has one branch per
 * nominal value index. A missing value has no branch (-1). */
enum { EDDY__HT_TEST_NUM_LE = 0, EDDY__HT_TEST_NOM_EQ = 1, EDDY__HT_TEST_NOM_MULTI = 2 };

/* Node kinds. */
enum { EDDY__HT_FREE = 0, EDDY__HT_SPLIT = 1, EDDY__HT_LEAF = 2, EDDY__HT_LEAF_INACTIVE = 3 };

/* Split criteria and leaf predictors (option indices). */
enum { EDDY__HT_INFO_GAIN = 0, EDDY__HT_GINI = 1 };
enum { EDDY__HT_PRED_MC = 0, EDDY__HT_PRED_NB = 1, EDDY__HT_PRED_NBA = 2 };
/* HAT's Poisson(1) leaf weights: java.util.Random(1) per node as MOA does
 * (number-for-number parity), per-node streams derived from the learner's
 * seed, or none (River's bootstrap_sampling = False). */
enum { EDDY__HT_BOOT_MOA = 0, EDDY__HT_BOOT_SEEDED = 1, EDDY__HT_BOOT_OFF = 2 };

/* Children lists: int32 node ids in blocks of 1 << log2 entries; a freed
 * block goes to the free list of its size (its first entry links on). */
typedef struct eddy__ht_kids {
  int32_t *v;
  size_t len, cap;
  int32_t free_head[32];
} eddy__ht_kids_t;

void eddy__ht_kids_init(eddy__ht_kids_t *k);
void eddy__ht_kids_free_all(eddy__ht_kids_t *k);
/* A block of 1 << log2 entries, all -1; its offset, or a negative code. */
int64_t eddy__ht_kids_alloc(eddy__ht_kids_t *k, unsigned log2);
void eddy__ht_kids_release(eddy__ht_kids_t *k, int32_t off, unsigned log2);
/* Smallest log2 with (1 << log2) >= n. */
unsigned eddy__ht_log2_ceil(size_t n);
size_t eddy__ht_kids_memory(const eddy__ht_kids_t *k);
void eddy__ht_kids_save(const eddy__ht_kids_t *k, eddy_buf_t *b);
int eddy__ht_kids_load(eddy__ht_kids_t *k, eddy_reader_t *r);

/* MOA numerics, so that results match MOA's number for number. */
#define EDDY__HT_NORMAL_CONSTANT 2.5066282746310002 /* Math.sqrt(2 * Math.PI) */
/* moa.core.Utils.log2; inline: split attempts call it for every class of
 * every candidate branch */
static inline double eddy__ht_log2(double a) { return log(a) / M_LN2; }
double eddy__ht_normal_probability(double a);         /* weka Statistics.normalProbability */
int eddy__ht_java_compare(double a, double b);        /* Double.compare */
/* HAT's per-node java.util.Random(1) (MOA's learning nodes each make a new
 * Random(1)): the 48-bit state of an eddy_jrandom_t (core/rng.c), which
 * is all of it while only Poisson(1) draws it. */
uint64_t eddy__ht_moa_random_state(void);
/* MOA's MiscUtils.poisson(1.0, r) on that state (eddy_jrandom_poisson). */
int eddy__ht_poisson1_java(uint64_t *state);
/* The same inversion on a splitmix64 state (EDDY__HT_BOOT_SEEDED). */
int eddy__ht_poisson1_splitmix(uint64_t *state);
/* Hoeffding bound sqrt(R^2 ln(1/delta) / 2n), MOA's formula. */
double eddy__ht_hoeffding_bound(double range, double confidence, double n);
/* A tree's checkpoint as a length-prefixed block (forests nest several):
 * `save` writes the tree's own; `load` reads one back (into a tree of the
 * same schema and parameters) and must end exactly at the block's end. */
int eddy__ht_block_save(const void *tree, int (*save)(const void *, eddy_buf_t *),
                        eddy_buf_t *b);
int eddy__ht_block_load(void *tree, int (*load)(void *, eddy_reader_t *), eddy_reader_t *r);
/* Prints a number for describe (%.6g, C locale). */
void eddy__ht_fmt_value(char *buf, size_t size, double v);

/* The layout of an active leaf's statistics slot (doubles), for a tree
 * with C class slots and V[a] value slots per nominal attribute:
 *   classification, numeric attribute (MOA's Gaussian observer), 5 rows
 *     of C: weight, mean, variance sum, min, max per class;
 *   classification, nominal attribute (MOA's nominal observer): len[C]
 *     (MOA's per-class DoubleVector length: highest value index seen + 1),
 *     sum[C] (weight per class), then counts[V][C];
 *   regression, numeric attribute: 4 header doubles (lo, width, state,
 *     spare) then n_bins rows of 3: weight, mean, M2 of the target;
 *   regression, nominal attribute: V rows of 3 (weight, mean, M2).
 * off[a] is attribute a's first double; `extra` doubles precede them. */
typedef struct eddy__ht_layout {
  size_t n_attrs;
  uint32_t C;    /* class slots (classification) */
  uint32_t *V;   /* value slots per attribute (0 for numeric) */
  size_t *off;   /* per attribute */
  size_t extra;  /* doubles before the first attribute (regression: leaf model) */
  size_t stride; /* doubles per slot */
  uint32_t n_bins; /* regression numeric observer bins */
} eddy__ht_layout_t;

/* Fills off/stride from C, V and the schema (task decides the blocks). */
void eddy__ht_layout_compute(eddy__ht_layout_t *L, const eddy_schema_t *s);
/* Copies one slot from layout `from` to layout `to` (same attributes, C and
 * V only grow); new class or value entries start empty. */
void eddy__ht_layout_copy_slot(const eddy__ht_layout_t *from, const double *src, const eddy__ht_layout_t *to,
                         double *dst, const eddy_schema_t *s);
/* The largest V[a], at least 2. */
uint32_t eddy__ht_layout_vmax(const eddy__ht_layout_t *L);
/* An empty slot (what a fresh observer holds). */
void eddy__ht_layout_clear_slot(const eddy__ht_layout_t *L, double *slot, const eddy_schema_t *s);

/* ----- classification observers (ht_observers.c) ----- */

/* One split candidate: an attribute's best test, or the null split
 * (attr = -1) that pre-pruning adds. */
typedef struct eddy__ht_cand {
  int32_t attr;
  int test;
  double value;
  double merit;
  uint32_t n_branches;
  int32_t aux; /* regression numeric: the bin boundary index */
} eddy__ht_cand_t;

/* Observes (x[a], class c, weight w) in the slot. */
/* mask (NULL: every attribute) limits both to the attributes it marks
 * (an ARF leaf's random subspace). */
void eddy__ht_obs_update(const eddy__ht_layout_t *L, const eddy_schema_t *s, double *slot,
                   const eddy_instance_t *x, uint32_t c, double w, const uint8_t *mask);
/* MOA's NaiveBayes.doNaiveBayesPrediction: votes[c] for c < len (the
 * node's class-distribution length), 0 beyond, up to L->C. `init` is 0
 * when the leaf has no observers yet (MOA skips every attribute then). */
void eddy__ht_obs_nb_votes(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot, int init,
                     const double *dist, uint32_t len, const eddy_instance_t *x, double *votes,
                           const uint8_t *mask);
/* The same votes of a leaf whose observers have seen an instance (init),
 * through a cache of each attribute's factor per class: f holds L->C rows
 * of n_attrs factors, ok[c] != 0 when row c is x's at this slot (rows not
 * ok are computed and marked). The products are formed in the same order,
 * so the votes are nb_votes' to the bit. */
void eddy__ht_obs_nb_votes_cached(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                                  const double *dist, uint32_t len, const eddy_instance_t *x,
                                  double *votes, const uint8_t *mask, double *f, double *ok);
/* MOA's getBestEvaluatedSplitSuggestion for attribute a; 0 and *out filled,
 * or 1 when the attribute offers no candidate. scratch: 2 * C + V[a] * C
 * doubles and V[a] + 2 lengths. */
int eddy__ht_obs_best_split(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot, size_t a,
                      int criterion, double min_branch_frac, int binary_only, const double *pre,
                      uint32_t pre_len, double *scratch, uint32_t *scratch_len, eddy__ht_cand_t *out);
/* The class distributions (n_branches rows of C) and their MOA lengths that
 * the candidate's test gives on the slot's observations. */
void eddy__ht_obs_post_dists(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                       const eddy__ht_cand_t *cand, double *post, uint32_t *post_len);
/* Split criteria (MOA's InfoGainSplitCriterion and GiniSplitCriterion) on
 * rows of C doubles; lens[i] is row i's MOA array length (Gini's 0/0). */
double eddy__ht_merit(int criterion, double min_branch_frac, const double *pre, uint32_t C,
                const double *post, const uint32_t *lens, uint32_t n_post);
double eddy__ht_merit_range(int criterion, uint32_t pre_len);
/* Branch of x under a test, -1 when the value is missing. */
static inline int eddy__ht_branch(int test, size_t attr, double value, const eddy_instance_t *x) {
  if (x->missing && x->missing[attr]) return -1;
  double v = x->x[attr];
  switch (test) {
  case EDDY__HT_TEST_NUM_LE: return v != v ? -1 : (v <= value ? 0 : 1);
  case EDDY__HT_TEST_NOM_EQ: return v == value ? 0 : 1;
  default: return (v >= 0 && v < 2147483648.0) ? (int)v : -1;
  }
}
/* Describes branch b of a test ("x <= 0.5", "day = 3", "day != 3"). */
void eddy__ht_describe_branch(const eddy_schema_t *s, int test, size_t attr, double value, int b,
                        char *buf, size_t size);

/* ----- regression observers (ht_observers.c) ----- */

/* Weighted mean and sum of squared deviations (River's stats.Var, ddof 1). */
typedef struct eddy__ht_var {
  double n, mean, m2;
} eddy__ht_var_t;

static inline void eddy__ht_var_add(eddy__ht_var_t *v, double y, double w) {
  double old = v->mean;
  v->n += w;
  v->mean += (w / v->n) * (y - old);
  v->m2 += w * (y - old) * (y - v->mean);
}
/* Chan et al.'s parallel combination: a += b. */
void eddy__ht_var_merge(eddy__ht_var_t *a, const eddy__ht_var_t *b);
static inline double eddy__ht_var_get(const eddy__ht_var_t *v) {
  return v->n > 1.0 ? v->m2 / (v->n - 1.0) : 0.0;
}

/* Numeric observer of the regression tree: n_bins equal-width bins of the
 * target's statistics over [lo, lo + n_bins * width); the first value is
 * held alone until a second, different one sets the range, and a value
 * outside doubles the width (merging neighbour bins) toward its side, so
 * memory is fixed and nothing is allocated. Candidates are the bin
 * boundaries (x < boundary goes left). Nominal: statistics per value.
 * mask (NULL: every attribute) limits it to the attributes whose entry is
 * not 0 (a forest leaf's subspace: the others are never split on). */
void htr_obs_update(const eddy__ht_layout_t *L, const eddy_schema_t *s, double *slot,
                    const eddy_instance_t *x, double y, double w, const double *mask);
/* River's VarianceReductionSplitCriterion: 0 when a branch has fewer than
 * min_samples; branches with no weight at all are left out (a multiway
 * split has branches only for the values seen). */
double htr_merit(const eddy__ht_var_t *pre, const eddy__ht_var_t *post, uint32_t n_post,
                 double min_samples);
/* Best candidate of attribute a (as River's splitters choose: the first
 * strictly best merit); 1 when there is none. Merits are variance
 * reductions of what the observer saw (pre is the union of the branches;
 * the `pre` argument is not used: a leaf's own statistics include what it
 * inherited, and River instead puts that share in the right branch).
 * scratch: 2 * n_bins + 2 eddy__ht_var_t. */
int htr_obs_best_split(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot, size_t a,
                       const eddy__ht_var_t *pre, double min_samples, int binary_only,
                       eddy__ht_var_t *scratch, eddy__ht_cand_t *out);
/* Branch statistics of a candidate (n_branches of them). */
void htr_obs_post_stats(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                        const eddy__ht_cand_t *cand, eddy__ht_var_t *post);

/* ----- the node store (ht_store.c), every tree's pools ----- */

/* What every node starts with: each tree's node type has it as its first
 * member `b`, so that the store handles nodes of any size. */
typedef struct eddy__ht_base {
  uint8_t kind;
  uint8_t test;
  uint8_t kids_log2;
  uint8_t obs_init;  /* classifier: the active leaf has observed an instance */
  int32_t attr;
  double value;
  int32_t kids;      /* offset in the children pool; free list link when free */
  int32_t n_kids;    /* branches (MOA's AutoExpandVector size) */
  int32_t slot;      /* statistics slot of an active leaf, else -1 */
  int32_t depth;
} eddy__ht_base_t;

/* A tree's pools: nodes of node_size bytes, a row of row_len doubles per
 * node (the classifier's class distribution, the regressor's leaf model),
 * the statistics slots of active leaves (L.stride doubles each) and the
 * children blocks; with the counts and the growth state that checkpoints
 * hold. The tree owns it and frees it with eddy__ht_store_free.
 * node_size and row_len sit in padding (after free_node and root): a
 * tree's struct size counts in its memory figure, which memory management
 * holds against max_byte_size, so a field added here changes results. */
typedef struct eddy__ht_store {
  void *nodes;
  size_t n_nodes, cap_nodes;
  int32_t free_node;
  uint32_t node_size;
  double *rows;
  size_t cap_rows;
  double *stats;
  size_t n_slots, cap_slots;
  int32_t *slot_free; /* stack of free slots (cap_slots entries) */
  size_t n_slot_free;
  eddy__ht_kids_t kids;
  int32_t root;
  uint32_t row_len;
  size_t n_split, n_active, n_inactive;
  int growth_allowed;
  double weight_seen;
  uint64_t stamp; /* counts changes of the tree (the classifier's prediction cache) */
  eddy__ht_layout_t L;
} eddy__ht_store_t;

/* An empty store (the caller zeroed it and fills L afterwards). */
void eddy__ht_store_init(eddy__ht_store_t *st, size_t node_size, uint32_t row_len);
void eddy__ht_store_free(eddy__ht_store_t *st);
static inline eddy__ht_base_t *eddy__ht_base(const eddy__ht_store_t *st, int32_t id) {
  return (eddy__ht_base_t *)((char *)st->nodes + (size_t)id * st->node_size);
}
static inline double *eddy__ht_row(const eddy__ht_store_t *st, int32_t id) {
  return st->rows + (size_t)id * st->row_len;
}
static inline double *eddy__ht_store_slot(const eddy__ht_store_t *st, int32_t id) {
  return st->stats + (size_t)eddy__ht_base(st, id)->slot * st->L.stride;
}
static inline int32_t eddy__ht_store_kid(const eddy__ht_store_t *st, int32_t id, int b) {
  const eddy__ht_base_t *n = eddy__ht_base(st, id);
  return (b >= 0 && b < n->n_kids) ? st->kids.v[n->kids + b] : -1;
}
/* A node, zeroed but for kids and slot (-1), with a zero row; its id or a
 * negative code. The id it gives is free_node when that is >= 0. */
int32_t eddy__ht_store_new_node(eddy__ht_store_t *st);
/* Back to the free list (its slot or children block with it). */
void eddy__ht_store_free_node(eddy__ht_store_t *st, int32_t id);
/* Frees a node, its children and (alt_off not SIZE_MAX: the int32 at that
 * offset of a node) its alternates. */
void eddy__ht_store_free_subtree(eddy__ht_store_t *st, int32_t id, size_t alt_off);
/* A cleared statistics slot, or a negative code. */
int32_t eddy__ht_store_alloc_slot(eddy__ht_store_t *st);
/* Makes node id (fresh from new_node) an active leaf at that depth with a
 * slot: id, or a negative code (and the node is freed). */
int32_t eddy__ht_store_new_leaf(eddy__ht_store_t *st, int32_t id, int32_t depth);
/* An active leaf becomes inactive (its slot is released): 1, or 0 when id
 * is not an active leaf. */
int eddy__ht_store_deactivate(eddy__ht_store_t *st, int32_t id);
/* Puts id where (parent, branch) points (the root when parent < 0). */
int eddy__ht_store_set_child(eddy__ht_store_t *st, int32_t parent, int branch, int32_t id);
/* What (parent, branch) points to (the root when parent < 0). */
int32_t eddy__ht_store_at(const eddy__ht_store_t *st, int32_t parent, int branch);
/* MOA's filterInstanceToLeaf from `from`: the leaf reached, or the split
 * node whose value is missing in x, or -1 when the branch has no child
 * (then *parent and *branch say where). */
static inline int32_t eddy__ht_store_sort(const eddy__ht_store_t *st, int32_t from,
                                          const eddy_instance_t *x, int32_t *parent, int *branch) {
  /* the per-record walk: locals, as *parent and *branch could alias st */
  const char *nodes = st->nodes;
  const size_t size = st->node_size;
  const int32_t *kids = st->kids.v;
  int32_t n = from;
  while (n >= 0) {
    const eddy__ht_base_t *nd = (const eddy__ht_base_t *)(nodes + (size_t)n * size);
    if (nd->kind != EDDY__HT_SPLIT) break;
    int b = eddy__ht_branch(nd->test, (size_t)nd->attr, nd->value, x);
    if (b < 0) return n;
    int32_t c = b < nd->n_kids ? kids[nd->kids + b] : -1;
    *parent = n;
    *branch = b;
    if (c < 0) return -1;
    n = c;
  }
  return n;
}
/* Makes node sid (fresh from new_node) the split on cand with the leaf's
 * depth and row and an empty children block of cand->n_branches; 0 or a
 * negative code. */
int eddy__ht_store_split_node(eddy__ht_store_t *st, int32_t sid, int32_t leaf,
                              const eddy__ht_cand_t *cand);
/* The best and second best of n candidates as a stable ascending sort
 * leaves them (on equal merits the later ranks higher): by Java's
 * Double.compare (MOA) when java_order, else by `<` (River). -1: none. */
void eddy__ht_best_two(const eddy__ht_cand_t *c, size_t n, int java_order, int *best, int *second);
/* The pools' capacity in bytes. */
size_t eddy__ht_store_capacity(const eddy__ht_store_t *st);
/* A live node's bytes in the pools: node, row, an active leaf's slot. */
size_t eddy__ht_store_node_bytes(const eddy__ht_store_t *st, int32_t id);
/* Bytes the live tree uses (MOA's measureByteSize counts live objects):
 * `total` (the tree's whole memory) less the pools' capacity, plus each
 * live node, its row, an active leaf's slot, a split's children block and
 * `extra` of the node (NULL: none). So deactivating leaves lowers it. */
size_t eddy__ht_store_live_bytes(const eddy__ht_store_t *st, size_t total,
                                 size_t (*extra)(const void *node));

/* Checkpoints. A node's common fields: kind, test, kids_log2, then the
 * tree's n_mid bytes, then attr, value, kids, n_kids, slot, depth. */
void eddy__ht_base_save(const eddy__ht_base_t *n, const uint8_t *mid, size_t n_mid, eddy_buf_t *b);
void eddy__ht_base_load(eddy__ht_base_t *n, uint8_t *mid, size_t n_mid, eddy_reader_t *r);
/* What follows the nodes: free list, slots, children, root, counts,
 * growth state and weight seen. */
void eddy__ht_store_save_pools(const eddy__ht_store_t *st, eddy_buf_t *b);
int eddy__ht_store_load_pools(eddy__ht_store_t *st, eddy_reader_t *r);
/* Checks the loaded pools: every reference inside its pool, split tests
 * that fit the schema, the root's subtree (children and, when alt_off is
 * not SIZE_MAX, the int32 alternate at that offset of a node) a tree of
 * live nodes holding every live node, the free lists exactly the free
 * nodes, slots and children blocks without cycles or sharing, and the
 * counts. 0 or EDDY_ECORRUPT. */
int eddy__ht_store_check(const eddy__ht_store_t *st, const eddy_schema_t *s, size_t alt_off);

/* Describe. Each tree says how a leaf reads, how branch b of a split
 * reads, the weight a leaf saw, and (may be NULL) what comes before a
 * split's branches (HAT: its alternate tree). `tree` is the tree. */
typedef struct eddy__ht_describe_ops {
  void (*leaf)(const void *tree, int32_t id, FILE *out); /* one line, no indent or newline */
  void (*cond)(const void *tree, int32_t id, int b, char *buf, size_t size);
  double (*weight)(const void *tree, int32_t id);
  void (*split)(const void *tree, int32_t id, int indent, FILE *out);
} eddy__ht_describe_ops_t;
/* Prints the subtree of id, a line per leaf and per branch. */
void eddy__ht_describe_node(const eddy__ht_store_t *st, const eddy__ht_describe_ops_t *ops,
                            const void *tree, int32_t id, int indent, FILE *out);
/* Depth (edges from the root to the deepest leaf) and node counts of the
 * main tree (HAT's alternates left out). */
void eddy__ht_store_shape(const eddy__ht_store_t *st, size_t *depth, size_t *nodes, size_t *leaves,
                          size_t *inactive);

/* Feature importance (ht_importance.c): mean decrease in impurity over
 * the main tree as it stands (HAT's alternates left out). A node's
 * statistic (dim doubles) is the merge of its leaves' (a leaf's includes
 * what it inherited at its split, so a split's statistic is what passed
 * it); each split on attribute a adds to gain[a] its statistic's weighted
 * impurity less its children's, and gain is then divided by the root's
 * weight; splits[a] counts the splits. */
typedef struct eddy__ht_impurity_ops {
  size_t dim;
  void (*leaf)(const void *tree, int32_t id, double *acc); /* the leaf's statistic */
  void (*merge)(double *acc, const double *kid, size_t dim); /* acc += kid (acc may be all 0) */
  /* weight times impurity of a statistic, and (*weight) its weight */
  double (*weighted_impurity)(const void *tree, const double *acc, double *weight);
} eddy__ht_impurity_ops_t;
/* Fills gain and splits (n_attrs each); 0 or EDDY_ENOMEM. */
int eddy__ht_store_importance(const eddy__ht_store_t *st, const eddy__ht_impurity_ops_t *ops,
                              const void *tree, double *gain, double *splits, size_t n_attrs);

/* ----- the classification tree (hoeffding_tree.c), also HAT's ----- */

typedef struct eddy__ht_params {
  int64_t grace_period;
  double split_confidence;
  double tie_threshold;
  int split_criterion;
  int64_t n_split_points;
  int binary_splits;
  int leaf_prediction;
  int64_t nb_threshold;
  int64_t max_depth; /* 0: unlimited */
  int64_t max_byte_size;
  int64_t memory_estimate_period;
  int stop_mem_management;
  int no_preprune;
  double min_branch_frac;
  /* HAT */
  double adwin_delta;
  int bootstrap;
  double switch_significance;
  int64_t drift_window_threshold;
  /* ARF (MOA's ARFHoeffdingTree -k): each active leaf observes a random
   * subset of this many attributes, drawn from the tree's java.util.Random
   * when it first learns; 0 (the plain tree's value) or >= the attribute
   * count: every attribute, no draws */
  int64_t subspace_size;
} eddy__ht_params_t;

typedef struct eddy_adwin eddy_adwin_t;

typedef struct eddy__ht_node {
  eddy__ht_base_t b;
  uint32_t dist_len; /* MOA's class-distribution length */
  int32_t alt;       /* HAT: alternate tree, -1 */
  uint8_t err_used;  /* HAT: the error estimator has seen an instance */
  uint8_t pad[7];
  double last_eval;  /* weight seen at the last split attempt */
  double mc_correct, nb_correct; /* naive Bayes adaptive */
  uint64_t rng;      /* HAT: Poisson weight stream */
  eddy_adwin_t *adwin; /* HAT: error estimator (allocated with the node) */
} eddy__ht_node_t;

typedef struct eddy__ht_tree {
  const eddy_schema_t *schema;
  const eddy__ht_params_t *p;
  int adaptive;     /* HAT nodes (ADWIN, alternates) */
  uint64_t seed;    /* EDDY__HT_BOOT_SEEDED streams */
  eddy__ht_store_t st; /* nodes (eddy__ht_node_t), rows: class distributions (L.C) */
  /* MOA's memory estimates (estimateModelByteSizes), with exact sizes */
  double active_est, inactive_est, overhead;
  uint64_t n_created; /* nodes ever created (EDDY__HT_BOOT_SEEDED streams) */
  uint64_t n_alternates, n_switched, n_pruned; /* HAT */
  uint64_t n_takeovers; /* HAT: alternates whose first split replaced their owner */
  /* scratch, sized with the layout */
  double *votes, *votes2, *post, *obs_scratch;
  uint32_t *post_len, *obs_len;
  eddy__ht_cand_t *cands;
  int32_t *walk; /* node ids for traversals (memory management) */
  size_t cap_walk;
  /* prediction cache: where the last predict's instance went and the
   * naive Bayes votes it got, reused by learn when the same instance
   * arrives on an unchanged tree (predict-then-learn); `stamp` counts
   * changes of the tree */
  double *cache_x, *cache_votes;
  uint8_t *cache_miss;
  int32_t cache_leaf, cache_node, cache_parent;
  int cache_branch, cache_nb;
  uint64_t cache_stamp; /* st.stamp when the cache was filled */
  /* random subspaces (p->subspace_size in effect): sub_k attributes per
   * active leaf, marked in its row of sub_mask (cap_slots rows of n_attrs
   * bytes), drawn from jr (MOA's classifierRandom of the tree) */
  size_t sub_k;
  uint8_t *sub_mask;
  int32_t *sub_pool; /* scratch: n_attrs */
  eddy_jrandom_t jr;
  int64_t sub_seed;
  /* SRP: every leaf observes only the attributes this marks (n_attrs
   * bytes, borrowed from the ensemble, kept across resets; NULL: all), as
   * a tree trained on the projected instances would */
  const uint8_t *fixed_mask;
} eddy__ht_tree_t;

int eddy__ht_tree_init(eddy__ht_tree_t *t, const eddy_schema_t *s, const eddy__ht_params_t *p, int adaptive,
                 uint64_t seed);
void eddy__ht_tree_free(eddy__ht_tree_t *t);
/* Back to an empty tree; the subspace generator is reseeded with its seed
 * (MOA's resetLearning: classifierRandom = new Random(randomSeed)). */
void eddy__ht_tree_reset(eddy__ht_tree_t *t);
/* Seeds the tree's subspace generator (and sets the seed reset uses);
 * init seeds it with 1, MOA's default randomSeed of a tree. */
void eddy__ht_tree_seed_subspace(eddy__ht_tree_t *t, int64_t seed);
/* MOA's trainOnInstance of the tree: x with weight x->weight (nothing for
 * weight <= 0); grows the layout and the tree as needed. */
int eddy__ht_tree_learn(eddy__ht_tree_t *t, const eddy_instance_t *x);
/* MOA's getVotesForInstance into t->votes (L.C entries): returns the
 * length of MOA's array (the node's class-distribution length; 0 without
 * a tree), through the prediction cache. */
int eddy__ht_tree_votes(eddy__ht_tree_t *t, const eddy_instance_t *x);
/* MOA's Utils.maxIndex of those votes (0 without a tree): the class a
 * forest's member predicts (its correctlyClassifies and evaluator). */
uint32_t eddy__ht_tree_predict(eddy__ht_tree_t *t, const eddy_instance_t *x);
/* A tree as a length-prefixed block (forests nest several), and its
 * reading back into a tree of the same schema and parameters, which must
 * end exactly at the block's end. */
int eddy__ht_tree_save_block(const eddy__ht_tree_t *t, eddy_buf_t *b);
int eddy__ht_tree_load_block(eddy__ht_tree_t *t, eddy_reader_t *r);
/* Grows the layout for x's class and nominal values (learn only). */
int eddy__ht_tree_ensure(eddy__ht_tree_t *t, const eddy_instance_t *x);
static inline eddy__ht_node_t *eddy__ht_node(const eddy__ht_tree_t *t, int32_t id) {
  return (eddy__ht_node_t *)t->st.nodes + id;
}
static inline double *eddy__ht_dist(const eddy__ht_tree_t *t, int32_t id) {
  return eddy__ht_row(&t->st, id);
}
static inline double *eddy__ht_slot(const eddy__ht_tree_t *t, int32_t id) {
  return eddy__ht_store_slot(&t->st, id);
}
static inline int32_t eddy__ht_kid(const eddy__ht_tree_t *t, int32_t id, int b) {
  return eddy__ht_store_kid(&t->st, id, b);
}
/* A new active leaf with an initial class distribution (NULL: empty). */
int32_t eddy__ht_new_leaf(eddy__ht_tree_t *t, const double *dist, uint32_t len, int32_t depth);
/* Frees a node, its children and alternates. */
void eddy__ht_free_subtree(eddy__ht_tree_t *t, int32_t id);
/* eddy__ht_store_sort from the root through the prediction cache: the result of the
 * last predict when x is that instance and the tree has not changed. */
int32_t eddy__ht_sort_root(eddy__ht_tree_t *t, const eddy_instance_t *x, int32_t *parent, int *branch);
/* Notes where predict's instance went (for eddy__ht_sort_root). */
void eddy__ht_cache_sort(eddy__ht_tree_t *t, const eddy_instance_t *x, int32_t id, int32_t parent,
                   int branch);
/* MOA's getClassVotes of a node (before any HAT weighting), L.C entries. */
void eddy__ht_node_votes(eddy__ht_tree_t *t, int32_t id, const eddy_instance_t *x, double *votes);
/* Sum of the node's class distribution (MOA's getWeightSeen). */
double eddy__ht_weight(const eddy__ht_tree_t *t, int32_t id);
/* DoubleVector.maxIndex of the distribution: -1 when empty. */
int eddy__ht_dist_max_index(const eddy__ht_tree_t *t, int32_t id);
/* LearningNode.learnFromInstance (naive Bayes adaptive counts, class
 * distribution, observers). */
void eddy__ht_leaf_learn(eddy__ht_tree_t *t, int32_t id, const eddy_instance_t *x, uint32_t c, double w);
/* MOA's attemptToSplit(leaf, parent, branch): 1 when the leaf was replaced
 * (split or deactivated: its id is no longer a leaf, or is freed), 0 when it
 * stays, or a negative code. The new node goes where (parent, branch)
 * points, whatever is there (HAT passes an alternate's owner: see
 * hoeffding_adaptive_tree.c). */
int eddy__ht_attempt_split(eddy__ht_tree_t *t, int32_t leaf, int32_t parent, int branch);
/* The candidates of a node with observers (an active leaf; EFDT's splits)
 * into t->cands: the null split (pre-pruning), then each attribute's best
 * (MOA's getBestSplitSuggestions); their count. */
size_t eddy__ht_gather_cands(eddy__ht_tree_t *t, int32_t leaf);
/* After each instance: the periodic memory check. */
int eddy__ht_after_learn(eddy__ht_tree_t *t, double w);
/* out[c] for the caller's k classes from raw votes (normalized; one-hot on
 * the first largest when the sum is not a positive number). */
int eddy__ht_votes_out(const double *votes, uint32_t C, double *out, size_t out_len, size_t k);
size_t eddy__ht_tree_memory(const eddy__ht_tree_t *t);
int eddy__ht_tree_save(const eddy__ht_tree_t *t, eddy_buf_t *b);
int eddy__ht_tree_load(eddy__ht_tree_t *t, eddy_reader_t *r);
void eddy__ht_tree_describe(const eddy__ht_tree_t *t, const char *name, FILE *out);
/* The classification tree's importance (ht_importance.c): class weights,
 * impurity the entropy in bits (split_criterion info_gain) or Gini (gini). */
int eddy__ht_tree_importance(const eddy__ht_tree_t *t, double *gain, double *splits, size_t n_attrs);
/* A forest's: the mean of n trees' gains (equal weights) and the sum of
 * their splits; the trees sit `stride` bytes apart from `first` (a
 * member array's tree field). */
int eddy__ht_forest_importance(const void *first, size_t stride, size_t n, double *gain,
                               double *splits, size_t n_attrs);
int eddy__ht_l_importance(const eddy_learner_t *l, double *gain, double *splits, size_t n_attrs);
/* The learner callbacks of hoeffding_tree and hoeffding_adaptive_tree
 * (state eddy__ht_tree_t; init makes HAT's nodes for hat_options). */
int eddy__ht_l_init(eddy_learner_t *l, char *errstr, size_t errstr_size);
int eddy__ht_l_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len);
void eddy__ht_l_reset(eddy_learner_t *l);
int eddy__ht_l_save(const eddy_learner_t *l, eddy_buf_t *b);
int eddy__ht_l_load(eddy_learner_t *l, eddy_reader_t *r);
size_t eddy__ht_l_memory(const eddy_learner_t *l);
void eddy__ht_l_destroy(eddy_learner_t *l);
void eddy__ht_l_describe(const eddy_learner_t *l, FILE *out);
/* The fields of their learner types besides name, description, options,
 * learn and votes. */
#define EDDY__HT_LEARNER_COMMON                                                                    \
  .tasks = EDDY_CLASSIFICATION, .params_size = sizeof(eddy__ht_params_t),                        \
  .state_size = sizeof(eddy__ht_tree_t), .init = eddy__ht_l_init, .predict = eddy__ht_l_predict, \
  .reset = eddy__ht_l_reset, .save = eddy__ht_l_save, .load = eddy__ht_l_load,                   \
  .memory = eddy__ht_l_memory, .destroy = eddy__ht_l_destroy, .describe = eddy__ht_l_describe, \
  .export_json = eddy__ht_export, .importance = eddy__ht_l_importance
/* What both learn callbacks do first: 0 when x is not learned (no label,
 * weight <= 0), EDDY_EINVAL for a bad class, else the layout grown for x
 * and a root: 1, or a negative code. */
int eddy__ht_learn_begin(eddy__ht_tree_t *t, const eddy_instance_t *x);

/* A classification tree (HT, HAT) as JSON: nodes in preorder (ht_export.c). */
int eddy__ht_export(const eddy_learner_t *l, eddy_buf_t *b);
/* The same for a tree held by a forest. */
int eddy__ht_tree_export(const eddy__ht_tree_t *t, eddy_buf_t *b);

/* The tree keys of a forest's members (adaptive_random_forest,
 * streaming_random_patches), for a params struct whose eddy__ht_params_t
 * field is `tree`, with MOA's ARFHoeffdingTree defaults; the memory keys
 * (whose defaults differ) come between the two. */
extern const char *const eddy__ht_criteria[];
extern const char *const eddy__ht_predictors[];
#define EDDY__HT_MEMBER_OPTIONS(st)                                                              \
    EDDY_OPT_INT_(st, "grace_period", tree.grace_period, "50", 1, 1e9,                           \
                  "weight a leaf observes between split attempts (tree -g)"),                    \
    EDDY_OPT_DOUBLE_(st, "split_confidence", tree.split_confidence, "0.01", 1e-300, 1,           \
                     "delta of the Hoeffding bound (tree -c)"),                                  \
    EDDY_OPT_DOUBLE_(st, "tie_threshold", tree.tie_threshold, "0.05", 0, 1,                      \
                     "split anyway once the Hoeffding bound is below this (tree -t)"),           \
    EDDY_OPT_ENUM_(st, "split_criterion", tree.split_criterion, "info_gain", eddy__ht_criteria,  \
                   "info_gain or gini (tree -s)"),                                               \
    EDDY_OPT_INT_(st, "split_points", tree.n_split_points, "10", 1, 100000,                      \
                  "candidate split points of a numeric attribute (Gaussian observer)"),          \
    EDDY_OPT_BOOL_(st, "binary_splits", tree.binary_splits, "false",                             \
                   "only binary splits on nominal attributes (tree -b)"),                        \
    EDDY_OPT_ENUM_(st, "leaf_prediction", tree.leaf_prediction, "nba", eddy__ht_predictors,      \
                   "mc, nb or nba (naive Bayes adaptive) (tree -l)"),                            \
    EDDY_OPT_INT_(st, "nb_threshold", tree.nb_threshold, "0", 0, 1e12,                           \
                  "weight a leaf needs before naive Bayes predicts (tree -q)")
#define EDDY__HT_MEMBER_PRUNE_OPTIONS(st)                                          \
    EDDY_OPT_BOOL_(st, "no_preprune", tree.no_preprune, "false",                   \
                   "no null split (tree -p)"),                                     \
    EDDY_OPT_DOUBLE_(st, "min_branch_frac", tree.min_branch_frac, "0.01", 0, 0.5,  \
                     "info gain: fraction of weight at least two branches need")


/* ----- the regression tree (hoeffding_tree_regressor.c), also the
 * regressor forest's member ----- */

enum { EDDY__HTR_MEAN = 0, EDDY__HTR_MODEL = 1, EDDY__HTR_ADAPTIVE = 2 };
extern const char *const eddy__htr_leaf_preds[]; /* "mean", "model", "adaptive" */

typedef struct eddy__htr_params {
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
  /* the forest's (MOA's ARFFIMTDD -k): each active leaf considers a
   * random subset of this many attributes for its splits, drawn from the
   * tree's java.util.Random on its first instance; 0: every attribute */
  int64_t subspace_size;
} eddy__htr_params_t;

/* The regression tree's keys whose defaults both the tree and the forest
 * share, for a params struct whose eddy__htr_params_t fields are reached
 * by `f` (empty, or `tree.`); grace_period, split_confidence,
 * leaf_prediction and max_byte_size are each table's own. */
#define EDDY__HTR_OPTIONS(st, f)                                                                   \
    EDDY_OPT_DOUBLE_(st, "tie_threshold", f tie_threshold, "0.05", 0, 1,                          \
                     "split anyway once the Hoeffding bound is below this (River's tau)"),        \
    EDDY_OPT_DOUBLE_(st, "model_selector_decay", f model_selector_decay, "0.95", 0, 1,            \
                     "fading factor of the squared errors that adaptive leaves compare"),         \
    EDDY_OPT_DOUBLE_(st, "learning_rate", f learning_rate, "0.05", 0, 10,                         \
                     "SGD step of the leaf linear models (standardized inputs)"),                 \
    EDDY_OPT_INT_(st, "min_samples_split", f min_samples_split, "5", 1, 1e12,                     \
                  "weight every branch of a candidate split needs"),                              \
    EDDY_OPT_INT_(st, "bins", f bins, "32", 4, 100000,                                            \
                  "histogram bins per numeric attribute and leaf (rounded up to even)"),          \
    EDDY_OPT_BOOL_(st, "binary_splits", f binary_splits, "false",                                 \
                   "only binary splits on nominal attributes"),                                   \
    EDDY_OPT_INT_(st, "max_depth", f max_depth, "0", 0, 1e6,                                      \
                  "leaves at this depth stop splitting; 0 = unlimited"),                          \
    EDDY_OPT_INT_(st, "memory_estimate_period", f memory_estimate_period, "1000000", 1, 1e15,     \
                  "weight between memory checks"),                                                \
    EDDY_OPT_BOOL_(st, "stop_mem_management", f stop_mem_management, "false",                    \
                   "stop growing when the memory limit is hit"),                                  \
    EDDY_OPT_BOOL_(st, "no_preprune", f no_preprune, "false",                                     \
                   "do not consider the null split (no pre-pruning)")

typedef struct eddy__htr_tree {
  const eddy_schema_t *schema;
  const eddy__htr_params_t *p;
  size_t n_num;      /* numeric attributes: the linear model's inputs */
  size_t *num_attr;  /* their attribute indices */
  eddy__ht_store_t st; /* nodes (private type), rows: leaf models (n_num + 1: weights, bias) */
  eddy__ht_var_t *norm;    /* n_num + 1: the inputs' and (last) the target's statistics */
  double *xn;        /* standardized inputs of the current instance */
  eddy__ht_cand_t *cands;
  eddy__ht_var_t *scratch; /* 2 * n_bins + 2 */
  eddy__ht_var_t *post;    /* eddy__ht_layout_vmax(&st.L) */
  int64_t *walk;
  size_t cap_walk;
  /* random subspaces (p->subspace_size in effect): sub_k attributes per
   * active leaf, marked 1.0 in the slot's first n_attrs doubles (L.extra),
   * drawn from jr (MOA's classifierRandom of the tree, seeded 1) */
  size_t sub_k;
  eddy_jrandom_t jr;
  int64_t sub_seed; /* what reset reseeds jr with */
} eddy__htr_tree_t;

/* An empty tree over s (p must outlive it); 0 or EDDY_ENOMEM (then
 * eddy__htr_tree_free cleans up). */
int eddy__htr_tree_init(eddy__htr_tree_t *t, const eddy_schema_t *s, const eddy__htr_params_t *p);
void eddy__htr_tree_free(eddy__htr_tree_t *t);
/* Back to an empty tree, the subspace generator reseeded (MOA's
 * resetLearning). 0 or EDDY_ENOMEM. */
int eddy__htr_tree_reset(eddy__htr_tree_t *t);
/* Seeds the subspace generator (and sets the seed reset uses); init seeds
 * it with 1, MOA's default randomSeed of a tree. */
void eddy__htr_tree_seed_subspace(eddy__htr_tree_t *t, int64_t seed);
/* Learns x with weight x->weight (nothing for weight <= 0 or no target). */
int eddy__htr_tree_learn(eddy__htr_tree_t *t, const eddy_instance_t *x);
/* The prediction for x (0 before anything was learned). */
double eddy__htr_tree_predict(eddy__htr_tree_t *t, const eddy_instance_t *x);
size_t eddy__htr_tree_memory(const eddy__htr_tree_t *t); /* its struct included */
/* The tree's importance (mean decrease in the target's variance), as
 * eddy__ht_store_importance fills it. */
int eddy__htr_tree_importance(const eddy__htr_tree_t *t, double *gain, double *splits,
                              size_t n_attrs);
/* A tree as a length-prefixed block, and its reading back into a tree of
 * the same schema and parameters (which must end at the block's end). */
int eddy__htr_tree_save_block(const eddy__htr_tree_t *t, eddy_buf_t *b);
int eddy__htr_tree_load_block(eddy__htr_tree_t *t, eddy_reader_t *r);

/* ----- the Extremely Fast Decision Tree (efdt.c) ----- */

typedef struct eddy__efdt_params {
  eddy__ht_params_t tree; /* first: the shared tree callbacks read it */
  int64_t reeval_period;
} eddy__efdt_params_t;

/* What EFDT's nodes hold beyond the Hoeffding tree's, by node id. */
typedef struct eddy__efdt_extra {
  int64_t time;        /* MOA's nodeTime: instances the node learned */
  int64_t attempts;    /* numSplitAttempts */
  uint32_t create_len; /* length of the class distribution it was made with */
  uint8_t reeval_made; /* made by a re-evaluation below a split (MOA's getParent() != null) */
  uint8_t pad[3];
} eddy__efdt_extra_t;

typedef struct eddy__efdt {
  eddy__ht_tree_t t;   /* first: the shared predict and export take it */
  eddy__efdt_extra_t *ex; /* cap entries */
  double *ig;          /* cap rows of n_attrs + 1 merit sums: [0] null split, [1 + a] */
  uint8_t *used;       /* cap rows of used_bytes: nominal attributes split on above a leaf */
  uint8_t *used_tmp;   /* one row */
  size_t cap, used_bytes;
  int64_t n_instances; /* MOA's numInstances */
  int64_t period;      /* reevaluation_period */
  /* leaves split, re-evaluations won, subtrees replaced, leaves restarted */
  uint64_t n_splits, n_reevals, n_replaced, n_restarts;
} eddy__efdt_t;

extern const eddy_option_t eddy__ht_options[];
extern const eddy_option_t hat_options[];


#endif /* EDDY_TREES_H */
