/* bench_selection.c: `make bench` rows for model_selection (its default
 * candidates: hoeffding_tree, logistic_regression, naive_bayes). */
#include "bench.h"

int main(void) {
  bench_stream_t s;
  if (bench_stream_linear(&s, 200000, 10, 2, 1)) return 1;
  bench_header("model selection (200k events, 10 numeric)");
  int rc = bench_learner("model_selection (ht, logreg, nb)", "model_selection", NULL, 0, &s);
  rc |= bench_learner("hoeffding_tree alone", "hoeffding_tree", NULL, 0, &s);
  bench_stream_free(&s);
  return rc;
}
