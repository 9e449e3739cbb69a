/* bench_naive_bayes.c: `make bench` rows for naive Bayes (prequential
 * predict + learn, 1M events, 10 numeric attributes, data in memory). The
 * target is 10 million events/s with 2 classes on one core. */
#include "bench.h"

int main(void) {
  bench_stream_t s2, s10;
  if (bench_stream_linear(&s2, 1000000, 10, 2, 1)) return 1;
  if (bench_stream_linear(&s10, 1000000, 10, 10, 1)) return 1;
  bench_header("naive_bayes (1M events, 10 numeric)");
  int rc = bench_learner("naive_bayes, 2 classes", "naive_bayes", NULL, 0, &s2);
  rc |= bench_learner("naive_bayes, 10 classes", "naive_bayes", NULL, 0, &s10);
  eddy_kv_t sk[] = {{"variance", "population", NULL, 0}, {"var_smoothing", "1e-9", NULL, 0}};
  rc |= bench_learner("naive_bayes sklearn-style, 2 cl.", "naive_bayes", sk, 2, &s2);
  bench_stream_free(&s2);
  bench_stream_free(&s10);
  return rc;
}
