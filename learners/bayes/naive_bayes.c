/* naive_bayes.c: incremental naive Bayes over numeric and nominal
 * attributes in one model. The defaults are MOA's NaiveBayes: per class a
 * Gaussian per numeric attribute (Welford mean and sample variance with
 * weight - 1, as GaussianEstimator; a zero variance gives a density of
 * exactly 1 at the mean and 0 elsewhere), per class Laplace-smoothed value
 * counts per nominal attribute ((count + 1) / (sum + number of values),
 * the number of values being the largest value index learned for the class
 * plus one, as NominalAttributeClassObserver), and the class prior from
 * the observed weights. `variance = population` and `var_smoothing` give
 * scikit-learn's GaussianNB instead.
 *
 * The posterior is computed in log space and normalised with log-sum-exp.
 * MOA multiplies densities in linear space instead, and when the product
 * underflows to 0 for every class it predicts class 0: `moa_underflow`
 * (the default) detects those cases (log votes below -600) and redoes
 * MOA's product, so that eddy's predictions are MOA's, row for row on Elec2;
 * `moa_underflow = false` keeps the log-space posterior. Where eddy differs
 * from MOA on purpose: a missing value, a non-finite number, a nominal value
 * that no class has learned and an attribute for which a class has no
 * observation contribute a factor of 1 (MOA: 0, or 1 / (sum + values) for
 * an unseen nominal value).
 *
 * Speed: per class and attribute the state is contiguous (weight, mean,
 * M2, and the cached 1 / (2 var)); the per-class log normaliser (log prior
 * aside) is recomputed when the class learns, with one log over the
 * product of its variances (exponents summed separately) instead of one
 * log per attribute. predict then costs one multiply-add per class and
 * attribute plus one exp per class. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/bayes/bayes.h"

#define LOG_2PI 1.8378770664093454836

enum { NB_VAR_SAMPLE = 0, NB_VAR_POPULATION = 1 };
static const char *const nb_variance_choices[] = {"sample", "population", NULL};

typedef struct {
  int variance;
  double var_smoothing;
  double laplace;
  int moa_underflow;
} nb_params_t;

static const eddy_option_t nb_options[] = {
    EDDY_OPT_ENUM_(nb_params_t, "variance", variance, "sample", nb_variance_choices,
                   "variance of the Gaussians: sample (sum of squares / (weight - 1), 0 up to "
                   "weight 1: MOA) or population (/ weight: scikit-learn)"),
    EDDY_OPT_DOUBLE_(nb_params_t, "var_smoothing", var_smoothing, "0", 0, 1e6,
                     "added to every variance, times the largest population variance of a "
                     "numeric attribute over all rows learned (scikit-learn's GaussianNB: 1e-9)"),
    EDDY_OPT_DOUBLE_(nb_params_t, "laplace", laplace, "1", 1e-10, 1e10,
                     "pseudo-count of nominal values: (count + laplace) / (sum + laplace * "
                     "values)"),
    EDDY_OPT_BOOL_(nb_params_t, "moa_underflow", moa_underflow, "true",
                   "where MOA's product of densities underflows to 0 (MOA then falls back to "
                   "class 0 when every class does), give those classes probability 0 as MOA "
                   "does; false: the log-space posterior throughout"),
    EDDY_OPT_END};

/* One nominal attribute's value counts for one class. */
typedef struct {
  double *cnt;     /* weight per value index */
  double *lc;      /* log1p(cnt / laplace), per value index */
  size_t cap, lcap;
  double sum;      /* weight of the class's non-missing values */
  double nv;       /* values in MOA's sense: largest index learned + 1 */
  double lk;       /* log(laplace) - log(sum + laplace * nv) */
} nb_nom_t;

typedef struct {
  size_t d, nn, nm;       /* attributes; numeric and nominal ones */
  int identity;           /* every attribute is numeric (num_idx[j] == j) */
  uint32_t *num_idx;      /* schema index of each numeric attribute */
  uint32_t *nom_idx;      /* schema index of each nominal attribute */
  uint32_t *pos;          /* per schema attribute: its index in num_idx or nom_idx */
  size_t k, kcap;         /* class slots in use and allocated */
  /* per class */
  double *cw;             /* weight learned */
  double *base;           /* log(cw) + the attributes' log normalisers */
  uint32_t *ndeg;         /* numeric attributes with variance 0 */
  uint8_t *cmiss;         /* the class has learned a missing numeric value */
  /* per class and numeric attribute, stride nn */
  double *w, *mean, *m2;  /* Welford: weight, mean, sum of squared deviations */
  double *h;              /* 1 / (2 var), 0 when var is 0 or there is no data */
  /* per class and nominal attribute, stride nm */
  nb_nom_t *nom;
  /* per nominal attribute: weight of each value over all classes */
  double **tot;
  size_t *tcap;
  /* all rows, per numeric attribute (for var_smoothing) */
  double *gw, *gmean, *gm2;
  double eps;
  /* scratch for predict and learn */
  double *xn;             /* numeric values of the instance */
  uint8_t *present;       /* 1 when that value is usable */
  double *lv;             /* per class log posterior (unnormalised) */
} nb_t;

/* ------------------------------------------------------------- helpers */

/* A product kept as mantissa and binary exponent, so that the log of a
 * product of many variances costs one log and never overflows. */
