/* test_redis_cluster.c: the Redis Cluster client. The key slot against the
 * cluster specification's test vector and hash-tag rules and against a
 * real cluster-mode redis-server's CLUSTER KEYSLOT; cluster URLs; which
 * argument of a command is its key; then two real cluster nodes sharing
 * the slots: commands routed by slot, a slot moved (MOVED followed, map
 * read again), a slot migrating (ASK followed with ASKING), Lua with a
 * key, writes held until the map is known, writes queued for a dead
 * master sent to its successor, the blocking client following MOVED,
 * `eddy alerts --follow` over streams in two slots; AUTH (an ACL user,
 * requirepass, a wrong password) on a one-node cluster. */
#include <criterion/criterion.h>
#include <string.h>

#include "connectors/redis_int.h"
#include "redis_util.h"

/* ------------------------------------------------------------------ slots */

Test(cluster_slot, crc16_test_vector) {
  /* The specification's reference: CRC16 XMODEM of "123456789" is 0x31C3. */
  cr_assert_eq(eddy_redis_cluster_crc16("123456789", 9), 0x31C3);
  cr_assert_eq(eddy_redis_cluster_slot("123456789", 9), 0x31C3 & 16383);
  cr_assert_eq(eddy_redis_cluster_crc16("", 0), 0);
}

static uint16_t slot(const char *k) { return eddy_redis_cluster_slot(k, strlen(k)); }
static uint16_t whole(const char *k) { return eddy_redis_cluster_crc16(k, strlen(k)) & 16383; }

Test(cluster_slot, hash_tags) {
  /* The specification's examples. */
  cr_assert_eq(slot("{user1000}.following"), slot("user1000"));
  cr_assert_eq(slot("{user1000}.followers"), slot("user1000"));
  cr_assert_eq(slot("foo{}{bar}"), whole("foo{}{bar}"), "an empty tag: the whole key");
  cr_assert_eq(slot("foo{{bar}}zap"), slot("{bar"), "the first { to the next }");
  cr_assert_eq(slot("foo{bar}{zap}"), slot("bar"), "the first tag only");
  cr_assert_eq(slot("foo{bar"), whole("foo{bar"), "no closing brace: the whole key");
  cr_assert_eq(slot("foo}bar{"), whole("foo}bar{"));
  /* eddy's layout: a partition's keys share one slot. */
  char a[64], b[96];
  eddy_redis_key_head(a, sizeof a, 1, "eddy", "fraud", 3);
  cr_assert_str_eq(a, "eddy:{fraud:3}");
  snprintf(b, sizeof b, "%s:e:user42", a);
  strcat(a, ":ckpt");
  cr_assert_eq(slot(a), slot(b));
  cr_assert_eq(slot(a), slot("fraud:3"));
  eddy_redis_key_head(a, sizeof a, 0, "eddy", "fraud", 3);
  cr_assert_str_eq(a, "eddy:fraud");
}

Test(cluster_slot, urls) {
  char host[256], e[512];
  int port, db;
  cr_assert_eq(eddy_redis_url_parse("redis+cluster://10.0.0.1:7000,10.0.0.2:7001", host, sizeof host, &port, &db, e,
                                    sizeof e), 0, "%s", e);
  cr_assert_str_eq(host, "10.0.0.1");
  cr_assert_eq(port, 7000);
  cr_assert_eq(db, 0);
  eddy__seed_t seeds[EDDY__CLUSTER_MAX_SEEDS];
  int n;
  cr_assert_eq(eddy__cluster_url_parse("redis+cluster://a:1,[::1]:2,c", seeds, &n, e, sizeof e), 0, "%s", e);
  cr_assert_eq(n, 3);
  cr_assert_str_eq(seeds[1].host, "::1");
  cr_assert_eq(seeds[1].port, 2);
  cr_assert_eq(seeds[2].port, 6379);
  cr_assert_eq(eddy__cluster_url_parse("redis+cluster://a:1/0", seeds, &n, e, sizeof e), 0);
  cr_assert_lt(eddy__cluster_url_parse("redis+cluster://a:1/2", seeds, &n, e, sizeof e), 0);
  cr_assert(strstr(e, "database 0 only"), "%s", e);
  cr_assert_lt(eddy__cluster_url_parse("redis+cluster://", seeds, &n, e, sizeof e), 0);
  cr_assert_lt(eddy__cluster_url_parse("redis+cluster://a:99999", seeds, &n, e, sizeof e), 0);
  cr_assert_lt(eddy__cluster_url_parse("redis://a:1", seeds, &n, e, sizeof e), 0);
  cr_assert(eddy_redis_url_is_cluster("redis+cluster://a:1"));
  cr_assert(!eddy_redis_url_is_cluster("redis://a:1"));
}

