/* bench_baselines.c: `make bench` rows for the baseline learners. */
#include "bench.h"

int main(void) {
  bench_stream_t s;
  if (bench_stream_linear(&s, 1000000, 10, 2, 1)) return 1;
  bench_header("baselines (1M events, 10 numeric)");
  int rc = bench_learner("majority", "majority", NULL, 0, &s);
  rc |= bench_learner("no_change", "no_change", NULL, 0, &s);
  bench_stream_free(&s);
  return rc;
}
