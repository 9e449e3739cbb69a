/* test_dash.c: the dashboard's figures and API (engine/stream/dash.c,
 * engine/stream/dash_api.c): per-second points from a task's counters, a second
 * sampled again adds to its point, the ring keeps the last N seconds, the
 * alerts ring the newest M in order with the filters, alerts written as
 * eddy_alert_json writes them, a tree's features ranked by importance,
 * the embedded page served. */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "engine/stream/dash_int.h"
#include "engine/stream/pipeline_int.h"

static json_t *get(eddy_dash_t *d, const char *path, const char *query, int want) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  const char *type = "";
  int status = eddy_dash_http(d, path, query, &b, &type);
  cr_assert_eq(status, want, "%s?%s: %d", path, query, status);
  json_error_t je;
  json_t *j = status == 200 ? json_loadb((const char *)b.data, b.len, 0, &je) : NULL;
  if (status == 200) cr_assert_not_null(j, "%s: %s: %.*s", path, je.text, (int)b.len, (const char *)b.data);
  eddy_buf_free(&b);
  return j;
}

static json_t *column(json_t *series, int part, const char *name) {
  json_t *ps = json_object_get(series, "partitions");
  for (size_t i = 0; i < json_array_size(ps); i++) {
    json_t *p = json_array_get(ps, i);
    if (json_integer_value(json_object_get(p, "partition")) == part) return json_object_get(p, name);
  }
  return NULL;
}

static long long at(json_t *col, size_t i) { return (long long)json_number_value(json_array_get(col, i)); }

Test(dash, points_add_up_merge_and_stay_bounded) {
  char err[1024];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p-q\n[source]\ntopics = t\n[features]\nnumeric = x\n"
                                       "target = y\n[model]\nlearner = majority\n",
                                       "p.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_pipeline_t *pl = eddy_pipeline_new(NULL, &c->pipelines[0], err, sizeof err);
  cr_assert_not_null(pl, "%s", err);
  eddy_ptask_t *t = eddy_pipeline_replay_task(pl, "t", 3, err, sizeof err);
  cr_assert_not_null(t, "%s", err);
  eddy_dash_t *d = eddy_dash_new(3, 4);

  t->records = t->predictions = 10;
  t->dead_lettered = 2;
  eddy__dash_sample_at(d, &pl, 1, 0, 1000.2);
  t->records = t->predictions = 15; /* the same second again, at a stop: adds to its point */
  t->dead_lettered = 3;
  t->wm.next = 15;
  eddy__dash_sample_at(d, &pl, 1, 1, 1000.7);
  t->records = 18;
  eddy__dash_sample_at(d, &pl, 1, 0, 1000.9); /* same second, not forced: nothing */
  json_t *s = get(d, "/api/series", "pipeline=p%2Dq", 200);
  cr_assert_eq(json_array_size(column(s, 3, "t")), 1);
  cr_assert_eq(at(column(s, 3, "t"), 0), 1000);
  cr_assert_eq(at(column(s, 3, "records"), 0), 15);
  cr_assert_eq(at(column(s, 3, "dead_letters"), 0), 3);
  cr_assert(json_is_null(json_array_get(column(s, 3, "metric"), 0)), "no label yet: no accuracy");
  cr_assert(json_is_null(json_array_get(column(s, 3, "lag"), 0)), "no consumer: lag unknown");
  json_decref(s);

  eddy__dash_sample_at(d, &pl, 1, 0, 1001.1); /* 3 more records in second 1001 */
  t->records = 25;
  eddy__dash_sample_at(d, &pl, 1, 0, 1002.0);
  eddy__dash_sample_at(d, &pl, 1, 0, 1003.5);
  s = get(d, "/api/series", "pipeline=p-q&since=0", 200);
  json_t *ts = column(s, 3, "t"), *rec = column(s, 3, "records");
  cr_assert_eq(json_array_size(ts), 3, "the ring keeps 3 seconds");
  cr_assert_eq(at(ts, 0), 1001);
  cr_assert_eq(at(rec, 0), 3);
  cr_assert_eq(at(rec, 1), 7);
  cr_assert_eq(at(rec, 2), 0);
  json_decref(s);
  s = get(d, "/api/series", "pipeline=p%2Dq&since=1002", 200);
  cr_assert_eq(json_array_size(column(s, 3, "t")), 1);
  cr_assert_eq(at(column(s, 3, "t"), 0), 1003);
  json_decref(s);
  s = get(d, "/api/series", "pipeline=other", 200);
  cr_assert_eq(json_array_size(json_object_get(s, "partitions")), 0);
  json_decref(s);
  json_decref(get(d, "/api/series", "since=soon", 400));

  /* The model: its checkpoint's size and hash, as eddy_replica_save gives them. */
  json_t *m = get(d, "/api/models", "", 200);
  json_t *m0 = json_array_get(json_object_get(m, "models"), 0);
  cr_assert_not_null(m0);
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_replica_save(t->replica, &b), 0);
  cr_assert_eq((size_t)json_integer_value(json_object_get(m0, "bytes")), b.len);
  cr_assert_eq(strlen(json_string_value(json_object_get(m0, "sha256"))), 64);
  cr_assert_eq(json_integer_value(json_object_get(m0, "next_offset")), 15);
  cr_assert_str_eq(json_string_value(json_object_get(m0, "learner")), "majority");
  cr_assert(json_is_null(json_object_get(m0, "importance")), "majority ranks no feature");
  eddy_buf_free(&b);
  json_decref(m);

  json_t *p = get(d, "/api/pipelines", "", 200);
  json_t *p0 = json_array_get(json_object_get(p, "pipelines"), 0);
  cr_assert_str_eq(json_string_value(json_object_get(p0, "name")), "p-q");
  cr_assert_str_eq(json_string_value(json_object_get(p0, "metric")), "accuracy");
  cr_assert_eq(json_integer_value(json_object_get(p, "ring_bytes")), (json_int_t)eddy_dash_ring_bytes(3));
  json_decref(p);

  eddy_dash_free(d);
  eddy_pipeline_replay_done(pl, t);
  eddy_pipeline_free(pl);
  eddy_config_free(c);
}

