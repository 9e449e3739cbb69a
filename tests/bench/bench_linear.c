/* bench_linear.c: `make bench` rows for the online linear models: each
 * learner on a seeded 1,000,000-event stream of 10 numeric attributes (2
 * classes, or a regression target), softmax on 10 classes, and logistic
 * regression with each optimizer. Targets on the 2-core reference machine:
 * logistic regression >= 10M events/s, softmax-10 >= 2M events/s. */
#include "bench.h"

int main(void) {
  bench_stream_t s2, s10, sr;
  if (bench_stream_linear(&s2, 1000000, 10, 2, 1) || bench_stream_linear(&s10, 1000000, 10, 10, 1) ||
      bench_stream_linear(&sr, 1000000, 10, 0, 1))
    return 1;
  int rc = 0;
  bench_header("linear (1M events, 10 numeric)");
  rc |= bench_learner("logistic_regression", "logistic_regression", NULL, 0, &s2);
  rc |= bench_learner("softmax_regression (2 classes)", "softmax_regression", NULL, 0, &s2);
  rc |= bench_learner("softmax_regression (10 classes)", "softmax_regression", NULL, 0, &s10);
  rc |= bench_learner("linear_svm", "linear_svm", NULL, 0, &s2);
  rc |= bench_learner("perceptron", "perceptron", NULL, 0, &s2);
  rc |= bench_learner("passive_aggressive", "passive_aggressive", NULL, 0, &s2);
  rc |= bench_learner("linear_regression (MAE)", "linear_regression", NULL, 0, &sr);
  rc |= bench_learner("passive_aggressive regr. (MAE)", "passive_aggressive", NULL, 0, &sr);
  printf("\n");
  bench_header("logistic_regression by optimizer");
  static const char *const opts[] = {"sgd", "adagrad", "rmsprop", "adam", "ftrl", "vw"};
  char label[64];
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    eddy_kv_t kv[] = {{"optimizer", (char *)opts[i], NULL, 0}};
    snprintf(label, sizeof label, "logistic_regression %s", opts[i]);
    rc |= bench_learner(label, "logistic_regression", kv, 1, &s2);
  }
  {
    eddy_kv_t kv[] = {{"schedule", "invscaling", NULL, 0}};
    rc |= bench_learner("logistic_regression sgd invscaling", "logistic_regression", kv, 1, &s2);
  }
  {
    eddy_kv_t kv[] = {{"l1", "0.0001", NULL, 0}, {"l2", "0.0001", NULL, 0}};
    rc |= bench_learner("logistic_regression elastic net", "logistic_regression", kv, 2, &s2);
  }
  {
    eddy_kv_t kv[] = {{"standardize", "true", NULL, 0}};
    rc |= bench_learner("logistic_regression standardize", "logistic_regression", kv, 1, &s2);
  }
  bench_stream_free(&s2);
  bench_stream_free(&s10);
  bench_stream_free(&sr);
  return rc;
}