static int cmd_slot(int argc, const char **argv) {
  eddy_buf_t b;
  eddy_buf_init(&b);
  eddy_resp_begin(&b, argc);
  for (int i = 0; i < argc; i++) eddy_resp_argz(&b, argv[i]);
  int s = eddy__cluster_command_slot(b.data, b.len);
  eddy_buf_free(&b);
  return s;
}

Test(cluster_slot, command_keys) {
  cr_assert_eq(cmd_slot(3, (const char *[]){"HGET", "eddy:{p:1}:e:u", "s"}), slot("p:1"));
  cr_assert_eq(cmd_slot(5, (const char *[]){"EVALSHA", "abc", "1", "eddy:{p:2}:ckpt", "7"}), slot("p:2"));
  cr_assert_eq(cmd_slot(4, (const char *[]){"eval", "return 1", "0", "x"}), -1, "no keys");
  cr_assert_eq(cmd_slot(3, (const char *[]){"SCRIPT", "LOAD", "return 1"}), -1);
  cr_assert_eq(cmd_slot(1, (const char *[]){"PING"}), -1);
  cr_assert_eq(cmd_slot(3, (const char *[]){"SADD", "eddy:{p}:ckpts", "3"}), slot("p"));
  cr_assert_eq(eddy__cluster_command_slot("*2\r\n$3\r\nGET\r\n$9\r\nfoo", 20), -1, "truncated");
}

/* --------------------------------------------------------- real servers */

static redis_srv_t nodes[2];
#define na (nodes[0])
#define nb (nodes[1])
static uv_loop_t loop;
static char err[1024];

static redisReply *cmd(const redis_srv_t *s, const char *fmt, ...) {
  redisContext *c = redis_srv_client(s);
  cr_assert_not_null(c);
  va_list ap;
  va_start(ap, fmt);
  redisReply *r = redisvCommand(c, fmt, ap);
  va_end(ap);
  redisFree(c);
  cr_assert_not_null(r);
  return r;
}

static void ok(redisReply *r, const char *what) {
  cr_assert(r->type != REDIS_REPLY_ERROR, "%s: %s", what, r->str);
  freeReplyObject(r);
}

static void node_id(const redis_srv_t *s, char *id) {
  redisReply *r = cmd(s, "CLUSTER MYID");
  cr_assert_eq(r->type, REDIS_REPLY_STRING);
  snprintf(id, 48, "%s", r->str);
  freeReplyObject(r);
}

/* Two masters: a has slots 0-8191, b 8192-16383. */
static void two_nodes(void) {
  uv_loop_init(&loop);
  if (redis_cluster_start(nodes, 2)) cr_skip_test("redis-server does not run in cluster mode");
}

