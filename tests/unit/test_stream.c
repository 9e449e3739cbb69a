/* test_stream.c: the parts of `eddy run` that need no broker: the commit
 * watermark, prediction records, dead-letter headers, the Prometheus text,
 * reload plans, librdkafka configurations and HTTP answers. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "engine/stream/stream.h"

/* ------------------------------------------------------------ watermark */

Test(watermark, commits_up_to_the_first_open_record) {
  eddy_watermark_t w;
  cr_assert_eq(eddy_wm_init(&w, 4), 0);
  cr_assert_eq(eddy_wm_committable(&w), -1, "nothing consumed: nothing to commit");
  uint64_t s[5];
  for (int i = 0; i < 5; i++) {
    cr_assert_eq(eddy_wm_begin(&w, 100 + i, 0, &s[i]), 0);
    eddy_wm_add(&w, s[i]); /* one output each */
    cr_assert_eq(eddy_wm_done(&w, s[i]), 0, "the guard goes, the output remains");
  }
  cr_assert_eq(eddy_wm_committable(&w), 100);
  /* Deliveries out of order: 101 and 103 first. */
  cr_assert_eq(eddy_wm_done(&w, s[1]), 1);
  cr_assert_eq(eddy_wm_done(&w, s[3]), 1);
  cr_assert_eq(eddy_wm_committable(&w), 100, "100 is still in flight");
  cr_assert_eq(eddy_wm_open(&w), 5);
  cr_assert_eq(eddy_wm_done(&w, s[0]), 1);
  cr_assert_eq(eddy_wm_committable(&w), 102, "101 was done: the next open is 102");
  cr_assert_eq(eddy_wm_open(&w), 3);
  cr_assert_eq(eddy_wm_done(&w, s[2]), 1);
  cr_assert_eq(eddy_wm_committable(&w), 104);
  cr_assert_eq(eddy_wm_done(&w, s[4]), 1);
  cr_assert_eq(eddy_wm_committable(&w), 105, "all done: the offset after the last");
  cr_assert_eq(eddy_wm_open(&w), 0);
  cr_assert_eq(eddy_wm_done(&w, s[4]), EDDY_ENOENT, "a report twice is refused");
  eddy_wm_free(&w);
}

Test(watermark, guard_holds_a_record_with_no_output_yet) {
  eddy_watermark_t w;
  eddy_wm_init(&w, 16);
  uint64_t a, b;
  eddy_wm_begin(&w, 7, 0, &a);
  cr_assert_eq(eddy_wm_committable(&w), 7, "a record being handled is not committed");
  eddy_wm_add(&w, a); /* prediction */
  eddy_wm_add(&w, a); /* alert */
  eddy_wm_done(&w, a);
  eddy_wm_begin(&w, 9, 0, &b); /* offsets may jump (compaction, markers) */
  eddy_wm_done(&w, b);         /* a record without outputs (no topics) */
  cr_assert_eq(eddy_wm_committable(&w), 7);
  cr_assert_eq(eddy_wm_done(&w, a), 0);
  cr_assert_eq(eddy_wm_committable(&w), 7, "the alert is still in flight");
  cr_assert_eq(eddy_wm_done(&w, a), 1);
  cr_assert_eq(eddy_wm_committable(&w), 10, "offset 8 never existed; 9 was done");
  eddy_wm_free(&w);
}

Test(watermark, grows_and_keeps_sequences) {
  eddy_watermark_t w;
  eddy_wm_init(&w, 16);
  uint64_t first;
  eddy_wm_begin(&w, 0, 0, &first); /* stays open: the ring must grow around it */
  uint64_t seqs[1000];
  for (int i = 1; i < 1000; i++) {
    eddy_wm_begin(&w, i, i * 10, &seqs[i]);
    eddy_wm_done(&w, seqs[i]);
  }
  cr_assert_eq(eddy_wm_open(&w), 1000);
  cr_assert_geq(w.mask + 1, 1000u);
  cr_assert_eq(eddy_wm_entry(&w, seqs[500])->ts_ms, 5000, "entries survive the growth");
  cr_assert_eq(eddy_wm_committable(&w), 0);
  cr_assert_eq(eddy_wm_done(&w, first), 1);
  cr_assert_eq(eddy_wm_committable(&w), 1000);
  eddy_wm_free(&w);
}

Test(watermark, widens_32_bit_sequences) {
  eddy_watermark_t w;
  eddy_wm_init(&w, 16);
  /* Pretend 2^32 - 2 records went before. */
  w.head = w.tail = (1ull << 32) - 2;
  uint64_t s[4];
  for (int i = 0; i < 4; i++) eddy_wm_begin(&w, i, 0, &s[i]);
  cr_assert_eq(s[3], (1ull << 32) + 1);
  cr_assert_eq(eddy_wm_seq(&w, (uint32_t)s[0]), s[0]);
  cr_assert_eq(eddy_wm_seq(&w, (uint32_t)s[3]), s[3], "past the 32-bit wrap");
  cr_assert_eq(eddy_wm_seq(&w, (uint32_t)(s[3] + 1)), UINT64_MAX, "not begun yet");
  eddy_wm_done(&w, s[0]);
  cr_assert_eq(eddy_wm_seq(&w, (uint32_t)s[0]), UINT64_MAX, "complete and gone");
  eddy_wm_free(&w);
}

