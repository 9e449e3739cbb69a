/* linear.c: the core of the online linear models (learners/linear_*.c):
 * feature mapping (dense numeric weights, hashed one-hot nominal values),
 * online standardization, the optimizers and their per-weight state,
 * L1/L2 penalties with cumulative L1 truncation, intercepts, class weights,
 * and the shared reset/save/load/memory of every linear learner. See the
 * "linear model core" section of learners.h for the semantics. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/linear/linear.h"

const char *const eddy_linear_optimizer_names[] = {"sgd",  "adagrad", "rmsprop", "adam",
                                                   "ftrl", "vw",      NULL};
const char *const eddy_linear_schedule_names[] = {"constant", "invscaling", NULL};

/* River's default rates of its optimizers (AdaGrad, RMSProp, Adam 0.1;
 * FTRLProximal alpha 0.05) and VW's -l 0.5; sgd's is the learner's. */
static const double default_rate[] = {0, 0.1, 0.1, 0.1, 0.05, 0.5};

#define CORE_VERSION 1

static int uses_acc1(const eddy_linear_t *m) { return m->o.optimizer != EDDY_LIN_SGD; }
static int uses_acc2(const eddy_linear_t *m) {
  return m->o.optimizer == EDDY_LIN_ADAM || m->o.optimizer == EDDY_LIN_FTRL;
}
static int uses_q(const eddy_linear_t *m) {
  return m->o.l1 > 0 && m->o.optimizer != EDDY_LIN_FTRL;
}

double eddy_sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* calloc that gives a valid pointer for n == 0 too. */
static void *zalloc(size_t n, size_t size) { return calloc(n ? n : 1, size); }

static void cw_free(eddy_linear_t *m) {
  for (size_t i = 0; i < m->cw_n; i++) free(m->cw_list[i].label);
  free(m->cw_list);
  m->cw_list = NULL;
  m->cw_n = 0;
}

/* "balanced" or "label:weight, label:weight"; the weight follows the last ':'. */
static int cw_parse(eddy_linear_t *m, const char *spec, char *errstr, size_t errstr_size) {
  while (*spec == ' ' || *spec == '\t') spec++;
  if (!*spec) return 0;
  if (strcmp(spec, "balanced") == 0) {
    m->cw_mode = 1;
    return 0;
  }
  char buf[sizeof m->o.class_weight];
  snprintf(buf, sizeof buf, "%s", spec);
  char *items[256];
  size_t n = eddy_split_list(buf, items, 256);
  m->cw_list = calloc(n ? n : 1, sizeof *m->cw_list);
  if (!m->cw_list) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) {
    char *colon = strrchr(items[i], ':');
    const char *v = colon ? colon + 1 : "";
    while (*v == ' ' || *v == '\t') v++;
    double wv;
    if (!colon || colon == items[i] || eddy_parse_double(v, &wv) || !(wv >= 0) ||
        !isfinite(wv)) {
      cw_free(m);
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                         "key 'class_weight': '%s' is not label:weight with a weight >= 0 "
                         "(or use 'balanced')",
                         items[i]);
    }
    char *end = colon;
    while (end > items[i] && (end[-1] == ' ' || end[-1] == '\t')) end--;
    m->cw_list[m->cw_n].label = eddy_strndup(items[i], (size_t)(end - items[i]));
    m->cw_list[m->cw_n].weight = wv;
    if (!m->cw_list[m->cw_n].label) {
      cw_free(m);
      return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    }
    m->cw_n++;
  }
  m->cw_mode = 2;
  return 0;
}