static void stop_nodes(void) {
  redis_srv_stop(&na);
  redis_srv_stop(&nb);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

TestSuite(cluster, .init = two_nodes, .fini = stop_nodes, .timeout = 60);

Test(cluster, keyslot_matches_redis) {
  eddy_rng_t rng;
  eddy_rng_seed(&rng, 7);
  const char alphabet[] = "ab{}:xyz0123456789";
  for (int i = 0; i < 300; i++) {
    char k[24];
    size_t len = 1 + eddy_rng_next(&rng) % 20;
    for (size_t j = 0; j < len; j++) k[j] = alphabet[eddy_rng_next(&rng) % (sizeof alphabet - 1)];
    k[len] = '\0';
    redisReply *r = cmd(&na, "CLUSTER KEYSLOT %b", k, len);
    cr_assert_eq(r->type, REDIS_REPLY_INTEGER);
    cr_assert_eq(r->integer, eddy_redis_cluster_slot(k, len), "key '%s'", k);
    freeReplyObject(r);
  }
}

typedef struct probe {
  int ready, replies, errors;
  char last[128];
  int closed;
} probe_t;

static void on_ready(void *ctx, int ready) { ((probe_t *)ctx)->ready = ready; }

static void on_reply(void *ctx, redisReply *r) {
  probe_t *p = ctx;
  p->replies++;
  if (!r) {
    snprintf(p->last, sizeof p->last, "(null)");
    return;
  }
  p->errors += r->type == REDIS_REPLY_ERROR;
  if (r->type == REDIS_REPLY_INTEGER)
    snprintf(p->last, sizeof p->last, "%lld", r->integer);
  else if (r->str)
    snprintf(p->last, sizeof p->last, "%.*s", (int)r->len, r->str);
}

static void on_closed(void *ctx) { ((probe_t *)ctx)->closed = 1; }

static eddy_redis_t *connect_cluster(probe_t *p) {
  char url[128];
  snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", na.port); /* one seed: b is found */
  eddy_redis_options_t o = {.quiet = 1};
  eddy_redis_t *r = eddy_redis_new(&loop, url, &o, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  cr_assert(eddy_redis_is_cluster(r));
  eddy_redis_on_ready(r, on_ready, p);
  cr_assert(run_until(&loop, &p->ready, 10), "ready");
  return r;
}

static void issue(eddy_redis_t *r, probe_t *p, unsigned flags, int argc, const char **argv) {
  cr_assert_eq(eddy_redis_command(r, flags, on_reply, p, argc, argv, NULL), 0);
}

static void wait_replies(probe_t *p, int n) {
  volatile int done = 0;
  for (double end = eddy_now() + 10; p->replies < n && eddy_now() < end;) run_for(&loop, 0.01);
  done = p->replies >= n;
  cr_assert(done, "%d of %d replies", p->replies, n);
}

static void close_cluster(eddy_redis_t *r, probe_t *p) {
  eddy_redis_close(r, on_closed, p);
  cr_assert(run_until(&loop, &p->closed, 15), "close completes");
  uv_run(&loop, UV_RUN_DEFAULT);
}

/* A key of the slot range [lo, hi]. */
static void key_in(char *k, size_t size, const char *prefix, int lo, int hi) {
  for (int i = 0;; i++) {
    snprintf(k, size, "%s%d", prefix, i);
    int s = slot(k);
    if (s >= lo && s <= hi) return;
  }
}

static redisReply *get(const redis_srv_t *s, const char *k) { return cmd(s, "GET %s", k); }

Test(cluster, routes_moved_and_ask) {
  probe_t p = {0};
  eddy_redis_t *r = connect_cluster(&p);
  char ka[32], kb[32];
  key_in(ka, sizeof ka, "a", 0, 8191);
  key_in(kb, sizeof kb, "b", 8192, 16383);
  /* Routed by slot: each key on its master, no redirection needed. */
  issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"SET", ka, "1"});
  issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"SET", kb, "2"});
  wait_replies(&p, 2);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  /* Replies of one node come in order; of two, in any order. */
  probe_t pe = {0};
  issue(r, &pe, 0, 5, (const char *[]){"EVAL", "return redis.call('GET', KEYS[1])", "1", kb, "x"});
  wait_replies(&pe, 1);
  cr_assert_str_eq(pe.last, "2");
  redisReply *g = get(&na, ka);
  cr_assert_str_eq(g->str, "1");
  freeReplyObject(g);
  g = get(&nb, kb);
  cr_assert_str_eq(g->str, "2");
  freeReplyObject(g);

  /* Move an empty slot of a's to b: a answers MOVED, the client follows
   * it (writes in order) and reads the map again. */
  char ida[48], idb[48], km[32];
  node_id(&na, ida);
  node_id(&nb, idb);
  key_in(km, sizeof km, "m", 100, 8191);
  cr_assert_neq(slot(km), slot(ka));
  int sm = slot(km);
  ok(cmd(&nb, "CLUSTER SETSLOT %d NODE %s", sm, idb), "setslot b");
  ok(cmd(&na, "CLUSTER SETSLOT %d NODE %s", sm, idb), "setslot a");
  int base = p.replies;
  for (int i = 0; i < 20; i++) {
    char v[16];
    snprintf(v, sizeof v, "%d", i);
    issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"SET", km, v});
  }
  issue(r, &p, 0, 2, (const char *[]){"GET", km});
  wait_replies(&p, base + 21);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  cr_assert_str_eq(p.last, "19", "the writes in order, then the read");
  g = get(&nb, km);
  cr_assert_eq(g->type, REDIS_REPLY_STRING);
  cr_assert_str_eq(g->str, "19");
  freeReplyObject(g);

  /* A slot migrating from a to b: a key not on a any more is asked of b. */
  char kk[32];
  key_in(kk, sizeof kk, "q", 0, 99);
  cr_assert_neq(slot(kk), slot(ka));
  int sk = slot(kk);
  ok(cmd(&nb, "CLUSTER SETSLOT %d IMPORTING %s", sk, ida), "importing");
  ok(cmd(&na, "CLUSTER SETSLOT %d MIGRATING %s", sk, idb), "migrating");
  base = p.replies;
  issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"SET", kk, "asked"});
  wait_replies(&p, base + 1);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  redisContext *c = redis_srv_client(&nb);
  redisReply *x = redisCommand(c, "ASKING");
  freeReplyObject(x);
  x = redisCommand(c, "GET %s", kk);
  cr_assert_eq(x->type, REDIS_REPLY_STRING, "the key was written on b");
  cr_assert_str_eq(x->str, "asked");
  freeReplyObject(x);
  redisFree(c);

  /* The blocking client follows MOVED too. */
  char url[128];
  snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", na.port);
  redisContext *sc = eddy_redis_connect_sync(url, 5, err, sizeof err);
  cr_assert_not_null(sc, "%s", err);
  cr_assert(eddy_redis_sync_is_cluster(sc));
  x = eddy_redis_sync_command(sc, "GET %s", kb);
  cr_assert_eq(x->type, REDIS_REPLY_STRING);
  cr_assert_str_eq(x->str, "2");
  freeReplyObject(x);
  eddy_redis_sync_free(sc);
  close_cluster(r, &p);
}