/* ---------------------------------------------------- prediction records */

static eddy_schema_t *classes(const char *const *names, int n) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 16, 16, NULL, 0);
  eddy_schema_add(s, "x", EDDY_NUMERIC);
  for (int i = 0; i < n; i++) eddy_dict_intern(s->target.dict, names[i], strlen(names[i]), eddy_hash(names[i], strlen(names[i])), NULL);
  return s;
}

static char *encode(const eddy_prediction_t *p) {
  static char text[2048];
  eddy_buf_t b;
  eddy_buf_init(&b);
  cr_assert_eq(eddy_output_json.encode(NULL, p, &b), 0);
  cr_assert_lt(b.len, sizeof text);
  memcpy(text, b.data, b.len);
  text[b.len] = '\0';
  eddy_buf_free(&b);
  return text;
}

Test(prediction, json_classification) {
  const char *names[] = {"legit", "fraud"};
  eddy_schema_t *s = classes(names, 2);
  double scores[2] = {0.25, 0.75};
  eddy_prediction_t p = {.pipeline = "fraud", .topic = "tx", .partition = 3, .offset = 12345678901LL,
                         .key = "u\"1", .key_len = 3, .id = "t-9", .id_len = 3, .schema = s, .scores = scores,
                         .k = 2, .predicted = 1, .has_label = 1, .label = 0, .model_version = 4,
                         .time = 1700000000.125};
  cr_assert_str_eq(encode(&p),
                   "{\"pipeline\":\"fraud\",\"topic\":\"tx\",\"partition\":3,\"offset\":12345678901,"
                   "\"key\":\"u\\\"1\",\"id\":\"t-9\",\"prediction\":\"fraud\",\"probabilities\":"
                   "{\"legit\":0.25,\"fraud\":0.75},\"label\":\"legit\",\"model_version\":4,"
                   "\"time\":\"2023-11-14T22:13:20.125Z\"}");
  eddy_schema_free(s);
}

Test(prediction, json_regression_binary_key_no_label) {
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 16, 16, NULL, 0);
  double v = -1.5;
  eddy_prediction_t p = {.pipeline = "p", .topic = "t", .partition = 0, .offset = 0, .key = "\xff\x00\x01",
                         .key_len = 3, .schema = s, .scores = &v, .k = 1, .predicted = -1.5,
                         .model_version = 1, .time = 0};
  cr_assert_str_eq(encode(&p),
                   "{\"pipeline\":\"p\",\"topic\":\"t\",\"partition\":0,\"offset\":0,\"key_base64\":\"/wAB\","
                   "\"prediction\":-1.5,\"model_version\":1,\"time\":\"1970-01-01T00:00:00.000Z\"}");
  eddy_schema_free(s);
}

Test(prediction, json_echoes_joined_aggregates) {
  char err[512];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p\ntask = regression\n[features]\nnumeric = x\n"
                                       "target = y\nkey = u\n[state]\naggregates = count(*), mean(x), "
                                       "ewma(x, 0.25)\n[model]\nlearner = no_change\n",
                                       "p.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_aggs_t *a = eddy_aggs_new(&c->pipelines[0], err, sizeof err);
  eddy_fields_t *f = eddy_fields_new(&c->pipelines[0], NULL, 0, (const char *const *)a->inputs, a->n_inputs, err,
                                     sizeof err);
  cr_assert_not_null(f, "%s", err);
  cr_assert_eq(eddy_aggs_bind(a, f, err, sizeof err), 0, "%s", err);
  eddy_record_t r;
  cr_assert_eq(eddy_record_init(&r, f), 0);
  /* An entity seen twice, x = 2 then 6: the join before its third record. */
  double st[16];
  eddy_aggs_reset(a, st);
  r.in.x[0] = 2;
  r.in.missing[0] = 0;
  eddy_aggs_update(a, st, &r, 1000);
  r.in.x[0] = 6;
  eddy_aggs_update(a, st, &r, 2000);
  eddy_aggs_join(a, st, &r, 3000);
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 16, 16, NULL, 0);
  double v = 1;
  eddy_prediction_t p = {.pipeline = "p", .topic = "t", .schema = s, .scores = &v, .k = 1, .predicted = 1,
                         .model_version = 1, .aggs = a, .in = &r.in};
  cr_assert_str_eq(encode(&p),
                   "{\"pipeline\":\"p\",\"topic\":\"t\",\"partition\":0,\"offset\":0,\"key\":null,"
                   "\"prediction\":1,\"aggregates\":{\"count\":2,\"x_mean\":4,\"x_ewma_0.25\":3},"
                   "\"model_version\":1,\"time\":\"1970-01-01T00:00:00.000Z\"}");
  /* A fresh entity: no mean nor ewma yet (null). */
  eddy_aggs_join(a, a->fresh, &r, 3000);
  cr_assert(strstr(encode(&p), "\"aggregates\":{\"count\":0,\"x_mean\":null,\"x_ewma_0.25\":null}"), "%s",
            encode(&p));
  eddy_schema_free(s);
  eddy_record_free(&r);
  eddy_fields_free(f);
  eddy_aggs_free(a);
  eddy_config_free(c);
}

