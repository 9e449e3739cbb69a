/* test_ckpt.c: model checkpoints in a real redis-server: write and read
 * back (bytes, offset, version, learner), the offset guard (an older or
 * equal offset is refused and leaves the stored one), a checkpoint whose
 * bytes were damaged in Redis refused with its key named, the EVAL
 * fallback after the script cache is flushed, a checkpoint issued while
 * Redis is down written once it is back, the alerts stream, and the
 * `eddy models` and `eddy alerts` commands. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "learners/learners.h"
#include "redis_util.h"

static redis_srv_t srv;
static uv_loop_t loop;
static char err[2048];

static void start(void) {
  uv_loop_init(&loop);
  if (redis_srv_start(&srv, NULL)) cr_skip_test("cannot start %s", REDIS_SERVER_BIN);
}

static void start_aof(void) {
  uv_loop_init(&loop);
  const char *aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
  if (redis_srv_start(&srv, aof)) cr_skip_test("cannot start %s", REDIS_SERVER_BIN);
}

static void stop(void) {
  redis_srv_stop(&srv);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

typedef struct conn {
  eddy_redis_t *r;
  int ready, closed;
} conn_t;

static void conn_ready(void *ctx, int ready) { ((conn_t *)ctx)->ready = ready; }
static void conn_closed(void *ctx) { ((conn_t *)ctx)->closed = 1; }

static void conn_open(conn_t *c) {
  memset(c, 0, sizeof *c);
  eddy_redis_options_t o = {.connect_timeout = 0.3, .backoff_min = 0.05, .backoff_max = 0.3};
  c->r = eddy_redis_new(&loop, srv.url, &o, err, sizeof err);
  cr_assert_not_null(c->r, "%s", err);
  eddy_redis_on_ready(c->r, conn_ready, c);
  cr_assert(run_until(&loop, &c->ready, 5), "Redis ready");
}

static void conn_close(conn_t *c) {
  eddy_redis_close(c->r, conn_closed, c);
  cr_assert(run_until(&loop, &c->closed, 15));
  uv_run(&loop, UV_RUN_DEFAULT);
}

typedef struct ck_probe {
  int done, status;
  int64_t stored;
} ck_probe_t;

static void on_ckpt(void *ctx, int status, int64_t stored) {
  ck_probe_t *p = ctx;
  p->done = 1;
  p->status = status;
  p->stored = stored;
}

/* A real model checkpoint blob: a schema and a majority learner that saw
 * `n` labelled instances. */
static void model_blob(eddy_buf_t *b, int n) {
  eddy_schema_t *s = eddy_schema_new(EDDY_CLASSIFICATION, "y", 0, 0, err, sizeof err);
  eddy_schema_add(s, "x", EDDY_NUMERIC);
  eddy_dict_intern(s->target.dict, "a", 1, eddy_hash("a", 1), NULL);
  eddy_dict_intern(s->target.dict, "b", 1, eddy_hash("b", 1), NULL);
  eddy_learner_t *l = eddy_learner_new("majority", s, NULL, 0, 1, err, sizeof err);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  for (int i = 0; i < n; i++) {
    in.x[0] = i;
    in.missing[0] = 0;
    in.y = i % 3 == 0;
    in.has_y = 1;
    eddy_learner_learn(l, &in);
  }
  eddy_buf_init(b);
  cr_assert_eq(eddy_model_save(s, l, b), 0);
  eddy_instance_free(&in);
  eddy_learner_free(l);
  eddy_schema_free(s);
}

static ck_probe_t write_ckpt(conn_t *c, int32_t part, int64_t off, uint64_t version, const eddy_buf_t *m) {
  ck_probe_t p = {0};
  cr_assert_eq(eddy_ckpt_write(c->r, "eddy", "fraud", part, off, version, "majority", m->data, m->len,
                               on_ckpt, &p), 0);
  cr_assert(run_until(&loop, &p.done, 5), "checkpoint answered");
  return p;
}

