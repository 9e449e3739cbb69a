/* test_aggregates.c: [state] aggregates: spec parsing and naming, errors
 * naming file:line:key, binding to a field map, and exact values of join
 * (the state before a record) and update over known sequences, without a
 * window, with a tumbling window and with a sliding (bucketed) one. The
 * expected figures are worked out by hand in the comments. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "connectors/connectors.h"
#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"

static char err[2048];

typedef struct fixture {
  eddy_config_t *cfg;
  const eddy_pipeline_conf_t *pc;
  eddy_aggs_t *aggs;
  eddy_fields_t *fields;
  eddy_schema_t *schema;
  eddy_record_t rec;
  double *state;
} fixture_t;

static const char *const all_aggs =
    "count(amount), count(*), sum(amount), mean(amount), min(amount), max(amount),\n"
    "  ewma(amount, 0.5), last(amount), since_last(ts), since_last()";

static void setup(fixture_t *f, const char *aggregates, const char *extra) {
  char text[2048];
  snprintf(text, sizeof text,
           "[pipeline]\nname = p\ntask = regression\n[features]\nnumeric = x\ntarget = y\n"
           "key = user\ntimestamp = ts\n[state]\naggregates = %s\n%s[model]\nlearner = no_change\n",
           aggregates, extra);
  f->cfg = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(f->cfg, "%s", err);
  f->pc = eddy_config_pipeline(f->cfg, NULL);
  f->aggs = eddy_aggs_new(f->pc, err, sizeof err);
  cr_assert_not_null(f->aggs, "%s", err);
  f->fields = eddy_fields_new(f->pc, NULL, 0, (const char *const *)f->aggs->inputs,
                              f->aggs->n_inputs, err, sizeof err);
  cr_assert_not_null(f->fields, "%s", err);
  cr_assert_eq(eddy_aggs_bind(f->aggs, f->fields, err, sizeof err), 0, "%s", err);
  f->schema = eddy_fields_schema(f->fields, err, sizeof err);
  cr_assert_not_null(f->schema, "%s", err);
  cr_assert_eq(eddy_record_init(&f->rec, f->fields), 0);
  f->state = malloc(f->aggs->n_slots * sizeof *f->state);
  eddy_aggs_reset(f->aggs, f->state);
}

static void teardown(fixture_t *f) {
  free(f->state);
  eddy_record_free(&f->rec);
  eddy_schema_free(f->schema);
  eddy_fields_free(f->fields);
  eddy_aggs_free(f->aggs);
  eddy_config_free(f->cfg);
}

/* Fills the record: a NULL value is a missing field. */
static void record(fixture_t *f, const char *ts, const char *amount) {
  eddy_record_clear(&f->rec);
  const char *names[] = {"ts", "amount", "user"};
  const char *values[] = {ts, amount, "u1"};
  for (int i = 0; i < 3; i++) {
    if (!values[i]) continue;
    const eddy_field_t *fd = eddy_fields_find(f->fields, names[i], strlen(names[i]));
    if (!fd) continue; /* not an input of these aggregates */
    cr_assert_eq(eddy_record_set(&f->rec, f->fields, f->schema, fd, values[i], strlen(values[i]), 0,
                                 err, sizeof err), 0, "%s", err);
  }
}

#define M NAN /* missing */

/* Joins, checks the n expected values (NAN: missing) through both eval and
 * the joined attributes, then updates. */
static void step(fixture_t *f, const char *ts, const char *amount, const double *want) {
  record(f, ts, amount);
  double t = eddy_aggs_time_ms(f->aggs, &f->rec, NAN);
  double got[16];
  eddy_aggs_eval(f->aggs, f->state, &f->rec, t, got);
  eddy_aggs_join(f->aggs, f->state, &f->rec, t);
  for (size_t i = 0; i < f->aggs->n; i++) {
    const eddy_agg_t *g = &f->aggs->v[i];
    if (isnan(want[i])) {
      cr_assert(isnan(got[i]), "ts %s: %s = %.17g, want missing", ts, g->name, got[i]);
      cr_assert(f->rec.in.missing[g->attr], "ts %s: %s joined as present", ts, g->name);
    } else {
      cr_assert_eq(got[i], want[i], "ts %s: %s = %.17g, want %.17g", ts, g->name, got[i], want[i]);
      cr_assert(!f->rec.in.missing[g->attr] && f->rec.in.x[g->attr] == want[i], "ts %s: %s joined", ts,
                g->name);
    }
  }
  eddy_aggs_update(f->aggs, f->state, &f->rec, t);
}

