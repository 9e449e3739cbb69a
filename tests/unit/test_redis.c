/* test_redis.c: the asynchronous Redis connection against a real
 * redis-server: ready and commands, URLs, a closed port ending in the
 * connect watchdog (never a hang), a server killed and restarted with AOF
 * (not ready, backoff, writes replayed in order, state kept), and a hung
 * server (SIGSTOP) caught by the request deadline. */
#include <criterion/criterion.h>
#include <string.h>

#include "core/core.h"
#include "engine/config/config.h"
#include "engine/model/model.h"
#include "connectors/connectors.h"
#include "redis_util.h"

static redis_srv_t srv;
static uv_loop_t loop;
static char err[1024];

static void start_plain(void) {
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

static void no_server(void) { uv_loop_init(&loop); }

typedef struct probe {
  int ready, readies, downs;
  int replies, nulls, errors;
  long long last_int;
  char last_str[128];
  int closed;
} probe_t;

static void on_ready(void *ctx, int ready) {
  probe_t *p = ctx;
  p->ready = ready;
  if (ready)
    p->readies++;
  else
    p->downs++;
}

static void on_reply(void *ctx, struct redisReply *r) {
  probe_t *p = ctx;
  p->replies++;
  if (!r) {
    p->nulls++;
    return;
  }
  if (r->type == REDIS_REPLY_ERROR) p->errors++;
  if (r->type == REDIS_REPLY_INTEGER) p->last_int = r->integer;
  if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR)
    snprintf(p->last_str, sizeof p->last_str, "%.*s", (int)r->len, r->str);
}

static void on_closed(void *ctx) { ((probe_t *)ctx)->closed = 1; }

static void close_and_drain(eddy_redis_t *r, probe_t *p) {
  eddy_redis_close(r, on_closed, p);
  cr_assert(run_until(&loop, &p->closed, 15), "close completes");
  uv_run(&loop, UV_RUN_DEFAULT); /* every handle closed: the loop ends */
}

static long long get_int(const char *key) {
  redisContext *c = redis_srv_client(&srv);
  cr_assert_not_null(c);
  redisReply *r = redisCommand(c, "GET %s", key);
  cr_assert_not_null(r);
  long long v = r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
  freeReplyObject(r);
  redisFree(c);
  return v;
}

Test(redis_url, parse) {
  char host[64];
  int port, db;
  cr_assert_eq(eddy_redis_url_parse("redis://10.0.0.1:6380/3", host, sizeof host, &port, &db, err, sizeof err), 0);
  cr_assert_str_eq(host, "10.0.0.1");
  cr_assert_eq(port, 6380);
  cr_assert_eq(db, 3);
  cr_assert_eq(eddy_redis_url_parse("redis://cache", host, sizeof host, &port, &db, err, sizeof err), 0);
  cr_assert_str_eq(host, "cache");
  cr_assert_eq(port, 6379);
  cr_assert_eq(db, 0);
  cr_assert_eq(eddy_redis_url_parse("redis://[::1]:7000/", host, sizeof host, &port, &db, err, sizeof err), 0);
  cr_assert_str_eq(host, "::1");
  cr_assert_eq(port, 7000);
  cr_assert_eq(eddy_redis_url_parse("http://x", host, sizeof host, &port, &db, err, sizeof err), EDDY_EINVAL);
  cr_assert_eq(eddy_redis_url_parse("redis://x:99999", host, sizeof host, &port, &db, err, sizeof err), EDDY_EINVAL);
  cr_assert(strstr(err, "bad port"), "%s", err);
  cr_assert_eq(eddy_redis_url_parse("redis://x:1/db", host, sizeof host, &port, &db, err, sizeof err), EDDY_EINVAL);
}

