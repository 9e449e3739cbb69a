/* ht_observers.c: attribute observers and split criteria of the Hoeffding
 * tree classifiers, as MOA defines them: GaussianNumericAttributeClassObserver
 * (a Gaussian per class, min/max per class, numBins candidate split points
 * evenly spaced between the global min and max), NominalAttributeClassObserver
 * (multiway and binary candidates), NaiveBayes.doNaiveBayesPrediction,
 * InfoGainSplitCriterion (minBranchFrac, range log2(#classes)) and
 * GiniSplitCriterion. The observers work on a leaf's slot of doubles
 * (layout in learners.h) instead of objects.
 *
 * Where River differs (for readers comparing with River's
 * HoeffdingTreeClassifier): River's Gaussian splitter puts cdf * n on the
 * left and the rest on the right (MOA: less + equal, and the rest clamped at
 * 0), computes split points as min + (max - min) / (n + 1) * (i + 1) in
 * another order, scores naive Bayes in log space, and gives the null split a
 * merit of -inf whatever the criterion. */
#include <math.h>
#include <string.h>

#include "learners/trees/trees.h"

/* Rows of a numeric (Gaussian) observer block. */
enum { G_W = 0, G_MEAN = 1, G_VAR = 2, G_MIN = 3, G_MAX = 4 };

/* GaussianEstimator.probabilityDensity */
static double gauss_pdf(double w, double mean, double vsum, double v) {
  if (w > 0.0) {
    double sd = sqrt(w > 1.0 ? vsum / (w - 1.0) : 0.0);
    if (sd > 0.0) {
      double diff = v - mean;
      return (1.0 / (EDDY__HT_NORMAL_CONSTANT * sd)) * exp(-(diff * diff / (2.0 * sd * sd)));
    }
    return v == mean ? 1.0 : 0.0;
  }
  return 0.0;
}

/* A nominal value index, or -1 when absent or not an index. */
static inline int64_t nominal_index(const eddy_instance_t *x, size_t a) {
  if (x->missing && x->missing[a]) return -1;
  double v = x->x[a];
  return (v >= 0 && v < 4294967296.0) ? (int64_t)v : -1;
}

static inline int numeric_missing(const eddy_instance_t *x, size_t a) {
  /* MOA treats NaN as missing; an infinite value would break the Gaussian
   * (MOA then keeps +-inf as min/max), so it counts as missing too. */
  return (x->missing && x->missing[a]) || !isfinite(x->x[a]);
}

void eddy__ht_obs_update(const eddy__ht_layout_t *L, const eddy_schema_t *s, double *slot,
                   const eddy_instance_t *x, uint32_t c, double w, const uint8_t *mask) {
  const uint32_t C = L->C;
  for (size_t a = 0; a < L->n_attrs; a++) {
    if (mask && !mask[a]) continue;
    double *blk = slot + L->off[a];
    if (s->attrs[a].kind == EDDY_NUMERIC) {
      if (numeric_missing(x, a)) continue;
      double v = x->x[a];
      double *W = &blk[G_W * C + c], *M = &blk[G_MEAN * C + c], *S = &blk[G_VAR * C + c];
      if (*W > 0.0) {
        if (v < blk[G_MIN * C + c]) blk[G_MIN * C + c] = v;
        if (v > blk[G_MAX * C + c]) blk[G_MAX * C + c] = v;
        *W += w;
        double last = *M;
        *M += w * (v - last) / *W;
        *S += w * (v - last) * (v - *M);
      } else {
        blk[G_MIN * C + c] = blk[G_MAX * C + c] = v;
        *M = v;
        *W = w;
      }
    } else {
      int64_t vi = nominal_index(x, a);
      if (vi < 0 || (uint64_t)vi >= L->V[a]) continue;
      if (blk[c] < (double)(vi + 1)) blk[c] = (double)(vi + 1); /* len */
      blk[C + c] += w;                                          /* sum */
      blk[(2 + (size_t)vi) * C + c] += w;
    }
  }
}

