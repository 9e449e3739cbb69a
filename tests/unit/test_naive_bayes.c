/* test_naive_bayes.c: the naive_bayes learner: scikit-learn's GaussianNB
 * (statistics and probabilities), a mixed numeric + nominal example
 * computed from the formulas, missing and unseen values, zero variances,
 * checkpoints, reset, accuracy on seeded SEA / hyperplane / Agrawal streams
 * and MOA parity on Elec2. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "learners/bayes/bayes.h"
#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

/* ---------------------------------------------------------------- helpers */

static void add_class(eddy_schema_t *s, const char *name) {
  eddy_dict_intern(s->target.dict, name, strlen(name), eddy_hash(name, strlen(name)), NULL);
}

static uint32_t value(eddy_schema_t *s, size_t attr, const char *text) {
  int64_t v = eddy_dict_intern(s->attrs[attr].dict, text, strlen(text),
                               eddy_hash(text, strlen(text)), NULL);
  cr_assert_geq(v, 0);
  return (uint32_t)v;
}

static eddy_learner_t *make(const char *name, eddy_schema_t *s, const eddy_kv_t *kv, size_t n) {
  char err[512];
  eddy_learner_t *l = eddy_learner_new(name, s, kv, n, 1, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  return l;
}

static void learn_row(eddy_learner_t *l, eddy_instance_t *in, const double *x, double y) {
  for (size_t i = 0; i < in->n; i++) {
    in->missing[i] = isnan(x[i]);
    in->x[i] = isnan(x[i]) ? 0 : x[i];
  }
  in->y = y;
  in->has_y = 1;
  in->weight = 1;
  cr_assert_eq(eddy_learner_learn(l, in), 0);
}

static int predict_row(eddy_learner_t *l, eddy_instance_t *in, const double *x, double *out,
                       size_t n) {
  for (size_t i = 0; i < in->n; i++) {
    in->missing[i] = isnan(x[i]);
    in->x[i] = isnan(x[i]) ? 0 : x[i];
  }
  in->has_y = 0;
  return eddy_learner_predict(l, in, out, n);
}

static double gauss_pdf(double x, double mean, double var) {
  return exp(-(x - mean) * (x - mean) / (2 * var)) / sqrt(2 * M_PI * var);
}

/* Mean and sample variance of v[0..n) by the two-pass formula. */
static void mean_var(const double *v, size_t n, double *mean, double *var) {
  double s = 0, q = 0;
  for (size_t i = 0; i < n; i++) s += v[i];
  *mean = s / n;
  for (size_t i = 0; i < n; i++) q += (v[i] - *mean) * (v[i] - *mean);
  *var = n > 1 ? q / (n - 1) : 0;
}

static void assert_rel(double got, double want, double rel, const char *what) {
  double tol = rel * fabs(want);
  cr_assert(fabs(got - want) <= tol, "%s: got %.17g want %.17g (rel %.3g)", what, got, want,
            want != 0 ? fabs(got - want) / fabs(want) : fabs(got - want));
}

/* ------------------------------------------------- mixed, by the formulas */

/* Schema: a (numeric), color (nominal), b (numeric); classes yes, no. */
static eddy_schema_t *mixed_schema(void) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "a", EDDY_NUMERIC);
  eddy_schema_add(s, "color", EDDY_NOMINAL);
  eddy_schema_add(s, "b", EDDY_NUMERIC);
  add_class(s, "yes");
  add_class(s, "no");
  value(s, 1, "red");   /* 0 */
  value(s, 1, "blue");  /* 1 */
  value(s, 1, "green"); /* 2 */
  return s;
}

static const double yes_a[] = {1, 3, 2}, yes_b[] = {10, 14, 12.5};
static const double no_a[] = {5, 7}, no_b[] = {20, 23};
static const int yes_color[] = {0, 0, 1}, no_color[] = {1, 2};

static eddy_learner_t *mixed_model(eddy_schema_t *s, eddy_instance_t *in) {
  eddy_learner_t *l = make("naive_bayes", s, NULL, 0);
  eddy_instance_init(in, 3);
  for (int i = 0; i < 3; i++) learn_row(l, in, (double[]){yes_a[i], yes_color[i], yes_b[i]}, 0);
  for (int i = 0; i < 2; i++) learn_row(l, in, (double[]){no_a[i], no_color[i], no_b[i]}, 1);
  return l;
}

/* The posterior by MOA's formulas; use_a/use_color/use_b pick the factors. */
static void mixed_expected(double a, int color, double b, int use_a, int use_color, int use_b,
                           double *p) {
  double ma, va, mb, vb, na, nva, nb, nvb;
  mean_var(yes_a, 3, &ma, &va);
  mean_var(yes_b, 3, &mb, &vb);
  mean_var(no_a, 2, &na, &nva);
  mean_var(no_b, 2, &nb, &nvb);
  /* yes saw red x2, blue x1: values 0..1, so 2 values; no saw blue, green:
   * largest index 2, so 3 values (MOA counts up to the largest index). */
  double yes_cnt[3] = {2, 1, 0}, no_cnt[3] = {0, 1, 1};
  double y = 3.0 / 5, n = 2.0 / 5;
  if (use_a) {
    y *= gauss_pdf(a, ma, va);
    n *= gauss_pdf(a, na, nva);
  }
  if (use_color) {
    y *= (yes_cnt[color] + 1) / (3 + 2);
    n *= (no_cnt[color] + 1) / (2 + 3);
  }
  if (use_b) {
    y *= gauss_pdf(b, mb, vb);
    n *= gauss_pdf(b, nb, nvb);
  }
  p[0] = y / (y + n);
  p[1] = n / (y + n);
}