int eddy_linear_init(eddy_linear_t *m, const eddy_schema_t *s, const eddy_linear_opts_t *o,
                     size_t n_out, double sgd_lr, char *errstr, size_t errstr_size) {
  m->o = *o;
  if (m->o.learning_rate == 0)
    m->o.learning_rate = o->optimizer == EDDY_LIN_SGD ? sgd_lr : default_rate[o->optimizer];
  m->n_attrs = s->n_attrs;
  for (size_t i = 0; i < s->n_attrs; i++) {
    if (s->attrs[i].kind == EDDY_NOMINAL)
      m->n_nom++;
    else
      m->n_num++;
  }
  m->num_attr = zalloc(m->n_num, sizeof *m->num_attr);
  m->nom_attr = zalloc(m->n_nom, sizeof *m->nom_attr);
  m->xv = zalloc(m->n_num, sizeof *m->xv);
  m->hot = zalloc(m->n_nom, sizeof *m->hot);
  m->xv_c = zalloc(m->n_num, sizeof *m->xv_c);
  m->hot_c = zalloc(m->n_nom, sizeof *m->hot_c);
  if (!m->num_attr || !m->nom_attr || !m->xv || !m->hot || !m->xv_c || !m->hot_c) goto nomem;
  size_t a = 0, c = 0;
  for (size_t i = 0; i < s->n_attrs; i++) {
    if (s->attrs[i].kind == EDDY_NOMINAL)
      m->nom_attr[c++] = (uint32_t)i;
    else
      m->num_attr[a++] = (uint32_t)i;
  }
  m->n_hash = m->n_nom ? (size_t)1 << m->o.hash_bits : 0;
  m->hash_mask = m->n_hash ? (uint64_t)m->n_hash - 1 : 0;
  m->stride = m->n_num + m->n_hash;
  if (m->o.standardize) {
    m->sc_n = zalloc(m->n_num, sizeof(double));
    m->sc_mean = zalloc(m->n_num, sizeof(double));
    m->sc_var = zalloc(m->n_num, sizeof(double));
    m->sc_sd = zalloc(m->n_num, sizeof(double));
    if (!m->sc_n || !m->sc_mean || !m->sc_var || !m->sc_sd) goto nomem;
  }
  if (m->o.optimizer == EDDY_LIN_VW) {
    m->fnorm = zalloc(m->stride, sizeof *m->fnorm);
    if (!m->fnorm) goto nomem;
  }
  int err = cw_parse(m, m->o.class_weight, errstr, errstr_size);
  if (err) {
    eddy_linear_destroy(m);
    return err;
  }
  m->n_out0 = n_out;
  m->b1t = m->b2t = 1.0;
  if (eddy_linear_grow(m, n_out)) goto nomem;
  return 0;
nomem:
  eddy_linear_destroy(m);
  return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory for the linear model");
}

void eddy_linear_destroy(eddy_linear_t *m) {
  free(m->num_attr);
  free(m->nom_attr);
  free(m->xv);
  free(m->hot);
  free(m->xv_c);
  free(m->hot_c);
  free(m->ebuf);
  free(m->w);
  free(m->b);
  free(m->acc1);
  free(m->acc2);
  free(m->q);
  free(m->fnorm);
  free(m->seen);
  free(m->zbuf);
  free(m->sc_n);
  free(m->sc_mean);
  free(m->sc_var);
  free(m->sc_sd);
  free(m->cw_cache);
  free(m->cw_count);
  cw_free(m);
  eddy_linear_opts_t o = m->o;
  memset(m, 0, sizeof *m);
  m->o = o;
}

/* Grows a zero-filled per-weight array to exactly need elements: outputs
 * are few and appear rarely, while a hashed block is large (doubling as
 * eddy_grow does would double the model). */
static int resize(double **p, size_t *cap, size_t need) {
  if (need <= *cap) return 0;
  double *q = realloc(*p, need * sizeof *q);
  if (!q) return EDDY_ENOMEM;
  memset(q + *cap, 0, (need - *cap) * sizeof *q);
  *p = q;
  *cap = need;
  return 0;
}

int eddy_linear_grow(eddy_linear_t *m, size_t n) {
  if (n <= m->n_out) return 0;
  size_t need = n * m->stride;
  if (resize(&m->w, &m->cap_w, need)) return EDDY_ENOMEM;
  if (uses_acc1(m) && resize(&m->acc1, &m->cap_a1, need)) return EDDY_ENOMEM;
  if (uses_acc2(m) && resize(&m->acc2, &m->cap_a2, need)) return EDDY_ENOMEM;
  if (uses_q(m) && resize(&m->q, &m->cap_q, need)) return EDDY_ENOMEM;
  if (eddy_grow((void **)&m->b, &m->cap_b, n, sizeof(double))) return EDDY_ENOMEM;
  if (eddy_grow((void **)&m->seen, &m->cap_seen, n, 1)) return EDDY_ENOMEM;
  if (eddy_grow((void **)&m->zbuf, &m->cap_z, n, sizeof(double))) return EDDY_ENOMEM;
  if (eddy_grow((void **)&m->ebuf, &m->cap_e, n, sizeof(double))) return EDDY_ENOMEM;
  m->n_out = n;
  m->z_ok = m->e_ok = 0;
  return 0;
}

static void zero(double *p, size_t n) {
  if (p) memset(p, 0, n * sizeof *p);
}