void eddy__ht_obs_nb_votes(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot, int init,
                     const double *dist, uint32_t len, const eddy_instance_t *x, double *votes,
                     const uint8_t *mask) {
  const uint32_t C = L->C;
  double sum = 0.0;
  for (uint32_t c = 0; c < len; c++) sum += dist[c];
  for (uint32_t c = 0; c < len; c++) {
    double v = dist[c] / sum;
    if (init) {
      for (size_t a = 0; a < L->n_attrs; a++) {
        if (mask && !mask[a]) continue; /* MOA: no observer */
        const double *blk = slot + L->off[a];
        if (s->attrs[a].kind == EDDY_NUMERIC) {
          if (x->missing && x->missing[a]) continue;
          v *= gauss_pdf(blk[G_W * C + c], blk[G_MEAN * C + c], blk[G_VAR * C + c], x->x[a]);
        } else {
          int64_t vi = nominal_index(x, a);
          if (vi < 0) continue; /* missing */
          double lenc = blk[c];
          if (lenc > 0.0) {
            double cnt = (vi >= 0 && (uint64_t)vi < L->V[a]) ? blk[(2 + (size_t)vi) * C + c] : 0.0;
            v *= (cnt + 1.0) / (blk[C + c] + lenc);
          } else {
            v *= 0.0;
          }
        }
      }
    }
    votes[c] = v;
  }
  for (uint32_t c = len; c < C; c++) votes[c] = 0.0;
}

/* What attribute a multiplies class c's naive Bayes vote by, for
 * eddy__ht_obs_nb_votes_cached: 1.0 for an attribute skipped (masked or
 * missing; v * 1.0 is v exactly), else the very factor nb_votes uses. */
static double nb_factor(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                        const eddy_instance_t *x, uint32_t c, size_t a, const uint8_t *mask) {
  const uint32_t C = L->C;
  if (mask && !mask[a]) return 1.0;
  const double *blk = slot + L->off[a];
  if (s->attrs[a].kind == EDDY_NUMERIC) {
    if (x->missing && x->missing[a]) return 1.0;
    return gauss_pdf(blk[G_W * C + c], blk[G_MEAN * C + c], blk[G_VAR * C + c], x->x[a]);
  }
  int64_t vi = nominal_index(x, a);
  if (vi < 0) return 1.0;
  double lenc = blk[c];
  if (!(lenc > 0.0)) return 0.0;
  double cnt = (uint64_t)vi < L->V[a] ? blk[(2 + (size_t)vi) * C + c] : 0.0;
  return (cnt + 1.0) / (blk[C + c] + lenc);
}

void eddy__ht_obs_nb_votes_cached(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                                  const double *dist, uint32_t len, const eddy_instance_t *x,
                                  double *votes, const uint8_t *mask, double *f, double *ok) {
  const size_t n = L->n_attrs;
  double sum = 0.0;
  for (uint32_t c = 0; c < len; c++) sum += dist[c];
  for (uint32_t c = 0; c < len; c++) {
    double *fc = f + (size_t)c * n;
    if (ok[c] == 0.0) {
      for (size_t a = 0; a < n; a++) fc[a] = nb_factor(L, s, slot, x, c, a, mask);
      ok[c] = 1.0;
    }
    double v = dist[c] / sum;
    for (size_t a = 0; a < n; a++) v *= fc[a];
    votes[c] = v;
  }
  for (uint32_t c = len; c < L->C; c++) votes[c] = 0.0;
}

/* ------------------------------------------------------------ criteria */

static double row_sum(const double *r, uint32_t C) {
  double s = 0.0;
  for (uint32_t c = 0; c < C; c++) s += r[c];
  return s;
}

/* InfoGainSplitCriterion.computeEntropy(double[]) */
static double entropy(const double *d, uint32_t C) {
  double e = 0.0, sum = 0.0;
  for (uint32_t c = 0; c < C; c++) {
    if (d[c] > 0.0) {
      e -= d[c] * eddy__ht_log2(d[c]);
      sum += d[c];
    }
  }
  return sum > 0.0 ? (e + sum * eddy__ht_log2(sum)) / sum : 0.0;
}

static double merit_pre(int criterion, double min_branch_frac, double pre_e, uint32_t C,
                        const double *post, const uint32_t *lens, uint32_t n_post);

double eddy__ht_merit(int criterion, double min_branch_frac, const double *pre, uint32_t C,
                const double *post, const uint32_t *lens, uint32_t n_post) {
  double pre_e = criterion == EDDY__HT_GINI ? 0.0 : entropy(pre, C);
  return merit_pre(criterion, min_branch_frac, pre_e, C, post, lens, n_post);
}

