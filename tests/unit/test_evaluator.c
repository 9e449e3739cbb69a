/* test_evaluator.c: prequential metrics against scikit-learn's on the same
 * predictions (accuracy, kappa, log loss, macro F1, ROC AUC, MAE, RMSE, R^2),
 * cumulative and windowed. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

#define PY ".cache/venv/bin/python"

static FILE *python(const char *script_path) {
  if (access(PY, X_OK) != 0) cr_skip_test("%s missing: run `make deps`", PY);
  char cmd[256];
  snprintf(cmd, sizeof cmd, PY " %s", script_path);
  return popen(cmd, "r");
}

/* Writes rows "y,p0,p1[,p2]" and returns scikit-learn's figures for all
 * rows and for the last `w` rows. */
static void sklearn_class(const char *csv, int k, int w, double out[2][5]) {
  char py[64];
  snprintf(py, sizeof py, "/tmp/eddy-eval-test-%d.py", k);
  FILE *s = fopen(py, "w");
  fprintf(s,
          "import numpy as np, sklearn.metrics as M\n"
          "d = np.loadtxt('%s', delimiter=',')\n"
          "for part in (d, d[-%d:]):\n"
          "    y = part[:,0].astype(int); P = part[:,1:]\n"
          "    s = P.sum(axis=1, keepdims=True); Q = np.where(s > 0, P / np.where(s > 0, s, 1), 1.0 / P.shape[1])\n"
          "    yhat = P.argmax(axis=1)\n"
          "    labels = list(range(%d))\n"
          "    ll = M.log_loss(y, np.clip(Q, 1e-15, 1), labels=labels)\n"
          "    auc = M.roc_auc_score(y, Q[:,1]) if %d == 2 else -1.0\n"
          "    v = (M.accuracy_score(y, yhat), M.cohen_kappa_score(y, yhat), ll, M.f1_score(y, yhat, average='macro'), auc)\n"
          "    print(' '.join('%%.17g' %% float(x) for x in v), flush=True)\n",
          csv, w, k, k);
  fclose(s);
  FILE *p = python(py);
  for (int i = 0; i < 2; i++)
    cr_assert_eq(fscanf(p, "%lf %lf %lf %lf %lf", &out[i][0], &out[i][1], &out[i][2], &out[i][3], &out[i][4]), 5);
  cr_assert_eq(pclose(p), 0);
}

static void check_classification(int k, uint64_t seed) {
  const int n = 5000, w = 700;
  eddy_evaluator_t *e = eddy_evaluator_new(EDDY_CLASSIFICATION, w);
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  char csv[64];
  snprintf(csv, sizeof csv, "/tmp/eddy-eval-test-%d.csv", k);
  FILE *f = fopen(csv, "w");
  for (int i = 0; i < n; i++) {
    double p[3] = {0}, y = (double)eddy_rng_below(&r, (uint64_t)k);
    /* An informative but imperfect scorer, with some all-zero rows. */
    for (int c = 0; c < k; c++) p[c] = eddy_rng_uniform(&r) + (c == (int)y ? 0.4 : 0);
    if (i % 97 == 0) memset(p, 0, sizeof p);
    cr_assert_eq(eddy_evaluator_add(e, p, (size_t)k, y), 0);
    fprintf(f, "%d", (int)y);
    for (int c = 0; c < k; c++) fprintf(f, ",%.17g", p[c]);
    fprintf(f, "\n");
  }
  fclose(f);
  double want[2][5];
  sklearn_class(csv, k, w, want);
  eddy_metrics_t got[2];
  eddy_evaluator_cumulative(e, &got[0]);
  eddy_evaluator_windowed(e, &got[1]);
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(got[i].n, i ? (uint64_t)w : (uint64_t)n);
    cr_assert_float_eq(got[i].accuracy, want[i][0], 1e-12);
    cr_assert_float_eq(got[i].kappa, want[i][1], 1e-9);
    cr_assert_float_eq(got[i].log_loss, want[i][2], 1e-9);
    cr_assert_float_eq(got[i].f1_macro, want[i][3], 1e-9);
    if (k == 2) /* windowed AUC is exact; cumulative uses 10,000 bins */
      cr_assert_float_eq(got[i].auc, want[i][4], i ? 1e-12 : 1e-3, "auc %d: %g vs %g", i, got[i].auc, want[i][4]);
    else
      cr_assert(isnan(got[i].auc));
  }
  eddy_evaluator_free(e);
}

