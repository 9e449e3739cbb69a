/* test_state.c: the state stores with a real redis-server: the aggregates
 * of a known sequence through the memory store and through Redis (the
 * same values, two records of one batch seeing each other), the memory
 * store's bound and eviction, the Redis key layout, a Redis restart in the
 * middle of a run (not ready, nothing lost), and a task restarted from its
 * checkpoint replaying records against exactly the features they had the
 * first time. */
#include <criterion/criterion.h>
#include <math.h>
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

static void start_plain(void) {
  uv_loop_init(&loop);
  if (redis_srv_start(&srv, NULL)) cr_skip_test("cannot start %s", REDIS_SERVER_BIN);
}

static void start_aof(void) {
  uv_loop_init(&loop);
  const char *aof[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
  if (redis_srv_start(&srv, aof)) cr_skip_test("cannot start %s", REDIS_SERVER_BIN);
}

static void no_server(void) { uv_loop_init(&loop); }

static void stop(void) {
  redis_srv_stop(&srv);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

/* ------------------------------------------------------------- pipeline */

typedef struct pipe_ {
  eddy_config_t *cfg;
  const eddy_pipeline_conf_t *pc;
  eddy_aggs_t *aggs;
  eddy_fields_t *fields;
  eddy_schema_t *schema;
  eddy_record_t rec;
} pipe_t;

static void pipe_open(pipe_t *p, const char *store, const char *aggregates, const char *extra) {
  char text[2048];
  snprintf(text, sizeof text,
           "[pipeline]\nname = pay\ntask = regression\n[features]\nnumeric = x\ntarget = y\n"
           "key = user\ntimestamp = ts\n[state]\nstore = %s\naggregates = %s\n%s"
           "[model]\nlearner = no_change\n",
           store, aggregates, extra);
  p->cfg = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(p->cfg, "%s", err);
  p->pc = eddy_config_pipeline(p->cfg, NULL);
  p->aggs = eddy_aggs_new(p->pc, err, sizeof err);
  cr_assert_not_null(p->aggs, "%s", err);
  p->fields = eddy_fields_new(p->pc, NULL, 0, (const char *const *)p->aggs->inputs,
                              p->aggs->n_inputs, err, sizeof err);
  cr_assert_not_null(p->fields, "%s", err);
  cr_assert_eq(eddy_aggs_bind(p->aggs, p->fields, err, sizeof err), 0, "%s", err);
  p->schema = eddy_fields_schema(p->fields, err, sizeof err);
  cr_assert_not_null(p->schema);
  cr_assert_eq(eddy_record_init(&p->rec, p->fields), 0);
}

static void pipe_close(pipe_t *p) {
  eddy_record_free(&p->rec);
  eddy_schema_free(p->schema);
  eddy_fields_free(p->fields);
  eddy_aggs_free(p->aggs);
  eddy_config_free(p->cfg);
}

typedef struct ev {
  char key[16];
  double ts;     /* seconds */
  double amount; /* NAN: missing */
} ev_t;

static void set_field(pipe_t *p, const char *name, const char *text) {
  const eddy_field_t *f = eddy_fields_find(p->fields, name, strlen(name));
  if (!f) return;
  cr_assert_eq(eddy_record_set(&p->rec, p->fields, p->schema, f, text, strlen(text), 0, err, sizeof err),
               0, "%s", err);
}

static void fill(pipe_t *p, const ev_t *e) {
  eddy_record_clear(&p->rec);
  char t[64];
  set_field(p, "user", e->key);
  eddy_fmt_double(t, sizeof t, e->ts);
  set_field(p, "ts", t);
  if (!isnan(e->amount)) {
    eddy_fmt_double(t, sizeof t, e->amount);
    set_field(p, "amount", t);
  }
}

/* A deterministic stream: 30 users, amounts 1..100 (10% missing),
 * timestamps rising by 0..2 s. */
static ev_t *make_stream(size_t n, uint64_t seed) {
  ev_t *v = calloc(n, sizeof *v);
  eddy_rng_t r;
  eddy_rng_seed(&r, seed);
  double ts = 1700000000;
  for (size_t i = 0; i < n; i++) {
    snprintf(v[i].key, sizeof v[i].key, "u%llu", (unsigned long long)eddy_rng_below(&r, 30));
    ts += (double)eddy_rng_below(&r, 3);
    v[i].ts = ts;
    v[i].amount = eddy_rng_uniform(&r) < 0.1 ? NAN : (double)(1 + eddy_rng_below(&r, 100));
  }
  return v;
}

/* The reference: one state per key, applied record by record, no store. */
static double *reference(pipe_t *p, const ev_t *evs, size_t n) {
  size_t k = p->aggs->n, slots = p->aggs->n_slots;
  double *out = calloc(n * k, sizeof *out);
  double *states = calloc(64 * slots, sizeof *states);
  char keys[64][16];
  size_t nk = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < nk && strcmp(keys[j], evs[i].key) != 0) j++;
    if (j == nk) {
      snprintf(keys[nk++], 16, "%s", evs[i].key);
      eddy_aggs_reset(p->aggs, states + j * slots);
    }
    fill(p, &evs[i]);
    double t = eddy_aggs_time_ms(p->aggs, &p->rec, NAN);
    eddy_aggs_eval(p->aggs, states + j * slots, &p->rec, t, out + i * k);
    eddy_aggs_update(p->aggs, states + j * slots, &p->rec, t);
  }
  free(states);
  return out;
}