Test(naive_bayes, mixed_numeric_nominal_matches_formulas) {
  eddy_schema_t *s = mixed_schema();
  eddy_instance_t in;
  eddy_learner_t *l = mixed_model(s, &in);
  double p[2], want[2];
  const double queries[][3] = {{4, 0, 15}, {2, 1, 11}, {6, 2, 21}, {3.5, 1, 18}};
  for (size_t q = 0; q < 4; q++) {
    cr_assert_eq(predict_row(l, &in, queries[q], p, 2), 2);
    mixed_expected(queries[q][0], (int)queries[q][1], queries[q][2], 1, 1, 1, want);
    cr_assert_float_eq(p[0], want[0], 1e-12, "query %zu: %.17g vs %.17g", q, p[0], want[0]);
    cr_assert_float_eq(p[1], want[1], 1e-12, "query %zu", q);
  }
  /* the statistics themselves: sample variance (weight - 1) as MOA */
  double w, mean, var, em, ev;
  cr_assert_eq(eddy_naive_bayes_gaussian(l, 1, 2, &w, &mean, &var), 0);
  mean_var(no_b, 2, &em, &ev);
  cr_assert_eq(w, 2.0);
  cr_assert_float_eq(mean, em, 1e-12);
  cr_assert_float_eq(var, ev, 1e-12);
  cr_assert_eq(eddy_naive_bayes_gaussian(l, 0, 1, &w, &mean, &var), EDDY_EINVAL, "nominal");
  cr_assert_eq(eddy_naive_bayes_class_weight(l, 0), 3.0);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(naive_bayes, missing_and_unseen_values_contribute_nothing) {
  eddy_schema_t *s = mixed_schema();
  eddy_instance_t in;
  eddy_learner_t *l = mixed_model(s, &in);
  uint32_t purple = value(s, 1, "purple"); /* in the dictionary, never learned */
  double p[2], want[2];
  /* b missing: the posterior of a and color alone */
  predict_row(l, &in, (double[]){4, 0, NAN}, p, 2);
  mixed_expected(4, 0, 0, 1, 1, 0, want);
  cr_assert_float_eq(p[0], want[0], 1e-12, "%.17g vs %.17g", p[0], want[0]);
  /* a missing */
  predict_row(l, &in, (double[]){NAN, 1, 21}, p, 2);
  mixed_expected(0, 1, 21, 0, 1, 1, want);
  cr_assert_float_eq(p[0], want[0], 1e-12, "%.17g vs %.17g", p[0], want[0]);
  /* an unseen nominal value and a missing one both leave a and b alone */
  double q[2];
  predict_row(l, &in, (double[]){4, purple, 15}, p, 2);
  predict_row(l, &in, (double[]){4, NAN, 15}, q, 2);
  mixed_expected(4, 0, 15, 1, 0, 1, want);
  cr_assert_float_eq(p[0], want[0], 1e-12, "unseen: %.17g vs %.17g", p[0], want[0]);
  cr_assert_float_eq(q[0], want[0], 1e-12, "missing: %.17g vs %.17g", q[0], want[0]);
  /* a non-finite number is missing too */
  predict_row(l, &in, (double[]){INFINITY, 1, 21}, p, 2);
  mixed_expected(0, 1, 21, 0, 1, 1, want);
  cr_assert_float_eq(p[0], want[0], 1e-12);
  /* nothing was zeroed: every probability is strictly inside (0, 1) */
  predict_row(l, &in, (double[]){NAN, NAN, NAN}, p, 2);
  cr_assert_float_eq(p[0], 3.0 / 5, 1e-15, "only the prior is left");

  /* Learning a row with b missing updates a and color only. */
  double w0, m0, v0, w1, m1;
  eddy_naive_bayes_gaussian(l, 1, 2, &w0, &m0, &v0);
  eddy_naive_bayes_gaussian(l, 1, 0, &w1, &m1, NULL);
  learn_row(l, &in, (double[]){9, 2, NAN}, 1);
  double w, mean, var;
  eddy_naive_bayes_gaussian(l, 1, 2, &w, &mean, &var);
  cr_assert(w == w0 && mean == m0 && var == v0, "b untouched");
  eddy_naive_bayes_gaussian(l, 1, 0, &w, &mean, NULL);
  cr_assert_eq(w, w1 + 1);
  cr_assert_float_eq(mean, (5 + 7 + 9) / 3.0, 1e-12);
  cr_assert_eq(eddy_naive_bayes_class_weight(l, 1), 3.0, "the prior counts the row");
  /* The prediction follows the formulas with b's own weight (2 rows) */
  predict_row(l, &in, (double[]){6, 2, 21}, p, 2);
  double ma, va, mb, vb, na, nva, nb, nvb;
  const double no_a3[] = {5, 7, 9};
  mean_var(yes_a, 3, &ma, &va);
  mean_var(yes_b, 3, &mb, &vb);
  mean_var(no_a3, 3, &na, &nva);
  mean_var(no_b, 2, &nb, &nvb);
  double y = 3.0 / 6 * gauss_pdf(6, ma, va) * (0 + 1.0) / (3 + 2) * gauss_pdf(21, mb, vb);
  double n = 3.0 / 6 * gauss_pdf(6, na, nva) * (2 + 1.0) / (3 + 3) * gauss_pdf(21, nb, nvb);
  cr_assert_float_eq(p[0], y / (y + n), 1e-12, "%.17g vs %.17g", p[0], y / (y + n));
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(naive_bayes, nominal_only_laplace) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "size", EDDY_NOMINAL);
  eddy_schema_add(s, "shape", EDDY_NOMINAL);
  add_class(s, "a");
  add_class(s, "b");
  eddy_kv_t kv[] = {{"laplace", "0.5", NULL, 0}};
  eddy_learner_t *l = make("naive_bayes", s, kv, 1);
  eddy_instance_t in;
  eddy_instance_init(&in, 2);
  /* class a: (0,0) (0,1) (1,1); class b: (2,0) (2,0) (0,2) (2,1) */
  const double rows[][3] = {{0, 0, 0}, {0, 1, 0}, {1, 1, 0}, {2, 0, 1},
                            {2, 0, 1}, {0, 2, 1}, {2, 1, 1}};
  for (size_t i = 0; i < 7; i++) learn_row(l, &in, rows[i], rows[i][2]);
  double p[2];
  predict_row(l, &in, (double[]){0, 1}, p, 2);
  /* a: size values 0..1 (2), shape 0..1 (2); b: size 0..2 (3), shape 0..2 (3) */
  double ya = 3.0 / 7 * (2 + 0.5) / (3 + 0.5 * 2) * (2 + 0.5) / (3 + 0.5 * 2);
  double yb = 4.0 / 7 * (1 + 0.5) / (4 + 0.5 * 3) * (1 + 0.5) / (4 + 0.5 * 3);
  cr_assert_float_eq(p[0], ya / (ya + yb), 1e-12, "%.17g vs %.17g", p[0], ya / (ya + yb));
  predict_row(l, &in, (double[]){2, 2}, p, 2);
  ya = 3.0 / 7 * 0.5 / 4 * 0.5 / 4;
  yb = 4.0 / 7 * 3.5 / 5.5 * 1.5 / 5.5;
  cr_assert_float_eq(p[0], ya / (ya + yb), 1e-12, "%.17g vs %.17g", p[0], ya / (ya + yb));
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* Found by fuzz_csv (header "c,y"): without numeric attributes the
 * per-class numeric arrays were NULL, and learn, predict and reset did
 * arithmetic on NULL and memset(NULL) (undefined; clang's UBSan reports
 * it, gcc's does not). The nominal-only model learns, round-trips and
 * resets; the same holds with numeric attributes only. */
Test(naive_bayes, one_kind_of_attribute_only_learns_saves_and_resets) {
  for (int kind = 0; kind < 2; kind++) {
    eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
    eddy_schema_add(s, "u", kind ? EDDY_NUMERIC : EDDY_NOMINAL);
    add_class(s, "a");
    add_class(s, "b");
    if (!kind) {
      value(s, 0, "v0");
      value(s, 0, "v1");
    }
    eddy_learner_t *l = make("naive_bayes", s, NULL, 0);
    eddy_instance_t in;
    eddy_instance_init(&in, 1);
    const double rows[][2] = {{0, 0}, {0, 0}, {1, 1}, {0, 1}, {1, 1}};
    for (size_t i = 0; i < 5; i++) learn_row(l, &in, rows[i], rows[i][1]);
    double p[2], q[2];
    cr_assert_eq(predict_row(l, &in, (double[]){1}, p, 2), 2);
    if (!kind) {
      /* a: 2 of 5, value 1 seen 0 of 2 (values 0..0: 1); b: 3 of 5, 2 of 3 (values 0..1: 2) */
      double ya = 2.0 / 5 * (0 + 1.0) / (2 + 1), yb = 3.0 / 5 * (2 + 1.0) / (3 + 2);
      cr_assert_float_eq(p[1], yb / (ya + yb), 1e-12, "%.17g", p[1]);
    }
    eddy_buf_t b;
    eddy_buf_init(&b);
    cr_assert_eq(eddy_model_save(s, l, &b), 0);
    eddy_schema_t *s2;
    eddy_learner_t *l2;
    char err[256];
    cr_assert_eq(eddy_model_load(b.data, b.len, &s2, &l2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(predict_row(l2, &in, (double[]){1}, q, 2), 2);
    cr_assert_eq(memcmp(p, q, sizeof p), 0, "the loaded model predicts the same bits");
    eddy_learner_reset(l);
    cr_assert_eq(predict_row(l, &in, (double[]){1}, p, 2), 2);
    cr_assert(p[0] == 0 && p[1] == 0, "a reset model has learned no class: %g %g", p[0], p[1]);
    eddy_learner_free(l2);
    eddy_schema_free(s2);
    eddy_buf_free(&b);
    eddy_learner_free(l);
    eddy_instance_free(&in);
    eddy_schema_free(s);
  }
}

Test(naive_bayes, zero_variance_density_is_one_at_the_mean) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "x", EDDY_NUMERIC);
  add_class(s, "0");
  add_class(s, "1");
  add_class(s, "2");
  eddy_learner_t *l = make("naive_bayes", s, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  double p[3];
  cr_assert_eq(predict_row(l, &in, (double[]){5}, p, 3), 3);
  cr_assert(p[0] == 0 && p[1] == 0 && p[2] == 0, "nothing learned: all 0");
  learn_row(l, &in, (double[]){5}, 0);
  learn_row(l, &in, (double[]){5}, 0);
  learn_row(l, &in, (double[]){5}, 1);
  learn_row(l, &in, (double[]){7}, 1);
  /* x = 5: class 0 has density exactly 1, class 1 N(6, 2), class 2 none */
  predict_row(l, &in, (double[]){5}, p, 3);
  double y0 = 0.5 * 1.0, y1 = 0.5 * gauss_pdf(5, 6, 2);
  cr_assert_float_eq(p[0], y0 / (y0 + y1), 1e-12, "%.17g", p[0]);
  cr_assert_eq(p[2], 0.0, "class never learned");
  /* x = 5.5: class 0's density is 0 */
  predict_row(l, &in, (double[]){5.5}, p, 3);
  cr_assert_eq(p[0], 0.0);
  cr_assert_float_eq(p[1], 1.0, 1e-15);
  /* a single observation has variance 0 too (weight - 1 = 0) */
  learn_row(l, &in, (double[]){9}, 2);
  predict_row(l, &in, (double[]){9}, p, 3);
  double z1 = 2.0 / 5 * gauss_pdf(9, 6, 2), z2 = 1.0 / 5;
  cr_assert_eq(p[0], 0.0);
  cr_assert_float_eq(p[2], z2 / (z1 + z2), 1e-12, "%.17g", p[2]);
  predict_row(l, &in, (double[]){9.5}, p, 3);
  cr_assert_eq(p[2], 0.0);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(naive_bayes, classes_and_values_appear_online) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "x", EDDY_NUMERIC);
  eddy_schema_add(s, "v", EDDY_NOMINAL);
  eddy_learner_t *l = make("naive_bayes", s, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 2);
  size_t mem0 = eddy_learner_memory(l);
  char name[32];
  for (int c = 0; c < 40; c++) {
    snprintf(name, sizeof name, "c%d", c);
    add_class(s, name);
    snprintf(name, sizeof name, "v%d", c * 7);
    uint32_t v = value(s, 1, name);
    learn_row(l, &in, (double[]){c, v}, c);
    learn_row(l, &in, (double[]){c + 0.5, v}, c);
  }
  cr_assert_gt(eddy_learner_memory(l), mem0 + 40 * 2 * 8 * 4, "per-class arrays counted");
  double p[40];
  cr_assert_eq(predict_row(l, &in, (double[]){17.25, 17}, p, 40), 40);
  cr_assert_eq(eddy_argmax(p, 40), 17);
  cr_assert_eq(predict_row(l, &in, (double[]){17.25, 17}, p, 39), EDDY_ENOSPC);
  add_class(s, "late"); /* a class the learner has not seen yet */
  double q[41];
  cr_assert_eq(predict_row(l, &in, (double[]){17.25, 17}, q, 41), 41);
  cr_assert_eq(q[40], 0.0);
  cr_assert_eq(memcmp(p, q, sizeof p), 0);
  /* a bad value index or class is refused, not learned */
  in.x[0] = 1;
  in.x[1] = -1;
  in.missing[0] = in.missing[1] = 0;
  in.y = 0;
  in.has_y = 1;
  cr_assert_eq(eddy_learner_learn(l, &in), EDDY_EINVAL);
  in.x[1] = 0;
  in.y = 1.5;
  cr_assert_eq(eddy_learner_learn(l, &in), EDDY_EINVAL);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* ------------------------------------------------------------ scikit-learn */

/* The first interpreter that imports scikit-learn, or NULL. */
static const char *python_with_sklearn(void) {
  static const char *const cands[] = {".cache/venv/bin/python", "/usr/bin/python3"};
  char cmd[256];
  for (size_t i = 0; i < 2; i++) {
    if (access(cands[i], X_OK)) continue;
    snprintf(cmd, sizeof cmd, "%s -c 'import sklearn' 2>/dev/null", cands[i]);
    if (system(cmd) == 0) return cands[i];
  }
  return NULL;
}

static const char sk_script[] =
    "import sys\n"
    "import numpy as np\n"
    "from sklearn.naive_bayes import GaussianNB\n"
    "d = np.loadtxt(sys.argv[1], delimiter=',')\n"
    "ntest = int(sys.argv[2])\n"
    "X, y = d[:, :-1], d[:, -1].astype(int)\n"
    "test = X[-ntest:]\n"
    "for n in map(int, sys.argv[3:]):\n"
    "    m = GaussianNB().partial_fit(X[:n], y[:n], classes=[0, 1, 2])\n"
    "    print('n', n)\n"
    "    print('eps', repr(float(m.epsilon_)))\n"
    "    for c in range(3):\n"
    "        print('count', c, repr(float(m.class_count_[c])))\n"
    "        for j in range(X.shape[1]):\n"
    "            print('theta', c, j, repr(float(m.theta_[c, j])))\n"
    "            print('var', c, j, repr(float(m.var_[c, j])))\n"
    "    for i, p in enumerate(m.predict_proba(test)):\n"
    "        for c in range(3):\n"
    "            print('proba', i, c, repr(float(p[c])))\n";

#define SK_TRAIN 3000
#define SK_TEST 300
#define SK_D 5

/* Rows of 5 numeric attributes and 3 classes of unequal priors: class
 * dependent Gaussians with offsets far from 0, a class-free uniform, and a
 * constant column (its variance is var_smoothing's epsilon alone). */
static void sk_rows(double *x, int *y, size_t n) {
  eddy_rng_t r;
  eddy_rng_seed(&r, 2024);
  for (size_t i = 0; i < n; i++) {
    double u = eddy_rng_uniform(&r);
    int c = i < 3 ? (int)i : u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
    double *row = x + i * SK_D;
    row[0] = 10 + c + eddy_rng_gauss(&r);
    row[1] = -5 - 1.5 * c + 3 * eddy_rng_gauss(&r);
    row[2] = 100 + 50 * eddy_rng_uniform(&r);
    row[3] = 7;
    row[4] = 20 + 0.7 * c + (0.5 + 0.5 * c) * eddy_rng_gauss(&r);
    y[i] = c;
  }
}

Test(sklearn, gaussian_nb_statistics_and_probabilities, .timeout = 120) {
  const char *py = python_with_sklearn();
  if (!py) cr_skip_test("no python3 with scikit-learn (.cache/venv from make deps, or Debian's)");
  size_t n = SK_TRAIN + SK_TEST;
  double *x = malloc(n * SK_D * sizeof *x);
  int *y = malloc(n * sizeof *y);
  sk_rows(x, y, n);
  char csv[] = "/tmp/eddy_nb_XXXXXX.csv", script[] = "/tmp/eddy_nb_XXXXXX.py";
  int fd = mkstemps(csv, 4);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "w");
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < SK_D; j++) fprintf(f, "%.17g,", x[i * SK_D + j]);
    fprintf(f, "%d\n", y[i]);
  }
  fclose(f);
  fd = mkstemps(script, 3);
  cr_assert_geq(fd, 0);
  f = fdopen(fd, "w");
  fputs(sk_script, f);
  fclose(f);
  /* sklearn fits each prefix with ONE partial_fit call: its epsilon is
   * var_smoothing times the largest variance of that batch, which is what
   * eddy's var_smoothing computes over all rows learned so far (one-row
   * batches would give epsilon 0 and 0/0 on the constant column). */
  static const size_t prefixes[] = {40, 400, SK_TRAIN};
  char cmd[512];
  snprintf(cmd, sizeof cmd, "%s %s %s %d %zu %zu %zu", py, script, csv, SK_TEST, prefixes[0],
           prefixes[1], prefixes[2]);
  FILE *pp = popen(cmd, "r");
  cr_assert_not_null(pp);

  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  char name[32];
  for (unsigned j = 0; j < SK_D; j++) {
    snprintf(name, sizeof name, "x%u", j);
    eddy_schema_add(s, name, EDDY_NUMERIC);
  }
  add_class(s, "0");
  add_class(s, "1");
  add_class(s, "2");
  eddy_kv_t kv[] = {{"variance", "population", NULL, 0}, {"var_smoothing", "1e-9", NULL, 0}};
  eddy_learner_t *l = make("naive_bayes", s, kv, 2);
  eddy_instance_t in;
  eddy_instance_init(&in, SK_D);
  size_t learned = 0, checked = 0, probas = 0;
  double worst_stat = 0, worst_p = 0;
  char line[256];
  while (fgets(line, sizeof line, pp)) {
    char what[16];
    size_t a, b;
    double v = 0, got = 0, w, mean, var;
    if (sscanf(line, "n %zu", &a) == 1) {
      for (; learned < a; learned++) learn_row(l, &in, x + learned * SK_D, y[learned]);
      continue;
    }
    sscanf(line, "%15s", what);
    if (strcmp(what, "eps") == 0) {
      sscanf(line, "%*s %lf", &v);
      got = eddy_naive_bayes_epsilon(l);
    } else if (strcmp(what, "count") == 0) {
      sscanf(line, "%*s %zu %lf", &a, &v);
      got = eddy_naive_bayes_class_weight(l, a);
    } else if (strcmp(what, "theta") == 0 || strcmp(what, "var") == 0) {
      sscanf(line, "%*s %zu %zu %lf", &a, &b, &v);
      cr_assert_eq(eddy_naive_bayes_gaussian(l, a, b, &w, &mean, &var), 0);
      got = what[0] == 't' ? mean : var;
    } else if (strcmp(what, "proba") == 0) {
      sscanf(line, "%*s %zu %zu %lf", &a, &b, &v);
      double p[3];
      cr_assert_eq(predict_row(l, &in, x + (SK_TRAIN + a) * SK_D, p, 3), 3);
      cr_assert_float_eq(p[b], v, 1e-6, "n=%zu row %zu class %zu: eddy %.17g sklearn %.17g",
                         learned, a, b, p[b], v);
      if (fabs(p[b] - v) > worst_p) worst_p = fabs(p[b] - v);
      probas++;
      continue;
    } else {
      cr_assert_fail("unexpected line from python: %s", line);
    }
    assert_rel(got, v, 1e-9, line);
    if (v != 0 && fabs(got - v) / fabs(v) > worst_stat) worst_stat = fabs(got - v) / fabs(v);
    checked++;
  }
  int rc = pclose(pp);
  unlink(csv);
  unlink(script);
  cr_assert_eq(rc, 0, "python failed");
  cr_assert_eq(checked, 3 * (1 + 3 * (1 + 2 * SK_D)), "every statistic compared");
  cr_assert_eq(probas, 3 * SK_TEST * 3);
  /* measured: worst relative statistic ~1e-15, worst probability ~1e-15 */
  cr_log_info("sklearn: worst relative statistic %.3g, worst probability %.3g", worst_stat,
              worst_p);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
  free(x);
  free(y);
}