Test(ckpt, round_trip_and_offset_guard, .init = start, .fini = stop) {
  conn_t c;
  conn_open(&c);
  eddy_buf_t m1, m2;
  model_blob(&m1, 10);
  model_blob(&m2, 20);
  cr_assert(m1.len != m2.len || memcmp(m1.data, m2.data, m1.len) != 0);

  ck_probe_t p = write_ckpt(&c, 2, 100, 1, &m1);
  cr_assert_eq(p.status, 0);
  cr_assert_eq(p.stored, 100);
  /* An older offset (a stale instance after a rebalance) is refused. */
  p = write_ckpt(&c, 2, 50, 9, &m2);
  cr_assert_eq(p.status, EDDY_ESTATE);
  cr_assert_eq(p.stored, 100);
  /* The same offset too: nothing new. */
  p = write_ckpt(&c, 2, 100, 9, &m2);
  cr_assert_eq(p.status, EDDY_ESTATE);
  cr_assert_eq(p.stored, 100);
  /* Another partition is independent. */
  p = write_ckpt(&c, 0, 7, 1, &m2);
  cr_assert_eq(p.status, 0);

  redisContext *sc = eddy_redis_connect_sync(srv.url, 2, err, sizeof err);
  eddy_ckpt_t ck;
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 2, &ck, err, sizeof err), 0, "%s", err);
  cr_assert_str_eq(ck.key, "eddy:fraud:ckpt:2");
  cr_assert_eq(ck.offset, 100);
  cr_assert_eq(ck.version, 1);
  cr_assert_str_eq(ck.learner, "majority");
  cr_assert_eq(ck.model_len, m1.len);
  cr_assert_eq(memcmp(ck.model, m1.data, m1.len), 0, "the stored bytes are those of offset 100");
  double now = eddy_wallclock();
  cr_assert(ck.time > now - 60 && ck.time <= now + 1, "time %f", ck.time);
  /* The bytes load back into the same model. */
  eddy_schema_t *s;
  eddy_learner_t *l;
  cr_assert_eq(eddy_model_load(ck.model, ck.model_len, &s, &l, err, sizeof err), 0, "%s", err);
  eddy_buf_t again;
  eddy_buf_init(&again);
  eddy_model_save(s, l, &again);
  cr_assert_eq(again.len, m1.len);
  cr_assert_eq(memcmp(again.data, m1.data, m1.len), 0);
  eddy_buf_free(&again);
  eddy_learner_free(l);
  eddy_schema_free(s);
  eddy_ckpt_clear(&ck);

  /* A newer offset is written. */
  p = write_ckpt(&c, 2, 150, 2, &m2);
  cr_assert_eq(p.status, 0);
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 2, &ck, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ck.offset, 150);
  cr_assert_eq(ck.model_len, m2.len);
  eddy_ckpt_clear(&ck);

  int32_t *parts;
  cr_assert_eq(eddy_ckpt_partitions_sync(sc, "eddy", "fraud", &parts, err, sizeof err), 2);
  cr_assert_eq(parts[0], 0);
  cr_assert_eq(parts[1], 2);
  free(parts);
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 5, &ck, err, sizeof err), EDDY_ENOENT);
  redisFree(sc);
  eddy_buf_free(&m1);
  eddy_buf_free(&m2);
  conn_close(&c);
}