Test(prediction, json_nothing_learned_and_null_key) {
  eddy_schema_t *s = classes(NULL, 0);
  eddy_prediction_t p = {.pipeline = "p", .topic = "t", .partition = 1, .offset = 2, .schema = s,
                         .scores = NULL, .k = 0, .predicted = 0, .model_version = 1, .time = 0.999};
  cr_assert_str_eq(encode(&p),
                   "{\"pipeline\":\"p\",\"topic\":\"t\",\"partition\":1,\"offset\":2,\"key\":null,"
                   "\"prediction\":null,\"probabilities\":{},\"model_version\":1,"
                   "\"time\":\"1970-01-01T00:00:00.999Z\"}");
  eddy_schema_free(s);
}

Test(prediction, prefix_cache_follows_the_partition) {
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p\n[features]\ntarget = y\n[model]\nlearner = majority\n",
                                       "t.ini", NULL, 0);
  eddy_output_t *o = eddy_output_new(&c->pipelines[0], NULL, 0);
  cr_assert_not_null(o);
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 16, 16, NULL, 0);
  double v = 2;
  eddy_prediction_t p = {.pipeline = "p", .topic = "t", .partition = 0, .offset = 5, .schema = s, .scores = &v,
                         .k = 1, .predicted = 2, .model_version = 1, .time = 0};
  eddy_buf_t b;
  eddy_buf_init(&b);
  for (int i = 0; i < 3; i++) {
    p.partition = i == 1 ? 7 : 0;
    p.offset = 5 + i;
    eddy_buf_clear(&b);
    cr_assert_eq(eddy_output_encode(o, &p, &b), 0);
    eddy_buf_put_u8(&b, 0);
    char want[256];
    snprintf(want, sizeof want,
             "{\"pipeline\":\"p\",\"topic\":\"t\",\"partition\":%d,\"offset\":%d,\"key\":null,\"prediction\":2,"
             "\"model_version\":1,\"time\":\"1970-01-01T00:00:00.000Z\"}",
             i == 1 ? 7 : 0, 5 + i);
    cr_assert_str_eq((char *)b.data, want);
  }
  eddy_buf_free(&b);
  eddy_schema_free(s);
  eddy_output_free(o);
  eddy_config_free(c);
}

Test(prediction, json_string_escapes) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_json_string(&b, "a\"b\\c\n\x01\xc3\xa9\xe2\x82", 11);
  eddy_buf_put_u8(&b, 0);
  /* é stays UTF-8; a cut 3-byte sequence is escaped byte by byte. */
  cr_assert_str_eq((char *)b.data, "\"a\\\"b\\\\c\\u000a\\u0001\xc3\xa9\\u00e2\\u0082\"");
  eddy_buf_free(&b);
  /* Plain strings (one copy) and the empty one, after text in the buffer. */
  eddy_buf_init(&b);
  eddy_buf_put(&b, "x", 1);
  eddy_json_string(&b, "topic-1 ~", 9);
  eddy_json_string(&b, "", 0);
  eddy_json_string(&b, "tab\t", 4);
  eddy_buf_put_u8(&b, 0);
  cr_assert_str_eq((char *)b.data, "x\"topic-1 ~\"\"\"\"tab\\u0009\"");
  eddy_buf_free(&b);
  cr_assert(eddy_utf8_valid("\xf0\x9f\x98\x80", 4));
  cr_assert(!eddy_utf8_valid("\xc0\x80", 2), "overlong");
  cr_assert(!eddy_utf8_valid("\xed\xa0\x80", 3), "surrogate");
}

Test(prediction, avro_output_schema_must_exist) {
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p\n[features]\ntarget = y\n[model]\nlearner = majority\n"
                                       "[sink]\nformat = avro\noutput_schema = /nonexistent/p.avsc\n", "t.ini", NULL, 0);
  cr_assert_not_null(c);
  char err[256];
  cr_assert_null(eddy_output_new(&c->pipelines[0], err, sizeof err));
  cr_assert(strstr(err, "/nonexistent/p.avsc"), "%s", err);
  eddy_config_free(c);
}

/* --------------------------------------------------------- dead letters */

static const char *header(rd_kafka_headers_t *h, const char *name, char *buf, size_t size) {
  const void *v;
  size_t len;
  if (rd_kafka_header_get_last(h, name, &v, &len)) return NULL;
  snprintf(buf, size, "%.*s", (int)len, (const char *)v);
  return buf;
}

Test(dead_letter, connect_headers_under_eddy_prefix) {
  rd_kafka_headers_t *h = rd_kafka_headers_new(4);
  rd_kafka_header_add(h, "trace-id", -1, "abc", 3); /* the record's own header stays */
  eddy_dlq_info_t info = {"fraud", "transactions", 2, 4711, "decode", EDDY_EPARSE,
                          "malformed JSON at byte 3: expected ':'"};
  cr_assert_eq(eddy_dlq_headers(h, &info), 0);
  char v[2048];
  cr_assert_str_eq(header(h, "trace-id", v, sizeof v), "abc");
  cr_assert_str_eq(header(h, "eddy.errors.topic", v, sizeof v), "transactions");
  cr_assert_str_eq(header(h, "eddy.errors.partition", v, sizeof v), "2");
  cr_assert_str_eq(header(h, "eddy.errors.offset", v, sizeof v), "4711");
  cr_assert_str_eq(header(h, "eddy.errors.connector.name", v, sizeof v), "fraud");
  cr_assert_str_eq(header(h, "eddy.errors.stage", v, sizeof v), "decode");
  cr_assert_str_eq(header(h, "eddy.errors.exception.class.name", v, sizeof v), "eddy.EPARSE");
  cr_assert_str_eq(header(h, "eddy.errors.exception.message", v, sizeof v), "malformed JSON at byte 3: expected ':'");
  cr_assert_eq(rd_kafka_header_cnt(h), 8, "the record's header and seven of eddy's");
  rd_kafka_headers_destroy(h);
}

