/* bench_ensembles.c: `make bench` rows for the online ensembles of 10
 * Hoeffding trees (MOA defaults) on a seeded in-memory stream, leveraging
 * bagging, ARF and SRP (10 trees) beside them; the ARF regressor (10 trees)
 * on bench.h's regression stream (100,000 events, MAE). Target:
 * OzaBoost(10 HT) at least 100,000 events/s on one core. */
#include "bench.h"

int main(void) {
  bench_stream_t s;
  if (bench_stream_linear(&s, 1000000, 10, 2, 1)) return 1;
  bench_header("ensembles (1M events, 10 numeric)");
  const eddy_kv_t ten[] = {{"ensemble_size", "10", NULL, 0},
                           {"base_learner", "hoeffding_tree", NULL, 0}};
  int rc = bench_learner("hoeffding_tree (one, reference)", "hoeffding_tree", NULL, 0, &s);
  rc |= bench_learner("oza_boost (10 HT)", "oza_boost", ten, 2, &s);
  rc |= bench_learner("oza_bag (10 HT)", "oza_bag", ten, 2, &s);
  rc |= bench_learner("adwin_bagging (10 HT)", "adwin_bagging", ten, 2, &s);
  rc |= bench_learner("leveraging_bagging (10 HT)", "leveraging_bagging", ten, 2, &s);
  const eddy_kv_t arf10[] = {{"ensemble_size", "10", NULL, 0}};
  rc |= bench_learner("adaptive_random_forest (10)", "adaptive_random_forest", arf10, 1, &s);
  rc |= bench_learner("streaming_random_patches (10)", "streaming_random_patches", arf10, 1, &s);
  bench_stream_free(&s);
  bench_stream_t reg;
  if (bench_stream_linear(&reg, 100000, 10, 0, 1)) return 1;
  bench_header("regression ensembles (100k events, 10 numeric)");
  rc |= bench_learner("adaptive_random_forest_regressor (10)", "adaptive_random_forest_regressor",
                      arf10, 1, &reg);
  bench_stream_free(&reg);
  return rc;
}
