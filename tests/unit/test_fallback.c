/* test_fallback.c: [model] fallback: its keys, who answers (warmup, the
 * model's windowed accuracy), the switch alerts, and served_by in the
 * prediction record. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

static char err[1024];

static eddy_config_t *parse(const char *model) {
  char text[1024];
  snprintf(text, sizeof text, "[pipeline]\nname = f\nwindow = 10\n[features]\nnumeric = a\ntarget = y\n"
                              "values.y = p, q\n[model]\n%s\n", model);
  return eddy_config_parse(text, "f.ini", err, sizeof err);
}

Test(fallback, keys_are_checked) {
  struct {
    const char *model, *want;
  } bad[] = {
      {"learner = naive_bayes\nwarmup = 10", "f.ini:10: [model] key 'warmup': needs a fallback"},
      {"learner = naive_bayes\nfallback_below = 0.5", "'fallback_below': needs a fallback"},
      {"learner = naive_bayes\nfallback.grace_period = 5", "f.ini:10: [model] key 'fallback.grace_period'"},
      {"learner = naive_bayes\nfallback = nope", "nope"},
      {"learner = naive_bayes\nfallback = hoeffding_tree\nfallback.grace_period = -3", "f.ini:11:"},
      {"learner = naive_bayes\nfallback = majority\nfallback_below = 2", "fallback_below"},
      {"learner = naive_bayes\nfallback = half_space_trees", "anomaly detector"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    eddy_config_t *c = parse(bad[i].model);
    cr_assert_null(c, "%s: accepted", bad[i].model);
    cr_assert(strstr(err, bad[i].want), "%s: %s", bad[i].model, err);
  }
  eddy_config_t *c = parse("learner = naive_bayes\nfallback = hoeffding_tree\nfallback.grace_period = 50\n"
                           "warmup = 10\nfallback_below = 0.5");
  cr_assert_not_null(c, "%s", err);
  cr_assert_str_eq(c->pipelines[0].model.fallback, "hoeffding_tree");
  cr_assert_eq(c->pipelines[0].fallback_params.n, 1);
  cr_assert_str_eq(c->pipelines[0].fallback_params.v[0].key, "grace_period");
  cr_assert_eq(c->pipelines[0].model_params.n, 0, "fallback.* keys are not the model's");
  eddy_config_free(c);
}

typedef struct {
  eddy_config_t *c;
  eddy_fields_t *f;
  eddy_replica_t *r;
  eddy_instance_t in;
} fx_t;

static int n_alerts, last_to_fallback;
static uint64_t last_index;
static void on_alert(void *ctx, const eddy_alert_t *a) {
  (void)ctx;
  cr_assert_str_eq(a->detector, "fallback");
  n_alerts++;
  last_to_fallback = strcmp(a->kind, "fallback") == 0;
  cr_assert(last_to_fallback || strcmp(a->kind, "model") == 0, "%s", a->kind);
  last_index = a->index;
}

static void make(fx_t *x, const char *model) {
  x->c = parse(model);
  cr_assert_not_null(x->c, "%s", err);
  x->f = eddy_fields_new(&x->c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  cr_assert_not_null(x->f, "%s", err);
  x->r = eddy_replica_new(&x->c->pipelines[0], x->f, 10, err, sizeof err);
  cr_assert_not_null(x->r, "%s", err);
  x->r->on_alert = on_alert;
  eddy_instance_init(&x->in, x->r->schema->n_attrs);
  n_alerts = 0;
}

static void destroy(fx_t *x) {
  eddy_instance_free(&x->in);
  eddy_replica_free(x->r);
  eddy_fields_free(x->f);
  eddy_config_free(x->c);
}

/* One record of class y (0 = p, 1 = q): predict, then learn; returns who
 * answered (1: the fallback) and the class predicted in *pred. */
static int step(fx_t *x, int y, double *pred) {
  eddy_instance_clear(&x->in);
  x->in.x[0] = 0.5;
  x->in.missing[0] = 0;
  x->in.y = y;
  x->in.has_y = 1;
  eddy_replica_predict(x->r, &x->in);
  *pred = x->r->pred_k ? eddy_replica_predicted(x->r) : -1;
  int served = x->r->served;
  cr_assert_eq(eddy_replica_learn(x->r, &x->in), 0);
  return served;
}

/* Warmup: majority (the fallback) answers the first 5 records, then
 * no_change (the model): one alert, at record 5, when the model takes over. */
Test(fallback, warmup) {
  fx_t x;
  make(&x, "learner = no_change\nfallback = majority\nwarmup = 5");
  int ys[] = {0, 0, 1, 0, 1, 1, 0, 1};
  double pred;
  for (int i = 0; i < 8; i++) {
    int served = step(&x, ys[i], &pred);
    cr_assert_eq(served, i < 5, "record %d", i);
    if (i == 4) cr_assert_eq(pred, 0.0, "majority of p, p, q, p");
    if (i >= 5) cr_assert_eq(pred, (double)ys[i - 1], "no_change at %d", i);
  }
  cr_assert_eq(n_alerts, 1);
  cr_assert_eq(last_index, 5);
  cr_assert_eq(last_to_fallback, 0);
  destroy(&x);
}