Test(dead_letter, message_kept_valid_utf8_and_bounded) {
  rd_kafka_headers_t *h = rd_kafka_headers_new(4);
  char msg[4000];
  memset(msg, 'a', sizeof msg - 1);
  msg[sizeof msg - 1] = '\0';
  memcpy(msg, "got \"\xff\xfe\"", 8);
  eddy_dlq_info_t info = {"p", "t", 0, 0, "validate", EDDY_ETYPE, msg};
  eddy_dlq_headers(h, &info);
  const void *v;
  size_t len;
  cr_assert_eq(rd_kafka_header_get_last(h, "eddy.errors.exception.message", &v, &len), 0);
  cr_assert_leq(len, 1024);
  cr_assert(eddy_utf8_valid(v, len));
  cr_assert_eq(memcmp(v, "got \"??\"", 8), 0, "bytes that are not UTF-8 become '?'");
  rd_kafka_headers_destroy(h);
  cr_assert_str_eq(eddy_err_name(EDDY_EMISSING), "EMISSING");
}

/* ------------------------------------------------------------- metrics */

Test(metrics, prometheus_text) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  char l[256];
  eddy_prom_family(&b, "eddy_x_total", "counter", "Things\\counted.\nTwo lines.");
  eddy_prom_sample(&b, "eddy_x_total", eddy_prom_labels(l, sizeof l, "pipeline", "a\"b", "topic", "t\\1\n", NULL), 3);
  eddy_prom_sample(&b, "eddy_x_total", NULL, 0.5);
  eddy_prom_sample(&b, "eddy_x_total", NULL, NAN);
  eddy_buf_put_u8(&b, 0);
  cr_assert_str_eq((char *)b.data,
                   "# HELP eddy_x_total Things\\\\counted.\\nTwo lines.\n"
                   "# TYPE eddy_x_total counter\n"
                   "eddy_x_total{pipeline=\"a\\\"b\",topic=\"t\\\\1\\n\"} 3\n"
                   "eddy_x_total 0.5\n"
                   "eddy_x_total NaN\n");
  eddy_buf_free(&b);
}

Test(metrics, histogram_buckets_are_cumulative) {
  static const double bounds[] = {0.001, 0.01, 0.1};
  eddy_histogram_t h;
  eddy_hist_init(&h, bounds, 3);
  double v[] = {0.0005, 0.001, 0.002, 0.05, 0.05, 7};
  for (int i = 0; i < 6; i++) eddy_hist_observe(&h, v[i]);
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_prom_histogram(&b, "lat", "p=\"x\"", &h);
  eddy_buf_put_u8(&b, 0);
  cr_assert_str_eq((char *)b.data,
                   "lat_bucket{p=\"x\",le=\"0.001\"} 2\n"
                   "lat_bucket{p=\"x\",le=\"0.01\"} 3\n"
                   "lat_bucket{p=\"x\",le=\"0.1\"} 5\n"
                   "lat_bucket{p=\"x\",le=\"+Inf\"} 6\n"
                   "lat_sum{p=\"x\"} 7.1035\n"
                   "lat_count{p=\"x\"} 6\n");
  eddy_buf_free(&b);
  /* Median: rank 3 falls in (0.001, 0.01], the only one there. */
  cr_assert_float_eq(eddy_hist_quantile(&h, 0.5), 0.01, 1e-12);
  cr_assert_float_eq(eddy_hist_quantile(&h, 1.0 / 6), 0.0005, 1e-12, "rank 1 of 2 in the first bucket");
}

/* `eddy run --threads N`: a pipeline's latency histogram is its
 * instances' summed: the same as one histogram fed every observation. */
Test(metrics, histograms_of_instances_add_up) {
  static const double bounds[] = {0.001, 0.01, 0.1};
  eddy_histogram_t a, b, all;
  eddy_hist_init(&a, bounds, 3);
  eddy_hist_init(&b, bounds, 3);
  eddy_hist_init(&all, bounds, 3);
  double v[] = {0.0005, 0.001, 0.002, 0.05, 0.05, 7, 0.3, 0.0001};
  for (int i = 0; i < 8; i++) {
    eddy_hist_observe(i % 3 ? &a : &b, v[i]);
    eddy_hist_observe(&all, v[i]);
  }
  eddy_hist_add(&a, &b);
  cr_assert_eq(a.count, 8);
  cr_assert_eq(memcmp(a.counts, all.counts, sizeof a.counts), 0);
  cr_assert_float_eq(a.sum, all.sum, 1e-12);
  cr_assert_float_eq(eddy_hist_quantile(&a, 0.99), eddy_hist_quantile(&all, 0.99), 1e-12);
}

/* --------------------------------------------------------------- reload */

static const char *base =
    "[kafka]\nbootstrap.servers = 127.0.0.1:1\n"
    "[pipeline]\nname = a\n[source]\ntopics = ta\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n"
    "[pipeline]\nname = b\n[source]\ntopics = tb\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n"
    "[pipeline]\nname = c\n[source]\ntopics = tc\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n";