void eddy_linear_reset(eddy_linear_t *m) {
  zero(m->w, m->cap_w);
  zero(m->acc1, m->cap_a1);
  zero(m->acc2, m->cap_a2);
  zero(m->q, m->cap_q);
  zero(m->b, m->cap_b);
  if (m->seen) memset(m->seen, 0, m->cap_seen);
  zero(m->fnorm, m->fnorm ? m->stride : 0);
  zero(m->sc_n, m->sc_n ? m->n_num : 0);
  zero(m->sc_mean, m->sc_mean ? m->n_num : 0);
  zero(m->sc_var, m->sc_var ? m->n_num : 0);
  zero(m->sc_sd, m->sc_sd ? m->n_num : 0);
  zero(m->cw_count, m->cw_count_cap);
  m->cw_count_n = 0;
  m->cw_classes = 0;
  m->cw_total = 0;
  m->n_out = m->n_out0;
  m->t = 0;
  m->u = 0;
  m->b1t = m->b2t = 1.0;
  m->vw_weight = m->vw_norm = 0;
  m->warned = 0;
  m->z_ok = m->e_ok = 0;
}

size_t eddy_linear_memory(const eddy_linear_t *m) {
  size_t d = sizeof(double);
  size_t n = sizeof *m;
  n += (m->n_num + 3 * m->n_nom) * sizeof(uint32_t) + 2 * m->n_num * d; /* maps, scratch */
  n += (m->cap_w + m->cap_a1 + m->cap_a2 + m->cap_q + m->cap_b + m->cap_z + m->cap_e) * d;
  n += m->cap_seen;
  if (m->fnorm) n += m->stride * d;
  if (m->sc_n) n += 4 * m->n_num * d;
  n += (m->cw_cap + m->cw_count_cap) * d + m->cw_n * sizeof *m->cw_list;
  for (size_t i = 0; i < m->cw_n; i++) n += strlen(m->cw_list[i].label) + 1;
  return n;
}

/* ------------------------------------------------------------ encoding */

int eddy_linear_encode(eddy_linear_t *m, const eddy_instance_t *x, int learning) {
  if (x->n < m->n_attrs) return EDDY_EINVAL;
  const double *xx = x->x;
  const uint8_t *miss = x->missing;
  const uint32_t *na = m->num_attr;
  double *xv = m->xv;
  size_t n = m->n_num;
  if (!m->o.standardize) {
    for (size_t j = 0; j < n; j++) {
      uint32_t a = na[j];
      xv[j] = miss[a] ? 0.0 : xx[a];
    }
  } else {
    for (size_t j = 0; j < n; j++) {
      uint32_t a = na[j];
      if (miss[a]) {
        xv[j] = 0.0; /* the running mean, standardized */
        continue;
      }
      double v = xx[a];
      if (learning) { /* Welford, in River's StandardScaler's arithmetic */
        double c = m->sc_n[j] + 1, old = m->sc_mean[j];
        m->sc_n[j] = c;
        m->sc_mean[j] += (v - old) / c;
        m->sc_var[j] += ((v - old) * (v - m->sc_mean[j]) - m->sc_var[j]) / c;
        m->sc_sd[j] = sqrt(m->sc_var[j]); /* River: v**0.5, pow; sqrt is 10x cheaper */
      }
      xv[j] = m->sc_var[j] != 0 ? (v - m->sc_mean[j]) / m->sc_sd[j] : 0.0;
    }
  }
  size_t h = 0;
  for (size_t k = 0; k < m->n_nom; k++) {
    uint32_t a = m->nom_attr[k];
    if (!miss[a]) m->hot[h++] = (uint32_t)(eddy_hash_mix(a, x->h[a]) & m->hash_mask);
  }
  m->n_hot = h;
  return 0;
}

double eddy_linear_margin(const eddy_linear_t *m, size_t k) {
  const double *w = m->w + k * m->stride;
  const double *xv = m->xv;
  size_t n = m->n_num;
  /* In order, from 0, as scikit-learn's WeightVector.dot, then the intercept. */
  double s = 0.0;
  for (size_t j = 0; j < n; j++) s += w[j] * xv[j];
  const double *wh = w + n;
  for (size_t h = 0; h < m->n_hot; h++) s += wh[m->hot[h]];
  return s + m->b[k];
}

void eddy_linear_margins(const eddy_linear_t *m, const uint8_t *only, double *z) {
  /* Feature-major, so that the outputs' sums are independent chains; each
   * is still summed in feature order from 0, as eddy_linear_margin does. */
  size_t K = m->n_out, n = m->n_num, st = m->stride;
  const double *xv = m->xv;
  if (K == 0) return; /* no class yet: m->w is NULL, and NULL + j is undefined */
  for (size_t k = 0; k < K; k++) z[k] = 0.0;
  for (size_t j = 0; j < n; j++) {
    const double *wj = m->w + j;
    double xj = xv[j];
    for (size_t k = 0; k < K; k++) z[k] += wj[k * st] * xj;
  }
  for (size_t h = 0; h < m->n_hot; h++) {
    const double *wh = m->w + n + m->hot[h];
    for (size_t k = 0; k < K; k++) z[k] += wh[k * st];
  }
  for (size_t k = 0; k < K; k++) z[k] = only && !only[k] ? 0.0 : z[k] + m->b[k];
}