/* A tree's model row carries its features ranked by importance: y = (a >
 * 0.5), b is noise, so a comes first. */
Test(dash, models_rank_a_tree_s_features) {
  char err[1024];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p\n[source]\ntopics = t\n[features]\nnumeric = a, b\n"
                                       "target = y\n[model]\nlearner = hoeffding_tree\n",
                                       "p.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_pipeline_t *pl = eddy_pipeline_new(NULL, &c->pipelines[0], err, sizeof err);
  cr_assert_not_null(pl, "%s", err);
  eddy_ptask_t *t = eddy_pipeline_replay_task(pl, "t", 0, err, sizeof err);
  cr_assert_not_null(t, "%s", err);
  eddy_schema_t *s = t->replica->schema;
  eddy_dict_intern(s->target.dict, "0", 1, eddy_hash("0", 1), NULL);
  eddy_dict_intern(s->target.dict, "1", 1, eddy_hash("1", 1), NULL);
  eddy_instance_t in;
  eddy_instance_init(&in, s->n_attrs);
  eddy_rng_t r;
  eddy_rng_seed(&r, 1);
  for (int i = 0; i < 5000; i++) {
    for (size_t k = 0; k < s->n_attrs; k++) {
      in.x[k] = eddy_rng_uniform(&r);
      in.missing[k] = 0;
    }
    in.y = in.x[0] > 0.5;
    in.has_y = 1;
    in.weight = 1;
    cr_assert_eq(eddy_learner_learn(t->replica->learner, &in), 0);
  }
  eddy_instance_free(&in);
  eddy_dash_t *d = eddy_dash_new(3, 4);
  eddy__dash_sample_at(d, &pl, 1, 1, 1000.0);
  json_t *m = get(d, "/api/models", "", 200);
  json_t *imp = json_object_get(json_array_get(json_object_get(m, "models"), 0), "importance");
  cr_assert_eq(json_array_size(imp), 2);
  cr_assert_str_eq(json_string_value(json_object_get(json_array_get(imp, 0), "name")), "a");
  double top = json_number_value(json_object_get(json_array_get(imp, 0), "importance"));
  cr_assert_gt(top, 0.9, "a: %g", top);
  json_decref(m);
  eddy_dash_free(d);
  eddy_pipeline_replay_done(pl, t);
  eddy_pipeline_free(pl);
  eddy_config_free(c);
}