/* --------------------------------------------------------------- driver */

typedef struct task {
  pipe_t *p;
  eddy_store_t *store;
  eddy_state_batch_t *b;
  int fetched, status;
  int64_t idx[1024];
} task_t;

static void on_fetched(void *ctx, eddy_state_batch_t *b, int status) {
  task_t *t = ctx;
  (void)b;
  t->fetched = 1;
  t->status = status;
}

/* Fetches one batch of records, waiting for the store (and retrying while
 * Redis is away); returns 0 or the last error. */
static int fetch_batch(task_t *t, const ev_t *evs, size_t n) {
  for (int attempt = 0; attempt < 400; attempt++) {
    cr_assert_eq(eddy_state_batch_clear(t->b), 0);
    for (size_t i = 0; i < n; i++) {
      t->idx[i] = eddy_state_batch_add(t->b, evs[i].key, strlen(evs[i].key));
      cr_assert_geq(t->idx[i], 0);
    }
    t->fetched = 0;
    int rc = eddy_store_fetch(t->store, t->b, on_fetched, t);
    if (rc == EDDY_EAGAIN) {
      run_for(&loop, 0.05);
      continue;
    }
    cr_assert_eq(rc, 0, "fetch: %s", eddy_strerror(rc));
    cr_assert(run_until(&loop, &t->fetched, 15), "fetch completes");
    if (t->status == 0) return 0;
    run_for(&loop, 0.05); /* lost with the connection: again when it is back */
  }
  return EDDY_ETIMEDOUT;
}

/* Joins and updates a fetched batch; out gets the joined values. */
static void process_batch(task_t *t, const ev_t *evs, size_t n, double *out) {
  size_t k = t->p->aggs->n;
  for (size_t i = 0; i < n; i++) {
    fill(t->p, &evs[i]);
    double tm = eddy_aggs_time_ms(t->p->aggs, &t->p->rec, NAN);
    eddy_state_batch_join(t->b, (size_t)t->idx[i], &t->p->rec, tm);
    for (size_t j = 0; j < k; j++) {
      int a = t->p->aggs->v[j].attr;
      out[i * k + j] = t->p->rec.in.missing[a] ? NAN : t->p->rec.in.x[a];
    }
    eddy_state_batch_update(t->b, (size_t)t->idx[i], &t->p->rec, tm);
  }
  cr_assert_eq(eddy_store_write(t->store, t->b), 0);
}

static void run_stream(task_t *t, const ev_t *evs, size_t n, size_t batch, double *out) {
  for (size_t at = 0; at < n; at += batch) {
    size_t m = n - at < batch ? n - at : batch;
    cr_assert_eq(fetch_batch(t, evs + at, m), 0);
    process_batch(t, evs + at, m, out + at * t->p->aggs->n);
  }
}

static void assert_same(const double *a, const double *b, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++) {
    if (isnan(a[i]) || isnan(b[i]))
      cr_assert(isnan(a[i]) && isnan(b[i]), "%s: value %zu: %.17g vs %.17g", what, i, a[i], b[i]);
    else
      cr_assert_eq(a[i], b[i], "%s: value %zu: %.17g vs %.17g", what, i, a[i], b[i]);
  }
}

typedef struct conn {
  eddy_redis_t *r;
  int ready, closed;
} conn_t;