Test(reload, plan_keeps_adds_removes_replaces) {
  char err[512];
  eddy_config_t *old = eddy_config_parse(base, "old.ini", err, sizeof err);
  cr_assert_not_null(old, "%s", err);
  /* a: unchanged but moved down the file (other lines); b: a [kafka] key
   * changed; c: gone; d: new. */
  const char *next =
      "[kafka]\nbootstrap.servers = 127.0.0.1:1\n\n\n"
      "[pipeline]\nname = d\n[source]\ntopics = td\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n"
      "[pipeline]\nname = b\n[source]\ntopics = tb\n[kafka]\nfetch.wait.max.ms = 10\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n"
      "[pipeline]\nname = a\n[source]\ntopics = ta\n[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n";
  eddy_config_t *cur = eddy_config_parse(next, "new.ini", err, sizeof err);
  cr_assert_not_null(cur, "%s", err);
  eddy_plan_item_t it[8];
  size_t n = eddy_run_plan(old, cur, it, 8);
  cr_assert_eq(n, 4);
  cr_assert_str_eq(it[0].name, "d");
  cr_assert_eq(it[0].op, EDDY_PLAN_ADD);
  cr_assert_eq(it[0].new_index, 0);
  cr_assert_str_eq(it[1].name, "b");
  cr_assert_eq(it[1].op, EDDY_PLAN_REPLACE);
  cr_assert_str_eq(it[2].name, "a");
  cr_assert_eq(it[2].op, EDDY_PLAN_KEEP);
  cr_assert_eq(it[2].old_index, 0);
  cr_assert_str_eq(it[3].name, "c");
  cr_assert_eq(it[3].op, EDDY_PLAN_REMOVE);
  cr_assert_eq(it[3].old_index, 2);
  /* From nothing: every pipeline is added. */
  cr_assert_eq(eddy_run_plan(NULL, old, it, 8), 3);
  cr_assert_eq(it[1].op, EDDY_PLAN_ADD);
  eddy_config_free(old);
  eddy_config_free(cur);
}

Test(reload, equality_sees_every_section) {
  static const char *head = "[pipeline]\nname = a\n";
  static const char *body = "[features]\nnumeric = x\ntarget = y\n[model]\nlearner = naive_bayes\n";
  const char *changes[][2] = {{"seed = 9\n", ""},
                              {"", "[sink]\npredictions = p2\n"},
                              {"", "[source]\ntopics = t\nbatch_size = 7\n"},
                              {"", "[drift]\ndetector = adwin\n"},
                              {"", "[drift]\ndetector = adwin\ndelta = 0.01\n"},
                              {"", "[kafka]\nlinger.ms = 1\n"}};
  char text[2048], err[512];
  snprintf(text, sizeof text, "%s%s", head, body);
  eddy_config_t *a = eddy_config_parse(text, "a.ini", err, sizeof err);
  cr_assert_not_null(a, "%s", err);
  snprintf(text, sizeof text, "\n; moved down\n%s%s", head, body);
  eddy_config_t *same = eddy_config_parse(text, "same.ini", err, sizeof err);
  cr_assert(eddy_pipeline_conf_equal(&a->pipelines[0], &same->pipelines[0]), "lines do not matter");
  eddy_config_free(same);
  for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
    snprintf(text, sizeof text, "%s%s%s%s", head, changes[i][0], body, changes[i][1]);
    eddy_config_t *b = eddy_config_parse(text, "b.ini", err, sizeof err);
    cr_assert_not_null(b, "%zu: %s", i, err);
    cr_assert(!eddy_pipeline_conf_equal(&a->pipelines[0], &b->pipelines[0]), "change %zu unseen", i);
    eddy_config_free(b);
  }
  eddy_config_free(a);
}

/* ---------------------------------------------------------------- Kafka */

Test(kafka, defaults_and_overrides) {
  char err[512];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = fraud\n[kafka]\nauto.offset.reset = latest\n"
                                       "[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n",
                                       "k.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  rd_kafka_conf_t *k = eddy_kafka_conf(&c->pipelines[0], EDDY_KAFKA_CONSUMER, err, sizeof err);
  cr_assert_not_null(k, "%s", err);
  char v[256];
  size_t n = sizeof v;
  cr_assert_eq(rd_kafka_conf_get(k, "group.id", v, &n), RD_KAFKA_CONF_OK);
  cr_assert_str_eq(v, "eddy.fraud");
  n = sizeof v;
  rd_kafka_conf_get(k, "bootstrap.servers", v, &n);
  cr_assert_str_eq(v, "127.0.0.1:9092");
  n = sizeof v;
  rd_kafka_conf_get(k, "enable.auto.commit", v, &n);
  cr_assert_str_eq(v, "false");
  n = sizeof v;
  rd_kafka_conf_get(k, "auto.offset.reset", v, &n);
  cr_assert_str_eq(v, "largest", "the config's latest (librdkafka's name for it) wins over eddy's earliest");
  rd_kafka_conf_destroy(k);
  k = eddy_kafka_conf(&c->pipelines[0], EDDY_KAFKA_PRODUCER, err, sizeof err);
  n = sizeof v;
  rd_kafka_conf_get(k, "message.timeout.ms", v, &n);
  cr_assert_str_eq(v, "0", "outputs are retried until delivered");
  rd_kafka_conf_destroy(k);
  cr_assert_str_eq(eddy_kafka_get(&c->pipelines[0], "auto.offset.reset"), "latest");
  cr_assert_str_eq(eddy_kafka_get(&c->pipelines[0], "bootstrap.servers"), "127.0.0.1:9092");
  eddy_config_free(c);
}

