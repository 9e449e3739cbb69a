/* bench_state.c: `make bench` rows for the state join: records per second
 * of fetch + join + update + write-back in batches of 1,000 records over
 * 100,000 distinct entity keys, through a local redis-server that the
 * bench starts (and stops), through a Redis Cluster of three masters
 * (redis+cluster://), and through the memory store. Every key is
 * written once before the timing, so the timed part reads existing
 * entities. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "../unit/redis_util.h"
#include "connectors/connectors.h"

#define N_KEYS 100000
#define BATCH 1000

typedef struct bench {
  eddy_config_t *cfg;
  const eddy_pipeline_conf_t *pc;
  eddy_aggs_t *aggs;
  eddy_fields_t *fields;
  eddy_record_t rec;
  char (*keys)[16];
  uint32_t *who;   /* the key of each record */
  double *amount;
  double *ts;
  size_t n;
  int fetched, status, ready, closed;
  double checksum;
} bench_t;

static char err[2048];

static int setup(bench_t *b, const char *store, size_t n) {
  memset(b, 0, sizeof *b);
  char text[1024];
  snprintf(text, sizeof text,
           "[pipeline]\nname = bench\ntask = regression\n[features]\nnumeric = x\ntarget = y\n"
           "key = user\ntimestamp = ts\n[state]\nstore = %s\nmax_entities = 200000\n"
           "aggregates = count(amount), mean(amount), ewma(amount, 0.1), max(amount), since_last(ts)\n"
           "[model]\nlearner = no_change\n",
           store);
  b->cfg = eddy_config_parse(text, "bench.ini", err, sizeof err);
  if (!b->cfg) return fprintf(stderr, "bench: %s\n", err), 1;
  b->pc = eddy_config_pipeline(b->cfg, NULL);
  b->aggs = eddy_aggs_new(b->pc, err, sizeof err);
  b->fields = b->aggs ? eddy_fields_new(b->pc, NULL, 0, (const char *const *)b->aggs->inputs,
                                        b->aggs->n_inputs, err, sizeof err)
                      : NULL;
  if (!b->fields || eddy_aggs_bind(b->aggs, b->fields, err, sizeof err) ||
      eddy_record_init(&b->rec, b->fields))
    return fprintf(stderr, "bench: %s\n", err), 1;
  b->n = n;
  b->keys = malloc(N_KEYS * sizeof *b->keys);
  b->who = malloc(n * sizeof *b->who);
  b->amount = malloc(n * sizeof *b->amount);
  b->ts = malloc(n * sizeof *b->ts);
  eddy_rng_t r;
  eddy_rng_seed(&r, 42);
  for (int k = 0; k < N_KEYS; k++) snprintf(b->keys[k], sizeof b->keys[k], "user%06d", k);
  double ts = 1700000000;
  for (size_t i = 0; i < n; i++) {
    /* The first N_KEYS records visit every key once, then keys at random. */
    b->who[i] = i < N_KEYS ? (uint32_t)i : (uint32_t)eddy_rng_below(&r, N_KEYS);
    b->amount[i] = (double)(1 + eddy_rng_below(&r, 1000));
    ts += 0.001;
    b->ts[i] = ts;
  }
  return 0;
}

static void teardown(bench_t *b) {
  free(b->keys);
  free(b->who);
  free(b->amount);
  free(b->ts);
  eddy_record_free(&b->rec);
  eddy_fields_free(b->fields);
  eddy_aggs_free(b->aggs);
  eddy_config_free(b->cfg);
}

static void on_fetched(void *ctx, eddy_state_batch_t *bt, int status) {
  (void)bt;
  bench_t *b = ctx;
  b->fetched = 1;
  b->status = status;
}

static void on_ready(void *ctx, int ready) { ((bench_t *)ctx)->ready = ready; }
static void on_closed(void *ctx) { ((bench_t *)ctx)->closed = 1; }

