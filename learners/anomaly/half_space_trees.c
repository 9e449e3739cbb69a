/* half_space_trees.c: streaming anomaly detection with Half-Space Trees
 * (Tan, Ting & Liu 2011), as River 0.26.1's anomaly.HalfSpaceTrees defines
 * it: unsupervised (every record is learned, a label is ignored), predict
 * writes the anomaly score in [0, 1] to out[0] (higher: more anomalous). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/learners.h"

#define HST_LIMITS "limits."
#define HST_PADDING 0.15 /* River's make_padded_tree(padding=0.15) */

typedef struct {
  int64_t n_trees;
  int64_t height;
  int64_t window_size;
} hst_params_t;

/* Every tree is a complete binary tree in heap order (node i has children
 * 2i+1 and 2i+2): no pointers, and one tree's masses are contiguous. */
typedef struct {
  size_t n_nodes;    /* per tree: 2^(height+1) - 1 */
  size_t n_inner;    /* per tree: 2^height - 1 */
  int32_t *feat;     /* n_trees * n_inner split attributes (schema index) */
  double *thr;       /* n_trees * n_inner thresholds (x < thr goes left) */
  uint32_t *l_mass;  /* n_trees * n_nodes: the current window's counts */
  uint32_t *r_mass;  /* n_trees * n_nodes: the last full window's */
  uint64_t counter;  /* records in the current window */
  uint64_t learned;  /* records learned since init or reset */
  int built;         /* trees exist (made at the first learn, as River does) */
  int first_window;  /* no full window yet: the score is 0 */
  /* predict-then-learn: the leaf each tree's path reached in the last
   * predict, reused by learn when the record is the same (its values at
   * every split attribute) and the masses have not changed since */
  uint32_t *leaf;    /* n_trees */
  int32_t *used;     /* the split attributes (made with the trees, or on load) */
  double *cx;        /* the last predicted record's values at them */
  uint8_t *cmiss;
  size_t n_used, used_cap;
  int cached;
} hst_t;

static const eddy_option_t hst_options[] = {
    EDDY_OPT_INT_(hst_params_t, "n_trees", n_trees, "10", 1, 10000,
                  "Number of trees (River's n_trees)."),
    EDDY_OPT_INT_(hst_params_t, "height", height, "8", 1, 20,
                  "Height of each tree: 2^(height+1) - 1 nodes (River's height)."),
    EDDY_OPT_INT_(hst_params_t, "window_size", window_size, "250", 1, 1e9,
                  "Records per window: the scores use the masses of the last full window (River's "
                  "window_size); 0.1 x window_size is the mass under which scoring stops descending. "
                  "`limits.NAME = LO, HI` gives numeric attribute NAME's range (default 0, 1), as "
                  "River's limits; nominal attributes are not used."),
    EDDY_OPT_END,
};

/* LO and HI of "LO, HI" (finite, LO < HI). */
static int parse_limits(const char *s, double *lo, double *hi) {
  char buf[128];
  if (strlen(s) >= sizeof buf) return EDDY_EINVAL;
  strcpy(buf, s);
  char *items[3];
  if (eddy_split_list(buf, items, 3) != 2) return EDDY_EINVAL;
  if (eddy_parse_double(items[0], lo) || eddy_parse_double(items[1], hi)) return EDDY_EINVAL;
  if (!isfinite(*lo) || !isfinite(*hi) || !(*lo < *hi)) return EDDY_EINVAL;
  return 0;
}

/* The range of attribute a: its limits.NAME pair, else [0, 1]. */
static void attr_limits(const eddy_learner_t *l, size_t a, double *lo, double *hi) {
  *lo = 0.0;
  *hi = 1.0;
  const char *name = l->schema->attrs[a].name;
  size_t plen = strlen(HST_LIMITS);
  for (size_t j = 0; j < l->kv.n; j++) {
    const eddy_kv_t *kv = &l->kv.v[j];
    if (strncmp(kv->key, HST_LIMITS, plen) == 0 && strcmp(kv->key + plen, name) == 0)
      parse_limits(kv->value, lo, hi); /* checked at init */
  }
}