static void conn_ready(void *ctx, int ready) { ((conn_t *)ctx)->ready = ready; }
static void conn_closed(void *ctx) { ((conn_t *)ctx)->closed = 1; }

static void conn_open(conn_t *c, const char *url) {
  memset(c, 0, sizeof *c);
  eddy_redis_options_t o = {.connect_timeout = 0.3, .backoff_min = 0.05, .backoff_max = 0.3};
  c->r = eddy_redis_new(&loop, url, &o, err, sizeof err);
  cr_assert_not_null(c->r, "%s", err);
  eddy_redis_on_ready(c->r, conn_ready, c);
  cr_assert(run_until(&loop, &c->ready, 5), "Redis ready");
}

static void conn_close(conn_t *c) {
  eddy_redis_close(c->r, conn_closed, c);
  cr_assert(run_until(&loop, &c->closed, 15));
  uv_run(&loop, UV_RUN_DEFAULT);
}

static const char *const many =
    "count(amount), count(*), sum(amount), mean(amount), min(amount), max(amount), "
    "ewma(amount, 0.3), last(amount), since_last(ts)";

/* ---------------------------------------------------------------- tests */

#define M NAN

/* test_aggregates' tumbling sequence for one user, in batches of 3 so that
 * records of one batch share the entity: the hand-computed values. */
static const ev_t hand[] = {{"u1", 100, 10}, {"u1", 103, M}, {"u1", 110, 40},
                            {"u1", 112, -5}, {"u1", 105, 1}};
static const double hand_want[][9] = {
    /* amount_count, count, sum, mean, min, max, ewma(0.5), last, ts_since_last */
    {0, 0, 0, M, M, M, M, M, M},
    {1, 1, 10, 10, 10, 10, 10, 10, 3},
    {0, 0, 0, M, M, M, 10, 10, 7},
    {1, 1, 40, 40, 40, 40, 25, 40, 2},
    {2, 2, 35, 17.5, -5, 40, 10, -5, -7},
};
static const char *const hand_aggs =
    "count(amount), count(*), sum(amount), mean(amount), min(amount), max(amount), "
    "ewma(amount, 0.5), last(amount), since_last(ts)";

static void check_hand(const char *store, eddy_redis_t *redis) {
  pipe_t p;
  pipe_open(&p, store, hand_aggs, "window_ms = 10000\n");
  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, redis, err, sizeof err);
  cr_assert_not_null(t.store, "%s", err);
  t.b = eddy_state_batch_new(p.aggs, 0);
  double out[5 * 9];
  run_stream(&t, hand, 5, 3, out);
  assert_same(out, &hand_want[0][0], 5 * 9, store);
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  pipe_close(&p);
}

Test(state_memory, hand_sequence_in_batches, .init = no_server) {
  check_hand("memory", NULL);
  uv_loop_close(&loop);
}

Test(state_redis, hand_sequence_in_batches, .init = start_plain, .fini = stop) {
  conn_t c;
  conn_open(&c, srv.url);
  check_hand(srv.url, c.r);
  conn_close(&c);
}

Test(state_redis, same_values_as_memory_and_reference, .init = start_plain, .fini = stop) {
  size_t n = 3000;
  ev_t *evs = make_stream(n, 7);
  pipe_t p;
  pipe_open(&p, "memory", many, "window_ms = 60000\nwindow = sliding\nwindow_buckets = 4\n");
  size_t k = p.aggs->n;
  double *ref = reference(&p, evs, n);
  double *mem = calloc(n * k, sizeof *mem), *red = calloc(n * k, sizeof *red);

  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, NULL, err, sizeof err);
  cr_assert_not_null(t.store, "%s", err);
  t.b = eddy_state_batch_new(p.aggs, 0);
  run_stream(&t, evs, n, 100, mem);
  cr_assert_eq(eddy_store_memory_count(t.store), 30);
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  assert_same(mem, ref, n * k, "memory vs reference");

  pipe_t q;
  pipe_open(&q, srv.url, many, "window_ms = 60000\nwindow = sliding\nwindow_buckets = 4\n");
  conn_t c;
  conn_open(&c, srv.url);
  task_t u = {.p = &q};
  u.store = eddy_store_new(q.pc, q.aggs, c.r, err, sizeof err);
  cr_assert_not_null(u.store, "%s", err);
  u.b = eddy_state_batch_new(q.aggs, 0);
  run_stream(&u, evs, n, 100, red);
  assert_same(red, ref, n * k, "redis vs reference");

  /* The layout: one hash per entity, field s. */
  redisContext *cl = redis_srv_client(&srv);
  redisReply *rep = redisCommand(cl, "HGET eddy:pay:e:u7 s");
  cr_assert_eq(rep->type, REDIS_REPLY_STRING);
  cr_assert_eq(rep->len, 40 + 16 * q.aggs->n_slots);
  cr_assert_eq(memcmp(rep->str, "EST1", 4), 0);
  freeReplyObject(rep);
  rep = redisCommand(cl, "EVAL %s 0", "return #redis.call('KEYS', 'eddy:pay:e:*')");
  cr_assert_eq(rep->integer, 30);
  freeReplyObject(rep);
  redisFree(cl);

  eddy_state_batch_free(u.b);
  eddy_store_free(u.store);
  conn_close(&c);
  free(ref);
  free(mem);
  free(red);
  free(evs);
  pipe_close(&p);
  pipe_close(&q);
}