Test(cluster, writes_wait_for_the_map) {
  /* Writes issued before the map is known are held, then sent in order. */
  char url[128];
  snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d,127.0.0.1:%d", nb.port, na.port);
  eddy_redis_options_t o = {.quiet = 1};
  eddy_redis_t *r = eddy_redis_new(&loop, url, &o, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  probe_t p = {0};
  eddy_redis_on_ready(r, on_ready, &p);
  cr_assert_eq(eddy_redis_command(r, 0, on_reply, &p, 2, (const char *[]){"GET", "x"}, NULL), EDDY_EAGAIN,
               "a read before ready");
  for (int i = 0; i < 10; i++) {
    char v[16];
    snprintf(v, sizeof v, "%d", i);
    issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"RPUSH", "eddy:{list}", v});
  }
  wait_replies(&p, 10);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  cr_assert(p.ready);
  redisReply *x = cmd(slot("list") < 8192 ? &na : &nb, "LRANGE eddy:{list} 0 -1");
  cr_assert_eq(x->elements, 10);
  for (size_t i = 0; i < 10; i++) cr_assert_eq(atoi(x->element[i]->str), (int)i);
  freeReplyObject(x);
  close_cluster(r, &p);
}

Test(cluster, writes_for_a_dead_master_go_to_its_successor) {
  probe_t p = {0};
  eddy_redis_t *r = connect_cluster(&p);
  char k[32];
  key_in(k, sizeof k, "d", 8192, 16383);
  issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"RPUSH", k, "0"});
  wait_replies(&p, 1);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  /* b dies with its slots: writes for them wait. */
  redis_srv_kill(&nb, SIGKILL);
  for (double end = eddy_now() + 10; p.ready && eddy_now() < end;) run_for(&loop, 0.01);
  cr_assert(!p.ready, "not ready without b");
  for (int i = 1; i <= 5; i++) {
    char v[16];
    snprintf(v, sizeof v, "%d", i);
    issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"RPUSH", k, v});
  }
  run_for(&loop, 0.3);
  cr_assert_eq(p.replies, 1, "nothing answered while b is away");
  /* a takes every slot of b's (as a replica's promotion would). */
  char ida[48];
  node_id(&na, ida);
  redisContext *c = redis_srv_client(&na);
  for (int s = 8192; s < 16384; s++) redisAppendCommand(c, "CLUSTER SETSLOT %d NODE %s", s, ida);
  for (int s = 8192; s < 16384; s++) {
    void *x = NULL;
    cr_assert_eq(redisGetReply(c, &x), REDIS_OK);
    cr_assert_neq(((redisReply *)x)->type, REDIS_REPLY_ERROR, "%s", ((redisReply *)x)->str);
    freeReplyObject(x);
  }
  redisFree(c);
  cr_assert(run_until(&loop, &p.ready, 10), "ready again on a alone");
  wait_replies(&p, 6);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  redisReply *x = cmd(&na, "LRANGE %s 0 -1", k);
  cr_assert_eq(x->elements, 5, "the writes queued for b, on a (b's first one died with it)");
  for (size_t i = 0; i < 5; i++) cr_assert_eq(atoi(x->element[i]->str), (int)i + 1, "in order");
  freeReplyObject(x);
  close_cluster(r, &p);
}