typedef struct {
  double m;
  int64_t e;
  unsigned n;
} nb_prod_t;

static inline void nb_split(double v, double *mant, int64_t *e) {
  uint64_t b;
  memcpy(&b, &v, sizeof b);
  *e += (int64_t)(b >> 52) - 1023;
  b = (b & 0xfffffffffffffull) | 0x3ff0000000000000ull;
  memcpy(mant, &b, sizeof b);
}

/* v: positive and finite. */
static inline void nb_prod_mul(nb_prod_t *p, double v) {
  double f;
  if (v < DBL_MIN) {
    v *= 0x1p64;
    p->e -= 64;
  }
  nb_split(v, &f, &p->e);
  p->m *= f;
  if (++p->n == 512) { /* m < 2^512: renormalise before it can overflow */
    nb_split(p->m, &p->m, &p->e);
    p->n = 0;
  }
}

static inline double nb_prod_log(const nb_prod_t *p) {
  return log(p->m) + (double)p->e * 0.69314718055994530942;
}

/* Pairs of doubles (GCC/Clang vector extensions: SSE2 on x86-64, NEON on
 * arm64) for the per-attribute loops of learn. */
typedef double nb_v2 __attribute__((vector_size(16)));
typedef long long nb_i2 __attribute__((vector_size(16)));