Test(aggregates, names_layout_and_inputs) {
  fixture_t f;
  setup(&f, all_aggs, "");
  const char *names[] = {"amount_count", "count", "amount_sum", "amount_mean", "amount_min",
                         "amount_max", "amount_ewma_0.5", "amount_last", "ts_since_last", "since_last"};
  cr_assert_eq(f.aggs->n, 10);
  for (size_t i = 0; i < 10; i++) {
    cr_assert_str_eq(f.aggs->v[i].name, names[i]);
    cr_assert_eq(eddy_schema_find(f.schema, names[i]), f.aggs->v[i].attr, "%s is an attribute", names[i]);
  }
  /* Inputs: amount (an aux field, not an attribute) and ts (the timestamp). */
  cr_assert_eq(f.aggs->n_inputs, 2);
  cr_assert_str_eq(f.aggs->inputs[0], "amount");
  cr_assert_str_eq(f.aggs->inputs[1], "ts");
  cr_assert_eq(f.fields->v[0].kind, EDDY_FIELD_ATTR); /* x */
  cr_assert_eq(eddy_fields_find(f.fields, "amount", 6)->kind, EDDY_FIELD_AUX);
  cr_assert_eq(f.aggs->v[8].src, EDDY_AGG_SRC_TIME);
  /* Slots: bucket index, 5 windowed (mean has 2), 4 others. */
  cr_assert_eq(f.aggs->n_slots, 1 + 1 + 1 + 1 + 2 + 1 + 1 + 1 + 1 + 1 + 1);
  cr_assert_str_eq(f.aggs->spec,
                   "count(amount), count(*), sum(amount), mean(amount), min(amount), max(amount), "
                   "ewma(amount, 0.5), last(amount), since_last(ts), since_last()");
  teardown(&f);
}

Test(aggregates, known_sequence_without_window) {
  fixture_t f;
  setup(&f, all_aggs, "");
  /* columns: amount_count, count, sum, mean, min, max, ewma, last, ts_since_last, since_last */
  const double w1[] = {0, 0, 0, M, M, M, M, M, M, M}; /* a new entity */
  step(&f, "100", "10", w1);
  const double w2[] = {1, 1, 10, 10, 10, 10, 10, 10, 3, 3}; /* 103 - 100 s */
  step(&f, "103", NULL, w2); /* no amount: only count(*) and the times move */
  const double w3[] = {1, 2, 10, 10, 10, 10, 10, 10, 7, 7};
  step(&f, "110", "40", w3);
  /* ewma: 0.5 * 40 + 0.5 * 10 = 25; mean (10 + 40) / 2 */
  const double w4[] = {2, 3, 50, 25, 10, 40, 25, 40, 2, 2};
  step(&f, "112", "-5", w4);
  /* ewma: 0.5 * -5 + 0.5 * 25 = 10; mean 45 / 3 */
  const double w5[] = {3, 4, 45, 15, -5, 40, 10, -5, 8, 8};
  step(&f, "120", NULL, w5);
  teardown(&f);
}

Test(aggregates, milliseconds_and_units) {
  fixture_t f;
  setup(&f, "since_last(ts), count(*)", "time_unit = ms\n");
  const double w1[] = {M, 0};
  step(&f, "5000", NULL, w1);
  const double w2[] = {1.5, 1}; /* 6500 ms - 5000 ms = 1.5 s */
  step(&f, "6500", NULL, w2);
  teardown(&f);
  /* auto: 1.7e12 is milliseconds, 1.7e9 seconds. */
  setup(&f, "since_last(ts)", "");
  const double a1[] = {M};
  step(&f, "1700000000000", NULL, a1);
  const double a2[] = {0.25};
  step(&f, "1700000000250", NULL, a2);
  teardown(&f);
}

