/* test_model_selection.c: model_selection answers with the candidate
 * whose windowed loss is lowest (checked against the candidates run alone
 * and an independent count of their errors), its keys, its checkpoint, and
 * served_by through a replica. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

#define KV(k, v) {(char *)(k), (char *)(v), (char *)"m.ini", 3}

static eddy_schema_t *schema(void) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "a", EDDY_NUMERIC);
  for (const char *c = "pq"; *c; c++) eddy_dict_intern(s->target.dict, c, 1, eddy_hash(c, 1), NULL);
  return s;
}

Test(model_selection, keys_are_checked) {
  eddy_schema_t *s = schema();
  char err[1024];
  struct {
    eddy_kv_t kv[2];
    size_t n;
    const char *want;
  } bad[] = {
      {{KV("candidates", "majority, nope")}, 1, "nope"},
      {{KV("candidates", "majority, majority")}, 1, "twice"},
      {{KV("candidates", "majority, model_selection")}, 1, "cannot be a candidate"},
      {{KV("candidates", "majority, half_space_trees")}, 1, "cannot be a candidate"},
      {{KV("candidates", "majority, hoeffding_tree"), KV("naive_bayes.laplace", "1")}, 2, "'naive_bayes' is not a candidate"},
      {{KV("candidates", "majority, hoeffding_tree"), KV("hoeffding_tree.grace_period", "-4")}, 2, "grace_period"},
      {{KV("metric", "mse")}, 1, "metric"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cr_assert_null(eddy_learner_new("model_selection", s, bad[i].kv, bad[i].n, 1, err, sizeof err), "%zu", i);
    cr_assert(strstr(err, bad[i].want), "%zu: %s", i, err);
  }
  eddy_learner_t *l = eddy_learner_new("model_selection", s, NULL, 0, 1, err, sizeof err);
  cr_assert_not_null(l, "the default candidates: %s", err);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

/* majority and no_change on runs of one label (no_change is right but at
 * each run's start) then alternating labels (no_change always wrong).
 * Every prediction must be, bit for bit, that of the candidate with the
 * fewest errors over the last 5 (the first on ties), run alone. */