Test(state_memory, bounded_least_recently_seen_evicted, .init = no_server) {
  pipe_t p;
  pipe_open(&p, "memory", "count(*)", "max_entities = 3\n");
  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, NULL, err, sizeof err);
  t.b = eddy_state_batch_new(p.aggs, 0);
  double out[16];
  /* a, b, c fill the store; a is seen again, so d evicts b (the least
   * recently seen), then e evicts c. */
  const ev_t s1[] = {{"a", 1, 1}, {"b", 2, 1}, {"c", 3, 1}};
  run_stream(&t, s1, 3, 1, out);
  const ev_t s2[] = {{"a", 4, 1}, {"d", 5, 1}, {"e", 6, 1}};
  run_stream(&t, s2, 3, 1, out);
  cr_assert_eq(out[0], 1, "a was kept");
  cr_assert_eq(eddy_store_memory_count(t.store), 3);
  const ev_t s3[] = {{"a", 7, 1}, {"b", 8, 1}, {"c", 9, 1}, {"d", 10, 1}};
  run_stream(&t, s3, 4, 4, out);
  /* The store held e, d, a: a has 2, b and c were evicted, d has 1 (the
   * batch reads everything before it writes). */
  cr_assert_eq(out[0], 2);
  cr_assert_eq(out[1], 0);
  cr_assert_eq(out[2], 0);
  cr_assert_eq(out[3], 1);
  cr_assert_eq(eddy_store_memory_count(t.store), 3);
  /* Many keys through a small store: the table stays consistent. */
  ev_t many_keys[500];
  for (int i = 0; i < 500; i++) {
    snprintf(many_keys[i].key, sizeof many_keys[i].key, "k%d", i % 7);
    many_keys[i].ts = i;
    many_keys[i].amount = 1;
  }
  double outs[500];
  run_stream(&t, many_keys, 500, 1, outs);
  /* 7 keys in turn through 3 slots: each is always evicted before it returns. */
  for (int i = 0; i < 500; i++) cr_assert_eq(outs[i], 0, "record %d", i);
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  pipe_close(&p);
  uv_loop_close(&loop);
}

Test(state_memory, store_url_errors, .init = no_server) {
  pipe_t p;
  pipe_open(&p, "mongodb://x", "count(*)", "");
  eddy_store_t *s = eddy_store_new(p.pc, p.aggs, NULL, err, sizeof err);
  cr_assert_null(s);
  cr_assert(strstr(err, "t.ini:10: [state] key 'store': 'mongodb://x' is neither"), "%s", err);
  pipe_close(&p);
  uv_loop_close(&loop);
}

Test(state_redis, restart_in_the_middle_loses_nothing, .init = start_aof, .fini = stop) {
  size_t n = 2000;
  ev_t *evs = make_stream(n, 11);
  pipe_t p;
  pipe_open(&p, srv.url, many, "");
  size_t k = p.aggs->n;
  double *ref = reference(&p, evs, n), *out = calloc(n * k, sizeof *out);
  conn_t c;
  conn_open(&c, srv.url);
  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, c.r, err, sizeof err);
  t.b = eddy_state_batch_new(p.aggs, 0);
  run_stream(&t, evs, 1000, 50, out);
  /* Killed with the last write-back maybe in flight. */
  redis_srv_kill(&srv, SIGKILL);
  for (int i = 0; i < 100 && c.ready; i++) run_for(&loop, 0.01);
  cr_assert_eq(eddy_store_ready(t.store), 0, "the store reports not ready");
  cr_assert_eq(eddy_store_fetch(t.store, t.b, on_fetched, &t), EDDY_EAGAIN);
  run_for(&loop, 0.5);
  cr_assert_eq(redis_srv_restart(&srv), 0);
  /* The rest of the run: fetch_batch waits for the connection. */
  run_stream(&t, evs + 1000, n - 1000, 50, out + 1000 * k);
  assert_same(out, ref, n * k, "through a Redis restart");
  eddy_redis_stats_t st;
  eddy_redis_stats(c.r, &st);
  cr_assert_geq(st.connects, 2);
  cr_assert_eq(t.store->write_errors, 0);
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  conn_close(&c);
  free(ref);
  free(out);
  free(evs);
  pipe_close(&p);
}