Test(aggregates, tumbling_window) {
  fixture_t f;
  setup(&f, all_aggs, "window_ms = 10000\n");
  /* Windows of 10 s: 100 and 103 s are in window 10, 110 and 112 in 11. */
  const double w1[] = {0, 0, 0, M, M, M, M, M, M, M};
  step(&f, "100", "10", w1);
  const double w2[] = {1, 1, 10, 10, 10, 10, 10, 10, 3, 3};
  step(&f, "103", NULL, w2);
  /* A new window: count, sum, mean, min and max start again; ewma, last and
   * since_last cover the whole history. */
  const double w3[] = {0, 0, 0, M, M, M, 10, 10, 7, 7};
  step(&f, "110", "40", w3);
  const double w4[] = {1, 1, 40, 40, 40, 40, 25, 40, 2, 2};
  step(&f, "112", "-5", w4);
  /* A late record (105 s, window 10) counts in the entity's newest window. */
  const double w5[] = {2, 2, 35, 17.5, -5, 40, 10, -5, -7, -7};
  step(&f, "105", "1", w5);
  const double dt = (119.999 * 1000.0 - 105 * 1000.0) / 1000.0; /* 14.999 in ms arithmetic */
  const double w6[] = {3, 3, 36, 12, -5, 40, 5.5, 1, dt, dt};
  step(&f, "119.999", NULL, w6);
  teardown(&f);
}

Test(aggregates, tumbling_since_last_exact) {
  /* 119.999 - 105 is not 14.999 in binary; check against the same double
   * arithmetic rather than a decimal literal. */
  fixture_t f;
  setup(&f, "since_last(ts)", "window_ms = 10000\n");
  const double w1[] = {M};
  step(&f, "105", "1", w1);
  const double w2[] = {(119.999 * 1000.0 - 105 * 1000.0) / 1000.0};
  step(&f, "119.999", NULL, w2);
  teardown(&f);
}

Test(aggregates, sliding_window) {
  fixture_t f;
  setup(&f, "count(amount), count(*), sum(amount), mean(amount), min(amount), max(amount)",
        "window_ms = 10000\nwindow = sliding\nwindow_buckets = 2\n");
  /* Buckets of 5 s: 100 and 103 s in bucket 20, 106 in 21, 112 in 22,
   * 131 in 26. A record's window is its bucket and the one before. */
  cr_assert_eq(f.aggs->buckets, 2);
  cr_assert_eq(f.aggs->n_slots, 1 + 2 * (1 + 1 + 1 + 2 + 1 + 1));
  const double w1[] = {0, 0, 0, M, M, M};
  step(&f, "100", "10", w1);
  const double w2[] = {1, 1, 10, 10, 10, 10};
  step(&f, "103", "30", w2);
  /* bucket 21: window 20..21 holds 10 and 30 */
  const double w3[] = {2, 2, 40, 20, 10, 30};
  step(&f, "106", "40", w3);
  /* bucket 22: window 21..22 holds only 40 */
  const double w4[] = {1, 1, 40, 40, 40, 40};
  step(&f, "112", "-5", w4);
  /* bucket 22 again: 40 and -5 */
  const double w5[] = {2, 2, 35, 17.5, -5, 40};
  step(&f, "114", NULL, w5);
  /* bucket 26: everything expired */
  const double w6[] = {0, 0, 0, M, M, M};
  step(&f, "131", "7", w6);
  /* bucket 27: the ring was cleared, only 7 (bucket 26) remains */
  const double w7[] = {1, 1, 7, 7, 7, 7};
  step(&f, "135", "8", w7);
  teardown(&f);
}

