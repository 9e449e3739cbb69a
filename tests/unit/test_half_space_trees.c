/* test_half_space_trees.c: half_space_trees' scores as River's
 * HalfSpaceTrees defines them (exact on trees small enough to work out by
 * hand), its keys, checkpoints that continue bit for bit, no allocation
 * per record, and a replica using it without labels (score, alerts). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "connectors/connectors.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "learners/learners.h"

#if defined(__SANITIZE_ADDRESS__)
#define NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_INTERPOSE 1
#endif
#endif

static volatile int counting;
static volatile size_t allocations;

#ifndef NO_INTERPOSE
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);
void *malloc(size_t n) {
  if (counting) allocations++;
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t s) {
  if (counting) allocations++;
  return __libc_calloc(n, s);
}
void *realloc(void *p, size_t n) {
  if (counting) allocations++;
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
#endif

#define KV(k, v) {(char *)(k), (char *)(v), (char *)"h.ini", 7}

static eddy_schema_t *schema(size_t d) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, NULL, 0);
  char name[32];
  for (size_t j = 0; j < d; j++) {
    snprintf(name, sizeof name, "x%zu", j);
    eddy_schema_add(s, name, EDDY_NUMERIC);
  }
  eddy_schema_add(s, "c", EDDY_NOMINAL); /* never split on */
  return s;
}

static double score(eddy_learner_t *l, eddy_instance_t *in) {
  double out[1];
  cr_assert_eq(eddy_learner_predict(l, in, out, 1), 1);
  return out[0];
}

static void learn1(eddy_learner_t *l, eddy_instance_t *in, double v) {
  in->x[0] = v;
  in->missing[0] = 0;
  in->has_y = 0; /* unsupervised: no label needed */
  cr_assert_eq(eddy_learner_learn(l, in), 0);
}

/* One tree of height 1 over one feature in [0, 1], window 2: whatever the
 * root's threshold (drawn in [0.15, 0.85]), two records at 0 give the root
 * and its left leaf a mass of 2 and the right leaf 0. River's score sums
 * r_mass x 2^depth along the path: 2 + 2 x 2 = 6 for x = 0 (the maximum,
 * 1 x 2 x 3: score 0), 2 + 0 for x = 1 (score 1 - 2/6). */
