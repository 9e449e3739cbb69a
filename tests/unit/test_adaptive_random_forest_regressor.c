/* test_adaptive_random_forest_regressor.c: the regressor forest against
 * MOA 2024.07.0's AdaptiveRandomForestRegressor on the red wine data
 * (prediction for prediction while its trees do not split: the Poisson
 * draws, the detectors on the trees' predictions, background trees and
 * swaps, the mean), checkpoints that continue bit for bit, truncated
 * checkpoints refused, the heap still once grown, describe and memory. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ensemble_data.h"
#include "learners/learners.h"
#include "learners/trees/trees.h"

/* winequality-red.csv (11 numeric attributes, `quality` the target), the
 * first n rows repeated `times` times; -1 when the file is absent. */
static int wine_load(data_t *d, size_t times) {
  memset(d, 0, sizeof *d);
  const char *dir = getenv("EDDY_DATASETS") ? getenv("EDDY_DATASETS") : "../shared/datasets";
  char path[1024], line[1024];
  snprintf(path, sizeof path, "%s/winequality-red.csv", dir);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  d->schema = eddy_schema_new(EDDY_REGRESSION, "quality", 0, 0, NULL, 0);
  cr_assert(fgets(line, sizeof line, f));
  line[strcspn(line, "\r\n")] = '\0';
  char *cols[16];
  cr_assert_eq(eddy_split_list(line, cols, 16), 12);
  for (size_t j = 0; j < 11; j++) eddy_schema_add(d->schema, cols[j], EDDY_NUMERIC);
  size_t cap = 1599 * times;
  d->rows = calloc(cap, sizeof *d->rows);
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (!*line) continue;
    cr_assert_eq(eddy_split_list(line, cols, 16), 12);
    eddy_instance_t *in = &d->rows[d->n++];
    eddy_instance_init(in, 11);
    for (size_t j = 0; j < 11; j++) {
      in->missing[j] = 0;
      cr_assert_eq(eddy_parse_double(cols[j], &in->x[j]), 0, "%s", cols[j]);
    }
    cr_assert_eq(eddy_parse_double(cols[11], &in->y), 0);
    in->has_y = 1;
    in->weight = 1;
  }
  fclose(f);
  cr_assert_eq(d->n, 1599);
  for (size_t t = 1; t < times; t++)
    for (size_t i = 0; i < 1599; i++) {
      eddy_instance_t *in = &d->rows[d->n++];
      eddy_instance_init(in, 11);
      memcpy(in->x, d->rows[i].x, 11 * sizeof *in->x);
      memset(in->missing, 0, 11);
      in->y = d->rows[i].y;
      in->has_y = 1;
      in->weight = 1;
    }
  return 0;
}

#define WINE_OR_SKIP(d, times)                                                                \
  do {                                                                                        \
    if (wine_load(&(d), (times)))                                                             \
      cr_skip_test("winequality-red.csv not found in ../shared/datasets or $EDDY_DATASETS");  \
  } while (0)

/* Test-then-train: MAE and RMSE, and the first `keep` predictions. */
static void prequential_reg(const data_t *d, const eddy_kv_t *kv, size_t n_kv, double *mae,
                            double *rmse, double *first, size_t keep) {
  eddy_learner_t *l = make("adaptive_random_forest_regressor", d->schema, kv, n_kv, 1);
  double a = 0, s = 0;
  for (size_t i = 0; i < d->n; i++) {
    double p;
    cr_assert_eq(eddy_learner_predict(l, &d->rows[i], &p, 1), 1);
    if (i < keep) first[i] = p;
    a += fabs(d->rows[i].y - p);
    s += (d->rows[i].y - p) * (d->rows[i].y - p);
    cr_assert_eq(eddy_learner_learn(l, &d->rows[i]), 0);
  }
  *mae = a / (double)d->n;
  *rmse = sqrt(s / (double)d->n);
  eddy_learner_free(l);
}