/* ----------------------------------------------- restart from checkpoint */

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

Test(state_redis, task_restarted_from_checkpoint_replays_same_features, .init = start_aof, .fini = stop) {
  /* Offsets are record indices. An uninterrupted run gives the features
   * of every record. A second run checkpoints at offset 600, goes on to
   * 900 (its write-backs reach Redis), and "crashes": a new task restores
   * offset 600 and replays from there. Every replayed record must see the
   * same features as in the uninterrupted run. */
  size_t n = 1200, ck = 600, crash = 900;
  ev_t *evs = make_stream(n, 3);
  pipe_t p;
  pipe_open(&p, srv.url, many, "window_ms = 30000\n");
  size_t k = p.aggs->n;
  double *ref = reference(&p, evs, n), *out = calloc(n * k, sizeof *out);
  conn_t c;
  conn_open(&c, srv.url);

  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, c.r, err, sizeof err);
  t.b = eddy_state_batch_new(p.aggs, 3);
  eddy_state_batch_restore(t.b, -1); /* no checkpoint yet */
  run_stream(&t, evs, ck, 40, out);
  /* The model at offset 600 (any blob of the checkpoint format). */
  eddy_schema_t *s = eddy_schema_new(EDDY_REGRESSION, "y", 0, 0, err, sizeof err);
  eddy_learner_t *l = eddy_learner_new("no_change", s, NULL, 0, 1, err, sizeof err);
  eddy_buf_t model;
  eddy_buf_init(&model);
  cr_assert_eq(eddy_model_save(s, l, &model), 0);
  ck_probe_t pr = {0};
  cr_assert_eq(eddy_store_checkpoint(t.store, t.b, (int64_t)ck, 4, "no_change", model.data, model.len, NULL,
                                     on_ckpt, &pr), 0);
  cr_assert_eq(t.b->epoch, (int64_t)ck);
  run_stream(&t, evs + ck, crash - ck, 40, out + ck * k);
  cr_assert(run_until(&loop, &pr.done, 5));
  cr_assert_eq(pr.status, 0);
  cr_assert_eq(pr.stored, (int64_t)ck);
  /* Let the last write-backs land, then the task dies without a word. */
  for (int i = 0; i < 200 && eddy_redis_pending(c.r); i++) run_for(&loop, 0.01);
  eddy_state_batch_free(t.b);
  /* What makes this test bite: Redis now holds states that include records
   * 600..899 (current differs from the epoch's state), which a replay from
   * 600 must not see. */
  redisContext *cl = redis_srv_client(&srv);
  redisReply *rep = redisCommand(cl, "HGET eddy:pay:e:%s s", evs[crash - 1].key);
  size_t slots = p.aggs->n_slots;
  cr_assert_eq(rep->len, 40 + 16 * slots);
  cr_assert_neq(memcmp(rep->str + 40, rep->str + 40 + 8 * slots, 8 * slots), 0);
  freeReplyObject(rep);
  redisFree(cl);

  /* The new incarnation restores (blocking, as on assignment) and replays. */
  redisContext *sc = eddy_redis_connect_sync(srv.url, 2, err, sizeof err);
  cr_assert_not_null(sc, "%s", err);
  eddy_ckpt_t got;
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "pay", 3, &got, err, sizeof err), 0, "%s", err);
  cr_assert_eq(got.offset, (int64_t)ck);
  cr_assert_eq(got.version, 4);
  cr_assert_str_eq(got.learner, "no_change");
  cr_assert_eq(got.model_len, model.len);
  cr_assert_eq(memcmp(got.model, model.data, model.len), 0, "model bytes round trip");
  redisFree(sc);
  t.b = eddy_state_batch_new(p.aggs, 3);
  eddy_state_batch_restore(t.b, got.offset);
  double *replay = calloc(n * k, sizeof *replay);
  run_stream(&t, evs + got.offset, n - (size_t)got.offset, 40, replay + got.offset * k);
  assert_same(replay + ck * k, ref + ck * k, (n - ck) * k, "replayed from the checkpoint");
  assert_same(out, ref, crash * k, "first run");
  cr_assert_eq(t.b->stale_epochs, 0);

  eddy_ckpt_clear(&got);
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  conn_close(&c);
  eddy_buf_free(&model);
  eddy_learner_free(l);
  eddy_schema_free(s);
  free(ref);
  free(out);
  free(replay);
  free(evs);
  pipe_close(&p);
}