/* eddy__ht_merit with the entropy of pre already computed (info gain; a
 * split attempt asks it of every candidate of every attribute). */
static double merit_pre(int criterion, double min_branch_frac, double pre_e, uint32_t C,
                        const double *post, const uint32_t *lens, uint32_t n_post) {
  /* each branch's weight summed once (the same sums, in the same order) */
  double rs[16];
  const int keep = n_post <= 16;
#define BRANCH_W(i) (keep ? rs[i] : row_sum(post + (size_t)(i) * C, C))
  double total = 0.0;
  for (uint32_t i = 0; i < n_post; i++) {
    double r = row_sum(post + (size_t)i * C, C);
    if (keep) rs[i] = r;
    total += r;
  }
  if (criterion == EDDY__HT_GINI) {
    /* MOA: 1 - sum_i (w_i / W) gini_i over each branch's array of lens[i]
     * entries; a branch without weight whose array is not empty makes the
     * merit NaN (0 * (0/0)), which Double.compare ranks above everything:
     * kept, since MOA then splits on it. */
    double g = 0.0;
    for (uint32_t i = 0; i < n_post; i++) {
      const double *r = post + (size_t)i * C;
      double w = BRANCH_W(i);
      double gi = 1.0;
      for (uint32_t c = 0; c < lens[i]; c++) {
        double f = r[c] / w;
        gi -= f * f;
      }
      g += (w / total) * gi;
    }
    return 1.0 - g;
  }
  /* numSubsetsGreaterThanFrac < 2: -inf */
  int n_greater = 0;
  for (uint32_t i = 0; i < n_post; i++)
    if (BRANCH_W(i) / total > min_branch_frac) n_greater++;
  if (n_greater < 2) return -INFINITY;
  double e = 0.0;
  for (uint32_t i = 0; i < n_post; i++) e += BRANCH_W(i) * entropy(post + (size_t)i * C, C);
#undef BRANCH_W
  return pre_e - e / total;
}

double eddy__ht_merit_range(int criterion, uint32_t pre_len) {
  if (criterion == EDDY__HT_GINI) return 1.0;
  return eddy__ht_log2(pre_len > 2 ? (double)pre_len : 2.0);
}

/* ------------------------------------------------------------ split candidates */

/* Gaussian binary split at sv: lhs/rhs rows and their MOA lengths. */
static void gauss_split(const double *blk, uint32_t C, double sv, double *lhs, double *rhs,
                        uint32_t *llen, uint32_t *rlen) {
  memset(lhs, 0, C * sizeof *lhs);
  memset(rhs, 0, C * sizeof *rhs);
  *llen = *rlen = 0;
  for (uint32_t c = 0; c < C; c++) {
    double W = blk[G_W * C + c];
    if (!(W > 0.0)) continue;
    if (sv < blk[G_MIN * C + c]) {
      rhs[c] += W;
      *rlen = c + 1;
    } else if (sv >= blk[G_MAX * C + c]) {
      lhs[c] += W;
      *llen = c + 1;
    } else {
      /* estimatedWeight_LessThan_EqualTo_GreaterThan_Value */
      double mean = blk[G_MEAN * C + c], vs = blk[G_VAR * C + c];
      /* gauss_pdf(W, mean, vs, sv) * W, its standard deviation kept (W > 0) */
      double sd = sqrt(W > 1.0 ? vs / (W - 1.0) : 0.0);
      double diff = sv - mean;
      double eq = (sd > 0.0 ? (1.0 / (EDDY__HT_NORMAL_CONSTANT * sd)) * exp(-(diff * diff / (2.0 * sd * sd)))
                            : (sv == mean ? 1.0 : 0.0)) *
                  W;
      double less = sd > 0.0 ? eddy__ht_normal_probability((sv - mean) / sd) * W - eq
                             : (sv < mean ? W - eq : 0.0);
      double greater = W - eq - less;
      if (greater < 0.0) greater = 0.0;
      lhs[c] += less + eq;
      rhs[c] += greater;
      *llen = *rlen = c + 1;
    }
  }
}

/* A nominal block's len entry as a count of value slots, at most V (a
 * stored double; NaN or negative from a damaged checkpoint count as 0). */
static inline uint32_t len_of(double d, uint32_t V) { return d >= V ? V : d > 0 ? (uint32_t)d : 0; }