Test(redis_conn, ready_commands_in_order, .init = start_plain, .fini = stop) {
  eddy_redis_t *r = eddy_redis_new(&loop, srv.url, NULL, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  probe_t p = {0};
  eddy_redis_on_ready(r, on_ready, &p);
  cr_assert_eq(eddy_redis_command(r, 0, on_reply, &p, 1, (const char *[]){"PING"}, NULL), EDDY_EAGAIN,
               "a read before the connection is ready is refused");
  cr_assert(run_until(&loop, &p.ready, 5), "connects");
  cr_assert_eq(p.readies, 1);
  /* 1000 pipelined INCRs then a GET: replies in order, the GET sees all. */
  for (int i = 0; i < 1000; i++)
    cr_assert_eq(eddy_redis_command(r, EDDY_REDIS_REPLAY, on_reply, &p, 2, (const char *[]){"INCR", "n"}, NULL), 0);
  cr_assert_eq(eddy_redis_command(r, 0, on_reply, &p, 2, (const char *[]){"GET", "n"}, NULL), 0);
  cr_assert_eq(eddy_redis_pending(r), 1001);
  for (int i = 0; i < 200 && p.replies < 1001; i++) run_for(&loop, 0.05);
  cr_assert_eq(p.replies, 1001);
  cr_assert_eq(p.nulls, 0);
  cr_assert_str_eq(p.last_str, "1000");
  cr_assert_eq(eddy_redis_pending(r), 0);
  /* Binary-safe arguments. */
  const char bin[] = {'a', 0, 'b'};
  cr_assert_eq(eddy_redis_command(r, 0, on_reply, &p, 3, (const char *[]){"SET", "bin", bin},
                                  (const size_t[]){3, 3, 3}), 0);
  cr_assert_eq(eddy_redis_command(r, 0, on_reply, &p, 2, (const char *[]){"STRLEN", "bin"}, NULL), 0);
  for (int i = 0; i < 200 && p.replies < 1003; i++) run_for(&loop, 0.02);
  cr_assert_eq(p.last_int, 3);
  close_and_drain(r, &p);
}

Test(redis_conn, select_db_from_url, .init = start_plain, .fini = stop) {
  char url[80];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d/5", srv.port);
  eddy_redis_t *r = eddy_redis_new(&loop, url, NULL, err, sizeof err);
  probe_t p = {0};
  eddy_redis_on_ready(r, on_ready, &p);
  cr_assert(run_until(&loop, &p.ready, 5));
  eddy_redis_command(r, 0, on_reply, &p, 3, (const char *[]){"SET", "k", "v"}, NULL);
  for (int i = 0; i < 100 && p.replies < 1; i++) run_for(&loop, 0.02);
  redisContext *c = redis_srv_client(&srv);
  redisReply *rep = redisCommand(c, "SELECT 5");
  freeReplyObject(rep);
  rep = redisCommand(c, "GET k");
  cr_assert_eq(rep->type, REDIS_REPLY_STRING);
  cr_assert_str_eq(rep->str, "v");
  freeReplyObject(rep);
  redisFree(c);
  /* The blocking client selects too. */
  c = eddy_redis_connect_sync(url, 2, err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  rep = redisCommand(c, "GET k");
  cr_assert_str_eq(rep->str, "v");
  freeReplyObject(rep);
  redisFree(c);
  close_and_drain(r, &p);
}

Test(redis_conn, closed_port_times_out_and_retries, .init = no_server) {
  /* A port nobody listens on: hiredis's libuv adapter never reports the
   * failure, so only the watchdog can. */
  char url[64];
  int port = redis_free_port_();
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
  eddy_redis_options_t o = {.connect_timeout = 0.2, .backoff_min = 0.05, .backoff_max = 0.2};
  eddy_redis_t *r = eddy_redis_new(&loop, url, &o, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  probe_t p = {0};
  eddy_redis_on_ready(r, on_ready, &p);
  run_for(&loop, 1.5);
  eddy_redis_stats_t st;
  eddy_redis_stats(r, &st);
  cr_assert_eq(p.readies, 0);
  cr_assert(st.failed_attempts >= 3, "attempts retried with backoff: %llu", (unsigned long long)st.failed_attempts);
  cr_assert_eq(st.connects, 0);
  /* A write issued while down is queued, and dropped with a NULL reply at close. */
  cr_assert_eq(eddy_redis_command(r, EDDY_REDIS_REPLAY, on_reply, &p, 3, (const char *[]){"SET", "a", "1"}, NULL), 0);
  cr_assert_eq(eddy_redis_pending(r), 1);
  close_and_drain(r, &p);
  cr_assert_eq(p.nulls, 1);
  uv_loop_close(&loop);
}

Test(redis_conn, blocking_connect_to_closed_port_fails, .init = no_server) {
  char url[64];
  snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_free_port_());
  redisContext *c = eddy_redis_connect_sync(url, 0.5, err, sizeof err);
  cr_assert_null(c);
  cr_assert(strstr(err, "cannot connect"), "%s", err);
  uv_loop_close(&loop);
}

Test(redis_conn, server_killed_and_restarted_with_aof, .init = start_aof, .fini = stop) {
  eddy_redis_options_t o = {.backoff_min = 0.05, .backoff_max = 0.2, .connect_timeout = 0.2};
  eddy_redis_t *r = eddy_redis_new(&loop, srv.url, &o, err, sizeof err);
  probe_t p = {0};
  eddy_redis_on_ready(r, on_ready, &p);
  cr_assert(run_until(&loop, &p.ready, 5));
  for (int i = 0; i < 100; i++)
    eddy_redis_command(r, EDDY_REDIS_REPLAY, on_reply, &p, 2, (const char *[]){"INCR", "n"}, NULL);
  for (int i = 0; i < 200 && p.replies < 100; i++) run_for(&loop, 0.02);
  cr_assert_eq(p.replies, 100);

  redis_srv_kill(&srv, SIGKILL);
  /* Written while it is dead: queued or lost with the connection, never dropped. */
  for (int i = 0; i < 50; i++)
    eddy_redis_command(r, EDDY_REDIS_REPLAY, on_reply, &p, 2, (const char *[]){"INCR", "n"}, NULL);
  int down = 0;
  for (int i = 0; i < 200 && !down; i++) {
    run_for(&loop, 0.01);
    down = p.downs > 0;
  }
  cr_assert(down, "the loss is reported");
  cr_assert_eq(eddy_redis_ready(r), 0);
  cr_assert_eq(eddy_redis_command(r, 0, on_reply, &p, 2, (const char *[]){"GET", "n"}, NULL), EDDY_EAGAIN);
  run_for(&loop, 0.8); /* a few failed attempts with backoff */
  eddy_redis_stats_t st;
  eddy_redis_stats(r, &st);
  cr_assert(st.failed_attempts >= 2, "%llu", (unsigned long long)st.failed_attempts);
  cr_assert_eq(p.replies, 100, "no write acknowledged while down");

  cr_assert_eq(redis_srv_restart(&srv), 0);
  cr_assert(run_until(&loop, &p.ready, 10), "reconnects");
  for (int i = 0; i < 300 && p.replies < 150; i++) run_for(&loop, 0.02);
  cr_assert_eq(p.replies, 150);
  cr_assert_eq(p.nulls, 0, "writes are replayed, not failed");
  cr_assert_eq(p.readies, 2);
  /* 100 before the kill survived in the AOF, 50 replayed after it. */
  cr_assert_eq(get_int("n"), 150);
  eddy_redis_stats(r, &st);
  cr_assert_eq(st.replayed, 50);
  close_and_drain(r, &p);
}

Test(redis_conn, hung_server_hits_request_deadline, .init = start_plain, .fini = stop) {
  eddy_redis_options_t o = {.request_timeout = 0.3, .connect_timeout = 0.3, .backoff_min = 0.05, .backoff_max = 0.2};
  eddy_redis_t *r = eddy_redis_new(&loop, srv.url, &o, err, sizeof err);
  probe_t p = {0};
  eddy_redis_on_ready(r, on_ready, &p);
  cr_assert(run_until(&loop, &p.ready, 5));
  kill(srv.pid, SIGSTOP);
  eddy_redis_command(r, 0, on_reply, &p, 2, (const char *[]){"GET", "x"}, NULL);
  eddy_redis_command(r, EDDY_REDIS_REPLAY, on_reply, &p, 3, (const char *[]){"SET", "x", "1"}, NULL);
  for (int i = 0; i < 200 && !p.nulls; i++) run_for(&loop, 0.01);
  cr_assert_eq(p.nulls, 1, "the read fails at its deadline");
  cr_assert_eq(p.downs, 1);
  eddy_redis_stats_t st;
  eddy_redis_stats(r, &st);
  cr_assert_eq(st.timeouts, 1);
  kill(srv.pid, SIGCONT);
  cr_assert(run_until(&loop, &p.ready, 10), "back when the server answers again");
  for (int i = 0; i < 200 && p.replies < 2; i++) run_for(&loop, 0.02);
  cr_assert_eq(p.replies, 2);
  cr_assert_str_eq(p.last_str, "OK", "the write was replayed");
  close_and_drain(r, &p);
}