Test(state_redis, fresh_task_without_checkpoint_ignores_a_dead_run, .init = start_plain, .fini = stop) {
  /* A run that never checkpointed dies; its successor starts from offset
   * 0 with a fresh model and must see fresh features too. */
  size_t n = 400;
  ev_t *evs = make_stream(n, 5);
  pipe_t p;
  pipe_open(&p, srv.url, many, "");
  size_t k = p.aggs->n;
  double *ref = reference(&p, evs, n), *out = calloc(n * k, sizeof *out);
  conn_t c;
  conn_open(&c, srv.url);
  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, c.r, err, sizeof err);
  t.b = eddy_state_batch_new(p.aggs, 0);
  run_stream(&t, evs, 250, 25, out);
  for (int i = 0; i < 200 && eddy_redis_pending(c.r); i++) run_for(&loop, 0.01);
  eddy_state_batch_free(t.b);
  t.b = eddy_state_batch_new(p.aggs, 0);
  eddy_state_batch_restore(t.b, -1);
  run_stream(&t, evs, n, 25, out);
  assert_same(out, ref, n * k, "second run from the start");
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  conn_close(&c);
  free(ref);
  free(out);
  free(evs);
  pipe_close(&p);
}

/* ------------------------------------- model bytes after a restart (NB) */

typedef struct cls_run {
  pipe_t p;
  eddy_schema_t *schema; /* the model's (decoding interns classes into it) */
  eddy_learner_t *learner;
} cls_run_t;

static void cls_open(cls_run_t *c, const char *name) {
  char text[2048];
  snprintf(text, sizeof text,
           "[pipeline]\nname = %s\ntask = classification\n[features]\nnumeric = x\ntarget = y\n"
           "key = user\ntimestamp = ts\n[state]\nstore = %s\naggregates = %s\nwindow_ms = 30000\n"
           "[model]\nlearner = naive_bayes\n",
           name, srv.url, many);
  pipe_t *p = &c->p;
  memset(c, 0, sizeof *c);
  p->cfg = eddy_config_parse(text, "t.ini", err, sizeof err);
  cr_assert_not_null(p->cfg, "%s", err);
  p->pc = eddy_config_pipeline(p->cfg, NULL);
  p->aggs = eddy_aggs_new(p->pc, err, sizeof err);
  p->fields = eddy_fields_new(p->pc, NULL, 0, (const char *const *)p->aggs->inputs, p->aggs->n_inputs,
                              err, sizeof err);
  cr_assert_not_null(p->fields, "%s", err);
  cr_assert_eq(eddy_aggs_bind(p->aggs, p->fields, err, sizeof err), 0, "%s", err);
  cr_assert_eq(eddy_record_init(&p->rec, p->fields), 0);
  c->schema = eddy_fields_schema(p->fields, err, sizeof err);
  c->learner = eddy_learner_new("naive_bayes", c->schema, NULL, 0, 1, err, sizeof err);
  cr_assert_not_null(c->learner, "%s", err);
}

static void cls_close(cls_run_t *c) {
  eddy_learner_free(c->learner);
  eddy_schema_free(c->schema);
  c->p.schema = NULL;
  pipe_close(&c->p);
}

/* join -> learn -> update over records [from, to), in batches, as eddy run
 * does (prediction left out: it does not change the model). */
