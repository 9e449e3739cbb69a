/* learn_predict.c: eddy as a C library: a Hoeffding tree learns a stream
 * (y = 1 when x1 + x2 > 1, one label in ten flipped), ADWIN watches its
 * 0/1 errors, and the model is saved and loaded back. Builds against the
 * installed library:
 *   cc learn_predict.c $(pkg-config --cflags --libs eddy) -o learn_predict */
#include <stdio.h>
#include <string.h>

#include <eddy/eddy.h>

int main(void) {
  char err[256];
  eddy_schema_t *schema = eddy_schema_new(EDDY_CLASSIFICATION, "y", EDDY_DEFAULT_MAX_VALUES,
                                          EDDY_DEFAULT_MAX_CLASSES, err, sizeof err);
  if (!schema || eddy_schema_add(schema, "x1", EDDY_NUMERIC) < 0 || eddy_schema_add(schema, "x2", EDDY_NUMERIC) < 0) {
    fprintf(stderr, "schema: %s\n", err);
    return 1;
  }
  /* Classes are dictionary-encoded: index 0 is "no", 1 is "yes". */
  int added;
  eddy_dict_intern(schema->target.dict, "no", 2, eddy_hash("no", 2), &added);
  eddy_dict_intern(schema->target.dict, "yes", 3, eddy_hash("yes", 3), &added);
  eddy_kv_t params[] = {{.key = "grace_period", .value = "100"}};
  eddy_learner_t *tree = eddy_learner_new("hoeffding_tree", schema, params, 1, 1, err, sizeof err);
  eddy_detector_t *adwin = eddy_detector_new("adwin", NULL, 0, 1, err, sizeof err);
  if (!tree || !adwin) {
    fprintf(stderr, "eddy: %s\n", err);
    return 1;
  }
  eddy_instance_t in;
  eddy_instance_init(&in, schema->n_attrs);
  eddy_rng_t rng;
  eddy_rng_seed(&rng, 42);
  double votes[2];
  unsigned correct = 0, n = 20000, drifts = 0;
  for (unsigned i = 0; i < n; i++) {
    eddy_instance_clear(&in);
    in.x[0] = eddy_rng_uniform(&rng);
    in.x[1] = eddy_rng_uniform(&rng);
    in.missing[0] = in.missing[1] = 0;
    int y = in.x[0] + in.x[1] > 1.0;
    if (eddy_rng_uniform(&rng) < 0.1) y = !y;
    in.y = y;
    in.has_y = 1;
    int k = eddy_learner_predict(tree, &in, votes, 2);
    int pred = k > 0 ? (int)eddy_argmax(votes, (size_t)k) : 0;
    correct += pred == y;
    if (eddy_detector_update(adwin, pred != y) == EDDY_DRIFT_DRIFT) drifts++;
    if (eddy_learner_learn(tree, &in)) return 1;
  }
  printf("prequential accuracy %.4f over %u instances, %u drifts, model %zu bytes\n", (double)correct / n, n,
         drifts, eddy_learner_memory(tree));
  /* Save, load back, and check that the copy predicts alike. */
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_schema_t *s2 = NULL;
  eddy_learner_t *t2 = NULL;
  if (eddy_model_save(schema, tree, &b) || eddy_model_load(b.data, b.len, &s2, &t2, err, sizeof err)) {
    fprintf(stderr, "save/load: %s\n", err);
    return 1;
  }
  double v2[2];
  in.x[0] = 0.9;
  in.x[1] = 0.8;
  int k1 = eddy_learner_predict(tree, &in, votes, 2), k2 = eddy_learner_predict(t2, &in, v2, 2);
  int same = k1 == k2 && memcmp(votes, v2, sizeof(double) * (size_t)k1) == 0;
  printf("saved %zu bytes; loaded copy predicts alike: %s\n", b.len, same ? "yes" : "no");
  eddy_buf_free(&b);
  eddy_learner_free(t2);
  eddy_schema_free(s2);
  eddy_instance_free(&in);
  eddy_detector_free(adwin);
  eddy_learner_free(tree);
  eddy_schema_free(schema);
  return same && correct > n * 8 / 10 ? 0 : 1;
}