Test(model_selection, answers_with_the_best_candidate) {
  eddy_schema_t *s = schema();
  eddy_kv_t kv[] = {KV("candidates", "majority, no_change"), KV("window", "5")};
  eddy_learner_t *ms = eddy_learner_new("model_selection", s, kv, 2, 1, NULL, 0);
  eddy_learner_t *alone[2] = {eddy_learner_new("majority", s, NULL, 0, 1, NULL, 0),
                              eddy_learner_new("no_change", s, NULL, 0, 1, NULL, 0)};
  cr_assert(ms && alone[0] && alone[1]);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  in.missing[0] = 0;
  int errs[2][5] = {{0}}, n = 0, served[2] = {0};
  for (int i = 0; i < 80; i++) {
    int y = i < 40 ? (i / 7) % 2 : i % 2;
    in.x[0] = i;
    int sum[2] = {0, 0};
    for (int c = 0; c < 2; c++)
      for (int j = 0; j < (n < 5 ? n : 5); j++) sum[c] += errs[c][j];
    int best = sum[1] < sum[0] ? 1 : 0;
    double p[2], q[2][2];
    cr_assert_eq(eddy_learner_predict(ms, &in, p, 2), 2);
    cr_assert_str_eq(ms->type->served(ms), best ? "no_change" : "majority", "record %d", i);
    for (int c = 0; c < 2; c++) {
      cr_assert_eq(eddy_learner_predict(alone[c], &in, q[c], 2), 2);
      errs[c][n % 5] = (int)eddy_argmax(q[c], 2) != y;
    }
    cr_assert(memcmp(p, q[best], sizeof p) == 0, "record %d", i);
    served[best]++;
    n++;
    in.y = y;
    in.has_y = 1;
    cr_assert_eq(eddy_learner_learn(ms, &in), 0);
    eddy_learner_learn(alone[0], &in);
    eddy_learner_learn(alone[1], &in);
  }
  cr_assert(served[0] > 0 && served[1] > 0, "both answered: %d, %d", served[0], served[1]);
  /* A checkpoint continues bit for bit. */
  eddy_buf_t b1, b2;
  eddy_buf_init(&b1);
  eddy_buf_init(&b2);
  cr_assert_eq(eddy_model_save(s, ms, &b1), 0);
  eddy_schema_t *s2;
  eddy_learner_t *ms2;
  char err[512];
  cr_assert_eq(eddy_model_load(b1.data, b1.len, &s2, &ms2, err, sizeof err), 0, "%s", err);
  cr_assert_eq(eddy_model_save(s2, ms2, &b2), 0);
  cr_assert(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
  for (int i = 0; i < 30; i++) {
    double p1[2], p2[2];
    in.x[0] = i;
    in.y = (i / 3) % 2;
    eddy_learner_predict(ms, &in, p1, 2);
    eddy_learner_predict(ms2, &in, p2, 2);
    cr_assert(memcmp(p1, p2, sizeof p1) == 0);
    cr_assert_str_eq(ms->type->served(ms), ms2->type->served(ms2));
    eddy_learner_learn(ms, &in);
    eddy_learner_learn(ms2, &in);
  }
  eddy_buf_clear(&b1);
  eddy_buf_clear(&b2);
  eddy_model_save(s, ms, &b1);
  eddy_model_save(s2, ms2, &b2);
  cr_assert(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0);
  eddy_buf_free(&b1);
  eddy_buf_free(&b2);
  eddy_learner_free(ms2);
  eddy_schema_free(s2);
  eddy_learner_free(alone[0]);
  eddy_learner_free(alone[1]);
  eddy_learner_free(ms);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* Through a replica, the prediction record names the candidate; with a
 * fallback still warming up, "fallback". */
Test(model_selection, served_by_in_a_replica) {
  char err[1024];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = m\n[features]\nnumeric = a\ntarget = y\n"
                                       "[model]\nlearner = model_selection\ncandidates = naive_bayes, majority\n"
                                       "naive_bayes.laplace = 1\nfallback = no_change\nwarmup = 3\n",
                                       "m.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_fields_t *f = eddy_fields_new(&c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  cr_assert_not_null(f, "%s", err);
  eddy_replica_t *r = eddy_replica_new(&c->pipelines[0], f, 10, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  eddy_instance_t in;
  eddy_instance_init(&in, r->schema->n_attrs);
  for (int i = 0; i < 6; i++) {
    eddy_instance_clear(&in);
    in.x[0] = i;
    in.missing[0] = 0;
    in.y = (double)eddy_dict_intern(r->schema->target.dict, "p", 1, eddy_hash("p", 1), NULL);
    in.has_y = 1;
    eddy_replica_predict(r, &in);
    const char *who = eddy_replica_served_by(r);
    if (i < 3) cr_assert_str_eq(who, "fallback", "record %d", i);
    else cr_assert_str_eq(who, "naive_bayes", "record %d: %s", i, who);
    cr_assert_eq(eddy_replica_learn(r, &in), 0);
  }
  eddy_instance_free(&in);
  eddy_replica_free(r);
  eddy_fields_free(f);
  eddy_config_free(c);
}

/* Regression: the lowest mean absolute error over the window answers. A
 * stream whose target is 3x: linear_regression learns it, majority (the
 * mean) cannot; after a while linear_regression answers. */
Test(model_selection, regression_by_mae) {
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, NULL, 0);
  eddy_schema_add(s, "a", EDDY_NUMERIC);
  eddy_kv_t kv[] = {KV("candidates", "majority, linear_regression"), KV("window", "50")};
  char err[512];
  eddy_learner_t *ms = eddy_learner_new("model_selection", s, kv, 2, 1, err, sizeof err);
  cr_assert_not_null(ms, "%s", err);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  in.missing[0] = 0;
  eddy_rng_t g;
  eddy_rng_seed(&g, 2);
  double out[1];
  for (int i = 0; i < 3000; i++) {
    in.x[0] = eddy_rng_uniform(&g);
    cr_assert_eq(eddy_learner_predict(ms, &in, out, 1), 1);
    in.y = 3 * in.x[0];
    in.has_y = 1;
    eddy_learner_learn(ms, &in);
  }
  cr_assert_str_eq(ms->type->served(ms), "linear_regression");
  cr_assert_float_eq(out[0], 3 * in.x[0], 0.3, "%g vs %g", out[0], 3 * in.x[0]);
  eddy_learner_free(ms);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}