Test(wine, the_forest_predicts_as_moa_while_its_trees_do_not_split) {
  /* MOA's figures, from
   *   python3 tools/compare/csv2arff.py ../shared/datasets/winequality-red.csv wine.arff \
   *       --target quality --numeric-target
   *   java -cp .cache/moa/libs/moa-2024.07.0.jar:.cache/moa/classes MoaPrequential wine.arff \
   *       'meta.AdaptiveRandomForestRegressor -s 10 -l (ARFFIMTDD -s
   *       VarianceReductionSplitCriterion -g 100000 -c 0.01)' --regression
   * on OpenJDK 17: MAE 0.6630808904921559, RMSE 0.8126981971743802 (20
   * warnings and 20 drifts: background trees start and take over). The
   * leaves' means are sums over weights in MOA and running means here:
   * equal to ~1e-15 per prediction. */
  data_t d;
  WINE_OR_SKIP(d, 1);
  eddy_kv_t kv[] = {{"ensemble_size", "10", NULL, 0}, {"grace_period", "100000", NULL, 0}};
  double mae, rmse, first[1];
  prequential_reg(&d, kv, 2, &mae, &rmse, first, 0);
  cr_assert(fabs(mae - 0.6630808904921559) < 1e-12, "MAE %.17g, MOA 0.6630808904921559", mae);
  cr_assert(fabs(rmse - 0.8126981971743802) < 1e-12, "RMSE %.17g, MOA 0.8126981971743802", rmse);
  data_free(&d);
}

Test(wine, defaults_predict_as_moa_until_the_first_split) {
  /* MOA's default trees (-g 50 -c 0.01) first split at row 8 here; up to
   * there the forest's predictions are MOA's (its --predictions file).
   * After it they differ: MOA's ARFFIMTDD starts new leaves empty
   * (predicting 0) and splits on its E-BST's points, eddy's tree starts
   * them from the branch statistics (MOA: MAE 0.7784, RMSE 1.0026 over the
   * file; eddy's bound below). */
  data_t d;
  WINE_OR_SKIP(d, 1);
  eddy_kv_t kv[] = {{"ensemble_size", "10", NULL, 0}};
  static const double moa[8] = {0.0, 5.0, 5.0, 5.0, 5.208334998334998, 5.167865053858078,
                                5.134467781134165, 5.114946254840405};
  double mae, rmse, first[8];
  prequential_reg(&d, kv, 1, &mae, &rmse, first, 8);
  for (int i = 0; i < 8; i++)
    cr_assert(fabs(first[i] - moa[i]) < 1e-12, "row %d: %.17g, MOA %.17g", i, first[i], moa[i]);
  /* a forest worth having: better than predicting the running mean
   * (MAE 0.68 here) and than MOA's; measured 0.5430 */
  cr_assert_lt(mae, 0.60, "MAE %g", mae);
  data_free(&d);
}

Test(wine, a_leaf_draws_its_subspace_as_moa_does) {
  /* MOA's ARFFIMTDD LeafNode, on its first instance, draws k attributes
   * with nextInt(n) from its tree's java.util.Random(1), drawing again
   * while one repeats: for k = 7 of n = 11 that is 4 6 8 9 2 3 1 (Java 17,
   * that loop on new Random(1)); a tree reset starts the same draws over. */
  data_t d;
  WINE_OR_SKIP(d, 1);
  eddy__htr_params_t p = {.grace_period = 50, .split_confidence = 0.01, .tie_threshold = 0.05,
                          .leaf_prediction = EDDY__HTR_MEAN, .model_selector_decay = 0.95,
                          .learning_rate = 0.05, .min_samples_split = 5, .bins = 32,
                          .max_byte_size = 33554432, .memory_estimate_period = 1000000,
                          .subspace_size = 7};
  eddy__htr_tree_t t;
  cr_assert_eq(eddy__htr_tree_init(&t, d.schema, &p), 0);
  static const double want[11] = {0, 1, 1, 1, 1, 0, 1, 0, 1, 1, 0};
  for (int round = 0; round < 2; round++) {
    cr_assert_eq(eddy__htr_tree_learn(&t, &d.rows[0]), 0);
    const double *mask = eddy__ht_store_slot(&t.st, t.st.root);
    for (int a = 0; a < 11; a++)
      cr_assert_eq(mask[a], want[a], "round %d, attribute %d: %g", round, a, mask[a]);
    cr_assert_eq(eddy__htr_tree_reset(&t), 0);
  }
  eddy__htr_tree_free(&t);
  data_free(&d);
}