Test(aggregates, attribute_inputs_and_regression_target) {
  fixture_t f;
  setup(&f, "mean(x), last(y)", "");
  cr_assert_eq(f.aggs->v[0].src, EDDY_AGG_SRC_ATTR);
  cr_assert_eq(f.aggs->v[1].src, EDDY_AGG_SRC_TARGET);
  const eddy_field_t *x = eddy_fields_find(f.fields, "x", 1), *y = eddy_fields_find(f.fields, "y", 1);
  double vals[][2] = {{2, 5}, {4, 7}};
  double want[][2] = {{M, M}, {2, 5}, {3, 7}};
  for (int i = 0; i < 3; i++) {
    eddy_record_clear(&f.rec);
    if (i < 2) {
      char t[32];
      snprintf(t, sizeof t, "%g", vals[i][0]);
      eddy_record_set(&f.rec, f.fields, f.schema, x, t, strlen(t), 0, err, sizeof err);
      snprintf(t, sizeof t, "%g", vals[i][1]);
      eddy_record_set(&f.rec, f.fields, f.schema, y, t, strlen(t), 0, err, sizeof err);
    }
    double got[2];
    eddy_aggs_eval(f.aggs, f.state, &f.rec, NAN, got);
    for (int j = 0; j < 2; j++) {
      if (isnan(want[i][j]))
        cr_assert(isnan(got[j]));
      else
        cr_assert_eq(got[j], want[i][j], "record %d agg %d: %g", i, j, got[j]);
    }
    eddy_aggs_update(f.aggs, f.state, &f.rec, NAN);
  }
  teardown(&f);
}