static void cls_process(cls_run_t *c, task_t *t, const ev_t *evs, size_t from, size_t to) {
  pipe_t *p = &c->p;
  p->schema = c->schema;
  const eddy_field_t *y = eddy_fields_find(p->fields, "y", 1), *x = eddy_fields_find(p->fields, "x", 1);
  for (size_t at = from; at < to; at += 40) {
    size_t m = to - at < 40 ? to - at : 40;
    cr_assert_eq(fetch_batch(t, evs + at, m), 0);
    for (size_t i = 0; i < m; i++) {
      const ev_t *e = &evs[at + i];
      fill(p, e);
      char v[32];
      snprintf(v, sizeof v, "%g", isnan(e->amount) ? 0 : e->amount);
      eddy_record_set(&p->rec, p->fields, c->schema, x, v, strlen(v), 0, err, sizeof err);
      /* A fixed pseudo-random label per record index. */
      const char *label = ((at + i) * 2654435761u >> 7) % 3 == 0 ? "up" : "down";
      eddy_record_set(&p->rec, p->fields, c->schema, y, label, strlen(label), 0, err, sizeof err);
      double tm = eddy_aggs_time_ms(p->aggs, &p->rec, NAN);
      eddy_state_batch_join(t->b, (size_t)t->idx[i], &p->rec, tm);
      cr_assert_eq(eddy_learner_learn(c->learner, &p->rec.in), 0);
      eddy_state_batch_update(t->b, (size_t)t->idx[i], &p->rec, tm);
    }
    cr_assert_eq(eddy_store_write(t->store, t->b), 0);
  }
}

Test(state_redis, model_bytes_identical_after_kill_and_restore, .init = start_aof, .fini = stop) {
  size_t n = 1500, ck = 700, crash = 1100;
  ev_t *evs = make_stream(n, 21);
  conn_t c;
  conn_open(&c, srv.url);

  /* Uninterrupted. */
  cls_run_t a;
  cls_open(&a, "ref");
  task_t ta = {.p = &a.p};
  ta.store = eddy_store_new(a.p.pc, a.p.aggs, c.r, err, sizeof err);
  ta.b = eddy_state_batch_new(a.p.aggs, 0);
  cls_process(&a, &ta, evs, 0, n);
  eddy_buf_t want;
  eddy_buf_init(&want);
  cr_assert_eq(eddy_model_save(a.schema, a.learner, &want), 0);

  /* Checkpoint at 700, go on to 1100, die. */
  cls_run_t b;
  cls_open(&b, "pay");
  task_t tb = {.p = &b.p};
  tb.store = eddy_store_new(b.p.pc, b.p.aggs, c.r, err, sizeof err);
  tb.b = eddy_state_batch_new(b.p.aggs, 0);
  eddy_state_batch_restore(tb.b, -1);
  cls_process(&b, &tb, evs, 0, ck);
  eddy_buf_t m;
  eddy_buf_init(&m);
  cr_assert_eq(eddy_model_save(b.schema, b.learner, &m), 0);
  ck_probe_t pr = {0};
  cr_assert_eq(eddy_store_checkpoint(tb.store, tb.b, (int64_t)ck, 1, "naive_bayes", m.data, m.len, NULL, on_ckpt, &pr), 0);
  cls_process(&b, &tb, evs, ck, crash);
  cr_assert(run_until(&loop, &pr.done, 5));
  cr_assert_eq(pr.status, 0);
  for (int i = 0; i < 200 && eddy_redis_pending(c.r); i++) run_for(&loop, 0.01);
  eddy_state_batch_free(tb.b);
  eddy_learner_free(b.learner);
  eddy_schema_free(b.schema);

  /* Restart: the model and the offset from Redis, then the rest. */
  redisContext *sc = eddy_redis_connect_sync(srv.url, 2, err, sizeof err);
  eddy_ckpt_t got;
  cr_assert_eq(eddy_ckpt_read_sync(sc, "eddy", "pay", 0, &got, err, sizeof err), 0, "%s", err);
  redisFree(sc);
  cr_assert_eq(eddy_model_load(got.model, got.model_len, &b.schema, &b.learner, err, sizeof err), 0, "%s", err);
  tb.b = eddy_state_batch_new(b.p.aggs, 0);
  eddy_state_batch_restore(tb.b, got.offset);
  cls_process(&b, &tb, evs, (size_t)got.offset, n);
  eddy_buf_t end;
  eddy_buf_init(&end);
  cr_assert_eq(eddy_model_save(b.schema, b.learner, &end), 0);
  cr_assert_eq(end.len, want.len);
  cr_assert_eq(memcmp(end.data, want.data, want.len), 0,
               "the model after the restart is byte-identical to the uninterrupted one");

  eddy_ckpt_clear(&got);
  eddy_buf_free(&m);
  eddy_buf_free(&end);
  eddy_buf_free(&want);
  eddy_state_batch_free(ta.b);
  eddy_state_batch_free(tb.b);
  eddy_store_free(ta.store);
  eddy_store_free(tb.store);
  conn_close(&c);
  cls_close(&a);
  cls_close(&b);
  free(evs);
}