/* ------------------------------------------------------------ checkpoints */

/* Saves after every `every`-th row, loads, saves again (same bytes) and
 * runs `ahead` rows on: the predictions must be bit-identical with the
 * run that was never interrupted. */
static void continues(const data_t *d, const eddy_kv_t *kv, size_t n_kv, size_t every,
                      size_t ahead) {
  const char *type = "adaptive_random_forest_regressor";
  size_t n = d->n;
  double *ref = calloc(n, sizeof *ref), *got = calloc(ahead, sizeof *got);
  eddy_learner_t *a = make(type, d->schema, kv, n_kv, 3);
  for (size_t i = 0; i < n; i++) {
    cr_assert_eq(eddy_learner_predict(a, &d->rows[i], ref + i, 1), 1);
    cr_assert_eq(eddy_learner_learn(a, &d->rows[i]), 0);
  }
  eddy_learner_free(a);
  eddy_learner_t *b = make(type, d->schema, kv, n_kv, 3);
  for (size_t i = 0; i + ahead < n; i++) {
    double p;
    eddy_learner_predict(b, &d->rows[i], &p, 1);
    cr_assert_eq(eddy_learner_learn(b, &d->rows[i]), 0);
    if ((i + 1) % every) continue;
    eddy_buf_t buf, again;
    eddy_buf_init(&buf);
    eddy_buf_init(&again);
    cr_assert_eq(eddy_learner_save(b, &buf), 0);
    eddy_reader_t r;
    eddy_reader_init(&r, buf.data + 12, buf.len - 12); /* after tag and length */
    char err[512];
    eddy_learner_t *c = eddy_learner_load(&r, d->schema, err, sizeof err);
    cr_assert_not_null(c, "after row %zu: %s", i + 1, err);
    cr_assert_eq(eddy_learner_save(c, &again), 0);
    cr_assert(again.len == buf.len && memcmp(again.data, buf.data, buf.len) == 0,
              "after row %zu: saved again, other bytes", i + 1);
    for (size_t j = 0; j < ahead; j++) {
      cr_assert_eq(eddy_learner_predict(c, &d->rows[i + 1 + j], got + j, 1), 1);
      cr_assert_eq(eddy_learner_learn(c, &d->rows[i + 1 + j]), 0);
    }
    cr_assert(memcmp(got, ref + i + 1, sizeof(double) * ahead) == 0,
              "loaded after row %zu, the predictions differ", i + 1);
    eddy_learner_free(c);
    eddy_buf_free(&buf);
    eddy_buf_free(&again);
  }
  eddy_learner_free(b);
  free(ref);
  free(got);
}

Test(wine, checkpoints_continue_bit_identically) {
  /* the whole file: trees split, warn, get background trees and are
   * replaced within it (20 warnings and drifts with 10 trees) */
  data_t d;
  WINE_OR_SKIP(d, 1);
  eddy_kv_t moa[] = {{"ensemble_size", "6", NULL, 0}};
  eddy_kv_t own[] = {{"ensemble_size", "4", NULL, 0},
                     {"random", "eddy", NULL, 0},
                     {"detector_input", "error", NULL, 0},
                     {"leaf_prediction", "adaptive", NULL, 0}};
  continues(&d, moa, 1, 250, 250);
  continues(&d, own, 4, 250, 250);
  data_free(&d);
}