static int hst_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  const hst_params_t *p = l->params;
  hst_t *h = l->state;
  size_t plen = strlen(HST_LIMITS);
  for (size_t j = 0; j < l->kv.n; j++) {
    const eddy_kv_t *kv = &l->kv.v[j];
    if (strncmp(kv->key, HST_LIMITS, plen) != 0) continue;
    double lo, hi;
    const char *name = kv->key + plen;
    if (parse_limits(kv->value, &lo, &hi))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "%s:%d: key '%s': '%s' is not 'LO, HI' (two finite numbers, LO < HI)",
                         kv->file ? kv->file : "<params>", kv->line, kv->key, kv->value);
    /* A schema with its attributes declared names them all; an empty one
     * (attributes found online, or the config check's) cannot tell. */
    int a = l->schema->n_attrs ? eddy_schema_find(l->schema, name) : 0;
    if (!*name || a < 0 || (l->schema->n_attrs && l->schema->attrs[a].kind != EDDY_NUMERIC))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "%s:%d: key '%s': '%s' is not a numeric attribute",
                         kv->file ? kv->file : "<params>", kv->line, kv->key, name);
  }
  h->n_nodes = ((size_t)2 << p->height) - 1;
  h->n_inner = ((size_t)1 << p->height) - 1;
  size_t T = (size_t)p->n_trees;
  h->feat = calloc(T * h->n_inner, sizeof *h->feat);
  h->thr = calloc(T * h->n_inner, sizeof *h->thr);
  h->l_mass = calloc(T * h->n_nodes, sizeof *h->l_mass);
  h->r_mass = calloc(T * h->n_nodes, sizeof *h->r_mass);
  h->leaf = calloc(T, sizeof *h->leaf);
  if (!h->feat || !h->thr || !h->l_mass || !h->r_mass || !h->leaf) {
    free(h->leaf);
    free(h->feat);
    free(h->thr);
    free(h->l_mass);
    free(h->r_mass);
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  }
  h->first_window = 1;
  return 0;
}

/* River's make_padded_tree, in its draw order (the node, then its left
 * subtree, then its right): the split attribute drawn with probability
 * proportional to the width of its current range, the threshold uniform in
 * the range's middle 70%; the children halve the range at it. */
static void build_node(eddy_learner_t *l, hst_t *h, size_t tree, size_t node, size_t depth,
                       const int32_t *attrs, size_t n, double *lo, double *hi) {
  const hst_params_t *p = l->params;
  if (depth == (size_t)p->height) return;
  double total = 0;
  for (size_t i = 0; i < n; i++) total += hi[i] - lo[i];
  double u = eddy_rng_uniform(&l->rng) * total, acc = 0;
  size_t on = n - 1;
  for (size_t i = 0; i < n; i++) {
    acc += hi[i] - lo[i];
    if (u < acc) {
      on = i;
      break;
    }
  }
  double a = lo[on], b = hi[on];
  double at = a + HST_PADDING * (b - a) +
              eddy_rng_uniform(&l->rng) * ((b - HST_PADDING * (b - a)) - (a + HST_PADDING * (b - a)));
  size_t k = tree * h->n_inner + node;
  h->feat[k] = attrs[on];
  h->thr[k] = at;
  hi[on] = at;
  build_node(l, h, tree, 2 * node + 1, depth + 1, attrs, n, lo, hi);
  hi[on] = b;
  lo[on] = at;
  build_node(l, h, tree, 2 * node + 2, depth + 1, attrs, n, lo, hi);
  lo[on] = a;
}

/* The distinct split attributes of the trees, and room for a record's
 * values at them (once per tree building or load). */
static int used_list(const eddy_learner_t *l, hst_t *h) {
  const hst_params_t *p = l->params;
  size_t na = l->schema->n_attrs, m = (size_t)p->n_trees * h->n_inner, n = 0;
  uint8_t *seen = calloc(na ? na : 1, 1);
  free(h->used);
  free(h->cx);
  free(h->cmiss);
  h->used = malloc((na ? na : 1) * sizeof *h->used);
  h->cx = malloc((na ? na : 1) * sizeof *h->cx);
  h->cmiss = malloc(na ? na : 1);
  h->n_used = 0;
  h->used_cap = na ? na : 1;
  h->cached = 0;
  if (!seen || !h->used || !h->cx || !h->cmiss) {
    free(seen);
    return EDDY_ENOMEM;
  }
  for (size_t i = 0; i < m; i++) {
    size_t a = (size_t)h->feat[i];
    if (a < na && !seen[a]) {
      seen[a] = 1;
      h->used[n++] = (int32_t)a;
    }
  }
  h->n_used = n;
  free(seen);
  return 0;
}