/* ------------------------------------------------------------------ AUTH */

static void one_node(void) {
  uv_loop_init(&loop);
  if (redis_cluster_start(&na, 1)) cr_skip_test("redis-server does not run in cluster mode");
  /* An ACL user and the default user's password, set last (the fixture's
   * clients have none). */
  ok(cmd(&na, "ACL SETUSER eddy on >pw-of-eddy ~* &* +@all"), "acl setuser");
  ok(cmd(&na, "CONFIG SET requirepass s3cret"), "requirepass");
}

static void stop_one(void) {
  redis_srv_stop(&na);
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
}

Test(cluster_url, credentials_and_mask) {
  char u[128], pw[256], m[256];
  cr_assert_eq(eddy_redis_url_credentials("redis+cluster://eddy:p:w@a:1,b:2", u, sizeof u, pw, sizeof pw), 0);
  cr_assert_str_eq(u, "eddy");
  cr_assert_str_eq(pw, "p:w");
  cr_assert_eq(eddy_redis_url_credentials("redis://:s3cret@h:1/2", u, sizeof u, pw, sizeof pw), 0);
  cr_assert_str_eq(u, "");
  cr_assert_str_eq(pw, "s3cret");
  cr_assert_eq(eddy_redis_url_credentials("redis://h:1/2", u, sizeof u, pw, sizeof pw), 0);
  cr_assert_str_eq(pw, "");
  cr_assert_str_eq(eddy_redis_url_mask("redis+cluster://eddy:pw@a:1,b:2", m, sizeof m), "redis+cluster://eddy:***@a:1,b:2");
  cr_assert_str_eq(eddy_redis_url_mask("redis://s3cret@h:1/0", m, sizeof m), "redis://***@h:1/0");
  char host[64], e[256];
  int port, db;
  cr_assert_eq(eddy_redis_url_parse("redis://eddy:pw@h:7/3", host, sizeof host, &port, &db, e, sizeof e), 0, "%s", e);
  cr_assert_str_eq(host, "h");
  cr_assert_eq(port, 7);
  cr_assert_eq(db, 3);
  cr_assert_lt(eddy_redis_url_parse("redis://eddy:pw@h:x", host, sizeof host, &port, &db, e, sizeof e), 0);
  cr_assert(!strstr(e, "pw"), "no password in the message: %s", e);
}

static int ready_within(const char *url, double seconds, probe_t *p, eddy_redis_t **out) {
  eddy_redis_options_t o = {.quiet = 1};
  eddy_redis_t *r = eddy_redis_new(&loop, url, &o, err, sizeof err);
  cr_assert_not_null(r, "%s", err);
  cr_assert(!strstr(eddy_redis_name(r), "pw-of-eddy") && !strstr(eddy_redis_name(r), "s3cret"), "%s",
            eddy_redis_name(r));
  eddy_redis_on_ready(r, on_ready, p);
  int ready = run_until(&loop, &p->ready, seconds);
  *out = r;
  return ready;
}