Test(evaluator, binary_matches_sklearn) { check_classification(2, 11); }
Test(evaluator, multiclass_matches_sklearn) { check_classification(3, 12); }

Test(evaluator, regression_matches_sklearn) {
  const int n = 3000, w = 500;
  eddy_evaluator_t *e = eddy_evaluator_new(EDDY_REGRESSION, w);
  eddy_rng_t r;
  eddy_rng_seed(&r, 5);
  FILE *f = fopen("/tmp/eddy-eval-reg.csv", "w");
  for (int i = 0; i < n; i++) {
    double y = 3 * eddy_rng_gauss(&r) + 10, p = y + eddy_rng_gauss(&r);
    eddy_evaluator_add(e, &p, 1, y);
    fprintf(f, "%.17g,%.17g\n", y, p);
  }
  fclose(f);
  FILE *s = fopen("/tmp/eddy-eval-reg.py", "w");
  fprintf(s, "import numpy as np, sklearn.metrics as M\nd = np.loadtxt('/tmp/eddy-eval-reg.csv', delimiter=',')\n"
             "for part in (d, d[-%d:]):\n    y, p = part[:,0], part[:,1]\n"
             "    v = (M.mean_absolute_error(y, p), M.mean_squared_error(y, p) ** 0.5, M.r2_score(y, p))\n"
             "    print(' '.join('%%.17g' %% float(x) for x in v), flush=True)\n", w);
  fclose(s);
  FILE *p = python("/tmp/eddy-eval-reg.py");
  double want[2][3];
  for (int i = 0; i < 2; i++) cr_assert_eq(fscanf(p, "%lf %lf %lf", &want[i][0], &want[i][1], &want[i][2]), 3);
  pclose(p);
  eddy_metrics_t got[2];
  eddy_evaluator_cumulative(e, &got[0]);
  eddy_evaluator_windowed(e, &got[1]);
  for (int i = 0; i < 2; i++) {
    cr_assert_float_eq(got[i].mae, want[i][0], 1e-9);
    cr_assert_float_eq(got[i].rmse, want[i][1], 1e-9);
    cr_assert_float_eq(got[i].r2, want[i][2], 1e-9);
  }
  eddy_evaluator_free(e);
}

Test(evaluator, classes_appear_late_and_reset) {
  eddy_evaluator_t *e = eddy_evaluator_new(EDDY_CLASSIFICATION, 10);
  double p2[2] = {0.9, 0.1}, p7[7] = {0, 0, 0, 0, 0, 0, 1};
  eddy_evaluator_add(e, p2, 2, 0);
  eddy_evaluator_add(e, p7, 7, 6); /* class 6 appears: the matrix grows */
  eddy_evaluator_add(e, p7, 7, 1);
  size_t k, stride;
  const uint64_t *m = eddy_evaluator_confusion(e, &k, &stride);
  cr_assert_eq(k, 7);
  cr_assert_eq(m[0 * stride + 0], 1);
  cr_assert_eq(m[6 * stride + 6], 1);
  cr_assert_eq(m[1 * stride + 6], 1);
  eddy_metrics_t c;
  eddy_evaluator_cumulative(e, &c);
  cr_assert_float_eq(c.accuracy, 2.0 / 3, 1e-12);
  eddy_evaluator_reset(e);
  eddy_evaluator_cumulative(e, &c);
  cr_assert_eq(c.n, 0);
  cr_assert(isnan(c.accuracy));
  eddy_evaluator_free(e);
}