const double *eddy_linear_scores(eddy_linear_t *m) {
  if (m->z_ok && m->n_hot == m->n_hot_c && memcmp(m->xv, m->xv_c, m->n_num * sizeof *m->xv) == 0 &&
      memcmp(m->hot, m->hot_c, m->n_hot * sizeof *m->hot) == 0)
    return m->zbuf;
  if (m->n_out == 1)
    m->zbuf[0] = eddy_linear_margin(m, 0);
  else
    eddy_linear_margins(m, NULL, m->zbuf);
  memcpy(m->xv_c, m->xv, m->n_num * sizeof *m->xv);
  memcpy(m->hot_c, m->hot, m->n_hot * sizeof *m->hot);
  m->n_hot_c = m->n_hot;
  m->z_ok = 1;
  m->e_ok = 0;
  return m->zbuf;
}

const double *eddy_linear_softmax_exps(eddy_linear_t *m, double *tot) {
  const double *z = eddy_linear_scores(m);
  if (!m->e_ok) {
    double mx = -INFINITY, t = 0;
    size_t n = m->n_out;
    for (size_t k = 0; k < n; k++)
      if (m->seen[k] && z[k] > mx) mx = z[k];
    for (size_t k = 0; k < n; k++) {
      m->ebuf[k] = m->seen[k] ? exp(z[k] - mx) : 0.0;
      t += m->ebuf[k];
    }
    m->e_tot = t;
    m->e_ok = 1;
  }
  *tot = m->e_tot;
  return m->ebuf;
}

double eddy_linear_exp_neg0(eddy_linear_t *m) {
  const double *z = eddy_linear_scores(m);
  if (!m->e_ok) {
    m->ebuf[0] = exp(-z[0]);
    m->e_ok = 1;
  }
  return m->ebuf[0];
}

double eddy_linear_sqnorm(const eddy_linear_t *m) {
  double s = 0.0;
  for (size_t j = 0; j < m->n_num; j++) s += m->xv[j] * m->xv[j];
  return s + (double)m->n_hot;
}

/* --------------------------------------------------------------- steps */

/* Visits every feature of the encoded event as (weight index i, value xi). */
#define FOR_FEATURES(m, ...)                                    \
  do {                                                           \
    for (size_t j_ = 0; j_ < (m)->n_num; j_++) {                 \
      size_t i = j_;                                             \
      double xi = (m)->xv[j_];                                   \
      __VA_ARGS__                                                \
    }                                                            \
    for (size_t h_ = 0; h_ < (m)->n_hot; h_++) {                 \
      size_t i = (m)->n_num + (m)->hot[h_];                      \
      double xi = 1.0;                                           \
      __VA_ARGS__                                                \
    }                                                            \
  } while (0)

void eddy_linear_begin(eddy_linear_t *m, double wt) {
  const eddy_linear_opts_t *o = &m->o;
  m->wt = wt;
  m->z_ok = m->e_ok = 0; /* the weights are about to change */
  double lr = o->learning_rate, ilr = o->intercept ? o->intercept_lr : 0.0;
  if (o->schedule == EDDY_LIN_INVSCALING) { /* eta0 / pow(t, power_t), as scikit-learn */
    double p = pow((double)(m->t + 1), o->power_t);
    lr /= p;
    ilr /= p;
  }
  m->eta = lr;
  m->eta_b = ilr;
  switch (o->optimizer) {
  case EDDY_LIN_SGD: {
    /* scikit-learn's w.scale(max(0, 1 - eta * alpha)) */
    double d = 1.0 - m->eta * o->l2;
    m->decay = d > 0 ? d : 0.0;
    break;
  }
  case EDDY_LIN_ADAM:
    m->b1t *= o->beta_1;
    m->b2t *= o->beta_2;
    m->eta_adam = m->eta * sqrt(1.0 - m->b2t) / (1.0 - m->b1t);
    break;
  case EDDY_LIN_VW: {
    /* Normalized: a feature's scale is the largest |x| seen; when it grows,
     * its weights are rescaled as if the new scale had always been used. */
    double nx = 0.0;
    FOR_FEATURES(m, {
      double ax = fabs(xi);
      if (ax > 0) {
        double s = m->fnorm[i];
        if (ax > s) {
          if (s > 0)
            for (size_t k = 0; k < m->n_out; k++) m->w[k * m->stride + i] *= s / ax;
          m->fnorm[i] = s = ax;
        }
        nx += (xi / s) * (xi / s);
      }
    });
    if (wt > 0) {
      m->vw_weight += wt;
      m->vw_norm += wt * nx;
    }
    m->vw_mult = m->vw_norm > 0 ? sqrt(m->vw_weight / m->vw_norm) : 1.0;
    break;
  }
  default:
    break;
  }
  if (o->l1 > 0 && o->optimizer != EDDY_LIN_FTRL) m->u += o->l1 * m->eta;
  m->t++;
}