Test(cluster_auth, acl_user_password_and_refusal, .init = one_node, .fini = stop_one, .timeout = 60) {
  char url[160];
  probe_t p = {0};
  eddy_redis_t *r;
  snprintf(url, sizeof url, "redis+cluster://eddy:pw-of-eddy@127.0.0.1:%d", na.port);
  cr_assert(ready_within(url, 10, &p, &r), "an ACL user");
  issue(r, &p, EDDY_REDIS_REPLAY, 3, (const char *[]){"SET", "eddy:{t:0}:k", "v"});
  wait_replies(&p, 1);
  cr_assert_eq(p.errors, 0, "%s", p.last);
  close_cluster(r, &p);
  redisContext *c = eddy_redis_connect_sync(url, 5, err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  redisReply *x = eddy_redis_sync_command(c, "GET %s", "eddy:{t:0}:k");
  cr_assert_eq(x->type, REDIS_REPLY_STRING);
  cr_assert_str_eq(x->str, "v");
  freeReplyObject(x);
  eddy_redis_sync_free(c);

  probe_t q = {0};
  snprintf(url, sizeof url, "redis+cluster://:s3cret@127.0.0.1:%d", na.port);
  cr_assert(ready_within(url, 10, &q, &r), "the default user's password");
  close_cluster(r, &q);
  probe_t s = {0};
  snprintf(url, sizeof url, "redis://:s3cret@127.0.0.1:%d/0", na.port);
  cr_assert(ready_within(url, 10, &s, &r), "one Redis with a password");
  eddy_redis_close(r, on_closed, &s);
  cr_assert(run_until(&loop, &s.closed, 15));

  /* A wrong password: never ready, and said clearly. */
  probe_t w = {0};
  snprintf(url, sizeof url, "redis+cluster://eddy:wrong@127.0.0.1:%d", na.port);
  cr_assert(!ready_within(url, 1, &w, &r), "a wrong password is refused");
  close_cluster(r, &w);
  cr_assert_null(eddy_redis_connect_sync(url, 5, err, sizeof err));
  cr_assert(strstr(err, "AUTH") && strstr(err, "WRONGPASS"), "%s", err);
  cr_assert(!strstr(err, "wrong@"), "%s", err);
}

/* --------------------------------------------------- eddy alerts --follow */

static void xadd(const char *url, const char *pipeline, int offset) {
  redisContext *c = eddy_redis_connect_sync(url, 5, err, sizeof err);
  cr_assert_not_null(c, "%s", err);
  char key[64], json[128], off[16];
  snprintf(key, sizeof key, "eddy:%s:alerts", pipeline);
  snprintf(off, sizeof off, "%d", offset);
  snprintf(json, sizeof json, "{\"pipeline\":\"%s\",\"partition\":0,\"offset\":%d}", pipeline, offset);
  const char *argv[] = {"XADD", key, "*", "kind", "drift", "offset", off, "json", json};
  redisReply *r = eddy_redis_sync_argv(c, 9, argv, NULL);
  cr_assert(r && r->type == REDIS_REPLY_STRING, "XADD %s: %s", key, r ? r->str : c->errstr);
  freeReplyObject(r);
  eddy_redis_sync_free(c);
}

Test(cluster, alerts_follow_over_two_pipelines) {
  const char *b = getenv("EDDY_BIN");
  if (!b || !*b) cr_skip_test("EDDY_BIN is not set (run through make test)");
  /* Two pipelines whose alert streams lie in different slots (one XREAD
   * over both would be refused: CROSSSLOT). */
  cr_assert_neq(slot("eddy:fa:alerts"), slot("eddy:fb:alerts"));
  char url[128], ini[128], log[128], text[1024], cmd[512];
  snprintf(url, sizeof url, "redis+cluster://127.0.0.1:%d", na.port);
  snprintf(ini, sizeof ini, "/tmp/eddy-cluster-alerts-%d.ini", (int)getpid());
  snprintf(log, sizeof log, "/tmp/eddy-cluster-alerts-%d.out", (int)getpid());
  snprintf(text, sizeof text,
           "[pipeline]\nname = fa\n[features]\ntarget = y\n[state]\nstore = %s\n[model]\nlearner = majority\n"
           "[pipeline]\nname = fb\n[features]\ntarget = y\n[state]\nstore = %s\n[model]\nlearner = majority\n",
           url, url);
  FILE *f = fopen(ini, "w");
  cr_assert_not_null(f);
  fputs(text, f);
  fclose(f);
  xadd(url, "fa", 1);
  xadd(url, "fb", 2);
  snprintf(cmd, sizeof cmd, "timeout -s INT 3 %s alerts -c %s --follow --json > %s 2>&1", b, ini, log);
  FILE *p = popen(cmd, "r");
  usleep(1200000);
  xadd(url, "fa", 3);
  xadd(url, "fb", 4);
  pclose(p);
  char buf[8192];
  f = fopen(log, "r");
  cr_assert_not_null(f);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  remove(log);
  remove(ini);
  for (int o = 1; o <= 4; o++) {
    char want[64];
    snprintf(want, sizeof want, "\"offset\":%d", o);
    cr_assert(strstr(buf, want), "alert at offset %d (1, 2 before --follow, 3, 4 during): %s", o, buf);
  }
  cr_assert(!strstr(buf, "CROSSSLOT"), "%s", buf);
}