/* fallback_below: no_change on alternating labels is always wrong (window
 * accuracy falls under 0.5; its first guess, p before any label, is
 * right): majority answers from the fourth record. On a run of
 * one label no_change is right from the run's second record; the switch
 * back comes when its hits over the last 10 labelled records reach 5 (a
 * count kept here, independently). */
Test(fallback, windowed_accuracy) {
  fx_t x;
  make(&x, "learner = no_change\nfallback = majority\nfallback_below = 0.5");
  double pred;
  int hits[10] = {0}, n = 0, prev = -1, served_expect = 0;
  for (int i = 0; i < 60; i++) {
    int y = i < 20 ? i % 2 : 1;
    int filled = n < 10 ? n : 10, sum = 0;
    for (int j = 0; j < filled; j++) sum += hits[j];
    served_expect = filled > 0 && (double)sum / filled < 0.5;
    int served = step(&x, y, &pred);
    cr_assert_eq(served, served_expect, "record %d: served %d, hits %d of %d", i, served, sum, filled);
    hits[n % 10] = (prev < 0 ? 0 : prev) == y; /* before any label: argmax of zeros, p */
    n++;
    prev = y;
  }
  cr_assert_eq(n_alerts, 2, "to the fallback at 3, back to the model once");
  cr_assert_eq(last_to_fallback, 0);
  destroy(&x);
}

Test(fallback, prediction_record_says_who_served) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  eddy_dict_intern(s->target.dict, "p", 1, eddy_hash("p", 1), NULL);
  double v = 1.0;
  eddy_prediction_t p = {.pipeline = "f", .topic = "t", .schema = s, .scores = &v, .k = 1, .served_by = "fallback"};
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_output_encode(&(eddy_output_t){.format = &eddy_output_json}, &p, &b), 0);
  eddy_buf_put_u8(&b, 0);
  cr_assert(strstr((char *)b.data, ",\"served_by\":\"fallback\","), "%s", (char *)b.data);
  cr_assert_null(strstr((char *)b.data, "score"), "%s", (char *)b.data);
  eddy_buf_clear(&b);
  p.served_by = NULL;
  p.has_score = 1;
  p.score = 0.25;
  p.k = 0;
  cr_assert_eq(eddy_output_encode(&(eddy_output_t){.format = &eddy_output_json}, &p, &b), 0);
  eddy_buf_put_u8(&b, 0);
  cr_assert(strstr((char *)b.data, "\"prediction\":null,\"probabilities\":{},\"score\":0.25,"), "%s",
            (char *)b.data);
  cr_assert_null(strstr((char *)b.data, "served_by"), "%s", (char *)b.data);
  eddy_buf_free(&b);
  eddy_schema_free(s);
}

/* Labels that arrive later (eddy_replica_learn_with, as eval --delay): the
 * model's windowed record is its answer re-measured just before it learns
 * each label, which, labels being learned in order, is the answer it would
 * have given without the delay: the same window as an undelayed replica's
 * (and not the fallback's answers that were served meanwhile). */
static void window_text(eddy_replica_t *r, char *buf, size_t size) {
  FILE *f = fmemopen(buf, size, "w");
  eddy_replica_describe_fallback(r, f);
  fclose(f);
  char *p = strstr(buf, "windowed accuracy");
  cr_assert_not_null(p, "%s", buf);
  memmove(buf, p, strlen(p) + 1);
  char *nl = strchr(buf, ')');
  if (nl) *nl = '\0';
}

Test(fallback, delayed_labels_measure_the_model) {
  fx_t a, b;
  const char *model = "learner = no_change\nfallback = majority\nfallback_below = 0.5";
  make(&a, model);
  make(&b, model);
  enum { N = 60, D = 4 };
  eddy_instance_t keep[N];
  double preds[N][2];
  int ks[N];
  for (int i = 0; i < N; i++) {
    int y = i < 30 ? i % 2 : (i / 5) % 2;
    double pred;
    step(&a, y, &pred);
    eddy_instance_init(&keep[i], b.r->schema->n_attrs);
    eddy_instance_clear(&keep[i]);
    keep[i].x[0] = 0.5;
    keep[i].missing[0] = 0;
    keep[i].y = y;
    keep[i].has_y = 1;
    eddy_replica_predict(b.r, &keep[i]);
    ks[i] = b.r->pred_k;
    memcpy(preds[i], b.r->pred, sizeof preds[i]);
    if (i >= D) cr_assert_eq(eddy_replica_learn_with(b.r, &keep[i - D], preds[i - D], ks[i - D]), 0);
  }
  for (int i = N - D; i < N; i++) cr_assert_eq(eddy_replica_learn_with(b.r, &keep[i], preds[i], ks[i]), 0);
  char wa[512], wb[512];
  window_text(a.r, wa, sizeof wa);
  window_text(b.r, wb, sizeof wb);
  cr_assert_str_eq(wa, wb);
  for (int i = 0; i < N; i++) eddy_instance_free(&keep[i]);
  destroy(&a);
  destroy(&b);
}