/* Cumulative L1 (Tsuruoka et al. 2009) on output k's features of the event:
 * each weight has been pulled towards 0 by q so far and is owed u in all. */
static void l1_truncate(eddy_linear_t *m, size_t k) {
  double *w = m->w + k * m->stride, *q = m->q + k * m->stride, u = m->u;
  FOR_FEATURES(m, {
    (void)xi;
    double z = w[i];
    if (z > 0) {
      double v = z - (u + q[i]);
      w[i] = v > 0 ? v : 0.0;
    } else if (z < 0) {
      double v = z + (u - q[i]);
      w[i] = v < 0 ? v : 0.0;
    }
    q[i] += w[i] - z;
  });
}

void eddy_linear_update(eddy_linear_t *m, size_t k, double dloss) {
  const eddy_linear_opts_t *o = &m->o;
  m->z_ok = m->e_ok = 0;
  double c = o->clip_gradient;
  if (dloss > c) dloss = c;
  if (dloss < -c) dloss = -c;
  size_t off = k * m->stride;
  double *w = m->w + off;
  double gl = dloss * m->wt; /* loss gradient for the margin, weighted */
  double l2 = o->l2;
  switch (o->optimizer) {
  case EDDY_LIN_SGD: {
    /* scikit-learn's order: update = -eta * dloss, times the weights;
     * w = w * decay + update * x. */
    double upd = (-m->eta * dloss) * m->wt, dec = m->decay;
    const double *xv = m->xv;
    size_t n = m->n_num;
    for (size_t j = 0; j < n; j++) w[j] = w[j] * dec + upd * xv[j];
    double *wh = w + n;
    for (size_t h = 0; h < m->n_hot; h++) wh[m->hot[h]] = wh[m->hot[h]] * dec + upd;
    break;
  }
  case EDDY_LIN_ADAGRAD: {
    double *g2 = m->acc1 + off, lr = m->eta, eps = o->epsilon;
    FOR_FEATURES(m, {
      double g = gl * xi + l2 * w[i];
      g2[i] += g * g;
      w[i] -= lr / sqrt(g2[i] + eps) * g;
    });
    break;
  }
  case EDDY_LIN_RMSPROP: {
    double *g2 = m->acc1 + off, lr = m->eta, eps = o->epsilon, rho = o->rho;
    FOR_FEATURES(m, {
      double g = gl * xi + l2 * w[i];
      g2[i] = rho * g2[i] + (1 - rho) * g * g;
      w[i] -= lr / sqrt(g2[i] + eps) * g;
    });
    break;
  }
  case EDDY_LIN_ADAM: {
    double *mm = m->acc1 + off, *vv = m->acc2 + off, lr = m->eta_adam, eps = o->epsilon;
    double b1 = o->beta_1, b2 = o->beta_2;
    FOR_FEATURES(m, {
      double g = gl * xi + l2 * w[i];
      mm[i] = b1 * mm[i] + (1 - b1) * g;
      vv[i] = b2 * vv[i] + (1 - b2) * g * g;
      w[i] -= lr * mm[i] / (sqrt(vv[i]) + eps);
    });
    break;
  }
  case EDDY_LIN_FTRL: {
    /* McMahan et al. 2013, Algorithm 1: update z and n with this event's
     * gradient, then recompute the weight from them, so that the next
     * margin uses it. */
    double *z = m->acc1 + off, *nn = m->acc2 + off;
    double alpha = o->learning_rate, beta = o->ftrl_beta, l1 = o->l1;
    FOR_FEATURES(m, {
      double g = gl * xi;
      double n0 = nn[i], n1 = n0 + g * g;
      double sn1 = sqrt(n1);
      double sigma = (sn1 - sqrt(n0)) / alpha;
      z[i] += g - sigma * w[i];
      nn[i] = n1;
      double zi = z[i];
      if (fabs(zi) <= l1)
        w[i] = 0.0;
      else
        w[i] = -(zi - (zi > 0 ? l1 : -l1)) / ((beta + sn1) / alpha + l2);
    });
    break;
  }
  case EDDY_LIN_VW: {
    /* Adaptive (sqrt of the summed squared gradients) and normalized (by
     * the feature's scale, and globally by the average normalized norm). */
    if (gl == 0) break;
    double *g2 = m->acc1 + off, lr = m->eta * m->vw_mult;
    FOR_FEATURES(m, {
      if (xi != 0) {
        double g = gl * xi + l2 * w[i];
        g2[i] += g * g;
        if (g2[i] > 0) w[i] -= lr * g / (sqrt(g2[i]) * m->fnorm[i]);
      }
    });
    break;
  }
  }
  if (m->eta_b != 0) m->b[k] += (-m->eta_b * dloss) * m->wt;
  if (m->q) l1_truncate(m, k);
}