static inline nb_v2 nb_ld(const double *p) {
  nb_v2 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void nb_st(double *p, nb_v2 v) { memcpy(p, &v, sizeof v); }

/* Grows a row-major array from oldcap to newcap rows of row bytes, zeroing
 * the new rows. */
static int nb_rows(void **arr, size_t oldcap, size_t newcap, size_t row) {
  /* Rows of 0 bytes (no numeric, or no nominal attributes) still get a
   * pointer: `m->w + c * nn` and memset on NULL are undefined. */
  size_t bytes = newcap * row;
  void *p = realloc(*arr, bytes ? bytes : 1);
  if (!p) return EDDY_ENOMEM;
  memset((char *)p + oldcap * row, 0, (newcap - oldcap) * row);
  *arr = p;
  return 0;
}

static int nb_grow_classes(nb_t *m, size_t need) {
  if (need <= m->kcap) return 0;
  size_t cap = m->kcap ? m->kcap : 2;
  while (cap < need) cap *= 2;
  size_t o = m->kcap, nn = m->nn * sizeof(double);
  if (nb_rows((void **)&m->cw, o, cap, sizeof *m->cw) ||
      nb_rows((void **)&m->base, o, cap, sizeof *m->base) ||
      nb_rows((void **)&m->ndeg, o, cap, sizeof *m->ndeg) ||
      nb_rows((void **)&m->cmiss, o, cap, sizeof *m->cmiss) ||
      nb_rows((void **)&m->lv, o, cap, sizeof *m->lv) ||
      nb_rows((void **)&m->w, o, cap, nn) || nb_rows((void **)&m->mean, o, cap, nn) ||
      nb_rows((void **)&m->m2, o, cap, nn) || nb_rows((void **)&m->h, o, cap, nn) ||
      nb_rows((void **)&m->nom, o, cap, m->nm * sizeof *m->nom))
    return EDDY_ENOMEM;
  m->kcap = cap;
  return 0;
}

/* The variance the model uses for a Gaussian with weight w and sum of
 * squares m2, given 1 / (w - 1) or 1 / w as inv. */
static inline double nb_inv_den(const nb_params_t *p, double w) {
  double den = p->variance == NB_VAR_SAMPLE ? w - 1.0 : w;
  return den > 0 ? 1.0 / den : 0.0;
}

static double nb_var(const nb_params_t *p, const nb_t *m, size_t c, size_t j) {
  size_t i = c * m->nn + j;
  return m->m2[i] * nb_inv_den(p, m->w[i]) + m->eps;
}

/* Recomputes class c's cached 1 / (2 var), degenerate count and log
 * normaliser (log prior included) from its statistics: the same bits
 * whenever the statistics are the same, so a loaded model predicts as the
 * saved one did. */
static void nb_refresh(const nb_params_t *p, nb_t *m, size_t c) {
  const size_t nn = m->nn;
  const double *w = m->w + c * nn, *m2 = m->m2 + c * nn;
  double *h = m->h + c * nn;
  const double eps = m->eps;
  /* Two products (two dependency chains); the prior's weight goes in as
   * 1 / cw^2 so that one log gives log(cw) - 0.5 sum log(var). */
  nb_prod_t p0 = {1.0, 0, 0}, p1 = {1.0, 0, 0}, prior = {1.0, 0, 0};
  double f;
  nb_split(m->cw[c], &f, &prior.e); /* cw = f 2^e, 1 / cw^2 = 2^-2e / f^2 */
  prior.m = 1.0 / (f * f);
  prior.e *= -2;
  uint32_t deg = 0, used = 0;
  int fast = nn && !m->cmiss[c] && w[0] > 0;
  if (fast) { /* every attribute has the class's weight */
    /* Two lanes at a time; any variance outside [2^-64, 2^64] (zero
     * included) sends the class to the general loop below. Each lane's
     * product is renormalised every 8 steps, so it stays within 2^+-520. */
    const double inv = nb_inv_den(p, w[0]);
    const nb_v2 inv2 = {inv, inv}, eps2 = {eps, eps}, half = {0.5, 0.5};
    const nb_v2 lo = {0x1p-64, 0x1p-64}, hi = {0x1p64, 0x1p64};
    nb_v2 pv = {1.0, 1.0};
    nb_i2 bad = {0, 0};
    size_t j = 0;
    unsigned steps = 0;
    for (; j + 1 < nn; j += 2) {
      nb_v2 v = nb_ld(m2 + j) * inv2 + eps2;
      bad |= (v < lo) | (v > hi) | (v != v);
      nb_st(h + j, half / v);
      pv *= v;
      if (++steps == 8) {
        double l0 = pv[0], l1 = pv[1];
        nb_split(l0, &l0, &p0.e);
        nb_split(l1, &l1, &p1.e);
        pv = (nb_v2){l0, l1};
        steps = 0;
      }
    }
    for (; j < nn; j++) {
      double v0 = m2[j] * inv + eps;
      bad[0] |= !(v0 >= 0x1p-64 && v0 <= 0x1p64);
      h[j] = 0.5 / v0;
      nb_prod_mul(&p0, v0);
    }
    if (bad[0] | bad[1]) {
      fast = 0;
      p0 = (nb_prod_t){1.0, 0, 0};
      p1 = p0;
    } else {
      nb_prod_mul(&p0, pv[0]);
      nb_prod_mul(&p1, pv[1]);
      used = (uint32_t)nn;
    }
  }
  if (!fast) {
    double last_w = -1, inv = 0;
    for (size_t j = 0; j < nn; j++) {
      double wj = w[j];
      if (!(wj > 0)) { /* no observation: the attribute says nothing */
        h[j] = 0;
        continue;
      }
      if (wj != last_w) {
        last_w = wj;
        inv = nb_inv_den(p, wj);
      }
      double var = m2[j] * inv + eps;
      if (var >= DBL_MIN && var < INFINITY) {
        h[j] = 0.5 / var;
        nb_prod_mul(&p0, var);
        used++;
      } else { /* 0 (or subnormal): a point mass; infinite: says nothing */
        h[j] = 0;
        deg += var < DBL_MIN;
      }
    }
  }
  nb_prod_t all = {prior.m, p0.e + p1.e + prior.e, 0};
  double f0, f1;
  nb_split(p0.m, &f0, &all.e);
  nb_split(p1.m, &f1, &all.e);
  all.m *= f0 * f1;
  double ln = -0.5 * (nb_prod_log(&all) + used * LOG_2PI);
  const nb_nom_t *q = m->nom + c * m->nm;
  for (size_t a = 0; a < m->nm; a++)
    if (q[a].sum > 0) ln += q[a].lk;
  m->base[c] = ln;
  m->ndeg[c] = deg;
}

static void nb_refresh_all(const nb_params_t *p, nb_t *m) {
  for (size_t c = 0; c < m->k; c++) nb_refresh(p, m, c);
}

static double nb_epsilon(const nb_params_t *p, const nb_t *m) {
  if (p->var_smoothing <= 0) return 0;
  double mx = 0;
  for (size_t j = 0; j < m->nn; j++) {
    double v = m->gw[j] > 0 ? m->gm2[j] / m->gw[j] : 0;
    if (v > mx) mx = v;
  }
  return p->var_smoothing * mx;
}

static void nb_nom_cache(const nb_params_t *p, nb_nom_t *q) {
  q->lk = log(p->laplace) - log(q->sum + p->laplace * q->nv);
}

/* The instance's numeric values, contiguous: x->x itself when every
 * attribute is numeric, else a copy in scratch. *all is 1 when every one is
 * usable (present and finite); otherwise m->present says which are, and
 * the others read 0. */
static inline const double *nb_gather(nb_t *m, const eddy_instance_t *x, int *all) {
  const size_t nn = m->nn;
  const double *restrict xx = x->x;
  const uint8_t *restrict miss = x->missing;
  const uint32_t *restrict idx = m->num_idx;
  double *restrict xn = m->xn;
  unsigned bad = 0;
  double z = 0; /* stays 0 unless a value is infinite or NaN */
  if (m->identity) {
    for (size_t j = 0; j < nn; j++) {
      bad |= miss[j];
      z += xx[j] * 0.0;
    }
  } else {
    for (size_t j = 0; j < nn; j++) {
      size_t a = idx[j];
      bad |= miss[a];
      xn[j] = xx[a];
      z += xx[a] * 0.0;
    }
  }
  if (!bad && z == 0) {
    *all = 1;
    return m->identity ? xx : xn;
  }
  uint8_t *restrict pr = m->present;
  for (size_t j = 0; j < nn; j++) {
    size_t a = idx[j];
    double v = xx[a];
    int ok = !miss[a] && isfinite(v);
    pr[j] = (uint8_t)ok;
    xn[j] = ok ? v : 0.0;
  }
  *all = 0;
  return xn;
}

/* A nominal value no class has learned (or not a valid index): it says
 * nothing about the class. */
static inline int nb_unseen(const nb_t *m, size_t a, double v) {
  if (!(v >= 0) || v >= (double)m->tcap[a]) return 1;
  return !(m->tot[a][(size_t)v] > 0);
}

/* ------------------------------------------------------------ interface */

static int nb_init(eddy_learner_t *l, char *errstr, size_t errstr_size) {
  nb_t *m = l->state;
  const eddy_schema_t *s = l->schema;
  m->d = s->n_attrs;
  for (size_t i = 0; i < m->d; i++) {
    if (s->attrs[i].kind == EDDY_NOMINAL)
      m->nm++;
    else
      m->nn++;
  }
  size_t nn1 = m->nn ? m->nn : 1, nm1 = m->nm ? m->nm : 1;
  m->num_idx = calloc(nn1, sizeof *m->num_idx);
  m->nom_idx = calloc(nm1, sizeof *m->nom_idx);
  m->pos = calloc(m->d ? m->d : 1, sizeof *m->pos);
  m->tot = calloc(nm1, sizeof *m->tot);
  m->tcap = calloc(nm1, sizeof *m->tcap);
  m->gw = calloc(nn1, sizeof *m->gw);
  m->gmean = calloc(nn1, sizeof *m->gmean);
  m->gm2 = calloc(nn1, sizeof *m->gm2);
  m->xn = calloc(nn1, sizeof *m->xn);
  m->present = calloc(nn1, 1);
  if (!m->num_idx || !m->nom_idx || !m->pos || !m->tot || !m->tcap || !m->gw || !m->gmean ||
      !m->gm2 || !m->xn || !m->present || nb_grow_classes(m, 2))
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "naive_bayes: out of memory");
  for (size_t i = 0, a = 0, j = 0; i < m->d; i++) {
    if (s->attrs[i].kind == EDDY_NOMINAL) {
      m->pos[i] = (uint32_t)a;
      m->nom_idx[a++] = (uint32_t)i;
    } else {
      m->pos[i] = (uint32_t)j;
      m->num_idx[j++] = (uint32_t)i;
    }
  }
  m->identity = m->nn == m->d;
  return 0;
}