/* Nominal binary split on value v: equals / not-equals rows. */
static void nominal_binary(const double *blk, uint32_t C, uint32_t V, uint32_t v, double *eq,
                           double *ne, uint32_t *eqlen, uint32_t *nelen) {
  memset(eq, 0, C * sizeof *eq);
  memset(ne, 0, C * sizeof *ne);
  *eqlen = *nelen = 0;
  for (uint32_t c = 0; c < C; c++) {
    uint32_t lenc = len_of(blk[c], V);
    for (uint32_t j = 0; j < lenc; j++) {
      double cnt = blk[(2 + (size_t)j) * C + c];
      if (j == v) {
        eq[c] += cnt;
        *eqlen = c + 1;
      } else {
        ne[c] += cnt;
        *nelen = c + 1;
      }
    }
  }
}

/* Nominal multiway split: n rows, row j = the classes' counts of value j. */
static void nominal_multi(const double *blk, uint32_t C, uint32_t V, uint32_t n, double *post,
                          uint32_t *lens) {
  memset(post, 0, (size_t)n * C * sizeof *post);
  for (uint32_t j = 0; j < n; j++) lens[j] = 0;
  for (uint32_t c = 0; c < C; c++) {
    uint32_t lenc = len_of(blk[c], V);
    for (uint32_t j = 0; j < lenc; j++) {
      post[(size_t)j * C + c] += blk[(2 + (size_t)j) * C + c];
      lens[j] = c + 1;
    }
  }
}

static uint32_t max_vals_observed(const double *blk, uint32_t C, uint32_t V) {
  uint32_t m = 0;
  for (uint32_t c = 0; c < C; c++) {
    uint32_t lenc = len_of(blk[c], V);
    if (lenc > m) m = lenc;
  }
  return m;
}

/* Candidate split values of a Gaussian observer, in increasing order and
 * without repeats (MOA's TreeSet); returns how many. */
static uint32_t gauss_split_points(const double *blk, uint32_t C, uint32_t n_bins, double *out) {
  double mn = INFINITY, mx = -INFINITY;
  for (uint32_t c = 0; c < C; c++) {
    if (!(blk[G_W * C + c] > 0.0)) continue;
    if (blk[G_MIN * C + c] < mn) mn = blk[G_MIN * C + c];
    if (blk[G_MAX * C + c] > mx) mx = blk[G_MAX * C + c];
  }
  uint32_t n = 0;
  if (mn < INFINITY) {
    double range = mx - mn;
    for (uint32_t i = 0; i < n_bins; i++) {
      double sv = range / (n_bins + 1.0) * (i + 1) + mn;
      if (sv > mn && sv < mx && (n == 0 || sv != out[n - 1])) out[n++] = sv;
    }
  }
  return n;
}

int eddy__ht_obs_best_split(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot, size_t a,
                      int criterion, double min_branch_frac, int binary_only, const double *pre,
                      uint32_t pre_len, double *scratch, uint32_t *scratch_len, eddy__ht_cand_t *out) {
  (void)pre_len;
  const uint32_t C = L->C;
  const double *blk = slot + L->off[a];
  int found = 0;
  const double pre_e = criterion == EDDY__HT_GINI ? 0.0 : entropy(pre, C);
  if (s->attrs[a].kind == EDDY_NUMERIC) {
    /* scratch: 2 rows, then the split points (n_bins <= V-independent:
     * the caller sizes scratch for them) */
    double *pts = scratch + 2 * (size_t)C;
    uint32_t n = gauss_split_points(blk, C, L->n_bins, pts);
    for (uint32_t i = 0; i < n; i++) {
      gauss_split(blk, C, pts[i], scratch, scratch + C, &scratch_len[0], &scratch_len[1]);
      double m = merit_pre(criterion, min_branch_frac, pre_e, C, scratch, scratch_len, 2);
      if (!found || m > out->merit) {
        out->attr = (int32_t)a;
        out->test = EDDY__HT_TEST_NUM_LE;
        out->value = pts[i];
        out->merit = m;
        out->n_branches = 2;
        found = 1;
      }
    }
    return found ? 0 : 1;
  }
  uint32_t V = L->V[a];
  uint32_t maxv = max_vals_observed(blk, C, V);
  if (maxv == 0) return 1; /* never observed: MOA would offer a 0-branch split */
  if (!binary_only) {
    nominal_multi(blk, C, V, maxv, scratch, scratch_len);
    out->attr = (int32_t)a;
    out->test = EDDY__HT_TEST_NOM_MULTI;
    out->value = 0;
    out->merit = merit_pre(criterion, min_branch_frac, pre_e, C, scratch, scratch_len, maxv);
    out->n_branches = maxv;
    found = 1;
  }
  for (uint32_t v = 0; v < maxv; v++) {
    nominal_binary(blk, C, V, v, scratch, scratch + C, &scratch_len[0], &scratch_len[1]);
    double m = merit_pre(criterion, min_branch_frac, pre_e, C, scratch, scratch_len, 2);
    if (!found || m > out->merit) {
      out->attr = (int32_t)a;
      out->test = EDDY__HT_TEST_NOM_EQ;
      out->value = v;
      out->merit = m;
      out->n_branches = 2;
      found = 1;
    }
  }
  return 0;
}