/* The trees over the schema's numeric attributes as they are at the first
 * record (River: the first record's features). Runs once: its scratch is
 * the one allocation after init. */
static int build(eddy_learner_t *l, hst_t *h) {
  const hst_params_t *p = l->params;
  size_t na = l->schema->n_attrs, n = 0;
  int32_t *attrs = malloc((na ? na : 1) * sizeof *attrs);
  double *lo = malloc((na ? na : 1) * sizeof *lo), *hi = malloc((na ? na : 1) * sizeof *hi);
  if (!attrs || !lo || !hi) {
    free(attrs);
    free(lo);
    free(hi);
    return EDDY_ENOMEM;
  }
  for (size_t a = 0; a < na; a++)
    if (l->schema->attrs[a].kind == EDDY_NUMERIC) {
      attrs[n] = (int32_t)a;
      attr_limits(l, a, &lo[n], &hi[n]);
      n++;
    }
  if (n) {
    for (size_t t = 0; t < (size_t)p->n_trees; t++) build_node(l, h, t, 0, 0, attrs, n, lo, hi);
    h->built = 1;
  }
  free(attrs);
  free(lo);
  free(hi);
  return h->built ? used_list(l, h) : 0;
}

/* x is the record the last predict walked (same values at every split
 * attribute, bit for bit) and nothing was learned since. */
static int same_as_cached(const hst_t *h, const eddy_instance_t *x) {
  if (!h->cached) return 0;
  for (size_t j = 0; j < h->n_used; j++) {
    size_t a = (size_t)h->used[j];
    if (a >= x->n || x->missing[a] != h->cmiss[j]) return 0;
    if (!x->missing[a] && memcmp(&x->x[a], &h->cx[j], sizeof(double)) != 0) return 0;
  }
  return 1;
}

static void cache_record(hst_t *h, const eddy_instance_t *x) {
  for (size_t j = 0; j < h->n_used; j++) {
    size_t a = (size_t)h->used[j];
    if (a >= x->n) return; /* not cached */
    h->cmiss[j] = x->missing[a] ? 1 : 0;
    h->cx[j] = x->missing[a] ? 0.0 : x->x[a];
  }
  h->cached = 1;
}

/* The child of inner node i (in tree arrays f, th, lm) that x goes to: by
 * the threshold, or when x's value is missing the child with the larger
 * current-window mass (the left one on ties), as River does. */
static inline size_t child(const hst_t *h, size_t base_inner, const uint32_t *lm, size_t i,
                           const eddy_instance_t *x) {
  size_t f = (size_t)h->feat[base_inner + i];
  if (f >= x->n || x->missing[f]) return lm[2 * i + 1] < lm[2 * i + 2] ? 2 * i + 2 : 2 * i + 1;
  return x->x[f] < h->thr[base_inner + i] ? 2 * i + 1 : 2 * i + 2;
}

static int hst_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  const hst_params_t *p = l->params;
  hst_t *h = l->state;
  if (!h->built) {
    int err = build(l, h);
    if (err) return err;
    if (!h->built) return 0; /* no numeric attribute yet */
  }
  size_t H = (size_t)p->height;
  if (same_as_cached(h, x)) {
    /* The paths predict found: each leaf and its ancestors. */
    for (size_t t = 0; t < (size_t)p->n_trees; t++) {
      uint32_t *lm = h->l_mass + t * h->n_nodes;
      size_t i = h->leaf[t];
      lm[i]++;
      while (i) {
        i = (i - 1) / 2;
        lm[i]++;
      }
    }
  } else {
    for (size_t t = 0; t < (size_t)p->n_trees; t++) {
      uint32_t *lm = h->l_mass + t * h->n_nodes;
      size_t i = 0;
      for (size_t d = 0; d < H; d++) {
        lm[i]++;
        i = child(h, t * h->n_inner, lm, i, x);
      }
      lm[i]++;
    }
  }
  h->cached = 0; /* the masses changed */
  h->learned++;
  if (++h->counter == (uint64_t)p->window_size) {
    size_t n = (size_t)p->n_trees * h->n_nodes;
    memcpy(h->r_mass, h->l_mass, n * sizeof *h->r_mass);
    memset(h->l_mass, 0, n * sizeof *h->l_mass);
    h->first_window = 0;
    h->counter = 0;
  }
  return 0;
}