Test(kafka, bad_key_names_file_and_line) {
  char err[512];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = p\n[kafka]\nbootstrap.servers = h:1\nno.such.thing = 1\n"
                                       "[features]\nnumeric = x\ntarget = y\n[model]\nlearner = majority\n",
                                       "bad.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  cr_assert_null(eddy_kafka_conf(&c->pipelines[0], EDDY_KAFKA_CONSUMER, err, sizeof err));
  cr_assert(strncmp(err, "bad.ini:5: [kafka] key 'no.such.thing': ", 40) == 0, "%s", err);
  eddy_config_free(c);
}

Test(kafka, topic_lists) {
  char err[256];
  rd_kafka_topic_partition_list_t *l = eddy_kafka_topics(" a, ^b.*, a ,c", err, sizeof err);
  cr_assert_not_null(l, "%s", err);
  cr_assert_eq(l->cnt, 3, "duplicates once");
  cr_assert_str_eq(l->elems[0].topic, "a");
  cr_assert_str_eq(l->elems[1].topic, "^b.*");
  cr_assert_str_eq(l->elems[2].topic, "c");
  rd_kafka_topic_partition_list_destroy(l);
  cr_assert_null(eddy_kafka_topics("", err, sizeof err));
  cr_assert_null(eddy_kafka_topics(" , ", err, sizeof err));
  cr_assert(eddy_kafka_err_permanent(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
  cr_assert(!eddy_kafka_err_permanent(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT));
  cr_assert(!eddy_kafka_err_permanent(RD_KAFKA_RESP_ERR__TRANSPORT));
}

/* ------------------------------------------------------------ pipelines */

Test(pipeline, prepared_without_a_broker_and_refusals_name_the_key) {
  char err[1024];
  eddy_config_t *c = eddy_config_parse(
      "[pipeline]\nname = ok\n[source]\ntopics = t\n[features]\nnumeric = x\ntarget = y\nrequired = x, y\n"
      "[model]\nlearner = majority\n"
      "[pipeline]\nname = req\n[source]\ntopics = t\n[features]\nnumeric = x\ntarget = y\nrequired = z\n[model]\nlearner = majority\n"
      "[pipeline]\nname = redis\n[source]\ntopics = t\n[features]\nnumeric = x\ntarget = y\n[state]\nstore = redis://h:1/0\n"
      "[model]\nlearner = majority\n"
      "[pipeline]\nname = redis2\n[source]\ntopics = t, u\n[features]\nnumeric = x\ntarget = y\n[state]\nstore = redis://h:1/0\n"
      "[model]\nlearner = majority\n"
      "[pipeline]\nname = redis3\n[source]\ntopics = t\n[features]\nnumeric = x\ntarget = y\n[state]\nstore = redis://h:0/0\n"
      "[model]\nlearner = majority\n",
      "p.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_pipeline_t *pl = eddy_pipeline_new(NULL, &c->pipelines[0], err, sizeof err);
  cr_assert_not_null(pl, "%s", err);
  cr_assert_eq(eddy_pipeline_state(pl), EDDY_PL_PREPARED);
  eddy_pipeline_free(pl);
  cr_assert_null(eddy_pipeline_new(NULL, &c->pipelines[1], err, sizeof err));
  cr_assert(strstr(err, "p.ini:18: [features] key 'required': 'z'"), "%s", err); /* the key's line */
  /* Redis: prepared without connecting (the URL is checked); one topic. */
  pl = eddy_pipeline_new(NULL, &c->pipelines[2], err, sizeof err);
  cr_assert_not_null(pl, "%s", err);
  eddy_pipeline_free(pl);
  cr_assert_null(eddy_pipeline_new(NULL, &c->pipelines[3], err, sizeof err));
  cr_assert(strstr(err, "[source] topics 't, u': with [state] store = redis://, a pipeline reads one topic"), "%s", err);
  cr_assert_null(eddy_pipeline_new(NULL, &c->pipelines[4], err, sizeof err));
  cr_assert(strstr(err, "p.ini:51: [state] key 'store': 'redis://h:0/0': bad port '0'"), "%s", err);
  eddy_config_free(c);
  /* A Kafka JSON source without attributes: refused by the config's
   * validation already (issue 19), at the [features] header. */
  cr_assert_null(eddy_config_parse("[pipeline]\nname = nolist\n[source]\ntopics = t\n[features]\ntarget = y\n"
                                   "[model]\nlearner = majority\n", "p.ini", err, sizeof err));
  cr_assert(strstr(err, "p.ini:5: [features] key 'numeric': JSON records from Kafka need"), "%s", err);
}

/* ----------------------------------------------------------------- HTTP */

#include <arpa/inet.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static int handler(void *ctx, const eddy_http_request_t *req, eddy_buf_t *body, const char **type) {
  (void)ctx;
  *type = "text/plain";
  eddy_buf_printf(body, "%s %s %s", req->method, req->path, req->query);
  if (req->body_len || req->authorization[0])
    eddy_buf_printf(body, " [%s] (%s)", req->body, req->authorization); /* body: NUL-terminated */
  return strcmp(req->path, "/missing") == 0 ? 404 : 200;
}

typedef struct {
  int port;
  const char *request;
  char reply[4096];
  uv_async_t *done;
} client_t;

static void *client(void *arg) {
  client_t *c = arg;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  size_t n = 0;
  if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0) {
    if (write(fd, c->request, strlen(c->request)) > 0) {
      ssize_t k;
      while (n < sizeof c->reply - 1 && (k = read(fd, c->reply + n, sizeof c->reply - 1 - n)) > 0) n += (size_t)k;
    }
  }
  c->reply[n] = '\0';
  close(fd);
  uv_async_send(c->done);
  return NULL;
}

static void on_done(uv_async_t *h) {
  eddy_http_stop(h->data);
  uv_close((uv_handle_t *)h, NULL);
}

static void ask_max(const char *request, size_t max_body, char *reply, size_t size) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char err[256];
  eddy_http_t *h = eddy_http_start(&loop, "127.0.0.1:0", max_body, handler, NULL, err, sizeof err);
  cr_assert_not_null(h, "%s", err);
  uv_async_t done;
  uv_async_init(&loop, &done, on_done);
  done.data = h;
  client_t c = {eddy_http_port(h), request, "", &done};
  pthread_t th;
  pthread_create(&th, NULL, client, &c);
  uv_run(&loop, UV_RUN_DEFAULT); /* until the client is done and everything closed */
  pthread_join(th, NULL);
  cr_assert_eq(uv_loop_close(&loop), 0, "every handle closed");
  snprintf(reply, size, "%s", c.reply);
}

