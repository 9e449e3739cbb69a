/* bench_trees.c: `make bench` rows for the Hoeffding trees: HT, HAT, EFDT (all
 * on bench_stream_linear's 2-class stream) and the HT regressor (its
 * regression stream, k = 0), 1,000,000 events with 10 numeric attributes
 * held in memory, learn + predict per event (bench.h's row), then the
 * final tree: depth, nodes, leaves and bytes. Target: HT >= 1,000,000
 * events/s on one core. */
#include "bench.h"

static int tree_row(const char *label, const char *learner, const eddy_kv_t *kv, size_t n_kv,
                    const bench_stream_t *s) {
  char err[512];
  eddy_learner_t *l = eddy_learner_new(learner, s->schema, kv, n_kv, 1, err, sizeof err);
  if (!l) {
    fprintf(stderr, "bench %s: %s\n", label, err);
    return 1;
  }
  double out[256], score = 0;
  int cls = s->schema->task == EDDY_CLASSIFICATION;
  double t0 = eddy_now();
  for (size_t i = 0; i < s->n; i++) {
    const eddy_instance_t *in = &s->rows[i];
    int k = eddy_learner_predict(l, in, out, 256);
    if (cls)
      score += (k > 0 && (double)eddy_argmax(out, (size_t)k) == in->y);
    else
      score += k > 0 ? (out[0] > in->y ? out[0] - in->y : in->y - out[0]) : 0;
    eddy_learner_learn(l, in);
  }
  double dt = eddy_now() - t0;
  /* the same columns as bench_learner (accuracy, or MAE for regression) */
  printf("%-34s %14.0f %10.1f %14zu %10.4f\n", label, s->n / dt, dt * 1e9 / s->n,
         eddy_learner_memory(l), score / s->n);
  char *text = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&text, &len);
  eddy_learner_describe(l, m);
  fclose(m);
  char *nl = text ? strchr(text, '\n') : NULL;
  if (nl) *nl = '\0';
  printf("  %s\n", text ? text : "");
  fflush(stdout);
  free(text);
  eddy_learner_free(l);
  return 0;
}

int main(void) {
  bench_stream_t cls, reg;
  if (bench_stream_linear(&cls, 1000000, 10, 2, 1)) return 1;
  if (bench_stream_linear(&reg, 1000000, 10, 0, 1)) return 1;
  bench_header("trees (1M events, 10 numeric)");
  int rc = tree_row("hoeffding_tree", "hoeffding_tree", NULL, 0, &cls);
  rc |= tree_row("hoeffding_adaptive_tree", "hoeffding_adaptive_tree", NULL, 0, &cls);
  rc |= tree_row("efdt", "efdt", NULL, 0, &cls);
  rc |= tree_row("hoeffding_tree_regressor (MAE)", "hoeffding_tree_regressor", NULL, 0, &reg);
  bench_stream_free(&cls);
  bench_stream_free(&reg);
  return rc;
}