/* Records [from, to) in batches; returns 0 or an error. */
static int run_records(bench_t *b, uv_loop_t *loop, eddy_store_t *s, eddy_state_batch_t *bt, size_t from,
                       size_t to) {
  const eddy_field_t *amount = eddy_fields_find(b->fields, "amount", 6);
  int64_t idx[BATCH];
  for (size_t at = from; at < to; at += BATCH) {
    size_t m = to - at < BATCH ? to - at : BATCH;
    eddy_state_batch_clear(bt);
    for (size_t i = 0; i < m; i++) {
      const char *k = b->keys[b->who[at + i]];
      idx[i] = eddy_state_batch_add(bt, k, strlen(k));
    }
    b->fetched = 0;
    int rc = eddy_store_fetch(s, bt, on_fetched, b);
    if (rc) return rc;
    while (!b->fetched) uv_run(loop, UV_RUN_ONCE);
    if (b->status) return b->status;
    for (size_t i = 0; i < m; i++) {
      eddy_record_t *r = &b->rec;
      /* What a decoder would have stored: the amount (aux) and the time. */
      eddy_record_clear(r);
      r->aux[amount->index] = b->amount[at + i];
      r->aux_set[amount->index] = 1;
      r->ts = b->ts[at + i];
      r->has_ts = 1;
      double t = eddy_aggs_time_ms(b->aggs, r, NAN);
      eddy_state_batch_join(bt, (size_t)idx[i], r, t);
      b->checksum += r->in.x[b->aggs->v[1].attr];
      eddy_state_batch_update(bt, (size_t)idx[i], r, t);
    }
    if ((rc = eddy_store_write(s, bt))) return rc;
  }
  return 0;
}

static int bench_store(const char *label, const char *url, uv_loop_t *loop, size_t n) {
  bench_t b;
  if (setup(&b, url ? url : "memory", n)) return 1;
  eddy_redis_t *redis = NULL;
  if (url) {
    eddy_redis_options_t o = {.quiet = 1};
    redis = eddy_redis_new(loop, url, &o, err, sizeof err);
    if (!redis) return fprintf(stderr, "bench: %s\n", err), 1;
    eddy_redis_on_ready(redis, on_ready, &b);
    if (!run_until(loop, &b.ready, 10)) return fprintf(stderr, "bench: Redis not ready\n"), 1;
  }
  eddy_store_t *s = eddy_store_new(b.pc, b.aggs, redis, err, sizeof err);
  if (!s) return fprintf(stderr, "bench: %s\n", err), 1;
  eddy_state_batch_t *bt = eddy_state_batch_new(b.aggs, 0);
  int rc = run_records(&b, loop, s, bt, 0, N_KEYS); /* every key written once */
  while (!rc && redis && eddy_redis_pending(redis)) uv_run(loop, UV_RUN_ONCE);
  double t0 = eddy_now();
  if (!rc) rc = run_records(&b, loop, s, bt, N_KEYS, n);
  while (!rc && redis && eddy_redis_pending(redis)) uv_run(loop, UV_RUN_ONCE); /* all writes acknowledged */
  double dt = eddy_now() - t0;
  size_t timed = n - N_KEYS;
  if (rc)
    fprintf(stderr, "bench %s: %s\n", label, eddy_strerror(rc));
  else
    printf("%-44s %14.0f %10.1f %14.1f\n", label, timed / dt, dt * 1e9 / timed, b.checksum / n);
  fflush(stdout);
  eddy_state_batch_free(bt);
  eddy_store_free(s);
  if (redis) {
    eddy_redis_close(redis, on_closed, &b);
    run_until(loop, &b.closed, 15);
    uv_run(loop, UV_RUN_DEFAULT);
  }
  teardown(&b);
  return rc != 0;
}

int main(void) {
  printf("%-44s %14s %10s %14s\n", "state join: fetch+join+update+write", "records/s", "ns/record",
         "mean(amount)");
  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = bench_store("memory store, 100k keys, batch 1000", NULL, &loop, 2000000);
  redis_srv_t srv;
  if (redis_srv_start(&srv, NULL)) {
    fprintf(stderr, "bench_state: cannot start %s: Redis row skipped\n", REDIS_SERVER_BIN);
  } else {
    rc |= bench_store("redis store, 100k keys, batch 1000", srv.url, &loop, 1000000);
    redis_srv_stop(&srv);
  }
  /* The same through a Redis Cluster of 3 masters: one partition's keys
   * share one slot, so this is one master behind the cluster client
   * (routing, a copy of each command kept for redirections). */
  redis_srv_t nodes[3] = {{0}};
  if (redis_cluster_start(nodes, 3)) {
    fprintf(stderr, "bench_state: redis-server does not run in cluster mode here: cluster row skipped\n");
  } else {
    char url[128];
    snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", nodes[0].port);
    rc |= bench_store("redis cluster (3 masters), 1 partition", url, &loop, 1000000);
  }
  for (int i = 0; i < 3; i++) redis_srv_stop(&nodes[i]);
  uv_loop_close(&loop);
  return rc;
}