/* River's score_one: along each tree's path, the sum of r_mass * 2^depth,
 * stopping after a node whose mass is under 0.1 x window_size; the total
 * over its largest possible value, flipped. */
static int hst_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  const hst_params_t *p = l->params;
  hst_t *h = l->state;
  if (out_len < 1) return EDDY_ENOSPC;
  if (h->first_window || !h->built) {
    out[0] = 0.0;
    return 1;
  }
  double size_limit = 0.1 * (double)p->window_size, score = 0;
  size_t H = (size_t)p->height;
  for (size_t t = 0; t < (size_t)p->n_trees; t++) {
    const uint32_t *lm = h->l_mass + t * h->n_nodes, *rm = h->r_mass + t * h->n_nodes;
    size_t i = 0, d = 0;
    double pow2 = 1.0;
    int done = 0;
    /* The score stops under size_limit; the walk goes on to the leaf,
     * for learn. */
    for (; d < H; d++) {
      if (!done) {
        double r = (double)rm[i];
        score += r * pow2;
        done = r < size_limit;
        pow2 *= 2.0;
      }
      i = child(h, t * h->n_inner, lm, i, x);
    }
    if (!done) score += (double)rm[i] * pow2;
    h->leaf[t] = (uint32_t)i;
  }
  cache_record(h, x);
  double max_score = (double)p->n_trees * (double)p->window_size * (double)h->n_nodes;
  out[0] = 1.0 - score / max_score;
  return 1;
}

static void hst_reset(eddy_learner_t *l) {
  const hst_params_t *p = l->params;
  hst_t *h = l->state;
  size_t T = (size_t)p->n_trees;
  memset(h->feat, 0, T * h->n_inner * sizeof *h->feat);
  memset(h->thr, 0, T * h->n_inner * sizeof *h->thr);
  memset(h->l_mass, 0, T * h->n_nodes * sizeof *h->l_mass);
  memset(h->r_mass, 0, T * h->n_nodes * sizeof *h->r_mass);
  h->counter = h->learned = 0;
  h->built = 0;
  h->first_window = 1;
  h->cached = 0;
  eddy_rng_seed(&l->rng, l->seed); /* the same trees again */
}

static int hst_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const hst_params_t *p = l->params;
  const hst_t *h = l->state;
  size_t T = (size_t)p->n_trees;
  eddy_buf_put_u8(b, (uint8_t)h->built);
  eddy_buf_put_u8(b, (uint8_t)h->first_window);
  eddy_buf_put_u64(b, h->counter);
  eddy_buf_put_u64(b, h->learned);
  if (!h->built) return b->err;
  for (size_t i = 0; i < T * h->n_inner; i++) eddy_buf_put_u32(b, (uint32_t)h->feat[i]);
  eddy_buf_put_f64s(b, h->thr, T * h->n_inner);
  for (size_t i = 0; i < T * h->n_nodes; i++) eddy_buf_put_u32(b, h->l_mass[i]);
  for (size_t i = 0; i < T * h->n_nodes; i++) eddy_buf_put_u32(b, h->r_mass[i]);
  return b->err;
}