static void ask(const char *request, char *reply, size_t size) { ask_max(request, 0, reply, size); }

Test(http, answers_and_closes) {
  char reply[1024];
  ask("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", reply, sizeof reply);
  cr_assert_str_eq(reply, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 16\r\n"
                          "Connection: close\r\n\r\nGET /metrics x=1");
  ask("GET /missing HTTP/1.0\r\n\r\n", reply, sizeof reply);
  cr_assert(strncmp(reply, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "%s", reply);
  ask("BLAH\r\n\r\n", reply, sizeof reply);
  cr_assert(strncmp(reply, "HTTP/1.1 400 Bad Request\r\n", 26) == 0, "%s", reply);
}

/* HTTP/1.1 keeps the connection: requests sent at once (pipelined) are
 * answered one after the other, in order, with their bodies and
 * Authorization header; the one asking to close closes. */
Test(http, keep_alive_bodies_and_auth) {
  char reply[4096];
  ask("POST /a HTTP/1.1\r\nContent-Length: 5\r\nAuthorization: Bearer s3cret\r\n\r\nhello"
      "GET /b?q=1 HTTP/1.1\r\n\r\n"
      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
      reply, sizeof reply);
  cr_assert_str_eq(reply, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n\r\n"
                          "POST /a  [hello] (Bearer s3cret)"
                          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nGET /b q=1"
                          "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 19\r\nConnection: close\r\n\r\n"
                          "POST /c  [abcde] ()");
}

/* A body over the bound is refused with 413 and a JSON error, whether its
 * length is announced or it comes in chunks; one at the bound is served. */
Test(http, body_bound) {
  char reply[4096];
  ask_max("POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789", 8, reply, sizeof reply);
  cr_assert(strncmp(reply, "HTTP/1.1 413 Payload Too Large\r\nContent-Type: application/json\r\n", 64) == 0, "%s",
            reply);
  cr_assert(strstr(reply, "Connection: close\r\n\r\n{\"error\":\"request body larger than [http] max_body_bytes\"}"),
            "%s", reply);
  ask_max("POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n12345\r\n5\r\n67890\r\n0\r\n\r\n", 8, reply,
          sizeof reply);
  cr_assert(strncmp(reply, "HTTP/1.1 413 ", 13) == 0, "%s", reply);
  ask_max("POST /a HTTP/1.0\r\nContent-Length: 8\r\n\r\n12345678", 8, reply, sizeof reply);
  cr_assert(strstr(reply, "200 OK") && strstr(reply, "[12345678]"), "%s", reply);
}

/* ------------------------------------------------------- number parsing */

/* The record path's fast decimal parser gives strtod's bits, or defers to
 * it: 300,000 numbers written in the ways records write them. */
Test(numbers, fast_path_matches_strtod) {
  char err[256];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = n\n[features]\nnumeric = x\ntarget = y\n"
                                       "[model]\nlearner = majority\n", "n.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  eddy_fields_t *f = eddy_fields_new(&c->pipelines[0], NULL, 0, NULL, 0, err, sizeof err);
  eddy_schema_t *s = eddy_fields_schema(f, err, sizeof err);
  eddy_record_t r;
  eddy_record_init(&r, f);
  const eddy_field_t *x = eddy_fields_find(f, "x", 1);
  eddy_rng_t rng;
  eddy_rng_seed(&rng, 7);
  static const char *const fmts[] = {"%.17g", "%.6f", "%.3e", "%.15g", "%.0f", "%.9f", "%.20f", "%g"};
  int n_fast_ok = 0;
  for (int i = 0; i < 300000; i++) {
    double v = (eddy_rng_uniform(&rng) - 0.5) * pow(10, (double)eddy_rng_below(&rng, 40) - 20);
    char text[64];
    int len = snprintf(text, sizeof text, fmts[i % 8], v);
    if (i % 97 == 0) len = snprintf(text, sizeof text, "%lld", (long long)(v * 1e6)); /* integers */
    eddy_record_clear(&r);
    int rc = eddy_record_set(&r, f, s, x, text, (size_t)len, 0, err, sizeof err);
    char *end;
    double want = strtod(text, &end);
    cr_assert_eq(rc, 0, "%s: %s", text, err);
    cr_assert(memcmp(&want, &r.in.x[0], sizeof want) == 0, "%s: %.17g, strtod %.17g", text, r.in.x[0], want);
    n_fast_ok++;
  }
  const char *bad[] = {"1.", ".5", "1e", "--1", "1e+", "0x10", "+", "-", "1 ", " 1", "1.2.3", "inf", "1e999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    eddy_record_clear(&r);
    int rc = eddy_record_set(&r, f, s, x, bad[i], strlen(bad[i]), 0, err, sizeof err);
    char *end;
    double v = strtod(bad[i], &end);
    int strtod_ok = *bad[i] && *end == '\0' && isfinite(v) && bad[i][0] != ' ';
    cr_assert_eq(rc == 0, strtod_ok, "'%s': %d", bad[i], rc);
  }
  cr_assert_eq(n_fast_ok, 300000);
  eddy_record_free(&r);
  eddy_schema_free(s);
  eddy_fields_free(f);
  eddy_config_free(c);
}

/* ------------------------------------------------ [http] listen's host */

/* The local address of the listening TCP socket on port, from
 * /proc/net/tcp (hex, as the kernel writes it), or "" if none. */
static void listening_on(int port, char *addr, size_t size) {
  FILE *f = fopen("/proc/net/tcp", "r");
  char line[512], local[64];
  unsigned st;
  addr[0] = '\0';
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, " %*d: %63s %*s %x", local, &st) == 2 && st == 0x0A) {
      char *colon = strchr(local, ':');
      if (colon && strtol(colon + 1, NULL, 16) == port) {
        *colon = '\0';
        snprintf(addr, size, "%s", local);
      }
    }
  if (f) fclose(f);
}