/* Class c's vote as MOA's NaiveBayes computes it: the prior times each
 * attribute's density or smoothed frequency, multiplied in attribute order
 * in linear space (with eddy's factor 1 for what says nothing). Only its
 * being 0 is used: where the product underflows. */
static double nb_moa_vote(const eddy_learner_t *l, size_t c, const eddy_instance_t *x,
                          const double *xn, int all) {
  const nb_params_t *p = l->params;
  const nb_t *m = l->state;
  double total = 0;
  for (size_t i = 0; i < m->k; i++) total += m->cw[i];
  double v = m->cw[c] / total;
  for (size_t i = 0; i < m->d && v != 0; i++) {
    size_t j = m->pos[i];
    if (x->missing[i]) continue;
    if (l->schema->attrs[i].kind == EDDY_NOMINAL) {
      const nb_nom_t *q = &m->nom[c * m->nm + j];
      if (!(q->sum > 0) || nb_unseen(m, j, x->x[i])) continue;
      size_t vi = (size_t)x->x[i];
      double cnt = vi < q->cap ? q->cnt[vi] : 0;
      v *= (cnt + p->laplace) / (q->sum + p->laplace * q->nv);
    } else {
      size_t ci = c * m->nn + j;
      if (!(all || m->present[j]) || !(m->w[ci] > 0)) continue;
      double sd = sqrt(nb_var(p, m, c, j)), val = xn[j];
      if (sd > 0) {
        double diff = val - m->mean[ci];
        v *= (1.0 / (2.5066282746310002 * sd)) * exp(-(diff * diff / (2.0 * sd * sd)));
      } else if (val != m->mean[ci]) {
        v = 0;
      }
    }
  }
  return v;
}

/* The log of class c's joint likelihood with x (up to a constant shared
 * by the classes); -INFINITY when c is impossible. xn: x's numeric values
 * gathered (all: none missing). */
static inline double nb_class_score(const nb_params_t *p, const nb_t *m, const eddy_instance_t *x,
                                    const double *restrict xn, int all, size_t c) {
  const size_t nn = m->nn, nm = m->nm;
  if (!(m->cw[c] > 0)) return -INFINITY;
  double s = m->base[c];
  const double *restrict mu = m->mean + c * nn, *restrict h = m->h + c * nn;
  double a0 = 0, a1 = 0;
  if (all) {
    size_t j = 0;
    for (; j + 1 < nn; j += 2) {
      double d0 = xn[j] - mu[j], d1 = xn[j + 1] - mu[j + 1];
      a0 += d0 * d0 * h[j];
      a1 += d1 * d1 * h[j + 1];
    }
    if (j < nn) {
      double d0 = xn[j] - mu[j];
      a0 += d0 * d0 * h[j];
    }
  } else {
    for (size_t j = 0; j < nn; j++) {
      if (m->present[j]) {
        double d0 = xn[j] - mu[j];
        a0 += d0 * d0 * h[j];
      } else if (h[j] > 0) { /* take its normaliser back out */
        s += 0.5 * (log(nb_var(p, m, c, j)) + LOG_2PI);
      }
    }
  }
  if (m->ndeg[c]) { /* variance 0: density 1 at the mean, 0 elsewhere */
    const double *w = m->w + c * nn;
    for (size_t j = 0; j < nn; j++)
      if (h[j] == 0 && w[j] > 0 && (all || m->present[j]) && xn[j] != mu[j] && nb_var(p, m, c, j) < DBL_MIN)
        return -INFINITY;
  }
  const nb_nom_t *q = nm ? m->nom + c * nm : NULL;
  for (size_t a = 0; a < nm; a++) {
    if (!(q[a].sum > 0)) continue; /* not in base */
    size_t i = m->nom_idx[a];
    double v = x->x[i];
    if (x->missing[i] || nb_unseen(m, a, v)) {
      s -= q[a].lk;
      continue;
    }
    size_t vi = (size_t)v;
    if (vi < q[a].lcap) s += q[a].lc[vi];
  }
  return s - (a0 + a1);
}