/* -------------------------------------------------------- checkpoints */

/* A stream over the mixed schema with missing values and 3 classes. */
static void mixed_stream_row(eddy_rng_t *r, double *x, double *y) {
  int c = (int)eddy_rng_below(r, 3);
  x[0] = c + eddy_rng_gauss(r);
  x[1] = (double)((c + eddy_rng_below(r, 2)) % 3);
  x[2] = 10 * c + 3 * eddy_rng_gauss(r);
  for (int i = 0; i < 3; i++)
    if (eddy_rng_uniform(r) < 0.05) x[i] = NAN;
  *y = c;
}

static eddy_schema_t *mixed3_schema(void) {
  eddy_schema_t *s = mixed_schema();
  add_class(s, "maybe");
  return s;
}

Test(naive_bayes, checkpoint_round_trip_is_bit_identical) {
  const char *configs[][2] = {{NULL, NULL}, {"variance", "population"}};
  for (size_t cfg = 0; cfg < 2; cfg++) {
    eddy_schema_t *s = mixed3_schema();
    eddy_kv_t kv[] = {{(char *)configs[cfg][0], (char *)configs[cfg][1], NULL, 0},
                      {"var_smoothing", "1e-9", NULL, 0}};
    eddy_learner_t *l = make("naive_bayes", s, kv, cfg ? 2 : 0);
    eddy_instance_t in;
    eddy_instance_init(&in, 3);
    eddy_rng_t r;
    eddy_rng_seed(&r, 5 + cfg);
    double x[3], y;
    for (int i = 0; i < 500; i++) {
      mixed_stream_row(&r, x, &y);
      learn_row(l, &in, x, y);
    }
    eddy_buf_t b, b2;
    eddy_buf_init(&b);
    eddy_buf_init(&b2);
    cr_assert_eq(eddy_model_save(s, l, &b), 0);
    eddy_schema_t *s2;
    eddy_learner_t *l2;
    char err[256];
    cr_assert_eq(eddy_model_load(b.data, b.len, &s2, &l2, err, sizeof err), 0, "%s", err);
    cr_assert_eq(eddy_model_save(s2, l2, &b2), 0);
    cr_assert_eq(b.len, b2.len);
    cr_assert_eq(memcmp(b.data, b2.data, b.len), 0, "saving a loaded model gives the same bytes");
    cr_assert_eq(eddy_learner_memory(l2) > 0, 1);
    /* both go on with the same stream: predictions stay bit-identical */
    eddy_instance_t in2;
    eddy_instance_init(&in2, 3);
    for (int i = 0; i < 1000; i++) {
      mixed_stream_row(&r, x, &y);
      double p[3], q[3];
      cr_assert_eq(predict_row(l, &in, x, p, 3), 3);
      cr_assert_eq(predict_row(l2, &in2, x, q, 3), 3);
      cr_assert_eq(memcmp(p, q, sizeof p), 0, "config %zu row %d: %.17g vs %.17g", cfg, i, p[0],
                   q[0]);
      learn_row(l, &in, x, y);
      learn_row(l2, &in2, x, y);
    }
    /* a truncated body is refused */
    eddy_reader_t rd;
    cr_assert_eq(eddy_ckpt_section(b.data, b.len, EDDY_SECTION_LEARNER, 0, &rd), 0);
    rd.len -= 8;
    cr_assert_null(eddy_learner_load(&rd, s, err, sizeof err));
    eddy_learner_free(l2);
    eddy_schema_free(s2);
    eddy_learner_free(l);
    eddy_instance_free(&in);
    eddy_instance_free(&in2);
    eddy_buf_free(&b);
    eddy_buf_free(&b2);
    eddy_schema_free(s);
  }
}