void eddy__ht_obs_post_dists(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                       const eddy__ht_cand_t *cand, double *post, uint32_t *post_len) {
  (void)s;
  const uint32_t C = L->C;
  const double *blk = slot + L->off[cand->attr];
  switch (cand->test) {
  case EDDY__HT_TEST_NUM_LE:
    gauss_split(blk, C, cand->value, post, post + C, &post_len[0], &post_len[1]);
    break;
  case EDDY__HT_TEST_NOM_EQ:
    nominal_binary(blk, C, L->V[cand->attr], (uint32_t)cand->value, post, post + C, &post_len[0],
                   &post_len[1]);
    break;
  default:
    nominal_multi(blk, C, L->V[cand->attr], cand->n_branches, post, post_len);
    break;
  }
}

void eddy__ht_describe_branch(const eddy_schema_t *s, int test, size_t attr, double value, int b,
                        char *buf, size_t size) {
  const eddy_attr_t *at = &s->attrs[attr];
  char v[64];
  if (test == EDDY__HT_TEST_NUM_LE) {
    eddy__ht_fmt_value(v, sizeof v, value);
    snprintf(buf, size, "%s %s %s", at->name, b == 0 ? "<=" : ">", v);
    return;
  }
  uint32_t idx = test == EDDY__HT_TEST_NOM_EQ ? (uint32_t)value : (uint32_t)b;
  const char *name = at->dict ? eddy_dict_name(at->dict, idx) : NULL;
  if (name)
    snprintf(v, sizeof v, "%s", name);
  else
    snprintf(v, sizeof v, "#%u", idx);
  snprintf(buf, size, "%s %s %s", at->name, (test == EDDY__HT_TEST_NOM_EQ && b == 1) ? "!=" : "=", v);
}

/* ================================================== regression observers */

enum { B_LO = 0, B_WIDTH = 1, B_STATE = 2, B_X0 = 3 }; /* header of a numeric block */
enum { B_EMPTY = 0, B_PENDING = 1, B_RANGED = 2 };
#define B_HDR 4

void eddy__ht_var_merge(eddy__ht_var_t *a, const eddy__ht_var_t *b) {
  if (!(b->n > 0.0)) return;
  if (!(a->n > 0.0)) {
    *a = *b;
    return;
  }
  double n = a->n + b->n, d = b->mean - a->mean;
  a->mean += d * b->n / n;
  a->m2 += b->m2 + d * d * a->n * b->n / n;
  a->n = n;
}

static inline eddy__ht_var_t *bins_of(double *blk) { return (eddy__ht_var_t *)(blk + B_HDR); }
static inline const eddy__ht_var_t *cbins_of(const double *blk) {
  return (const eddy__ht_var_t *)(blk + B_HDR);
}