void eddy_linear_add(eddy_linear_t *m, size_t k, double step) {
  double *w = m->w + k * m->stride;
  m->z_ok = m->e_ok = 0;
  FOR_FEATURES(m, { w[i] += step * xi; });
  if (m->o.intercept) m->b[k] += step;
}

/* ------------------------------------------------------- class weights */

double eddy_linear_class_weight(eddy_linear_t *m, const eddy_schema_t *s, size_t c) {
  if (m->cw_mode == 0) return 1.0;
  if (m->cw_mode == 1) {
    if (c >= m->cw_count_cap &&
        eddy_grow((void **)&m->cw_count, &m->cw_count_cap, c + 1, sizeof *m->cw_count))
      return EDDY_ENOMEM;
    if (c >= m->cw_count_n) m->cw_count_n = c + 1;
    if (m->cw_count[c] == 0) m->cw_classes++;
    m->cw_count[c] += 1;
    m->cw_total += 1;
    return m->cw_total / ((double)m->cw_classes * m->cw_count[c]);
  }
  if (c >= m->cw_resolved) { /* first time this class index is met: resolve by name */
    if (eddy_grow((void **)&m->cw_cache, &m->cw_cap, c + 1, sizeof *m->cw_cache))
      return EDDY_ENOMEM;
    for (size_t i = m->cw_resolved; i <= c; i++) {
      const char *name = s->task == EDDY_CLASSIFICATION
                             ? eddy_dict_name(s->target.dict, (uint32_t)i)
                             : NULL;
      m->cw_cache[i] = 1.0;
      for (size_t j = 0; name && j < m->cw_n; j++)
        if (strcmp(m->cw_list[j].label, name) == 0) m->cw_cache[i] = m->cw_list[j].weight;
    }
    m->cw_resolved = c + 1;
  }
  return m->cw_cache[c];
}

/* ------------------------------------------------------ binary helpers */

int eddy_linear_binary_label(eddy_learner_t *l, const eddy_instance_t *x, int *pos) {
  eddy_linear_t *m = l->state;
  if (!x->has_y || !(x->y >= 0)) return EDDY_EINVAL;
  if (x->y > 1) {
    if (!m->warned) {
      const char *name = eddy_dict_name(l->schema->target.dict, (uint32_t)x->y);
      eddy_log(EDDY_LOG_ERROR,
               "%s is a binary classifier: class '%s' (index %.0f) is a third class and is "
               "not learned; use softmax_regression for more than two classes",
               l->type->name, name ? name : "?", x->y);
      m->warned = 1;
    }
    return EDDY_ENOTSUP;
  }
  *pos = x->y == 1;
  return 0;
}

int eddy_linear_binary_prepare(eddy_learner_t *l, const eddy_instance_t *x, int *pos, double *cw) {
  eddy_linear_t *m = l->state;
  int err = eddy_linear_binary_label(l, x, pos);
  if (!err) err = eddy_linear_encode(m, x, 1);
  if (err) return err;
  *cw = eddy_linear_class_weight(m, l->schema, (size_t)*pos);
  return *cw < 0 ? EDDY_ENOMEM : 0;
}

int eddy_linear_predict_binary(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                               size_t out_len) {
  eddy_linear_t *m = l->state;
  size_t n = eddy_schema_n_classes(l->schema);
  if (out_len < n) return EDDY_ENOSPC;
  int err = eddy_linear_encode(m, x, 0);
  if (err) return err;
  double p = 1.0 / (1.0 + eddy_linear_exp_neg0(m)); /* eddy_sigmoid, same bits */
  for (size_t c = 0; c < n; c++) out[c] = c == 0 ? 1.0 - p : c == 1 ? p : 0.0;
  return (int)n;
}