static int hst_load(eddy_learner_t *l, eddy_reader_t *r) {
  const hst_params_t *p = l->params;
  hst_t *h = l->state;
  size_t T = (size_t)p->n_trees;
  uint64_t W = (uint64_t)p->window_size;
  int built = eddy_read_u8(r), first = eddy_read_u8(r);
  uint64_t counter = eddy_read_u64(r), learned = eddy_read_u64(r);
  if (r->err) return r->err;
  if (built > 1 || first > 1 || counter >= W || (!built && (learned || !first)) ||
      (first && learned != counter) || learned < counter)
    return EDDY_ECORRUPT;
  h->cached = 0;
  h->built = built;
  h->first_window = first;
  h->counter = counter;
  h->learned = learned;
  if (!built) return 0;
  for (size_t i = 0; i < T * h->n_inner; i++) {
    uint32_t f = eddy_read_u32(r);
    if (r->err) return r->err;
    if (f >= l->schema->n_attrs || l->schema->attrs[f].kind != EDDY_NUMERIC) return EDDY_ECORRUPT;
    h->feat[i] = (int32_t)f;
  }
  eddy_read_f64s(r, h->thr, T * h->n_inner);
  for (size_t i = 0; i < T * h->n_inner; i++)
    if (!isfinite(h->thr[i])) return EDDY_ECORRUPT;
  for (size_t i = 0; i < T * h->n_nodes; i++) h->l_mass[i] = eddy_read_u32(r);
  for (size_t i = 0; i < T * h->n_nodes; i++) h->r_mass[i] = eddy_read_u32(r);
  if (r->err) return r->err;
  for (size_t i = 0; i < T * h->n_nodes; i++)
    if (h->l_mass[i] > counter || h->r_mass[i] > W) return EDDY_ECORRUPT;
  return used_list(l, h);
}

static size_t hst_memory(const eddy_learner_t *l) {
  const hst_params_t *p = l->params;
  const hst_t *h = l->state;
  size_t T = (size_t)p->n_trees;
  return sizeof *h + T * h->n_inner * (sizeof *h->feat + sizeof *h->thr) +
         2 * T * h->n_nodes * sizeof *h->l_mass + T * sizeof *h->leaf +
         (h->used ? h->used_cap * (sizeof *h->used + sizeof *h->cx + 1) : 0);
}

static void hst_destroy(eddy_learner_t *l) {
  hst_t *h = l->state;
  free(h->feat);
  free(h->thr);
  free(h->l_mass);
  free(h->r_mass);
  free(h->leaf);
  free(h->used);
  free(h->cx);
  free(h->cmiss);
}

static void hst_describe(const eddy_learner_t *l, FILE *out) {
  const hst_params_t *p = l->params;
  const hst_t *h = l->state;
  fprintf(out, "half_space_trees: %lld trees of height %lld (%zu nodes each), window %lld; "
               "%llu records learned, %s\n",
          (long long)p->n_trees, (long long)p->height, h->n_nodes, (long long)p->window_size,
          (unsigned long long)h->learned,
          !h->built ? "no trees yet" : h->first_window ? "first window (scores 0)" : "scoring");
  if (!h->built) return;
  /* How often each attribute splits, and its range. */
  size_t T = (size_t)p->n_trees;
  for (size_t a = 0; a < l->schema->n_attrs; a++) {
    size_t n = 0;
    for (size_t i = 0; i < T * h->n_inner; i++) n += h->feat[i] == (int32_t)a;
    if (!n) continue;
    double lo, hi;
    attr_limits(l, a, &lo, &hi);
    fprintf(out, "  %-20s %6zu splits  limits [%g, %g]\n", l->schema->attrs[a].name, n, lo, hi);
  }
}

const eddy_learner_type_t eddy_learner_half_space_trees = {
    .name = "half_space_trees",
    .description = "Half-Space Trees: streaming anomaly scores in [0, 1] (River's "
                   "anomaly.HalfSpaceTrees); unsupervised, learns every record",
    .tasks = EDDY_CLASSIFICATION | EDDY_REGRESSION,
    .options = hst_options,
    .params_size = sizeof(hst_params_t),
    .state_size = sizeof(hst_t),
    .init = hst_init,
    .predict = hst_predict,
    .learn = hst_learn,
    .reset = hst_reset,
    .save = hst_save,
    .load = hst_load,
    .memory = hst_memory,
    .destroy = hst_destroy,
    .describe = hst_describe,
    .pass_prefix = HST_LIMITS,
    .unsupervised = 1,
};