/* A Redis Cluster store: a partition's entities share one slot; the same
 * values as the reference while that slot migrates to another master
 * half way (keys moved: ASK; their replies come after those of keys not
 * moved yet, out of order). */
static redis_srv_t nodes[2];

static void start_cluster(void) {
  uv_loop_init(&loop);
  if (redis_cluster_start(nodes, 2)) cr_skip_test("redis-server does not run in cluster mode");
}

static void stop_cluster(void) {
  for (int i = 0; i < 2; i++) redis_srv_stop(&nodes[i]);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

static redisReply *node_cmd(int i, const char *fmt, ...) {
  redisContext *c = redis_srv_client(&nodes[i]);
  cr_assert_not_null(c);
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  redisFree(c);
  cr_assert_not_null(r);
  cr_assert_neq(r->type, REDIS_REPLY_ERROR, "%s", r->str);
  return r;
}

Test(state_cluster, same_values_while_the_slot_migrates, .init = start_cluster, .fini = stop_cluster,
     .timeout = 60) {
  size_t n = 3000, half = 1500;
  ev_t *evs = make_stream(n, 11);
  char url[128];
  snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", nodes[0].port);
  pipe_t p;
  pipe_open(&p, url, many, "window_ms = 60000\nwindow = sliding\nwindow_buckets = 4\n");
  size_t k = p.aggs->n;
  double *ref = reference(&p, evs, n), *red = calloc(n * k, sizeof *red);
  conn_t c;
  conn_open(&c, url);
  task_t t = {.p = &p};
  t.store = eddy_store_new(p.pc, p.aggs, c.r, err, sizeof err);
  cr_assert_not_null(t.store, "%s", err);
  t.b = eddy_state_batch_new(p.aggs, 3);
  run_stream(&t, evs, half, 100, red);

  /* Partition 3's slot: every entity there, on its master (slots 0-8191
   * on node 0). */
  int slot = eddy_redis_cluster_slot("pay:3", 5), from = slot < 8192 ? 0 : 1, to = 1 - from;
  redisReply *r = node_cmd(from, "CLUSTER COUNTKEYSINSLOT %d", slot);
  cr_assert_eq(r->integer, 30, "30 entities in slot %d", slot);
  freeReplyObject(r);
  r = node_cmd(from, "HGET eddy:{pay:3}:e:u7 s");
  cr_assert_eq(r->type, REDIS_REPLY_STRING);
  freeReplyObject(r);
  /* Half of them migrate to the other master. */
  char idf[48], idt[48];
  r = node_cmd(from, "CLUSTER MYID");
  snprintf(idf, sizeof idf, "%s", r->str);
  freeReplyObject(r);
  r = node_cmd(to, "CLUSTER MYID");
  snprintf(idt, sizeof idt, "%s", r->str);
  freeReplyObject(r);
  freeReplyObject(node_cmd(to, "CLUSTER SETSLOT %d IMPORTING %s", slot, idf));
  freeReplyObject(node_cmd(from, "CLUSTER SETSLOT %d MIGRATING %s", slot, idt));
  for (int u = 0; u < 30; u += 2) {
    r = node_cmd(from, "MIGRATE 127.0.0.1 %d eddy:{pay:3}:e:u%d 0 5000", nodes[to].port, u);
    freeReplyObject(r);
  }
  run_stream(&t, evs + half, n - half, 100, red + half * k);
  assert_same(red, ref, n * k, "cluster store vs reference");
  r = node_cmd(from, "CLUSTER COUNTKEYSINSLOT %d", slot);
  cr_assert_eq(r->integer, 15, "the entities not migrated stay");
  freeReplyObject(r);

  /* Closing answers the last writes, redirections followed: none refused. */
  conn_close(&c);
  cr_assert_eq(t.store->write_errors, 0);
  eddy_state_batch_free(t.b);
  eddy_store_free(t.store);
  free(ref);
  free(red);
  free(evs);
  pipe_close(&p);
}