Test(ckpt, corrupted_checkpoint_refused_naming_the_key, .init = start, .fini = stop) {
  conn_t c;
  conn_open(&c);
  eddy_buf_t m;
  model_blob(&m, 30);
  cr_assert_eq(write_ckpt(&c, 1, 500, 3, &m).status, 0);
  conn_close(&c);

  redisContext *sc = eddy_redis_connect_sync(srv.url, 2, err, sizeof err);
  /* Flip one byte of the model in Redis, in the middle of its body. */
  redisReply *rep = redisCommand(sc, "HGET eddy:fraud:ckpt:1 model");
  cr_assert_eq(rep->type, REDIS_REPLY_STRING);
  cr_assert_eq(rep->len, m.len);
  char *bytes = malloc(rep->len);
  memcpy(bytes, rep->str, rep->len);
  size_t len = rep->len;
  freeReplyObject(rep);
  bytes[len / 2] ^= 0x20;
  rep = redisCommand(sc, "HSET eddy:fraud:ckpt:1 model %b", bytes, len);
  freeReplyObject(rep);
  eddy_ckpt_t ck;
  int rc = eddy_ckpt_read_sync(sc, "eddy", "fraud", 1, &ck, err, sizeof err);
  cr_assert_eq(rc, EDDY_ECORRUPT);
  cr_assert(strstr(err, "eddy:fraud:ckpt:1") && strstr(err, "CRC"), "%s", err);
  cr_assert_null(ck.model);
  /* A wrong magic is refused the same way. */
  bytes[len / 2] ^= 0x20;
  bytes[0] = 'X';
  rep = redisCommand(sc, "HSET eddy:fraud:ckpt:1 model %b", bytes, len);
  freeReplyObject(rep);
  rc = eddy_ckpt_read_sync(sc, "eddy", "fraud", 1, &ck, err, sizeof err);
  cr_assert_eq(rc, EDDY_ECORRUPT);
  cr_assert(strstr(err, "eddy:fraud:ckpt:1") && strstr(err, "magic"), "%s", err);
  /* A hash without a model (written by hand) is incomplete. */
  rep = redisCommand(sc, "HDEL eddy:fraud:ckpt:1 model");
  freeReplyObject(rep);
  rc = eddy_ckpt_read_sync(sc, "eddy", "fraud", 1, &ck, err, sizeof err);
  cr_assert_eq(rc, EDDY_ECORRUPT);
  cr_assert(strstr(err, "eddy:fraud:ckpt:1") && strstr(err, "incomplete"), "%s", err);
  free(bytes);
  redisFree(sc);
  eddy_buf_free(&m);
}

Test(ckpt, eval_fallback_after_script_flush, .init = start, .fini = stop) {
  conn_t c;
  conn_open(&c);
  eddy_buf_t m;
  model_blob(&m, 5);
  cr_assert_eq(write_ckpt(&c, 0, 10, 1, &m).status, 0);
  redisContext *sc = redis_srv_client(&srv);
  redisReply *rep = redisCommand(sc, "SCRIPT FLUSH");
  freeReplyObject(rep);
  ck_probe_t p = write_ckpt(&c, 0, 20, 2, &m);
  cr_assert_eq(p.status, 0, "NOSCRIPT, then EVAL");
  cr_assert_eq(p.stored, 20);
  rep = redisCommand(sc, "HGET eddy:fraud:ckpt:0 offset");
  cr_assert_str_eq(rep->str, "20");
  freeReplyObject(rep);
  rep = redisCommand(sc, "INFO commandstats");
  cr_assert(strstr(rep->str, "cmdstat_eval:calls=1,"), "the fallback ran once:\n%s", rep->str);
  freeReplyObject(rep);
  redisFree(sc);
  eddy_buf_free(&m);
  conn_close(&c);
}

Test(ckpt, written_once_redis_is_back, .init = start_aof, .fini = stop) {
  conn_t c;
  conn_open(&c);
  eddy_buf_t m;
  model_blob(&m, 8);
  redis_srv_kill(&srv, SIGKILL);
  for (int i = 0; i < 200 && c.ready; i++) run_for(&loop, 0.01);
  cr_assert_eq(c.ready, 0);
  ck_probe_t p = {0};
  cr_assert_eq(eddy_ckpt_write(c.r, "eddy", "fraud", 4, 42, 1, "majority", m.data, m.len, on_ckpt, &p), 0,
               "accepted while down");
  run_for(&loop, 0.3);
  cr_assert_eq(p.done, 0);
  cr_assert_eq(redis_srv_restart(&srv), 0);
  cr_assert(run_until(&loop, &p.done, 10));
  cr_assert_eq(p.status, 0);
  redisContext *sc = eddy_redis_connect_sync(srv.url, 2, err, sizeof err);
  eddy_ckpt_t ck;
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 4, &ck, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ck.offset, 42);
  eddy_ckpt_clear(&ck);
  redisFree(sc);
  eddy_buf_free(&m);
  conn_close(&c);
}