Test(hst, exact_scores_and_missing_values) {
  eddy_schema_t *s = schema(1);
  eddy_kv_t kv[] = {KV("n_trees", "1"), KV("height", "1"), KV("window_size", "2")};
  char err[512];
  eddy_learner_t *l = eddy_learner_new("half_space_trees", s, kv, 3, 1, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  in.x[0] = 1.0;
  in.missing[0] = 0;
  cr_assert_eq(score(l, &in), 0.0, "no trees yet");
  learn1(l, &in, 0.0);
  cr_assert_eq(score(l, &in), 0.0, "first window: 0, as River");
  learn1(l, &in, 0.0);
  in.x[0] = 0.0;
  cr_assert_eq(score(l, &in), 0.0);
  in.x[0] = 1.0;
  cr_assert_eq(score(l, &in), 1.0 - 2.0 / 6.0);
  /* A missing value follows the child with the larger mass of the current
   * window (left on ties): both 0 now, so left. */
  in.missing[0] = 1;
  cr_assert_eq(score(l, &in), 0.0);
  learn1(l, &in, 1.0); /* current window: right 1, left 0 */
  in.missing[0] = 1;
  cr_assert_eq(score(l, &in), 1.0 - 2.0 / 6.0, "missing: now the right child");
  /* The window turns: masses of {1, 1}: root 2, each leaf 1. */
  learn1(l, &in, 0.0);
  in.x[0] = 0.0;
  cr_assert_eq(score(l, &in), 1.0 - 4.0 / 6.0);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* The scoring stops below a node whose mass is under 0.1 x window_size:
 * height 2, window 10, all ten records at 0.0 (left, left): for x = 1 the
 * path is root (10) then its right child (0 < 1: stop): 10 + 0. */
Test(hst, size_limit_stops_the_descent) {
  eddy_schema_t *s = schema(1);
  eddy_kv_t kv[] = {KV("n_trees", "1"), KV("height", "2"), KV("window_size", "10")};
  eddy_learner_t *l = eddy_learner_new("half_space_trees", s, kv, 3, 3, NULL, 0);
  cr_assert_not_null(l);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  for (int i = 0; i < 10; i++) learn1(l, &in, 0.0);
  in.x[0] = 1.0;
  double max = 10.0 * 7.0;
  cr_assert_eq(score(l, &in), 1.0 - 10.0 / max);
  in.x[0] = 0.0;
  cr_assert_eq(score(l, &in), 1.0 - (10.0 + 20.0 + 40.0) / max);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

Test(hst, keys_are_checked) {
  eddy_schema_t *s = schema(2);
  char err[512];
  eddy_kv_t bad1[] = {KV("limits.x0", "1")};
  cr_assert_null(eddy_learner_new("half_space_trees", s, bad1, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "h.ini:7:") && strstr(err, "limits.x0"), "%s", err);
  eddy_kv_t bad2[] = {KV("limits.x0", "5, 5")};
  cr_assert_null(eddy_learner_new("half_space_trees", s, bad2, 1, 1, err, sizeof err));
  eddy_kv_t bad3[] = {KV("limits.nope", "0, 1")};
  cr_assert_null(eddy_learner_new("half_space_trees", s, bad3, 1, 1, err, sizeof err));
  cr_assert(strstr(err, "not a numeric attribute"), "%s", err);
  eddy_kv_t bad4[] = {KV("limits.c", "0, 1")};
  cr_assert_null(eddy_learner_new("half_space_trees", s, bad4, 1, 1, err, sizeof err));
  eddy_kv_t bad5[] = {KV("height", "0")};
  cr_assert_null(eddy_learner_new("half_space_trees", s, bad5, 1, 1, err, sizeof err));
  eddy_kv_t ok[] = {KV("limits.x1", "-5, 1e3"), KV("window_size", "50")};
  eddy_learner_t *l = eddy_learner_new("half_space_trees", s, ok, 2, 1, err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

/* Split attributes are drawn by the width of their range, thresholds in
 * the middle 70% of it (River's padding 0.15): with x1 in [100, 200] and x0
 * in [0, 1e-9], every root splits x1 somewhere in [115, 185]. */
Test(hst, limits_scale_the_splits) {
  eddy_schema_t *s = schema(2);
  eddy_kv_t kv[] = {KV("limits.x1", "100, 200"), KV("limits.x0", "0, 1e-9"), KV("n_trees", "20"),
                    KV("height", "1"), KV("window_size", "2")};
  eddy_learner_t *l = eddy_learner_new("half_space_trees", s, kv, 5, 1, NULL, 0);
  cr_assert_not_null(l);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  /* x0's range is 1e-11 of x1's: every root splits on x1 (weights by width). */
  in.missing[0] = in.missing[1] = 0;
  in.x[0] = 0;
  in.x[1] = 100;
  eddy_learner_learn(l, &in);
  eddy_learner_learn(l, &in);
  in.x[1] = 114.9; /* below 115: left of every threshold */
  cr_assert_eq(score(l, &in), 0.0);
  in.x[1] = 185.1; /* above 185: right of every threshold */
  cr_assert_eq(score(l, &in), 1.0 - 2.0 / 6.0);
  eddy_learner_free(l);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

static void fill(eddy_instance_t *in, eddy_rng_t *r, size_t i) {
  for (size_t j = 0; j < 3; j++) {
    in->x[j] = eddy_rng_uniform(r);
    in->missing[j] = (i + j) % 13 == 0;
  }
  in->x[3] = (double)(i % 3);
  in->missing[3] = 0;
}

/* Saved mid-stream, loaded and continued: bit-identical scores and the same
 * bytes as the uninterrupted model; nothing allocated per record. */
Test(hst, checkpoint_continues_bit_for_bit_without_allocation) {
  eddy_schema_t *s = schema(3);
  eddy_kv_t kv[] = {KV("window_size", "100"), KV("limits.x2", "0, 2")};
  eddy_learner_t *a = eddy_learner_new("half_space_trees", s, kv, 2, 11, NULL, 0);
  cr_assert_not_null(a);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  eddy_rng_t r;
  eddy_rng_seed(&r, 5);
  size_t i = 0;
  for (; i < 1234; i++) {
    fill(&in, &r, i);
    score(a, &in);
    eddy_learner_learn(a, &in);
  }
  eddy_buf_t b1, b2, b3;
  eddy_buf_init(&b1);
  eddy_buf_init(&b2);
  eddy_buf_init(&b3);
  cr_assert_eq(eddy_model_save(s, a, &b1), 0);
  eddy_schema_t *s2;
  eddy_learner_t *b;
  char err[512];
  cr_assert_eq(eddy_model_load(b1.data, b1.len, &s2, &b, err, sizeof err), 0, "%s", err);
  cr_assert_eq(eddy_model_save(s2, b, &b2), 0);
  cr_assert(b1.len == b2.len && memcmp(b1.data, b2.data, b1.len) == 0, "save, load, save");
  size_t allocs = 0;
  for (; i < 3000; i++) {
    fill(&in, &r, i);
    counting = 1;
    double sa = score(a, &in), sb = score(b, &in);
    eddy_learner_learn(a, &in);
    eddy_learner_learn(b, &in);
    counting = 0;
    cr_assert(memcmp(&sa, &sb, sizeof sa) == 0, "record %zu: %.17g vs %.17g", i, sa, sb);
    allocs = allocations;
  }
#ifndef NO_INTERPOSE
  cr_assert_eq(allocs, 0, "allocations per record: %zu", allocs);
#else
  (void)allocs;
#endif
  eddy_buf_clear(&b1);
  cr_assert_eq(eddy_model_save(s, a, &b1), 0);
  cr_assert_eq(eddy_model_save(s2, b, &b3), 0);
  cr_assert(b1.len == b3.len && memcmp(b1.data, b3.data, b1.len) == 0, "continued models equal");
  cr_assert_gt(eddy_learner_memory(a), (size_t)(10 * 511 * 8));
  eddy_learner_free(b);
  eddy_schema_free(s2);
  /* reset: the same trees again (the RNG reseeded) */
  eddy_learner_reset(a);
  eddy_buf_t c;
  eddy_buf_init(&c);
  eddy_learner_t *fresh = eddy_learner_new("half_space_trees", s, kv, 2, 11, NULL, 0);
  eddy_rng_seed(&r, 5);
  for (i = 0; i < 300; i++) {
    fill(&in, &r, i);
    eddy_learner_learn(a, &in);
    eddy_learner_learn(fresh, &in);
  }
  eddy_buf_clear(&b1);
  eddy_model_save(s, a, &b1);
  eddy_model_save(s, fresh, &c);
  cr_assert(b1.len == c.len && memcmp(b1.data, c.data, c.len) == 0, "reset = fresh");
  eddy_learner_free(fresh);
  eddy_buf_free(&c);
  eddy_buf_free(&b1);
  eddy_buf_free(&b2);
  eddy_buf_free(&b3);
  eddy_learner_free(a);
  eddy_instance_free(&in);
  eddy_schema_free(s);
}

/* predict-then-learn reuses predict's paths: a model that predicts every
 * record before learning it, one that predicts another record first, and
 * one that only learns end with the same bytes (missing values included,
 * records repeated so that the reuse happens). */
Test(hst, predicted_paths_change_nothing) {
  eddy_schema_t *s = schema(3);
  eddy_kv_t kv[] = {KV("window_size", "50"), KV("height", "6")};
  eddy_learner_t *m[3];
  for (int j = 0; j < 3; j++) m[j] = eddy_learner_new("half_space_trees", s, kv, 2, 4, NULL, 0);
  eddy_instance_t in, other;
  eddy_instance_init(&in, s->n_attrs);
  eddy_instance_init(&other, s->n_attrs);
  eddy_rng_t r;
  eddy_rng_seed(&r, 9);
  for (size_t i = 0; i < 2000; i++) {
    if (i % 5) fill(&in, &r, i); /* every fifth record repeats the last */
    fill(&other, &r, i + 1);
    score(m[0], &in);
    score(m[1], &other);
    for (int j = 0; j < 3; j++) cr_assert_eq(eddy_learner_learn(m[j], &in), 0);
  }
  eddy_buf_t b[3];
  for (int j = 0; j < 3; j++) {
    eddy_buf_init(&b[j]);
    cr_assert_eq(eddy_model_save(s, m[j], &b[j]), 0);
  }
  for (int j = 1; j < 3; j++)
    cr_assert(b[0].len == b[j].len && memcmp(b[0].data, b[j].data, b[0].len) == 0, "model %d differs", j);
  for (int j = 0; j < 3; j++) {
    eddy_buf_free(&b[j]);
    eddy_learner_free(m[j]);
  }
  eddy_instance_free(&in);
  eddy_instance_free(&other);
  eddy_schema_free(s);
}

/* A pipeline without a target: the replica learns every record, the score
 * goes to r->score (no class), and scores above anomaly_threshold are
 * alerts. */
static size_t n_alerts;
static double last_stat;
static void on_alert(void *ctx, const eddy_alert_t *a) {
  (void)ctx;
  cr_assert_str_eq(a->kind, "anomaly");
  cr_assert_str_eq(a->detector, "half_space_trees");
  n_alerts++;
  last_stat = a->statistic;
}

Test(hst, replica_without_target) {
  char err[512];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = a\n[features]\nnumeric = x0, x1\n"
                                       "[model]\nlearner = half_space_trees\nwindow_size = 20\n"
                                       "[sink]\nanomaly_threshold = 0.9\n",
                                       "a.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_config_t *bad = eddy_config_parse("[pipeline]\nname = a\n[features]\nnumeric = x0, x1\n"
                                         "[model]\nlearner = naive_bayes\n", "b.ini", err, sizeof err);
  cr_assert_null(bad);
  cr_assert(strstr(err, "target"), "%s", err);
  bad = eddy_config_parse("[pipeline]\nname = a\n[features]\nnumeric = x0\n[model]\nlearner = half_space_trees\n"
                          "[drift]\ndetector = adwin\n", "b.ini", err, sizeof err);
  cr_assert_null(bad);
  cr_assert(strstr(err, "detector") && strstr(err, "anomaly"), "%s", err);
  eddy_fields_t *f = eddy_fields_new(&c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  cr_assert_not_null(f, "%s", err);
  eddy_replica_t *r = eddy_replica_new(&c->pipelines[0], f, 100, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  r->on_alert = on_alert;
  eddy_instance_t in;
  eddy_instance_init(&in, r->schema->n_attrs);
  eddy_rng_t g;
  eddy_rng_seed(&g, 1);
  size_t above = 0;
  for (int i = 0; i < 400; i++) {
    eddy_instance_clear(&in);
    in.x[0] = 0.4 + 0.05 * eddy_rng_uniform(&g);
    in.x[1] = 0.6 + 0.05 * eddy_rng_uniform(&g);
    if (i % 50 == 49) in.x[0] = 0.95; /* an outlier */
    in.missing[0] = in.missing[1] = 0;
    cr_assert_eq(eddy_replica_predict(r, &in), 0);
    cr_assert_eq(r->pred_k, 0);
    cr_assert(r->score >= 0 && r->score <= 1);
    if (r->score > 0.9) {
      above++;
      cr_assert_eq(last_stat, r->score);
    }
    cr_assert(eddy_replica_learns(r, &in));
    cr_assert_eq(eddy_replica_learn(r, &in), 0);
  }
  cr_assert_eq(r->learned, 400);
  cr_assert_eq(n_alerts, above);
  cr_assert_gt(above, 0);
  eddy_instance_free(&in);
  eddy_replica_free(r);
  eddy_fields_free(f);
  eddy_config_free(c);
}