Test(aggregates, errors_name_file_line_key) {
  const char *bad[][2] = {
      {"median(amount)", "unknown aggregate 'median'"},
      {"ewma(amount)", "ewma takes a field and a weight"},
      {"ewma(amount, 1.5)", "ALPHA must be a number in (0, 1]"},
      {"mean(amount), mean(amount)", "'amount_mean' is given twice"},
      {"mean amount", "is not NAME(FIELD)"},
      {"sum()", "sum takes one field"},
      {"count(a, b)", "count takes one field"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[512];
    snprintf(text, sizeof text,
             "[pipeline]\nname = p\n[features]\ntarget = y\n\n[state]\nstore = memory\n"
             "aggregates = %s\n[model]\nlearner = majority\n",
             bad[i][0]);
    eddy_config_t *c = eddy_config_parse(text, "t.ini", err, sizeof err);
    cr_assert_null(c, "accepted: %s", bad[i][0]);
    cr_assert(strstr(err, "t.ini:8: [state] key 'aggregates': "), "%s", err);
    cr_assert(strstr(err, bad[i][1]), "'%s' lacks '%s'", err, bad[i][1]);
  }
  /* A continuation line: the key's first line is named. */
  eddy_config_t *c = eddy_config_parse(
      "[pipeline]\nname = p\n[features]\ntarget = y\n[state]\naggregates = count(a),\n  nope(b)\n"
      "[model]\nlearner = majority\n",
      "t.ini", err, sizeof err);
  cr_assert_null(c);
  cr_assert(strstr(err, "t.ini:6: [state] key 'aggregates': unknown aggregate 'nope'"), "%s", err);
}

Test(aggregates, bind_errors_name_the_field) {
  eddy_config_t *c = eddy_config_parse(
      "[pipeline]\nname = p\n[features]\nnumeric = x\nnominal = shop\ntarget = y\nkey = user\n"
      "[state]\naggregates = mean(shop)\n[model]\nlearner = majority\n",
      "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  const eddy_pipeline_conf_t *pc = eddy_config_pipeline(c, NULL);
  eddy_aggs_t *a = eddy_aggs_new(pc, err, sizeof err);
  eddy_fields_t *f = eddy_fields_new(pc, NULL, 0, (const char *const *)a->inputs, a->n_inputs, err,
                                     sizeof err);
  cr_assert_eq(eddy_aggs_bind(a, f, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "shop_mean") && strstr(err, "'shop' is nominal"), "%s", err);
  eddy_fields_free(f);
  eddy_aggs_free(a);
  eddy_config_free(c);

  /* An output name that is already a field. */
  c = eddy_config_parse("[pipeline]\nname = p\n[features]\nnumeric = x, x_count\ntarget = y\n"
                        "[state]\naggregates = count(x)\n[model]\nlearner = majority\n",
                        "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  pc = eddy_config_pipeline(c, NULL);
  a = eddy_aggs_new(pc, err, sizeof err);
  f = eddy_fields_new(pc, NULL, 0, (const char *const *)a->inputs, a->n_inputs, err, sizeof err);
  cr_assert_eq(eddy_aggs_bind(a, f, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "x_count") && strstr(err, "already have a field"), "%s", err);
  eddy_fields_free(f);
  eddy_aggs_free(a);
  eddy_config_free(c);
}

Test(aggregates, empty_list_and_layout_hash) {
  fixture_t f;
  setup(&f, "", "");
  cr_assert_eq(f.aggs->n, 0);
  cr_assert_eq(f.aggs->n_slots, 1);
  uint64_t empty = f.aggs->layout;
  teardown(&f);
  setup(&f, "mean(amount)", "");
  uint64_t plain = f.aggs->layout;
  teardown(&f);
  setup(&f, "mean(amount)", "window_ms = 1000\n");
  cr_assert_neq(f.aggs->layout, plain, "a window changes the layout");
  cr_assert_neq(plain, empty);
  teardown(&f);
}

/* [state] scope = stream with the class as input: every record's key is
 * EDDY_STREAM_KEY, and over the labels UP, DOWN, DOWN, (none), UP, (none)
 * (class indices 0, 1, 1, -, 0, -) each record sees the labels before it:
 *   record      1    2    3    4     5     6
 *   class_last  -    0    1    1     1     0
 *   class_last_2 -   -    0    1     1     1   (two labelled records back)
 *   ewma 0.5    -    0    0.5  0.75  0.75  0.375
 * The first record sees them missing; a record without a label changes
 * nothing; the joined values never include the record's own label. */
Test(aggregates, stream_scope_class_lags) {
  eddy_config_t *c = eddy_config_parse(
      "[pipeline]\nname = p\ntask = classification\n[features]\nnumeric = x\ntarget = class\n"
      "values.class = UP, DOWN\n[state]\nscope = stream\n"
      "aggregates = last(class), last(class, 2), ewma(class, 0.5)\n[model]\nlearner = majority\n",
      "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  const eddy_pipeline_conf_t *pc = eddy_config_pipeline(c, NULL);
  eddy_aggs_t *a = eddy_aggs_new(pc, err, sizeof err);
  cr_assert_not_null(a, "%s", err);
  eddy_fields_t *f = eddy_fields_new(pc, NULL, 0, (const char *const *)a->inputs, a->n_inputs, err, sizeof err);
  cr_assert_not_null(f, "%s", err);
  cr_assert_eq(eddy_aggs_bind(a, f, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(a->v[0].name, "class_last");
  cr_assert_str_eq(a->v[1].name, "class_last_2");
  cr_assert_str_eq(a->v[2].name, "class_ewma_0.5");
  cr_assert_str_eq(a->spec, "last(class), last(class, 2), ewma(class, 0.5)");
  cr_assert_eq(a->n_slots, 1 + 1 + 2 + 1, "last(class, 2) keeps two labels");
  cr_assert_eq(a->v[0].src, EDDY_AGG_SRC_TARGET);
  eddy_schema_t *s = eddy_fields_schema(f, err, sizeof err);
  cr_assert_not_null(s, "%s", err);
  eddy_record_t r;
  cr_assert_eq(eddy_record_init(&r, f), 0);
  double *state = malloc(a->n_slots * sizeof *state);
  eddy_aggs_reset(a, state);
  const eddy_field_t *y = eddy_fields_find(f, "class", 5);
  const char *labels[] = {"UP", "DOWN", "DOWN", NULL, "UP", NULL};
  double want[][3] = {{M, M, M}, {0, M, 0}, {1, 0, 0.5}, {1, 1, 0.75}, {1, 1, 0.75}, {0, 1, 0.375}};
  for (int i = 0; i < 6; i++) {
    eddy_record_clear(&r);
    cr_assert(r.key && r.key_len == strlen(EDDY_STREAM_KEY) && memcmp(r.key, EDDY_STREAM_KEY, r.key_len) == 0,
              "record %d: the stream's key", i + 1);
    if (labels[i])
      cr_assert_eq(eddy_record_set(&r, f, s, y, labels[i], strlen(labels[i]), 0, err, sizeof err), 0, "%s", err);
    eddy_aggs_join(a, state, &r, NAN);
    for (int j = 0; j < 3; j++) {
      const eddy_agg_t *g = &a->v[j];
      if (isnan(want[i][j]))
        cr_assert(r.in.missing[g->attr], "record %d: %s present (%g)", i + 1, g->name, r.in.x[g->attr]);
      else
        cr_assert(!r.in.missing[g->attr] && r.in.x[g->attr] == want[i][j], "record %d: %s = %g, want %g",
                  i + 1, g->name, r.in.missing[g->attr] ? NAN : r.in.x[g->attr], want[i][j]);
    }
    eddy_aggs_update(a, state, &r, NAN);
  }
  /* Under eddy run each partition is a stream: its own key, kept until
   * the record is cleared. */
  eddy_record_stream_key(&r, 3);
  cr_assert(r.key_len == strlen(EDDY_STREAM_KEY ":3") && memcmp(r.key, EDDY_STREAM_KEY ":3", r.key_len) == 0);
  eddy_record_stream_key(&r, -1);
  cr_assert(memcmp(r.key, EDDY_STREAM_KEY ":3", r.key_len) == 0, "no partition: unchanged");
  eddy_record_clear(&r);
  cr_assert(r.key_len == strlen(EDDY_STREAM_KEY) && memcmp(r.key, EDDY_STREAM_KEY, r.key_len) == 0);
  free(state);
  eddy_record_free(&r);
  eddy_schema_free(s);
  eddy_fields_free(f);
  eddy_aggs_free(a);
  eddy_config_free(c);
}

/* Lags are whole numbers in [1, 1000]; the class is no time; a stream
 * scope has no entity key; aggregates need a key or the stream scope. */
Test(aggregates, stream_scope_and_lag_errors) {
  const char *bad[][2] = {
      {"last(amount, 0)", "N must be a whole number in [1, 1000]"},
      {"last(amount, 1.5)", "N must be a whole number"},
      {"last(amount, 2, 3)", "last takes a field and an optional lag"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    char text[512];
    snprintf(text, sizeof text,
             "[pipeline]\nname = p\n[features]\ntarget = y\n\n[state]\nstore = memory\n"
             "aggregates = %s\n[model]\nlearner = majority\n",
             bad[i][0]);
    eddy_config_t *c = eddy_config_parse(text, "t.ini", err, sizeof err);
    cr_assert_null(c, "accepted: %s", bad[i][0]);
    cr_assert(strstr(err, bad[i][1]), "'%s' lacks '%s'", err, bad[i][1]);
  }
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p\n[features]\ntarget = y\nkey = user\n"
                                       "[state]\nscope = stream\naggregates = last(y)\n[model]\nlearner = majority\n",
                                       "t.ini", err, sizeof err);
  cr_assert_null(c);
  cr_assert(strstr(err, "[state] key 'scope'") && strstr(err, "drop the entity key 'user'"), "%s", err);
  c = eddy_config_parse("[pipeline]\nname = p\ntask = classification\n[features]\nnumeric = x\ntarget = y\n"
                        "[state]\nscope = stream\naggregates = since_last(y)\n[model]\nlearner = majority\n",
                        "t.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  const eddy_pipeline_conf_t *pc = eddy_config_pipeline(c, NULL);
  eddy_aggs_t *a = eddy_aggs_new(pc, err, sizeof err);
  eddy_fields_t *f = eddy_fields_new(pc, NULL, 0, (const char *const *)a->inputs, a->n_inputs, err, sizeof err);
  cr_assert_eq(eddy_aggs_bind(a, f, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "'y' is the target, not a time"), "%s", err);
  eddy_fields_free(f);
  eddy_aggs_free(a);
  eddy_config_free(c);
}