Test(wine, truncated_or_corrupt_checkpoints_are_refused_not_trusted) {
  data_t d;
  WINE_OR_SKIP(d, 1);
  eddy_kv_t kv[] = {{"ensemble_size", "3", NULL, 0}};
  eddy_learner_t *l = make("adaptive_random_forest_regressor", d.schema, kv, 1, 1);
  for (size_t i = 0; i < 800; i++) eddy_learner_learn(l, &d.rows[i]);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_learner_save(l, &b), 0);
  char err[512];
  size_t body = b.len - 12;
  for (size_t n = 0; n < body; n += 1 + n / 64) {
    eddy_reader_t r;
    eddy_reader_init(&r, b.data + 12, n);
    eddy_learner_t *x = eddy_learner_load(&r, d.schema, err, sizeof err);
    cr_assert_null(x, "a section cut to %zu of %zu bytes loaded", n, body);
  }
  /* flipped bits: refused, or a model that predicts (ASan/UBSan watch) */
  for (size_t i = 12; i < b.len; i += 1 + i / 50) {
    b.data[i] ^= 0x11;
    eddy_reader_t r;
    eddy_reader_init(&r, b.data + 12, body);
    eddy_learner_t *x = eddy_learner_load(&r, d.schema, err, sizeof err);
    if (x) {
      double p;
      eddy_learner_predict(x, &d.rows[0], &p, 1);
      eddy_learner_learn(x, &d.rows[1]);
      eddy_learner_free(x);
    }
    b.data[i] ^= 0x11;
  }
  eddy_buf_free(&b);
  eddy_learner_free(l);
  data_free(&d);
}

/* ------------------------------------------------------------ heap, describe */

Test(wine, no_allocation_per_record_once_grown) {
  /* the file 20 times (31,980 records): the heap in use must not move over
   * the last 8,000. Trees that stop growing (max_depth 3) and no drift
   * detection, so that what is checked is the forest's own per-record
   * path and its trees' learning and prediction. */
  data_t d;
  WINE_OR_SKIP(d, 20);
  eddy_kv_t kv[] = {{"ensemble_size", "4", NULL, 0},
                    {"max_depth", "3", NULL, 0},
                    {"drift_detection", "false", NULL, 0}};
  eddy_learner_t *l = make("adaptive_random_forest_regressor", d.schema, kv, 3, 4);
  size_t before = 0;
  for (size_t i = 0; i < d.n; i++) {
    if (i == d.n - 8000) before = mallinfo2().uordblks;
    double p;
    eddy_learner_predict(l, &d.rows[i], &p, 1);
    cr_assert_eq(eddy_learner_learn(l, &d.rows[i]), 0);
  }
  size_t after = mallinfo2().uordblks;
  cr_assert_eq(after, before, "heap in use %zu -> %zu", before, after);
  eddy_learner_free(l);
  data_free(&d);
}

Test(wine, describe_and_memory) {
  data_t d;
  WINE_OR_SKIP(d, 1);
  eddy_kv_t kv[] = {{"ensemble_size", "4", NULL, 0}};
  eddy_learner_t *l = make("adaptive_random_forest_regressor", d.schema, kv, 1, 1);
  size_t m0 = eddy_learner_memory(l);
  for (size_t i = 0; i < d.n; i++) eddy_learner_learn(l, &d.rows[i]);
  cr_assert_gt(eddy_learner_memory(l), m0);
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  eddy_learner_describe(l, f);
  fclose(f);
  /* 11 attributes: round(11 * 0.6) = 7 per leaf */
  cr_assert(strstr(text, "adaptive_random_forest_regressor: 4 trees, 7 of 11 attributes per "
                         "leaf, lambda 6, 1599 instances"),
            "%s", text);
  cr_assert(strstr(text, "  tree 3: RMSE "), "%s", text);
  free(text);
  /* importance: the trees split, so some attributes have gain and splits
   * (alcohol, the strongest correlate of quality, among them) */
  double gain[11], splits[11], total = 0;
  cr_assert_eq(eddy_learner_importance(l, gain, splits, 11), 0);
  for (int a = 0; a < 11; a++) {
    cr_assert(gain[a] >= 0 && splits[a] >= 0);
    total += splits[a];
  }
  cr_assert_gt(total, 0);
  cr_assert_gt(splits[10], 0, "alcohol never split on");
  eddy_learner_free(l);
  data_free(&d);
}