Test(naive_bayes, reset_returns_to_a_fresh_model) {
  eddy_schema_t *s = mixed3_schema();
  eddy_learner_t *l = make("naive_bayes", s, NULL, 0);
  eddy_learner_t *fresh = make("naive_bayes", s, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 3);
  eddy_rng_t r;
  eddy_rng_seed(&r, 77);
  double x[3], y, p[3], q[3];
  for (int i = 0; i < 300; i++) {
    mixed_stream_row(&r, x, &y);
    learn_row(l, &in, x, y);
  }
  eddy_learner_reset(l);
  predict_row(l, &in, x, p, 3);
  cr_assert(p[0] == 0 && p[1] == 0 && p[2] == 0, "nothing learned after reset");
  eddy_buf_t b, b2;
  eddy_buf_init(&b);
  eddy_buf_init(&b2);
  eddy_learner_save(l, &b);
  eddy_learner_save(fresh, &b2);
  cr_assert(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0, "same checkpoint as fresh");
  eddy_rng_seed(&r, 78);
  for (int i = 0; i < 300; i++) {
    mixed_stream_row(&r, x, &y);
    predict_row(l, &in, x, p, 3);
    predict_row(fresh, &in, x, q, 3);
    cr_assert_eq(memcmp(p, q, sizeof p), 0, "row %d", i);
    learn_row(l, &in, x, y);
    learn_row(fresh, &in, x, y);
  }
  eddy_buf_free(&b);
  eddy_buf_free(&b2);
  eddy_learner_free(l);
  eddy_learner_free(fresh);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(naive_bayes, options_are_checked) {
  eddy_schema_t *s = mixed_schema();
  char err[512];
  eddy_kv_t bad[] = {{"variance", "unbiased", "nb.ini", 4}};
  cr_assert_null(eddy_learner_new("naive_bayes", s, bad, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "nb.ini:4:") && strstr(err, "sample") && strstr(err, "population"), "%s",
            err);
  eddy_kv_t neg[] = {{"var_smoothing", "-1", NULL, 0}};
  cr_assert_null(eddy_learner_new("naive_bayes", s, neg, 1, 1, err, sizeof err));
  eddy_schema_t *r = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  cr_assert_null(eddy_learner_new("naive_bayes", r, NULL, 0, 1, err, sizeof err));
  eddy_schema_free(r);
  eddy_schema_free(s);
}

/* ---------------------------------------------------- seeded streams */

/* Streams as MOA's generators define them (built here with eddy_rng until
 * the generators land): SEA (3 attributes in [0, 10), class 1 when x0 + x1
 * > threshold, 10% label noise), rotating hyperplane without drift (10
 * attributes, class 1 when sum w x >= sum w / 2, 5% noise), Agrawal
 * functions 1 and 2 (elevel, car and zipcode nominal). */
typedef enum { SEA, HYPERPLANE, AGRAWAL1, AGRAWAL2 } stream_kind_t;

static eddy_schema_t *stream_schema(stream_kind_t k) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "class", 0, 0, NULL, 0);
  char name[32];
  if (k == SEA || k == HYPERPLANE) {
    for (int j = 0; j < (k == SEA ? 3 : 10); j++) {
      snprintf(name, sizeof name, "x%d", j);
      eddy_schema_add(s, name, EDDY_NUMERIC);
    }
  } else {
    const char *names[] = {"salary", "commission", "age", "elevel", "car",
                           "zipcode", "hvalue", "hyears", "loan"};
    for (int j = 0; j < 9; j++)
      eddy_schema_add(s, names[j], j >= 3 && j <= 5 ? EDDY_NOMINAL : EDDY_NUMERIC);
    /* nominal values in MOA's order: index = value */
    for (unsigned v = 0; v < 5; v++) {
      snprintf(name, sizeof name, "level%u", v);
      value(s, 3, name);
    }
    for (unsigned v = 1; v <= 20; v++) {
      snprintf(name, sizeof name, "car%u", v);
      value(s, 4, name);
    }
    for (unsigned v = 1; v <= 9; v++) {
      snprintf(name, sizeof name, "zipcode%u", v);
      value(s, 5, name);
    }
  }
  add_class(s, "0");
  add_class(s, "1");
  return s;
}