static void listen_check(const char *listen, const char *expected) {
  uv_loop_t loop;
  uv_loop_init(&loop);
  char err[256], addr[64];
  eddy_http_t *h = eddy_http_start(&loop, listen, 0, handler, NULL, err, sizeof err);
  cr_assert_not_null(h, "%s: %s", listen, err);
  listening_on(eddy_http_port(h), addr, sizeof addr);
  eddy_http_stop(h);
  uv_run(&loop, UV_RUN_DEFAULT);
  cr_assert_eq(uv_loop_close(&loop), 0);
  cr_assert_str_eq(addr, expected, "[http] listen = %s binds %s, not %s", listen, addr, expected);
}

/* PORT and :PORT bind loopback only; every interface only when asked. */
Test(http, listens_on_loopback_unless_told) {
  listen_check(":0", "0100007F"); /* 127.0.0.1 */
  listen_check("0", "0100007F");
  listen_check("127.0.0.1:0", "0100007F");
  listen_check("0.0.0.0:0", "00000000");
}

/* ------------------------------------------------ secrets of [kafka] */

Test(kafka, secrets_scrubbed_from_lines) {
  char err[256], out[256];
  eddy_config_t *c = eddy_config_parse("[pipeline]\nname = s\n[kafka]\nsasl.username = eddy\n"
                                       "sasl.password = pw-1\nssl.key.password = k2\n"
                                       "sasl.oauthbearer.client.secret = pw-1-long\n[features]\n"
                                       "numeric = x\ntarget = y\n[model]\nlearner = majority\n",
                                       "s.ini", err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  const eddy_pipeline_conf_t *p = &c->pipelines[0];
  cr_assert(eddy_kafka_key_secret("sasl.password") && eddy_kafka_key_secret("ssl.keystore.password") &&
            eddy_kafka_key_secret("ssl.truststore.password") && eddy_kafka_key_secret("ssl.key.pem") &&
            !eddy_kafka_key_secret("sasl.username") && !eddy_kafka_key_secret("ssl.ca.location"));
  const char *plain = "connected as eddy";
  cr_assert_eq(eddy_kafka_scrub(p, plain, out, sizeof out), plain, "no secret: the text itself");
  /* The longest value at a place wins (pw-1-long, not pw-1 then -long). */
  cr_assert_str_eq(eddy_kafka_scrub(p, "a pw-1 b k2 c pw-1-long d pw-1", out, sizeof out), "a *** b *** c *** d ***");
  char tiny[6];
  cr_assert_str_eq(eddy_kafka_scrub(p, "xxxxxxxx pw-1", tiny, sizeof tiny), "xxxxx", "cut, never the secret");
  cr_assert(eddy_kafka_auth_refused("SASL authentication error: Authentication failed during authentication due "
                                    "to invalid credentials with SASL mechanism SCRAM-SHA-512"));
  cr_assert(!eddy_kafka_auth_refused("SASL authentication error: SaslAuthenticateRequest failed: Local: Broker "
                                     "transport failure"));
  eddy_config_free(c);
}