Test(dash, alerts_ring_keeps_the_newest_in_order_and_filters) {
  eddy_dash_t *d = eddy_dash_new(10, 3);
  const char *kinds[] = {"drift", "warning", "drift", "data_drift"};
  eddy_buf_t want;
  eddy_buf_init(&want);
  for (int i = 0; i < 4; i++) {
    eddy_alert_t a = {.pipeline = i == 3 ? "a b" : "a", .partition = i, .offset = 100 + i, .index = (uint64_t)i,
                      .detector = i == 3 ? "psi" : "adwin", .kind = kinds[i], .statistic = 0.1 * i,
                      .threshold = NAN, .feature = i == 3 ? "x1" : NULL, .action = i == 1 ? "none" : "reset",
                      .version_before = 1, .version_after = 2, .time = 1796670000.25 + i};
    eddy_dash_alert(d, &a);
    if (i == 3) eddy_alert_json(&a, &want);
  }
  json_t *all = get(d, "/api/alerts", "", 200);
  cr_assert_eq(json_array_size(all), 3, "the oldest alert was overwritten");
  for (int i = 0; i < 3; i++)
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(all, (size_t)i), "partition")), i + 1);
  json_decref(all);
  /* the held copy writes exactly what the original did */
  eddy_buf_t b;
  eddy_buf_init(&b);
  const char *type;
  cr_assert_eq(eddy_dash_http(d, "/api/alerts", "pipeline=a%20b", &b, &type), 200);
  cr_assert_eq(b.len, want.len + 3, "%.*s", (int)b.len, (const char *)b.data);
  cr_assert(memcmp(b.data + 1, want.data, want.len) == 0, "%.*s", (int)b.len, (const char *)b.data);
  eddy_buf_free(&b);
  eddy_buf_free(&want);
  json_t *f = get(d, "/api/alerts", "kind=drift&pipeline=a", 200);
  cr_assert_eq(json_array_size(f), 1);
  cr_assert_eq(json_integer_value(json_object_get(json_array_get(f, 0), "partition")), 2);
  json_decref(f);
  f = get(d, "/api/alerts", "since=1796670002.25", 200);
  cr_assert_eq(json_array_size(f), 2, "alerts at or after since");
  json_decref(f);
  f = get(d, "/api/alerts", "partition=1&detector=adwin", 200);
  cr_assert_eq(json_array_size(f), 1);
  json_decref(f);
  eddy_dash_free(d);
}

Test(dash, serves_the_embedded_page) {
  eddy_dash_t *d = eddy_dash_new(10, 3);
  eddy_buf_t b;
  eddy_buf_init(&b);
  const char *type = "";
  cr_assert_eq(eddy_dash_http(d, "/", "", &b, &type), 200);
  cr_assert(strstr(type, "text/html"));
  cr_assert(memmem(b.data, b.len, "/uplot.js", 9), "the page loads uPlot");
  eddy_buf_clear(&b);
  cr_assert_eq(eddy_dash_http(d, "/uplot.js", "", &b, &type), 200);
  cr_assert(b.len > 10000, "uPlot is embedded");
  eddy_buf_clear(&b);
  cr_assert_eq(eddy_dash_http(d, "/api/nothing", "", &b, &type), 404);
  cr_assert_eq(eddy_dash_http(d, "/metrics", "", &b, &type), 0, "not the dashboard's");
  eddy_buf_free(&b);
  eddy_dash_free(d);
}