static double stream_accuracy(stream_kind_t k, uint64_t seed, size_t n) {
  eddy_schema_t *s = stream_schema(k);
  eddy_learner_t *l = make("naive_bayes", s, NULL, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  double w[10], sumw = 0;
  for (int j = 0; j < 10; j++) sumw += w[j] = eddy_rng_uniform(&r);
  size_t ok = 0;
  for (size_t i = 0; i < n; i++) {
    double x[10];
    int y;
    if (k == SEA) {
      for (int j = 0; j < 3; j++) x[j] = 10 * eddy_rng_uniform(&r);
      y = x[0] + x[1] <= 8 ? 0 : 1;
      if (eddy_rng_uniform(&r) < 0.10) y = 1 - y;
    } else if (k == HYPERPLANE) {
      double sum = 0;
      for (int j = 0; j < 10; j++) sum += w[j] * (x[j] = eddy_rng_uniform(&r));
      y = sum >= 0.5 * sumw ? 1 : 0;
      if (eddy_rng_uniform(&r) < 0.05) y = 1 - y;
    } else {
      double salary = 20000 + 130000 * eddy_rng_uniform(&r);
      double commission = salary >= 75000 ? 0 : 10000 + 65000 * eddy_rng_uniform(&r);
      double age = 20 + (double)eddy_rng_below(&r, 61);
      double elevel = (double)eddy_rng_below(&r, 5);
      double car = (double)eddy_rng_below(&r, 20);
      double zipcode = (double)eddy_rng_below(&r, 9);
      double hvalue = (9 - zipcode) * 100000 * (0.5 + eddy_rng_uniform(&r));
      double hyears = 1 + (double)eddy_rng_below(&r, 30);
      double loan = 500000 * eddy_rng_uniform(&r);
      double row[9] = {salary, commission, age, elevel, car, zipcode, hvalue, hyears, loan};
      memcpy(x, row, sizeof row);
      if (k == AGRAWAL1) {
        y = age < 40 || age >= 60 ? 0 : 1;
      } else if (age < 40) {
        y = salary >= 50000 && salary <= 100000 ? 0 : 1;
      } else if (age < 60) {
        y = salary >= 75000 && salary <= 125000 ? 0 : 1;
      } else {
        y = salary >= 25000 && salary <= 75000 ? 0 : 1;
      }
    }
    double p[2];
    predict_row(l, &in, x, p, 2);
    ok += (int)eddy_argmax(p, 2) == y;
    learn_row(l, &in, x, y);
  }
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
  return (double)ok / n;
}

Test(streams, sea_accuracy) {
  double acc = stream_accuracy(SEA, 1, 20000);
  cr_log_info("SEA: %.4f", acc);
  /* measured 0.8796 (the noise caps it at 0.90) */
  cr_assert(acc >= 0.86 && acc <= 0.90, "SEA accuracy %.4f", acc);
}

Test(streams, hyperplane_accuracy) {
  double acc = stream_accuracy(HYPERPLANE, 2, 20000);
  cr_log_info("hyperplane: %.4f", acc);
  /* measured 0.9276 (the noise caps it at 0.95) */
  cr_assert(acc >= 0.90 && acc <= 0.95, "hyperplane accuracy %.4f", acc);
}

Test(streams, agrawal_accuracy) {
  double a1 = stream_accuracy(AGRAWAL1, 3, 20000), a2 = stream_accuracy(AGRAWAL2, 4, 20000);
  cr_log_info("Agrawal 1: %.4f, Agrawal 2: %.4f", a1, a2);
  /* measured 0.8775 and 0.6402. Function 2 (salary bands that depend on
   * age) does not suit a Gaussian per class: the majority class alone
   * scores about 0.615 there. */
  cr_assert(a1 >= 0.86, "Agrawal function 1 accuracy %.4f", a1);
  cr_assert(a2 >= 0.63, "Agrawal function 2 accuracy %.4f", a2);
}

/* ------------------------------------------------------------- Elec2 */

/* MOA's NaiveBayes arithmetic, written out independently in linear space
 * as NaiveBayes.doNaiveBayesPrediction, GaussianEstimator and
 * NominalAttributeClassObserver compute it (with eddy's factor 1 for a
 * nominal value that no class has learned). Two classes, 7 numeric and one
 * nominal attribute (index 1) as in Elec2. */
typedef struct {
  double cw[2];
  double w[2][8], mean[2][8], vsum[2][8];
  double cnt[2][8], sum[2];
  int nv[2];
  double any[8];
} moa_ref_t;

static void moa_ref_learn(moa_ref_t *m, const double *x, int c) {
  m->cw[c] += 1;
  for (int i = 0; i < 8; i++) {
    if (i == 1) {
      int v = (int)x[1];
      m->cnt[c][v] += 1;
      m->sum[c] += 1;
      if (v + 1 > m->nv[c]) m->nv[c] = v + 1;
      m->any[v] = 1;
      continue;
    }
    if (m->w[c][i] > 0) {
      m->w[c][i] += 1;
      double last = m->mean[c][i];
      m->mean[c][i] += (x[i] - last) / m->w[c][i];
      m->vsum[c][i] += (x[i] - last) * (x[i] - m->mean[c][i]);
    } else {
      m->mean[c][i] = x[i];
      m->w[c][i] = 1;
    }
  }
}

static void moa_ref_votes(const moa_ref_t *m, const double *x, double *v) {
  double total = m->cw[0] + m->cw[1];
  for (int c = 0; c < 2; c++) {
    v[c] = total > 0 ? m->cw[c] / total : 0;
    if (m->cw[c] == 0) continue;
    for (int i = 0; i < 8; i++) {
      if (i == 1) {
        int val = (int)x[1];
        if (!m->any[val]) continue;
        v[c] *= (m->cnt[c][val] + 1) / (m->sum[c] + m->nv[c]);
        continue;
      }
      double var = m->w[c][i] > 1 ? m->vsum[c][i] / (m->w[c][i] - 1) : 0, sd = sqrt(var);
      if (sd > 0) {
        double diff = x[i] - m->mean[c][i];
        v[c] *= 1 / (sqrt(2 * M_PI) * sd) * exp(-(diff * diff / (2 * sd * sd)));
      } else {
        v[c] *= x[i] == m->mean[c][i] ? 1 : 0;
      }
    }
  }
}

static FILE *open_dataset(const char *name) {
  const char *dir = getenv("EDDY_DATASETS");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir ? dir : "../shared/datasets", name);
  return fopen(path, "r");
}

