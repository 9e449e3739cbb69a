/* bench_anomaly.c: `make bench` rows for the anomaly detector
 * (half_space_trees): score + learn per event on a uniform stream. */
#include "bench.h"

static int bench_scorer(const char *label, const eddy_kv_t *kv, size_t n_kv,
                        const bench_stream_t *s) {
  char err[512];
  eddy_learner_t *l = eddy_learner_new("half_space_trees", s->schema, kv, n_kv, 1, err, sizeof err);
  if (!l) {
    fprintf(stderr, "bench %s: %s\n", label, err);
    return 1;
  }
  double out[1], sum = 0;
  double t0 = eddy_now();
  for (size_t i = 0; i < s->n; i++) {
    eddy_learner_predict(l, &s->rows[i], out, 1);
    sum += out[0];
    eddy_learner_learn(l, &s->rows[i]);
  }
  double dt = eddy_now() - t0;
  printf("%-34s %14.0f %10.1f %14zu %10.4f mean score\n", label, s->n / dt, dt * 1e9 / s->n,
         eddy_learner_memory(l), sum / s->n);
  fflush(stdout);
  eddy_learner_free(l);
  return 0;
}

int main(void) {
  bench_stream_t s;
  if (bench_stream_linear(&s, 1000000, 4, 2, 1)) return 1;
  bench_header("anomaly (1M events, 4 numeric)");
  int rc = bench_scorer("half_space_trees (10 x h8, w250)", NULL, 0, &s);
  eddy_kv_t big[] = {{"n_trees", "20", NULL, 0}, {"height", "10", NULL, 0}};
  rc |= bench_scorer("half_space_trees (20 x h10)", big, 2, &s);
  bench_stream_free(&s);
  return rc;
}