static int nb_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out, size_t out_len) {
  nb_t *m = l->state;
  size_t n = eddy_schema_n_classes(l->schema);
  if (out_len < n) return EDDY_ENOSPC;
  if (x->n < m->d) return EDDY_EINVAL;
  const nb_params_t *p = l->params;
  const size_t k = m->k < n ? m->k : n;
  int all;
  const double *restrict xn = nb_gather(m, x, &all);
  double *restrict lv = m->lv;
  double best = -INFINITY;
  for (size_t c = 0; c < k; c++) {
    lv[c] = nb_class_score(p, m, x, xn, all, c);
    if (lv[c] > best) best = lv[c];
  }
  if (p->moa_underflow && best < -600) {
    /* MOA's linear product may be 0 here: such classes get 0, and when
     * every class does, so does the output (MOA then predicts class 0). */
    best = -INFINITY;
    for (size_t c = 0; c < k; c++) {
      if (lv[c] > -INFINITY && nb_moa_vote(l, c, x, xn, all) == 0) lv[c] = -INFINITY;
      if (lv[c] > best) best = lv[c];
    }
  }
  if (best == -INFINITY || best != best) { /* nothing learned, or no class possible */
    memset(out, 0, n * sizeof *out);
    return (int)n;
  }
  double total = 0;
  for (size_t c = 0; c < k; c++) {
    double z = lv[c] - best; /* exp gives exactly 0 below -745.2 */
    double e = z == 0 ? 1.0 : z < -746 ? 0.0 : exp(z);
    out[c] = e;
    total += e;
  }
  double inv = 1.0 / total;
  for (size_t c = 0; c < k; c++) out[c] *= inv;
  for (size_t c = k; c < n; c++) out[c] = 0;
  return (int)n;
}

static inline void nb_welford(double *w, double *mean, double *m2, double x, double wt) {
  double wo = *w, wn = wo + wt;
  if (wo > 0) {
    double d = x - *mean;
    *mean += wt * d / wn;
    *m2 += wt * d * (x - *mean);
  } else {
    *mean = x;
  }
  *w = wn;
}

/* Class c's Gaussian statistics learn the numeric values xn (all: none
 * missing) with weight wt. */
static inline void nb_learn_numeric(nb_t *m, size_t c, const double *xn, int all, double wt) {
  const size_t nn = m->nn;
  double *w = m->w + c * nn, *mu = m->mean + c * nn, *m2 = m->m2 + c * nn;
  if (all && !m->cmiss[c] && nn) {
    /* every attribute of the class has the same weight: one division */
    double wo = w[0], wn = wo + wt;
    if (wo > 0) {
      double r = wt / wn;
      const nb_v2 r2 = {r, r}, wt2 = {wt, wt}, wn2 = {wn, wn};
      size_t j = 0;
      for (; j + 1 < nn; j += 2) {
        nb_v2 xv = nb_ld(xn + j), mv = nb_ld(mu + j);
        nb_v2 d = xv - mv;
        mv += r2 * d;
        nb_st(mu + j, mv);
        nb_st(m2 + j, nb_ld(m2 + j) + wt2 * d * (xv - mv));
        nb_st(w + j, wn2);
      }
      for (; j < nn; j++) {
        double d = xn[j] - mu[j];
        mu[j] += r * d;
        m2[j] += wt * d * (xn[j] - mu[j]);
        w[j] = wn;
      }
    } else {
      for (size_t j = 0; j < nn; j++) {
        mu[j] = xn[j];
        w[j] = wn;
      }
    }
  } else {
    if (!all) m->cmiss[c] = 1;
    for (size_t j = 0; j < nn; j++)
      if (all || m->present[j]) nb_welford(&w[j], &mu[j], &m2[j], xn[j], wt);
  }
}

/* Class c's counts learn x's nominal values with weight wt (their arrays
 * were grown by nb_learn before any change). */
static inline void nb_learn_nominal(const nb_params_t *p, nb_t *m, const eddy_instance_t *x, size_t c,
                                    double wt) {
  for (size_t a = 0; a < m->nm; a++) {
    size_t i = m->nom_idx[a];
    if (x->missing[i]) continue;
    size_t v = (size_t)x->x[i];
    nb_nom_t *q = &m->nom[c * m->nm + a];
    q->cnt[v] += wt;
    q->lc[v] = log1p(q->cnt[v] / p->laplace);
    q->sum += wt;
    if ((double)v + 1 > q->nv) q->nv = (double)v + 1;
    nb_nom_cache(p, q);
    m->tot[a][v] += wt;
  }
}