/* Doubles the width toward x's side until x falls inside. */
static void bins_extend(double *blk, uint32_t K, double x) {
  eddy__ht_var_t *b = bins_of(blk);
  for (int guard = 0; guard < 2100; guard++) {
    double lo = blk[B_LO], w = blk[B_WIDTH];
    if (x >= lo && x < lo + K * w) return;
    if (x < lo) { /* old bins move to the upper half */
      for (uint32_t j = K; j-- > K / 2;) {
        eddy__ht_var_t m = b[2 * (j - K / 2)];
        eddy__ht_var_merge(&m, &b[2 * (j - K / 2) + 1]);
        b[j] = m;
      }
      for (uint32_t j = 0; j < K / 2; j++) b[j] = (eddy__ht_var_t){0, 0, 0};
      blk[B_LO] = lo - K * w;
    } else { /* old bins move to the lower half */
      for (uint32_t j = 0; j < K / 2; j++) {
        eddy__ht_var_t m = b[2 * j];
        eddy__ht_var_merge(&m, &b[2 * j + 1]);
        b[j] = m;
      }
      for (uint32_t j = K / 2; j < K; j++) b[j] = (eddy__ht_var_t){0, 0, 0};
    }
    blk[B_WIDTH] = 2 * w;
  }
}

static uint32_t bin_index(const double *blk, uint32_t K, double x) {
  double i = floor((x - blk[B_LO]) / blk[B_WIDTH]);
  if (!(i > 0)) return 0; /* also NaN */
  if (i >= K) return K - 1;
  return (uint32_t)i;
}

void htr_obs_update(const eddy__ht_layout_t *L, const eddy_schema_t *s, double *slot,
                    const eddy_instance_t *x, double y, double w, const double *mask) {
  const uint32_t K = L->n_bins;
  for (size_t a = 0; a < L->n_attrs; a++) {
    if (mask && mask[a] == 0.0) continue;
    double *blk = slot + L->off[a];
    if (s->attrs[a].kind == EDDY_NUMERIC) {
      if (numeric_missing(x, a)) continue;
      double v = x->x[a];
      eddy__ht_var_t *b = bins_of(blk);
      if (blk[B_STATE] == B_EMPTY) {
        blk[B_STATE] = B_PENDING;
        blk[B_X0] = v;
      }
      if (blk[B_STATE] == B_PENDING) {
        if (v == blk[B_X0]) {
          eddy__ht_var_add(&b[0], y, w);
          continue;
        }
        /* a second value: the range spans both, with as much room again */
        double lo = v < blk[B_X0] ? v : blk[B_X0], hi = v < blk[B_X0] ? blk[B_X0] : v;
        blk[B_LO] = lo;
        blk[B_WIDTH] = 2 * (hi - lo) / K;
        blk[B_STATE] = B_RANGED;
        if (!(blk[B_WIDTH] > 0) || !isfinite(blk[B_WIDTH])) { /* too close or too far */
          blk[B_WIDTH] = fabs(lo) > 0 ? fabs(lo) * 1e-9 : 1e-300;
        }
        uint32_t i0 = bin_index(blk, K, blk[B_X0]);
        if (i0 != 0) {
          b[i0] = b[0];
          b[0] = (eddy__ht_var_t){0, 0, 0};
        }
      }
      bins_extend(blk, K, v);
      eddy__ht_var_add(&b[bin_index(blk, K, v)], y, w);
    } else {
      int64_t vi = nominal_index(x, a);
      if (vi < 0 || (uint64_t)vi >= L->V[a]) continue;
      eddy__ht_var_add((eddy__ht_var_t *)(blk + 3 * (size_t)vi), y, w);
    }
  }
}

double htr_merit(const eddy__ht_var_t *pre, const eddy__ht_var_t *post, uint32_t n_post,
                 double min_samples) {
  for (uint32_t i = 0; i < n_post; i++)
    if (post[i].n > 0.0 && post[i].n < min_samples) return 0.0;
  double vr = eddy__ht_var_get(pre);
  for (uint32_t i = 0; i < n_post; i++)
    if (post[i].n > 0.0) vr -= post[i].n / pre->n * eddy__ht_var_get(&post[i]);
  return vr;
}

/* The boundary value i of a numeric block as a test value: x <= value
 * exactly when x < lo + i * width (the bins are closed on the left). */
static double boundary_value(const double *blk, int32_t i) {
  return nextafter(blk[B_LO] + i * blk[B_WIDTH], -INFINITY);
}