Test(ckpt, memory_store_has_no_checkpoints, .init = start, .fini = stop) {
  eddy_config_t *cfg = eddy_config_parse("[pipeline]\nname = p\n[features]\ntarget = y\n[model]\nlearner = majority\n",
                                         "t.ini", err, sizeof err);
  const eddy_pipeline_conf_t *pc = eddy_config_pipeline(cfg, NULL);
  eddy_aggs_t *a = eddy_aggs_new(pc, err, sizeof err);
  eddy_store_t *s = eddy_store_new(pc, a, NULL, err, sizeof err);
  cr_assert_not_null(s, "%s", err);
  eddy_state_batch_t *b = eddy_state_batch_new(a, 0);
  cr_assert_eq(eddy_store_checkpoint(s, b, 1, 1, "majority", "x", 1, NULL, NULL, NULL), EDDY_ENOTSUP);
  eddy_state_batch_free(b);
  eddy_store_free(s);
  eddy_aggs_free(a);
  eddy_config_free(cfg);
}

Test(alerts, xadd_capped_stream, .init = start, .fini = stop) {
  conn_t c;
  conn_open(&c);
  for (int i = 0; i < 250; i++) {
    eddy_alert_t a = {.pipeline = "fraud", .partition = 1, .offset = 1000 + i, .index = (uint64_t)i,
                      .detector = "adwin", .kind = i % 2 ? "drift" : "warning", .statistic = 0.5,
                      .threshold = 0.25, .action = "reset", .version_before = 1, .version_after = 2,
                      .time = 1700000000.5 + i};
    cr_assert_eq(eddy_alert_xadd(c.r, "eddy", 100, &a), 0);
  }
  for (int i = 0; i < 200 && eddy_redis_pending(c.r); i++) run_for(&loop, 0.01);
  redisContext *sc = redis_srv_client(&srv);
  redisReply *rep = redisCommand(sc, "XLEN eddy:fraud:alerts");
  /* MAXLEN ~ 100 trims whole nodes: at least 100, well under 250. */
  cr_assert(rep->integer >= 100 && rep->integer < 250, "%lld", rep->integer);
  freeReplyObject(rep);
  rep = redisCommand(sc, "XREVRANGE eddy:fraud:alerts + - COUNT 1");
  cr_assert_eq(rep->elements, 1);
  redisReply *fields = rep->element[0]->element[1];
  int found = 0;
  for (size_t i = 0; i + 1 < fields->elements; i += 2) {
    if (!strcmp(fields->element[i]->str, "kind")) cr_assert_str_eq(fields->element[i + 1]->str, "drift");
    if (!strcmp(fields->element[i]->str, "offset")) cr_assert_str_eq(fields->element[i + 1]->str, "1249");
    if (!strcmp(fields->element[i]->str, "json")) {
      found = 1;
      cr_assert(strstr(fields->element[i + 1]->str, "\"offset\":1249"), "%s", fields->element[i + 1]->str);
    }
  }
  cr_assert(found);
  freeReplyObject(rep);
  redisFree(sc);
  conn_close(&c);
}

/* Format 2 ([source] label_topic): the label partition's offset and the
 * waiting predictions go in the same script; the guard refuses a
 * checkpoint behind on either offset; an old format 1 checkpoint (no
 * label fields) still loads; a newer format, damaged or foreign waiting
 * bytes are refused; waiting bytes Redis expired are reported gone. */
static ck_probe_t write_lab(conn_t *c, int64_t off, int64_t loff, const eddy_buf_t *m, const eddy_buf_t *w,
                            int64_t ttl_ms) {
  ck_probe_t p = {0};
  eddy_ckpt_labels_t lab = {.offset = loff, .waiting = w ? w->data : NULL, .waiting_len = w ? w->len : 0,
                            .ttl_ms = ttl_ms};
  cr_assert_eq(eddy_ckpt_write_labels(c->r, "eddy", "fraud", 3, off, 1, "majority", m->data, m->len, &lab, on_ckpt,
                                      &p), 0);
  cr_assert(run_until(&loop, &p.done, 5), "checkpoint answered");
  return p;
}

static void waiting_blob(eddy_buf_t *b, int64_t off, int64_t loff) {
  eddy_waiting_t *w = eddy_waiting_new(1, 8, 0);
  eddy_instance_t in;
  eddy_instance_init(&in, 1);
  in.x[0] = 2.5;
  in.missing[0] = 0;
  double pred[2] = {0.25, 0.75};
  cr_assert_eq(eddy_waiting_put(w, "r1", 2, &in, pred, 2, 1000), 0);
  eddy_buf_init(b);
  cr_assert_eq(eddy_waiting_save(w, off, loff, b), 0);
  eddy_instance_free(&in);
  eddy_waiting_free(w);
}