static int nb_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  nb_t *m = l->state;
  const nb_params_t *p = l->params;
  if (!x->has_y || x->n < m->d) return EDDY_EINVAL;
  double y = x->y;
  if (!(y >= 0) || y >= 4294967295.0 || y != floor(y)) return EDDY_EINVAL;
  double wt = x->weight;
  if (!(wt > 0) || !(wt < INFINITY)) return 0; /* a weight of 0 teaches nothing */
  size_t c = (size_t)y, nn = m->nn;
  /* Everything that can fail comes before the first change. */
  for (size_t a = 0; a < m->nm; a++) {
    size_t i = m->nom_idx[a];
    double v = x->x[i];
    if (x->missing[i]) continue;
    if (!(v >= 0) || v >= 4294967295.0 || v != floor(v)) return EDDY_EINVAL;
  }
  if (c >= m->k) {
    if (nb_grow_classes(m, c + 1)) return EDDY_ENOMEM;
    m->k = c + 1;
  }
  for (size_t a = 0; a < m->nm; a++) {
    size_t i = m->nom_idx[a];
    if (x->missing[i]) continue;
    size_t v = (size_t)x->x[i];
    nb_nom_t *q = &m->nom[c * m->nm + a];
    if (eddy_grow((void **)&q->cnt, &q->cap, v + 1, sizeof *q->cnt) ||
        eddy_grow((void **)&q->lc, &q->lcap, v + 1, sizeof *q->lc) ||
        eddy_grow((void **)&m->tot[a], &m->tcap[a], v + 1, sizeof *m->tot[a]))
      return EDDY_ENOMEM;
  }

  m->cw[c] += wt;

  int all;
  const double *xn = nb_gather(m, x, &all);
  nb_learn_numeric(m, c, xn, all, wt);
  nb_learn_nominal(p, m, x, c, wt);

  if (p->var_smoothing > 0) {
    for (size_t j = 0; j < nn; j++)
      if (all || m->present[j]) nb_welford(&m->gw[j], &m->gmean[j], &m->gm2[j], xn[j], wt);
    double eps = nb_epsilon(p, m);
    if (eps != m->eps) {
      m->eps = eps;
      nb_refresh_all(p, m);
      return 0;
    }
  }
  nb_refresh(p, m, c);
  return 0;
}

static void nb_reset(eddy_learner_t *l) {
  nb_t *m = l->state;
  size_t K = m->kcap, nn = m->nn;
  memset(m->cw, 0, K * sizeof *m->cw);
  memset(m->base, 0, K * sizeof *m->base);
  memset(m->ndeg, 0, K * sizeof *m->ndeg);
  memset(m->cmiss, 0, K * sizeof *m->cmiss);
  if (nn) {
    memset(m->w, 0, K * nn * sizeof *m->w);
    memset(m->mean, 0, K * nn * sizeof *m->mean);
    memset(m->m2, 0, K * nn * sizeof *m->m2);
    memset(m->h, 0, K * nn * sizeof *m->h);
  }
  for (size_t i = 0; i < K * m->nm; i++) {
    nb_nom_t *q = &m->nom[i];
    if (q->cap) memset(q->cnt, 0, q->cap * sizeof *q->cnt);
    if (q->lcap) memset(q->lc, 0, q->lcap * sizeof *q->lc);
    q->sum = q->nv = q->lk = 0;
  }
  for (size_t a = 0; a < m->nm; a++)
    if (m->tcap[a]) memset(m->tot[a], 0, m->tcap[a] * sizeof *m->tot[a]);
  for (size_t j = 0; j < nn; j++) m->gw[j] = m->gmean[j] = m->gm2[j] = 0;
  m->eps = 0;
  m->k = 0;
}

/* Body: u8 version, u64 d, nn, nm, k; per class cw, cmiss; per class and
 * numeric attribute w, mean, m2; per class and nominal attribute sum, nv
 * and nv counts; per nominal attribute its used value totals; per numeric
 * attribute the all-rows w, mean, m2. Caches are recomputed on load. */
#define NB_BODY_VERSION 1

static int nb_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const nb_t *m = l->state;
  size_t k = m->k, nn = m->nn;
  eddy_buf_put_u8(b, NB_BODY_VERSION);
  eddy_buf_put_u64(b, m->d);
  eddy_buf_put_u64(b, nn);
  eddy_buf_put_u64(b, m->nm);
  eddy_buf_put_u64(b, k);
  eddy_buf_put_f64s(b, m->cw, k);
  eddy_buf_put(b, m->cmiss, k);
  eddy_buf_put_f64s(b, m->w, k * nn);
  eddy_buf_put_f64s(b, m->mean, k * nn);
  eddy_buf_put_f64s(b, m->m2, k * nn);
  for (size_t i = 0; i < k * m->nm; i++) {
    const nb_nom_t *q = &m->nom[i];
    eddy_buf_put_f64(b, q->sum);
    eddy_buf_put_u64(b, (uint64_t)q->nv);
    eddy_buf_put_f64s(b, q->cnt, (size_t)q->nv);
  }
  for (size_t a = 0; a < m->nm; a++) {
    size_t used = 0; /* largest value learned by any class, + 1 */
    for (size_t c = 0; c < k; c++)
      if (m->nom[c * m->nm + a].nv > (double)used) used = (size_t)m->nom[c * m->nm + a].nv;
    eddy_buf_put_u64(b, used);
    eddy_buf_put_f64s(b, m->tot[a], used);
  }
  eddy_buf_put_f64s(b, m->gw, nn);
  eddy_buf_put_f64s(b, m->gmean, nn);
  eddy_buf_put_f64s(b, m->gm2, nn);
  return b->err;
}