int htr_obs_best_split(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot, size_t a,
                       const eddy__ht_var_t *pre, double min_samples, int binary_only,
                       eddy__ht_var_t *scratch, eddy__ht_cand_t *out) {
  const double *blk = slot + L->off[a];
  int found = 0;
  if (s->attrs[a].kind == EDDY_NUMERIC) {
    const uint32_t K = L->n_bins;
    if (blk[B_STATE] != B_RANGED) return 1;
    const eddy__ht_var_t *b = cbins_of(blk);
    eddy__ht_var_t *suffix = scratch; /* suffix[i] = bins i..K-1 */
    suffix[K] = (eddy__ht_var_t){0, 0, 0};
    for (uint32_t i = K; i-- > 0;) {
      suffix[i] = suffix[i + 1];
      eddy__ht_var_merge(&suffix[i], &b[i]);
    }
    /* candidates are scored on what this observer saw (the union of the
     * branches): a leaf's statistics also hold what it inherited at its
     * creation, which no branch can account for */
    pre = &suffix[0];
    eddy__ht_var_t post[2] = {{0, 0, 0}, {0, 0, 0}};
    for (uint32_t i = 1; i < K; i++) {
      eddy__ht_var_merge(&post[0], &b[i - 1]);
      if (!(post[0].n > 0.0)) continue;
      post[1] = suffix[i];
      if (!(post[1].n > 0.0)) break;
      if (!(b[i - 1].n > 0.0)) continue; /* same partition as the boundary before */
      double m = htr_merit(pre, post, 2, min_samples);
      if (!found || m > out->merit) {
        out->attr = (int32_t)a;
        out->test = EDDY__HT_TEST_NUM_LE;
        out->value = boundary_value(blk, (int32_t)i);
        out->aux = (int32_t)i;
        out->merit = m;
        out->n_branches = 2;
        found = 1;
      }
    }
    return found ? 0 : 1;
  }
  const uint32_t V = L->V[a];
  const eddy__ht_var_t *vals = (const eddy__ht_var_t *)blk;
  uint32_t maxv = 0, seen = 0;
  eddy__ht_var_t all = {0, 0, 0};
  for (uint32_t v = 0; v < V; v++)
    if (vals[v].n > 0.0) {
      maxv = v + 1;
      seen++;
      eddy__ht_var_merge(&all, &vals[v]);
    }
  if (seen < 2) return 1;
  pre = &all;
  if (!binary_only) {
    out->attr = (int32_t)a;
    out->test = EDDY__HT_TEST_NOM_MULTI;
    out->value = 0;
    out->aux = 0;
    out->merit = htr_merit(pre, vals, maxv, min_samples);
    out->n_branches = maxv;
    found = 1;
  }
  for (uint32_t v = 0; v < maxv; v++) {
    if (!(vals[v].n > 0.0)) continue;
    eddy__ht_var_t post[2] = {vals[v], {0, 0, 0}};
    for (uint32_t u = 0; u < maxv; u++)
      if (u != v) eddy__ht_var_merge(&post[1], &vals[u]);
    double m = htr_merit(pre, post, 2, min_samples);
    if (!found || m > out->merit) {
      out->attr = (int32_t)a;
      out->test = EDDY__HT_TEST_NOM_EQ;
      out->value = v;
      out->aux = 0;
      out->merit = m;
      out->n_branches = 2;
      found = 1;
    }
  }
  (void)scratch;
  return 0;
}

void htr_obs_post_stats(const eddy__ht_layout_t *L, const eddy_schema_t *s, const double *slot,
                        const eddy__ht_cand_t *cand, eddy__ht_var_t *post) {
  (void)s;
  const double *blk = slot + L->off[cand->attr];
  if (cand->test == EDDY__HT_TEST_NUM_LE) {
    const eddy__ht_var_t *b = cbins_of(blk);
    post[0] = post[1] = (eddy__ht_var_t){0, 0, 0};
    for (uint32_t i = 0; i < L->n_bins; i++) eddy__ht_var_merge(&post[i < (uint32_t)cand->aux ? 0 : 1], &b[i]);
    return;
  }
  const eddy__ht_var_t *vals = (const eddy__ht_var_t *)blk;
  if (cand->test == EDDY__HT_TEST_NOM_MULTI) {
    for (uint32_t v = 0; v < cand->n_branches; v++) post[v] = vals[v];
    return;
  }
  post[0] = vals[(uint32_t)cand->value];
  post[1] = (eddy__ht_var_t){0, 0, 0};
  for (uint32_t v = 0; v < L->V[cand->attr]; v++)
    if (v != (uint32_t)cand->value) eddy__ht_var_merge(&post[1], &vals[v]);
}
