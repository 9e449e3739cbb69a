/* ht_common.c: what the Hoeffding trees share besides their node store
 * (ht_store.c) and observers: the slot layout of active leaves, and the
 * few MOA numerics (log2, the normal CDF, Double.compare, HAT's Poisson
 * weights) that number-for-number parity with MOA rests on. See
 * "Hoeffding tree internals" in trees.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "learners/trees/trees.h"

/* ------------------------------------------------------------ MOA numerics */


/* Weka's Statistics.normalProbability, which MOA's Gaussian estimator calls
 * for its split estimates: Cephes' rational approximations of erf and erfc
 * (Moshier), evaluated in the same order so that the estimates match MOA's
 * to the last bit (glibc's erf differs by an ulp here and there, enough to
 * move a split attempt by one instance once in a while). */
static double poly(double x, const double *c, int n) { /* Cephes polevl */
  double r = c[0];
  for (int i = 1; i <= n; i++) r = r * x + c[i];
  return r;
}

static double poly1(double x, const double *c, int n) { /* p1evl: leading 1 */
  double r = x + c[0];
  for (int i = 1; i < n; i++) r = r * x + c[i];
  return r;
}

static double cephes_erfc(double a);

static double cephes_erf(double x) {
  static const double T[] = {9.604973739870516, 90.02601972038427, 2232.005345946843,
                             7003.325141128051, 55592.30130103949};
  static const double U[] = {33.56171416475031, 521.3579497801527, 4594.323829709801,
                             22629.000061389095, 49267.39426086359};
  if (fabs(x) > 1.0) return 1.0 - cephes_erfc(x);
  double z = x * x;
  return x * poly(z, T, 4) / poly1(z, U, 5);
}

static double cephes_erfc(double a) {
  static const double P[] = {2.461969814735305E-10, 0.5641895648310689, 7.463210564422699,
                             48.63719709856814,     196.5208329560771,  526.4451949954773,
                             934.5285271719576,     1027.5518868951572, 557.5353353693994};
  static const double Q[] = {13.228195115474499, 86.70721408859897,  354.9377788878199,
                             975.7085017432055,  1823.9091668790973, 2246.3376081871097,
                             1656.6630919416134, 557.5353408177277};
  static const double R[] = {0.5641895835477551, 1.275366707599781,  5.019050422511805,
                             6.160210979930536,  7.4097426995044895, 2.9788666537210022};
  static const double S[] = {2.2605286322011726, 9.396035249380015, 12.048953980809666,
                             17.08144507475659,  9.608968090632859, 3.369076451000815};
  double x = a < 0.0 ? -a : a;
  if (x < 1.0) return 1.0 - cephes_erf(a);
  double z = -a * a;
  if (z < -709.782712893384) return a < 0 ? 2.0 : 0.0;
  z = exp(z);
  double p, q;
  if (x < 8.0) {
    p = poly(x, P, 8);
    q = poly1(x, Q, 8);
  } else {
    p = poly(x, R, 5);
    q = poly1(x, S, 6);
  }
  double y = (z * p) / q;
  if (a < 0) y = 2.0 - y;
  if (y == 0.0) return a < 0 ? 2.0 : 0.0;
  return y;
}

double eddy__ht_normal_probability(double a) {
  const double sqrth = 7.07106781186547524401E-1;
  double x = a * sqrth, z = fabs(x), y;
  if (z < sqrth) {
    y = 0.5 + 0.5 * cephes_erf(x);
  } else {
    y = 0.5 * cephes_erfc(z);
    if (x > 0) y = 1.0 - y;
  }
  return y;
}

/* Java's Double.compare: -0.0 < 0.0 and NaN above everything (MOA sorts
 * split suggestions with it). */
int eddy__ht_java_compare(double a, double b) {
  if (a < b) return -1;
  if (a > b) return 1;
  int an = a != a, bn = b != b;
  if (an || bn) return an - bn;
  int as = signbit(a) != 0, bs = signbit(b) != 0;
  return bs - as;
}

/* The node keeps only the 48-bit state of its java.util.Random: Poisson(1)
 * draws nextDouble alone, so the cached Gaussian is always empty. */
uint64_t eddy__ht_moa_random_state(void) {
  eddy_jrandom_t j;
  eddy_jrandom_seed(&j, 1);
  return j.seed;
}