static int nb_load(eddy_learner_t *l, eddy_reader_t *r) {
  nb_t *m = l->state;
  const nb_params_t *p = l->params;
  nb_reset(l);
  if (eddy_read_u8(r) != NB_BODY_VERSION) return r->err ? r->err : EDDY_EVERSION;
  uint64_t d = eddy_read_u64(r), nn = eddy_read_u64(r), nm = eddy_read_u64(r);
  if (r->err) return r->err;
  if (d != m->d || nn != m->nn || nm != m->nm) return EDDY_ECORRUPT;
  size_t k = eddy_read_count(r, 8 + 1 + 24 * nn);
  if (r->err) return r->err;
  if (k) {
    if (nb_grow_classes(m, k)) return EDDY_ENOMEM;
    m->k = k;
  }
  eddy_read_f64s(r, m->cw, k);
  eddy_read(r, m->cmiss, k);
  eddy_read_f64s(r, m->w, k * nn);
  eddy_read_f64s(r, m->mean, k * nn);
  eddy_read_f64s(r, m->m2, k * nn);
  if (r->err) return r->err;
  for (size_t i = 0; i < k * m->nm; i++) {
    nb_nom_t *q = &m->nom[i];
    q->sum = eddy_read_f64(r);
    size_t nv = eddy_read_count(r, 8);
    if (r->err) return r->err;
    if (nv && (eddy_grow((void **)&q->cnt, &q->cap, nv, sizeof *q->cnt) ||
               eddy_grow((void **)&q->lc, &q->lcap, nv, sizeof *q->lc)))
      return EDDY_ENOMEM;
    eddy_read_f64s(r, q->cnt, nv);
    q->nv = (double)nv;
    for (size_t v = 0; v < nv; v++) q->lc[v] = log1p(q->cnt[v] / p->laplace);
    nb_nom_cache(p, q);
  }
  for (size_t a = 0; a < m->nm; a++) {
    size_t used = eddy_read_count(r, 8);
    if (r->err) return r->err;
    if (used && eddy_grow((void **)&m->tot[a], &m->tcap[a], used, sizeof *m->tot[a]))
      return EDDY_ENOMEM;
    eddy_read_f64s(r, m->tot[a], used);
  }
  eddy_read_f64s(r, m->gw, nn);
  eddy_read_f64s(r, m->gmean, nn);
  eddy_read_f64s(r, m->gm2, nn);
  if (r->err) return r->err;
  m->eps = nb_epsilon(p, m);
  nb_refresh_all(p, m);
  return 0;
}

static size_t nb_memory(const eddy_learner_t *l) {
  const nb_t *m = l->state;
  size_t K = m->kcap, nn = m->nn;
  size_t s = sizeof *m;
  s += (m->d ? m->d : 1) * sizeof *m->pos;
  s += (m->nn ? m->nn : 1) * (sizeof *m->num_idx + 3 * sizeof(double) + sizeof *m->xn + 1);
  s += (m->nm ? m->nm : 1) * (sizeof *m->nom_idx + sizeof *m->tot + sizeof *m->tcap);
  s += K * (3 * sizeof(double) + sizeof *m->ndeg + sizeof *m->cmiss);
  s += K * nn * 4 * sizeof(double);
  s += K * m->nm * sizeof *m->nom;
  for (size_t i = 0; i < K * m->nm; i++) s += (m->nom[i].cap + m->nom[i].lcap) * sizeof(double);
  for (size_t a = 0; a < m->nm; a++) s += m->tcap[a] * sizeof(double);
  return s;
}

static void nb_destroy(eddy_learner_t *l) {
  nb_t *m = l->state;
  for (size_t i = 0; i < m->kcap * m->nm; i++) {
    free(m->nom[i].cnt);
    free(m->nom[i].lc);
  }
  for (size_t a = 0; m->tot && a < m->nm; a++) free(m->tot[a]);
  free(m->num_idx);
  free(m->nom_idx);
  free(m->pos);
  free(m->cw);
  free(m->base);
  free(m->ndeg);
  free(m->cmiss);
  free(m->w);
  free(m->mean);
  free(m->m2);
  free(m->h);
  free(m->nom);
  free(m->tot);
  free(m->tcap);
  free(m->gw);
  free(m->gmean);
  free(m->gm2);
  free(m->xn);
  free(m->present);
  free(m->lv);
}

static void nb_describe(const eddy_learner_t *l, FILE *out) {
  const nb_t *m = l->state;
  const nb_params_t *p = l->params;
  const eddy_schema_t *s = l->schema;
  fprintf(out, "naive_bayes: %zu classes, %zu numeric and %zu nominal attributes, %zu bytes\n",
          m->k, m->nn, m->nm, eddy_learner_memory(l));
  for (size_t c = 0; c < m->k; c++) {
    const char *name = eddy_dict_name(s->target.dict, (uint32_t)c);
    fprintf(out, "class %s: weight %.17g\n", name ? name : "?", m->cw[c]);
    for (size_t j = 0; j < m->nn; j++)
      fprintf(out, "  %s: weight %.17g mean %.17g variance %.17g\n",
              s->attrs[m->num_idx[j]].name, m->w[c * m->nn + j], m->mean[c * m->nn + j],
              nb_var(p, m, c, j));
    for (size_t a = 0; a < m->nm; a++) {
      const nb_nom_t *q = &m->nom[c * m->nm + a];
      fprintf(out, "  %s: weight %.17g, %zu values\n", s->attrs[m->nom_idx[a]].name, q->sum,
              (size_t)q->nv);
    }
  }
}