Test(ckpt, format2_label_offset_and_waiting, .init = start, .fini = stop) {
  conn_t c;
  conn_open(&c);
  eddy_buf_t m, w;
  model_blob(&m, 10);
  waiting_blob(&w, 100, 40);
  cr_assert_eq(write_lab(&c, 100, 40, &m, &w, 60000).status, 0);
  /* Labels only moved: written. Behind on labels, or on the input: refused. */
  eddy_buf_t w2;
  waiting_blob(&w2, 100, 45);
  cr_assert_eq(write_lab(&c, 100, 45, &m, &w2, 60000).status, 0);
  cr_assert_eq(write_lab(&c, 100, 45, &m, &w2, 60000).status, EDDY_ESTATE);
  cr_assert_eq(write_lab(&c, 120, 44, &m, &w2, 60000).status, EDDY_ESTATE);
  cr_assert_eq(write_lab(&c, 99, 50, &m, &w2, 60000).status, EDDY_ESTATE);

  redisContext *sc = redis_srv_client(&srv);
  eddy_ckpt_t ck;
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 3, &ck, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ck.format, 2);
  cr_assert_eq(ck.offset, 100);
  cr_assert_eq(ck.label_offset, 45);
  cr_assert_eq(ck.waiting_len, w2.len);
  cr_assert(memcmp(ck.waiting, w2.data, w2.len) == 0);
  eddy_ckpt_clear(&ck);
  redisReply *rep = redisCommand(sc, "PTTL eddy:fraud:waiting:3");
  cr_assert(rep->integer > 50000 && rep->integer <= 60000, "expiry %lld", rep->integer);
  freeReplyObject(rep);

  /* Damaged waiting bytes: the checkpoint is refused, naming both keys. */
  w2.data[w2.len / 2] ^= 1;
  freeReplyObject(redisCommand(sc, "SET eddy:fraud:waiting:3 %b", w2.data, w2.len));
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 3, &ck, err, sizeof err), EDDY_ECORRUPT);
  cr_assert(strstr(err, "eddy:fraud:ckpt:3") && strstr(err, "eddy:fraud:waiting:3"), "%s", err);
  /* Expired: gone, the rest loads. */
  freeReplyObject(redisCommand(sc, "DEL eddy:fraud:waiting:3"));
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 3, &ck, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ck.waiting_gone, 1);
  cr_assert_null(ck.waiting);
  eddy_ckpt_clear(&ck);
  /* A newer format: refused as such. */
  freeReplyObject(redisCommand(sc, "HSET eddy:fraud:ckpt:3 format 3"));
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 3, &ck, err, sizeof err), EDDY_EVERSION);
  cr_assert(strstr(err, "newer eddy"), "%s", err);
  freeReplyObject(redisCommand(sc, "HSET eddy:fraud:ckpt:3 format 2 label_offset x"));
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 3, &ck, err, sizeof err), EDDY_ECORRUPT);

  /* Format 1, as an earlier eddy wrote it: no label fields. */
  char nbytes[32];
  snprintf(nbytes, sizeof nbytes, "%zu", m.len);
  freeReplyObject(redisCommand(sc, "HSET eddy:fraud:ckpt:7 offset 12 model %b version 1 learner majority time 1 "
                               "bytes %s", m.data, m.len, nbytes));
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "fraud", 7, &ck, err, sizeof err), 0, "%s", err);
  cr_assert_eq(ck.format, 1);
  cr_assert_eq(ck.offset, 12);
  cr_assert_eq(ck.label_offset, -1);
  cr_assert_null(ck.waiting);
  eddy_ckpt_clear(&ck);
  /* The guard against it: the same input offset with a label offset is news. */
  ck_probe_t p = {0};
  eddy_ckpt_labels_t lab = {.offset = 0};
  cr_assert_eq(eddy_ckpt_write_labels(c.r, "eddy", "fraud", 7, 12, 1, "majority", m.data, m.len, &lab, on_ckpt, &p),
               0);
  cr_assert(run_until(&loop, &p.done, 5));
  cr_assert_eq(p.status, 0);
  redisFree(sc);
  eddy_buf_free(&m);
  eddy_buf_free(&w);
  eddy_buf_free(&w2);
  conn_close(&c);
}