int eddy__ht_poisson1_java(uint64_t *state) {
  eddy_jrandom_t j = {.seed = *state};
  int k = eddy_jrandom_poisson(&j, 1.0);
  *state = j.seed;
  return k;
}

/* MiscUtils.poisson for lambda = 1 on another uniform: inversion against
 * u * e. */
static int poisson1(double u) {
  double product = 1.0, sum = 1.0, threshold = u * exp(1.0);
  int i = 1;
  while (i < 100 && sum <= threshold) {
    product *= 1.0 / i;
    sum += product;
    i++;
  }
  return i - 1;
}

int eddy__ht_poisson1_splitmix(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  return poisson1((double)(z >> 11) * 0x1.0p-53);
}

double eddy__ht_hoeffding_bound(double range, double confidence, double n) {
  return sqrt(((range * range) * log(1.0 / confidence)) / (2.0 * n));
}

void eddy__ht_fmt_value(char *buf, size_t size, double v) { snprintf(buf, size, "%.6g", v); }

/* ------------------------------------------------------------ slot layout */

#define HTR_HDR 4 /* regression numeric observer header doubles */

void eddy__ht_layout_compute(eddy__ht_layout_t *L, const eddy_schema_t *s) {
  size_t o = L->extra;
  for (size_t a = 0; a < L->n_attrs; a++) {
    L->off[a] = o;
    int nom = s->attrs[a].kind == EDDY_NOMINAL;
    if (s->task == EDDY_CLASSIFICATION)
      o += nom ? (size_t)L->C * (2 + L->V[a]) : (size_t)L->C * 5;
    else
      o += nom ? (size_t)L->V[a] * 3 : HTR_HDR + (size_t)L->n_bins * 3;
  }
  L->stride = o;
}

uint32_t eddy__ht_layout_vmax(const eddy__ht_layout_t *L) {
  uint32_t vmax = 2;
  for (size_t a = 0; a < L->n_attrs; a++)
    if (L->V[a] > vmax) vmax = L->V[a];
  return vmax;
}

void eddy__ht_layout_clear_slot(const eddy__ht_layout_t *L, double *slot, const eddy_schema_t *s) {
  memset(slot, 0, L->stride * sizeof *slot);
  (void)s;
}

void eddy__ht_layout_copy_slot(const eddy__ht_layout_t *from, const double *src, const eddy__ht_layout_t *to,
                         double *dst, const eddy_schema_t *s) {
  eddy__ht_layout_clear_slot(to, dst, s);
  memcpy(dst, src, from->extra * sizeof *dst);
  for (size_t a = 0; a < from->n_attrs; a++) {
    const double *f = src + from->off[a];
    double *t = dst + to->off[a];
    int nom = s->attrs[a].kind == EDDY_NOMINAL;
    if (s->task == EDDY_CLASSIFICATION) {
      uint32_t C0 = from->C, C1 = to->C;
      size_t rows = nom ? 2 + (size_t)from->V[a] : 5;
      for (size_t r = 0; r < rows; r++) memcpy(t + r * C1, f + r * C0, C0 * sizeof *t);
    } else {
      size_t n = nom ? (size_t)from->V[a] * 3 : HTR_HDR + (size_t)from->n_bins * 3;
      memcpy(t, f, n * sizeof *t);
    }
  }
}

int eddy__ht_block_save(const void *tree, int (*save)(const void *, eddy_buf_t *),
                        eddy_buf_t *b) {
  eddy_buf_t tb;
  eddy_buf_init(&tb);
  int err = save(tree, &tb);
  if (!err) {
    eddy_buf_put_u64(b, tb.len);
    eddy_buf_put(b, tb.data, tb.len);
  }
  eddy_buf_free(&tb);
  return err ? err : b->err;
}

int eddy__ht_block_load(void *tree, int (*load)(void *, eddy_reader_t *), eddy_reader_t *r) {
  uint64_t len = eddy_read_u64(r);
  if (r->err) return r->err;
  if (len > r->len - r->pos) return EDDY_ECORRUPT;
  eddy_reader_t sub;
  eddy_reader_init(&sub, r->p + r->pos, (size_t)len);
  r->pos += (size_t)len;
  int err = load(tree, &sub);
  if (!err && sub.pos != sub.len) err = EDDY_ECORRUPT;
  return err;
}

const char *const eddy__ht_criteria[] = {"info_gain", "gini", NULL};
const char *const eddy__ht_predictors[] = {"mc", "nb", "nba", NULL};