static int nb_export(const eddy_learner_t *l, eddy_buf_t *b);

const eddy_learner_type_t eddy_learner_naive_bayes = {
    .name = "naive_bayes",
    .description = "naive Bayes: Gaussian numeric and Laplace-smoothed nominal attributes "
                   "(MOA's NaiveBayes; scikit-learn's GaussianNB with variance = population, "
                   "var_smoothing = 1e-9)",
    .tasks = EDDY_CLASSIFICATION,
    .options = nb_options,
    .params_size = sizeof(nb_params_t),
    .state_size = sizeof(nb_t),
    .init = nb_init,
    .predict = nb_predict,
    .learn = nb_learn,
    .reset = nb_reset,
    .save = nb_save,
    .load = nb_load,
    .memory = nb_memory,
    .destroy = nb_destroy,
    .describe = nb_describe,
    .export_json = nb_export,
};

/* -------------------------------------------------------------- access */

static const nb_t *nb_of(const eddy_learner_t *l) {
  return l && l->type == &eddy_learner_naive_bayes ? l->state : NULL;
}

double eddy_naive_bayes_class_weight(const eddy_learner_t *l, size_t c) {
  const nb_t *m = nb_of(l);
  if (!m) return EDDY_EINVAL;
  return c < m->k ? m->cw[c] : 0.0;
}

int eddy_naive_bayes_gaussian(const eddy_learner_t *l, size_t c, size_t attr, double *weight,
                              double *mean, double *var) {
  const nb_t *m = nb_of(l);
  if (!m || attr >= m->d) return EDDY_EINVAL;
  size_t j = 0;
  while (j < m->nn && m->num_idx[j] != attr) j++;
  if (j == m->nn) return EDDY_EINVAL;
  if (c >= m->k) return EDDY_ERANGE;
  if (weight) *weight = m->w[c * m->nn + j];
  if (mean) *mean = m->mean[c * m->nn + j];
  if (var) *var = nb_var(l->params, m, c, j);
  return 0;
}

double eddy_naive_bayes_epsilon(const eddy_learner_t *l) {
  const nb_t *m = nb_of(l);
  return m ? m->eps : 0.0;
}

/* ---------------------------------------------------------------- export */

static void nb_put_name(eddy_buf_t *b, const char *s) { eddy_json_string(b, s ? s : "", s ? strlen(s) : 0); }

/* Naive Bayes as JSON: per class its weight, per numeric attribute the
 * Gaussian the model uses (weight, mean, variance), per nominal attribute
 * the weight of each value. */
static int nb_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const nb_t *m = l->state;
  const eddy_schema_t *s = l->schema;
  eddy_buf_printf(b, "{\"family\":\"naive_bayes\",\"classes\":[");
  for (size_t c = 0; c < m->k; c++) {
    eddy_buf_printf(b, "%s{\"class\":", c ? "," : "");
    nb_put_name(b, eddy_dict_name(s->target.dict, (uint32_t)c));
    eddy_buf_printf(b, ",\"weight\":");
    eddy_json_double(b, m->cw[c]);
    eddy_buf_printf(b, ",\"numeric\":{");
    for (size_t j = 0; j < m->nn; j++) {
      double w, mean, var;
      eddy_naive_bayes_gaussian(l, c, m->num_idx[j], &w, &mean, &var);
      if (j) eddy_buf_put_u8(b, ',');
      nb_put_name(b, s->attrs[m->num_idx[j]].name);
      eddy_buf_printf(b, ":{\"weight\":");
      eddy_json_double(b, w);
      eddy_buf_printf(b, ",\"mean\":");
      eddy_json_double(b, mean);
      eddy_buf_printf(b, ",\"variance\":");
      eddy_json_double(b, var);
      eddy_buf_put_u8(b, '}');
    }
    eddy_buf_printf(b, "},\"nominal\":{");
    for (size_t j = 0; j < m->nm; j++) {
      const nb_nom_t *nm = &m->nom[c * m->nm + j];
      const eddy_dict_t *d = s->attrs[m->nom_idx[j]].dict;
      if (j) eddy_buf_put_u8(b, ',');
      nb_put_name(b, s->attrs[m->nom_idx[j]].name);
      eddy_buf_put(b, ":{", 2);
      size_t nv = eddy_dict_size(d) < nm->cap ? eddy_dict_size(d) : nm->cap;
      for (size_t v = 0; v < nv; v++) {
        if (v) eddy_buf_put_u8(b, ',');
        nb_put_name(b, eddy_dict_name(d, (uint32_t)v));
        eddy_buf_put_u8(b, ':');
        eddy_json_double(b, nm->cnt[v]);
      }
      eddy_buf_put_u8(b, '}');
    }
    eddy_buf_printf(b, "}}");
  }
  eddy_buf_printf(b, "]}");
  return b->err;
}