/* Splits a CSV line (no quoting in Elec2) in place; strips \r\n. */
static int split_csv(char *line, char **f, int max) {
  int n = 0;
  line[strcspn(line, "\r\n")] = '\0';
  for (char *p = line; n < max;) {
    f[n++] = p;
    p = strchr(p, ',');
    if (!p) break;
    *p++ = '\0';
  }
  return n;
}

static void elec2_run(const char *moa_underflow, size_t *n_out, size_t *correct,
                      size_t *agree_ref, double *worst_p) {
  FILE *f = open_dataset("elec2.csv");
  char line[1024], *fld[16];
  cr_assert_not_null(fgets(line, sizeof line, f));
  cr_assert_eq(split_csv(line, fld, 16), 9);
  cr_assert_str_eq(fld[1], "day");
  cr_assert_str_eq(fld[8], "class");
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "class", 0, 0, NULL, 0);
  for (int i = 0; i < 8; i++) eddy_schema_add(s, fld[i], i == 1 ? EDDY_NOMINAL : EDDY_NUMERIC);
  eddy_kv_t kv[] = {{"moa_underflow", (char *)moa_underflow, NULL, 0}};
  eddy_learner_t *l = make("naive_bayes", s, kv, 1);
  eddy_instance_t in;
  eddy_instance_init(&in, 8);
  static moa_ref_t ref;
  memset(&ref, 0, sizeof ref);
  size_t n = 0, ok = 0, agree = 0;
  double worst = 0;
  while (fgets(line, sizeof line, f)) {
    if (split_csv(line, fld, 16) != 9) continue;
    double x[8];
    for (int i = 0; i < 8; i++) {
      if (i == 1) /* nominal: dictionary index in order of appearance */
        x[i] = value(s, 1, fld[1]);
      else
        x[i] = strtod(fld[i], NULL);
    }
    int64_t y = eddy_dict_intern(s->target.dict, fld[8], strlen(fld[8]),
                                 eddy_hash(fld[8], strlen(fld[8])), NULL);
    double p[2] = {0, 0}, v[2];
    int k = predict_row(l, &in, x, p, 2);
    cr_assert(k >= 1 && k <= 2);
    size_t pred = eddy_argmax(p, (size_t)k);
    ok += (int64_t)pred == y;
    moa_ref_votes(&ref, x, v);
    agree += eddy_argmax(v, 2) == pred;
    if (v[0] + v[1] > 1e-300 && k == 2 && fabs(v[0] / (v[0] + v[1]) - p[0]) > worst)
      worst = fabs(v[0] / (v[0] + v[1]) - p[0]);
    learn_row(l, &in, x, (double)y);
    moa_ref_learn(&ref, x, (int)y);
    n++;
  }
  fclose(f);
  *n_out = n;
  *correct = ok;
  *agree_ref = agree;
  *worst_p = worst;
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(elec2, moa_parity, .timeout = 120) {
  FILE *f = open_dataset("elec2.csv");
  if (!f) cr_skip_test("../shared/datasets/elec2.csv (or $EDDY_DATASETS) is absent");
  fclose(f);
  size_t n, ok, agree;
  double worst;
  elec2_run("true", &n, &ok, &agree, &worst);
  double acc = (double)ok / n;
  cr_log_info("Elec2 naive_bayes: %.6f (%zu / %zu), MOA 0.7336; worst probability %.3g", acc,
              ok, n, worst);
  cr_assert_eq(n, 45312);
  /* MOA's 0.7336 (MOA 2016.04, DESIGN's reference figure) within 0.005 */
  cr_assert(fabs(acc - 0.7336) <= 0.005, "accuracy %.6f vs MOA's 0.7336", acc);
  /* MOA 2024.07.0's NaiveBayes through its Java API on the same rows (day
   * nominal {1..7}): 33242 correct, 0.733625; eddy reproduces each of its
   * predictions */
  cr_assert_eq(ok, 33242, "correct %zu", ok);
  cr_assert_eq(agree, n, "argmax differs from MOA's arithmetic on %zu rows", n - agree);
  /* probabilities: equal to MOA's normalised votes wherever those are
   * representable; measured worst 1.4e-14 */
  cr_assert(worst < 1e-10, "worst probability difference %.3g", worst);

  /* The plain log-space posterior differs only where MOA's products
   * underflow to 0 for both classes (16 rows, from row 17425 on, where
   * vicprice stops being constant): measured 0.733757. */
  elec2_run("false", &n, &ok, &agree, &worst);
  acc = (double)ok / n;
  cr_log_info("Elec2 naive_bayes moa_underflow=false: %.6f (%zu rows differ)", acc, n - agree);
  cr_assert(fabs(acc - 0.7336) <= 0.005, "accuracy %.6f", acc);
  cr_assert(n - agree > 0 && n - agree < 100, "%zu rows differ", n - agree);
}