/* ------------------------------------------------- checkpoint and the rest */

/* The positions in [0, n) where any of arrs[] (n_arr arrays, some NULL) is
 * not all-zero bits, each followed by their values: sparse hashed blocks. */
static void put_sparse(eddy_buf_t *b, double *const *arrs, int n_arr, size_t n) {
  uint64_t count = 0;
  size_t mark = b->len;
  eddy_buf_put_u64(b, 0);
  for (size_t i = 0; i < n; i++) {
    int any = 0;
    for (int a = 0; a < n_arr; a++) {
      uint64_t bits;
      if (!arrs[a]) continue;
      memcpy(&bits, &arrs[a][i], 8);
      any |= bits != 0;
    }
    if (!any) continue;
    count++;
    eddy_buf_put_u32(b, (uint32_t)i);
    for (int a = 0; a < n_arr; a++)
      if (arrs[a]) eddy_buf_put_f64(b, arrs[a][i]);
  }
  if (!b->err) {
    eddy_buf_patch_u32(b, mark, (uint32_t)count);
    eddy_buf_patch_u32(b, mark + 4, (uint32_t)(count >> 32));
  }
}

static int get_sparse(eddy_reader_t *r, double *const *arrs, int n_arr, size_t n) {
  int present = 0;
  for (int a = 0; a < n_arr; a++) present += arrs[a] != NULL;
  size_t count = eddy_read_count(r, 4 + 8 * (size_t)present);
  if (r->err) return r->err;
  int64_t last = -1;
  for (size_t c = 0; c < count; c++) {
    uint32_t i = eddy_read_u32(r);
    if (r->err || i >= n || (int64_t)i <= last) return EDDY_ECORRUPT;
    last = i;
    for (int a = 0; a < n_arr; a++)
      if (arrs[a]) arrs[a][i] = eddy_read_f64(r);
  }
  return r->err;
}

int eddy_linear_save(const eddy_linear_t *m, eddy_buf_t *b) {
  eddy_buf_put_u8(b, CORE_VERSION);
  eddy_buf_put_u64(b, m->n_num);
  eddy_buf_put_u64(b, m->n_nom);
  eddy_buf_put_u64(b, m->n_hash);
  eddy_buf_put_u64(b, m->n_out);
  eddy_buf_put_u64(b, m->t);
  eddy_buf_put_f64(b, m->u);
  eddy_buf_put_f64(b, m->b1t);
  eddy_buf_put_f64(b, m->b2t);
  eddy_buf_put_f64(b, m->vw_weight);
  eddy_buf_put_f64(b, m->vw_norm);
  eddy_buf_put_f64s(b, m->b, m->n_out);
  eddy_buf_put(b, m->seen, m->n_out);
  for (size_t k = 0; k < m->n_out; k++) {
    size_t off = k * m->stride;
    double *arrs[4] = {m->w + off, m->acc1 ? m->acc1 + off : NULL,
                       m->acc2 ? m->acc2 + off : NULL, m->q ? m->q + off : NULL};
    for (int a = 0; a < 4; a++)
      if (arrs[a]) eddy_buf_put_f64s(b, arrs[a], m->n_num);
    for (int a = 0; a < 4; a++)
      if (arrs[a]) arrs[a] += m->n_num;
    put_sparse(b, arrs, 4, m->n_hash);
  }
  if (m->fnorm) {
    eddy_buf_put_f64s(b, m->fnorm, m->n_num);
    double *f = m->fnorm + m->n_num;
    put_sparse(b, &f, 1, m->n_hash);
  }
  if (m->sc_n) {
    eddy_buf_put_f64s(b, m->sc_n, m->n_num);
    eddy_buf_put_f64s(b, m->sc_mean, m->n_num);
    eddy_buf_put_f64s(b, m->sc_var, m->n_num);
    eddy_buf_put_f64s(b, m->sc_sd, m->n_num);
  }
  if (m->cw_mode == 1) {
    eddy_buf_put_u64(b, m->cw_count_n);
    eddy_buf_put_f64s(b, m->cw_count, m->cw_count_n);
    eddy_buf_put_u64(b, m->cw_classes);
    eddy_buf_put_f64(b, m->cw_total);
  }
  return b->err;
}

int eddy_linear_load(eddy_linear_t *m, eddy_reader_t *r) {
  if (eddy_read_u8(r) != CORE_VERSION) return r->err ? r->err : EDDY_EVERSION;
  size_t n_num = eddy_read_u64(r), n_nom = eddy_read_u64(r), n_hash = eddy_read_u64(r);
  if (r->err) return r->err;
  if (n_num != m->n_num || n_nom != m->n_nom || n_hash != m->n_hash) return EDDY_ECORRUPT;
  size_t n_out = eddy_read_count(r, 9); /* at least an intercept and a flag each */
  if (r->err) return r->err;
  if (n_out < m->n_out0) return EDDY_ECORRUPT;
  eddy_linear_reset(m);
  if (eddy_linear_grow(m, n_out)) return EDDY_ENOMEM;
  m->n_out = n_out;
  m->t = eddy_read_u64(r);
  m->u = eddy_read_f64(r);
  m->b1t = eddy_read_f64(r);
  m->b2t = eddy_read_f64(r);
  m->vw_weight = eddy_read_f64(r);
  m->vw_norm = eddy_read_f64(r);
  eddy_read_f64s(r, m->b, n_out);
  eddy_read(r, m->seen, n_out);
  for (size_t k = 0; k < n_out && !r->err; k++) {
    size_t off = k * m->stride;
    double *arrs[4] = {m->w + off, m->acc1 ? m->acc1 + off : NULL,
                       m->acc2 ? m->acc2 + off : NULL, m->q ? m->q + off : NULL};
    for (int a = 0; a < 4; a++)
      if (arrs[a]) eddy_read_f64s(r, arrs[a], m->n_num);
    for (int a = 0; a < 4; a++)
      if (arrs[a]) arrs[a] += m->n_num;
    int err = get_sparse(r, arrs, 4, m->n_hash);
    if (err) return err;
  }
  if (m->fnorm) {
    eddy_read_f64s(r, m->fnorm, m->n_num);
    double *f = m->fnorm + m->n_num;
    int err = get_sparse(r, &f, 1, m->n_hash);
    if (err) return err;
  }
  if (m->sc_n) {
    eddy_read_f64s(r, m->sc_n, m->n_num);
    eddy_read_f64s(r, m->sc_mean, m->n_num);
    eddy_read_f64s(r, m->sc_var, m->n_num);
    eddy_read_f64s(r, m->sc_sd, m->n_num);
  }
  if (m->cw_mode == 1) {
    size_t n = eddy_read_count(r, 8);
    if (r->err) return r->err;
    if (n && eddy_grow((void **)&m->cw_count, &m->cw_count_cap, n, sizeof *m->cw_count))
      return EDDY_ENOMEM;
    eddy_read_f64s(r, m->cw_count, n);
    m->cw_count_n = n;
    m->cw_classes = eddy_read_u64(r);
    m->cw_total = eddy_read_f64(r);
  }
  return r->err;
}

void eddy_linear_learner_reset(eddy_learner_t *l) { eddy_linear_reset(l->state); }
int eddy_linear_learner_save(const eddy_learner_t *l, eddy_buf_t *b) {
  return eddy_linear_save(l->state, b);
}
int eddy_linear_learner_load(eddy_learner_t *l, eddy_reader_t *r) {
  return eddy_linear_load(l->state, r);
}
size_t eddy_linear_learner_memory(const eddy_learner_t *l) { return eddy_linear_memory(l->state); }
void eddy_linear_learner_destroy(eddy_learner_t *l) { eddy_linear_destroy(l->state); }

void eddy_linear_learner_describe(const eddy_learner_t *l, FILE *out) {
  const eddy_linear_t *m = l->state;
  fprintf(out, "%s: %s optimizer, %zu output(s), %zu numeric + %zu hashed weights each, %llu events, %zu bytes\n",
          l->type->name, eddy_linear_optimizer_names[m->o.optimizer], m->n_out, m->n_num,
          m->n_hash, (unsigned long long)m->t, eddy_learner_memory(l));
  for (size_t k = 0; k < m->n_out; k++) {
    const double *w = m->w + k * m->stride;
    size_t nz = 0;
    for (size_t i = 0; i < m->stride; i++) nz += w[i] != 0;
    const char *name = NULL;
    if (l->schema->task == EDDY_CLASSIFICATION && m->n_out > 1)
      name = eddy_dict_name(l->schema->target.dict, (uint32_t)k);
    fprintf(out, "  output %zu%s%s%s: intercept %.6g, %zu non-zero weights\n", k,
            name ? " (" : "", name ? name : "", name ? ")" : "", m->b[k], nz);
    for (size_t j = 0; j < m->n_num && j < 32; j++)
      fprintf(out, "    %s: %.6g\n", l->schema->attrs[m->num_attr[j]].name, w[j]);
  }
}
