/* redis.c: one asynchronous Redis connection on a libuv loop (hiredis 0.14
 * and its libuv adapter) that reconnects by itself: a connect watchdog and
 * per-request deadlines on a uv_timer (hiredis 0.14 has neither, and its
 * adapter drops poll errors), exponential backoff, a ready flag for the
 * consumer loop, and writes that are replayed in order after a reconnect
 * until Redis acknowledges them. Also the blocking connection of the CLI. */
#include <hiredis/hiredis.h>
#include <hiredis/async.h>
#include <hiredis/adapters/libuv.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#include "connectors/redis_int.h"

typedef enum { ST_DOWN, ST_CONNECTING, ST_SETUP, ST_READY, ST_CLOSING } conn_state_t;

/* One request: on the connection (sent), lost with it, or waiting for one. */
typedef struct req {
  eddy_redis_reply_cb cb;
  void *ctx;
  double deadline;
  size_t off, len; /* the command's bytes in r->mut (replayable writes) */
  unsigned char replay, setup;
} req_t;

typedef struct ring {
  req_t *v;
  size_t cap, head, n;
} ring_t;

typedef struct script {
  char *source;
  char sha[41];
} script_t;

struct eddy_redis {
  eddy__cluster_t *cluster; /* a redis+cluster:// handle: every call goes there */
  uv_loop_t *loop;
  char user[128], pass[256]; /* AUTH at every connection when pass is set */
  char host[256];
  int port, db;
  char name[300];
  eddy_redis_options_t o;
  redisAsyncContext *ac;
  conn_state_t state;
  uv_timer_t tick, retry;
  int tick_on, handles;
  double tick_ms;
  double connect_deadline;
  double backoff;
  unsigned attempts; /* failed attempts since the last ready connection */
  double down_since;
  int ever_ready;
  ring_t sent;    /* requests on the current connection, in order */
  ring_t lost;    /* replayable writes sent on a connection that was lost */
  ring_t waiting; /* replayable writes issued while not ready */
  eddy_buf_t mut; /* the bytes of every unacknowledged replayable write */
  size_t mut_start;
  eddy_buf_t scratch;
  script_t *scripts;
  size_t n_scripts;
  size_t setup_left;
  char reason[256]; /* why the connection is being dropped, or the first setup error */
  eddy_redis_ready_cb ready_cb;
  void *ready_ctx;
  void (*closed)(void *ctx);
  void *closed_ctx;
  eddy_redis_stats_t stats;
};

#define LOG(r, lvl, ...) eddy_log((r)->o.quiet ? EDDY_LOG_DEBUG : (lvl), __VA_ARGS__)

/* ------------------------------------------------------------------ rings */

static int ring_push(ring_t *q, const req_t *x) {
  if (q->n == q->cap) {
    size_t cap = q->cap ? q->cap * 2 : 64;
    req_t *v = malloc(cap * sizeof *v);
    if (!v) return EDDY_ENOMEM;
    for (size_t i = 0; i < q->n; i++) v[i] = q->v[(q->head + i) % q->cap];
    free(q->v);
    q->v = v;
    q->cap = cap;
    q->head = 0;
  }
  q->v[(q->head + q->n) % q->cap] = *x;
  q->n++;
  return 0;
}

static req_t *ring_at(ring_t *q, size_t i) { return &q->v[(q->head + i) % q->cap]; }

static req_t ring_pop(ring_t *q) {
  req_t x = q->v[q->head];
  q->head = (q->head + 1) % q->cap;
  q->n--;
  return x;
}

/* ------------------------------------------------------------------- RESP */

void eddy_resp_begin(eddy_buf_t *b, int argc) { eddy_buf_printf(b, "*%d\r\n", argc); }

void eddy_resp_arg(eddy_buf_t *b, const void *p, size_t len) {
  char head[32];
  int n = snprintf(head, sizeof head, "$%zu\r\n", len);
  eddy_buf_put(b, head, (size_t)n);
  eddy_buf_put(b, p, len);
  eddy_buf_put(b, "\r\n", 2);
}

void eddy_resp_argz(eddy_buf_t *b, const char *s) { eddy_resp_arg(b, s, strlen(s)); }

/* -------------------------------------------------------------------- URL */

/* Where the userinfo of a redis:// or redis+cluster:// URL starts, and
 * the '@' that ends it (NULL: none). */
static const char *userinfo(const char *url, const char **at) {
  const char *p = eddy_redis_url_is_cluster(url) ? url + 16 : strncmp(url, "redis://", 8) == 0 ? url + 8 : NULL;
  *at = p ? strrchr(p, '@') : NULL;
  return p;
}

int eddy_redis_url_credentials(const char *url, char *user, size_t user_size, char *pass, size_t pass_size) {
  const char *at, *p = userinfo(url, &at);
  user[0] = pass[0] = '\0';
  if (!at) return 0;
  const char *colon = memchr(p, ':', (size_t)(at - p));
  const char *ps = colon ? colon + 1 : p;
  size_t ul = colon ? (size_t)(colon - p) : 0, pl = (size_t)(at - ps);
  if (ul >= user_size || pl >= pass_size) return EDDY_ERANGE;
  memcpy(user, p, ul);
  user[ul] = '\0';
  memcpy(pass, ps, pl);
  pass[pl] = '\0';
  return 0;
}

const char *eddy_redis_url_mask(const char *url, char *buf, size_t size) {
  const char *at, *p = userinfo(url, &at);
  if (!at) {
    snprintf(buf, size, "%s", url);
    return buf;
  }
  const char *colon = memchr(p, ':', (size_t)(at - p));
  snprintf(buf, size, "%.*s%s%s", (int)((colon ? colon + 1 : p) - url), url, "***", at);
  return buf;
}

int eddy_redis_url_parse(const char *url, char *host, size_t host_size, int *port, int *db,
                         char *errstr, size_t errstr_size) {
  const char *p = url;
  if (eddy_redis_url_is_cluster(url)) {
    /* The first node; the rest are checked too. */
    eddy__seed_t seeds[EDDY__CLUSTER_MAX_SEEDS];
    int n;
    int err = eddy__cluster_url_parse(url, seeds, &n, errstr, errstr_size);
    if (err) return err;
    if (strlen(seeds[0].host) >= host_size) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': host too long", url);
    strcpy(host, seeds[0].host);
    *port = seeds[0].port;
    *db = 0;
    return 0;
  }
  char shown[600];
  eddy_redis_url_mask(url, shown, sizeof shown);
  if (strncmp(p, "redis://", 8) != 0)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]", shown);
  const char *at;
  userinfo(url, &at);
  p = at ? at + 1 : p + 8;
  url = shown; /* in the messages below */
  const char *hs = p, *he;
  if (*p == '[') {
    hs = ++p;
    he = strchr(p, ']');
    if (!he) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': unclosed [", url);
    p = he + 1;
  } else {
    while (*p && *p != ':' && *p != '/') p++;
    he = p;
  }
  if (he == hs || (size_t)(he - hs) >= host_size)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': no host", url);
  memcpy(host, hs, (size_t)(he - hs));
  host[he - hs] = '\0';
  *port = 6379;
  *db = 0;
  int64_t v;
  char num[32];
  if (*p == ':') {
    const char *s = ++p;
    while (*p && *p != '/') p++;
    if ((size_t)(p - s) >= sizeof num) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': bad port", url);
    memcpy(num, s, (size_t)(p - s));
    num[p - s] = '\0';
    if (eddy_parse_int(num, &v) || v < 1 || v > 65535)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': bad port '%s'", url, num);
    *port = (int)v;
  }
  if (*p == '/' && p[1]) {
    if (eddy_parse_int(p + 1, &v) || v < 0 || v > 1000000)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': bad database number '%s'", url, p + 1);
    *db = (int)v;
  } else if (*p && strcmp(p, "/") != 0) {
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': expected redis://HOST[:PORT][/DB]", url);
  }
  return 0;
}

/* ---------------------------------------------------------------- helpers */

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata);
static void on_connect(const redisAsyncContext *ac, int status);
static void on_disconnect(const redisAsyncContext *ac, int status);
static void schedule_retry(eddy_redis_t *r, const char *why);
static void finish_close(eddy_redis_t *r);

static void tick_cb(uv_timer_t *t);

static void watch(eddy_redis_t *r) {
  if (r->tick_on) return;
  r->tick_on = 1;
  uint64_t ms = (uint64_t)r->tick_ms;
  uv_timer_start(&r->tick, tick_cb, ms, ms);
}

/* Sends the bytes of q on the connection and records it as sent. */
static int send_req(eddy_redis_t *r, req_t *q, const char *cmd, size_t len) {
  /* hiredis 0.14 looks at the byte after a command's first argument for a
   * next one: past the end of a one-argument command (PING, MULTI, EXEC),
   * which it expects NUL-terminated (valgrind: an uninitialised read, or
   * one past the buffer). Those few bytes go through a terminated copy. */
  char one[64];
  if (len >= 4 && len < sizeof one && memcmp(cmd, "*1\r\n", 4) == 0) {
    memcpy(one, cmd, len);
    one[len] = '\0';
    cmd = one;
  }
  if (!r->ac || redisAsyncFormattedCommand(r->ac, on_reply, r, cmd, len) != REDIS_OK) return EDDY_EIO;
  q->deadline = eddy_now() + r->o.request_timeout;
  if (ring_push(&r->sent, q)) return EDDY_ENOMEM; /* hiredis holds the callback: cannot undo */
  watch(r);
  return 0;
}

/* Drops the bytes of acknowledged writes; moves the rest to the front when
 * the dead part is large. */
static void mut_release(eddy_redis_t *r, const req_t *q) {
  r->mut_start = q->off + q->len;
  if (r->mut_start >= r->mut.len) {
    r->mut.len = r->mut_start = 0;
    return;
  }
  if (r->mut_start < (4u << 20) || r->mut_start * 2 < r->mut.len) return;
  size_t d = r->mut_start;
  memmove(r->mut.data, r->mut.data + d, r->mut.len - d);
  r->mut.len -= d;
  r->mut_start = 0;
  ring_t *rings[] = {&r->sent, &r->lost, &r->waiting};
  for (int k = 0; k < 3; k++)
    for (size_t i = 0; i < rings[k]->n; i++) {
      req_t *x = ring_at(rings[k], i);
      if (x->replay) x->off -= d;
    }
}

/* The connection is no longer usable: tell the consumer loop to pause. */
static void go_down(eddy_redis_t *r) {
  if (r->state != ST_READY && r->state != ST_SETUP && r->state != ST_CONNECTING) return;
  int was_ready = r->state == ST_READY;
  r->state = ST_DOWN;
  if (was_ready) {
    r->down_since = eddy_now();
    if (r->ready_cb) r->ready_cb(r->ready_ctx, 0);
  }
}

/* Drops the current connection (from a timer, never inside hiredis). */
static void drop(eddy_redis_t *r) {
  redisAsyncContext *ac = r->ac;
  if (!ac) return;
  int connected = r->state != ST_CONNECTING;
  int closing = r->state == ST_CLOSING;
  if (!closing) go_down(r);
  redisAsyncFree(ac); /* pending callbacks get NULL; on_disconnect if it was connected */
  if (!connected) {
    r->ac = NULL;
    if (closing)
      finish_close(r);
    else
      schedule_retry(r, r->reason);
  }
}

static void tick_cb(uv_timer_t *t) {
  eddy_redis_t *r = t->data;
  double now = eddy_now();
  if (r->state == ST_CONNECTING && now > r->connect_deadline) {
    r->stats.failed_attempts++;
    r->attempts++;
    snprintf(r->reason, sizeof r->reason, "no answer to connect within %.1f s",
             r->o.connect_timeout);
    drop(r);
  } else if (r->sent.n && now > ring_at(&r->sent, 0)->deadline) {
    r->stats.timeouts++;
    snprintf(r->reason, sizeof r->reason, "no reply within %.1f s: connection dropped",
             r->o.request_timeout);
    drop(r);
  }
  if (r->tick_on && r->state != ST_CONNECTING && r->sent.n == 0) {
    r->tick_on = 0;
    uv_timer_stop(&r->tick);
  }
}

static void connect_now(eddy_redis_t *r) {
  redisAsyncContext *ac = redisAsyncConnect(r->host, r->port);
  if (!ac || ac->err) {
    r->stats.failed_attempts++;
    r->attempts++;
    char why[300];
    snprintf(why, sizeof why, "cannot connect: %s", ac ? ac->errstr : "out of memory");
    if (ac) redisAsyncFree(ac);
    schedule_retry(r, why);
    return;
  }
  ac->data = r;
  if (redisLibuvAttach(ac, r->loop) != REDIS_OK) {
    r->stats.failed_attempts++;
    r->attempts++;
    redisAsyncFree(ac);
    schedule_retry(r, "cannot watch the socket");
    return;
  }
  redisAsyncSetConnectCallback(ac, on_connect);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  r->ac = ac;
  r->state = ST_CONNECTING;
  r->connect_deadline = eddy_now() + r->o.connect_timeout;
  watch(r);
}

static void retry_cb(uv_timer_t *t) {
  eddy_redis_t *r = t->data;
  if (r->state == ST_DOWN && !r->ac) connect_now(r);
}

/* Logs why the connection is not usable and tries again after the backoff
 * delay, which doubles up to backoff_max. */
static void schedule_retry(eddy_redis_t *r, const char *why) {
  if (r->state == ST_CLOSING) return;
  r->state = ST_DOWN;
  double d = r->backoff;
  r->backoff = r->backoff * 2 > r->o.backoff_max ? r->o.backoff_max : r->backoff * 2;
  if (r->attempts)
    LOG(r, EDDY_LOG_WARN, "redis %s: %s (attempt %u); retrying in %.2g s", r->name, why, r->attempts, d);
  else
    LOG(r, EDDY_LOG_WARN, "redis %s: %s; consumption paused, retrying in %.2g s", r->name, why, d);
  uv_timer_start(&r->retry, retry_cb, (uint64_t)(d * 1000 + 0.5), 0);
}

static void send_setup(eddy_redis_t *r, int argc, const char *const *argv) {
  eddy_buf_clear(&r->scratch);
  eddy_resp_begin(&r->scratch, argc);
  for (int i = 0; i < argc; i++) eddy_resp_argz(&r->scratch, argv[i]);
  req_t q = {.setup = 1};
  if (r->scratch.err || send_req(r, &q, (const char *)r->scratch.data, r->scratch.len)) {
    snprintf(r->reason, sizeof r->reason, "cannot send %s", argv[0]);
    return;
  }
  r->setup_left++;
}

static void on_connect(const redisAsyncContext *cac, int status) {
  eddy_redis_t *r = cac->data;
  if (status != REDIS_OK) {
    /* hiredis frees the context after this callback. */
    r->ac = NULL;
    r->stats.failed_attempts++;
    r->attempts++;
    char why[300];
    snprintf(why, sizeof why, "cannot connect: %s", cac->errstr);
    if (r->state == ST_CLOSING)
      finish_close(r);
    else
      schedule_retry(r, why);
    return;
  }
  if (r->state == ST_CLOSING) return;
  r->state = ST_SETUP;
  r->setup_left = 0;
  r->reason[0] = '\0';
  char db[16];
  snprintf(db, sizeof db, "%d", r->db);
  if (r->pass[0] && r->user[0]) send_setup(r, 3, (const char *[]){"AUTH", r->user, r->pass});
  else if (r->pass[0]) send_setup(r, 2, (const char *[]){"AUTH", r->pass});
  if (r->db) send_setup(r, 2, (const char *[]){"SELECT", db});
  for (size_t i = 0; i < r->n_scripts; i++)
    send_setup(r, 3, (const char *[]){"SCRIPT", "LOAD", r->scripts[i].source});
  /* Refused while Redis is still loading its dataset: ready means usable. */
  send_setup(r, 1, (const char *[]){"PING"});
}

static void become_ready(eddy_redis_t *r) {
  r->state = ST_READY;
  r->stats.connects++;
  size_t replayed = 0;
  /* Writes lost with the last connection, then those issued while down:
   * their original order, ahead of anything new. */
  ring_t *rings[] = {&r->lost, &r->waiting};
  for (int k = 0; k < 2; k++) {
    while (rings[k]->n) {
      req_t q = ring_pop(rings[k]);
      if (send_req(r, &q, (const char *)r->mut.data + q.off, q.len)) {
        /* Cannot happen on a fresh connection short of memory: keep it. */
        ring_push(rings[k], &q);
        break;
      }
      replayed++;
    }
  }
  r->stats.replayed += replayed;
  if (r->ever_ready)
    LOG(r, EDDY_LOG_INFO, "redis %s: connected again after %.1f s and %u failed attempt%s; %zu write%s replayed; resuming",
        r->name, eddy_now() - r->down_since, r->attempts, r->attempts == 1 ? "" : "s", replayed,
        replayed == 1 ? "" : "s");
  else
    LOG(r, EDDY_LOG_INFO, "redis %s: connected", r->name);
  r->ever_ready = 1;
  r->attempts = 0;
  r->backoff = r->o.backoff_min;
  if (r->ready_cb) r->ready_cb(r->ready_ctx, 1);
}

static void on_reply(redisAsyncContext *ac, void *vreply, void *privdata) {
  (void)ac;
  eddy_redis_t *r = privdata;
  redisReply *reply = vreply;
  if (!r->sent.n) return; /* cannot happen: every command is recorded */
  req_t q = ring_pop(&r->sent);
  if (!reply) {
    if (r->state != ST_CLOSING) go_down(r);
    if (q.setup) return;
    if (q.replay && r->state != ST_CLOSING) {
      ring_push(&r->lost, &q);
      return;
    }
    if (q.cb) q.cb(q.ctx, NULL);
    return;
  }
  if (q.setup) {
    if (reply->type == REDIS_REPLY_ERROR && !r->reason[0])
      snprintf(r->reason, sizeof r->reason, "%s", reply->str);
    if (--r->setup_left == 0 && r->state == ST_SETUP) {
      if (r->reason[0]) {
        r->stats.failed_attempts++;
        r->attempts++;
        char why[sizeof r->reason];
        snprintf(why, sizeof why, "%s", r->reason);
        snprintf(r->reason, sizeof r->reason, "connected but not usable: %.200s", why);
        go_down(r);
        redisAsyncFree(r->ac); /* deferred by hiredis until this callback returns */
      } else {
        become_ready(r);
      }
    }
    return;
  }
  if (q.replay) mut_release(r, &q);
  if (q.cb) q.cb(q.ctx, reply);
}

static void on_disconnect(const redisAsyncContext *cac, int status) {
  eddy_redis_t *r = cac->data;
  r->ac = NULL; /* hiredis frees it after this callback */
  r->stats.disconnects++;
  if (r->state == ST_CLOSING) {
    finish_close(r);
    return;
  }
  go_down(r);
  char why[300];
  if (r->reason[0] && r->state == ST_DOWN && status == REDIS_OK)
    snprintf(why, sizeof why, "%s", r->reason); /* we dropped it: the reason is known */
  else
    snprintf(why, sizeof why, "connection lost%s%s%s", cac->errstr[0] ? " (" : "", cac->errstr,
             cac->errstr[0] ? ")" : "");
  r->reason[0] = '\0';
  schedule_retry(r, why);
}

/* -------------------------------------------------------------- interface */

eddy_redis_t *eddy_redis_new(uv_loop_t *loop, const char *url, const eddy_redis_options_t *o,
                             char *errstr, size_t errstr_size) {
  eddy_redis_t *r = calloc(1, sizeof *r);
  if (!r) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  if (eddy_redis_url_is_cluster(url)) {
    const char *at = strrchr(url + 16, '@');
    snprintf(r->name, sizeof r->name, "%s", at ? at + 1 : url + 16); /* no credentials in messages */
    r->loop = loop;
    if (!(r->cluster = eddy__cluster_new(loop, r, url, o, errstr, errstr_size))) {
      free(r);
      return NULL;
    }
    return r;
  }
  if (eddy_redis_url_parse(url, r->host, sizeof r->host, &r->port, &r->db, errstr, errstr_size)) {
    free(r);
    return NULL;
  }
  snprintf(r->name, sizeof r->name, "%s:%d/%d", r->host, r->port, r->db);
  if (eddy_redis_url_credentials(url, r->user, sizeof r->user, r->pass, sizeof r->pass)) {
    eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "redis %s: user name or password too long", r->name);
    free(r);
    return NULL;
  }
  r->loop = loop;
  r->o = (eddy_redis_options_t){2.0, 10.0, 0.1, 5.0, 0};
  if (o) {
    if (o->connect_timeout > 0) r->o.connect_timeout = o->connect_timeout;
    if (o->request_timeout > 0) r->o.request_timeout = o->request_timeout;
    if (o->backoff_min > 0) r->o.backoff_min = o->backoff_min;
    if (o->backoff_max > 0) r->o.backoff_max = o->backoff_max;
    r->o.quiet = o->quiet;
  }
  if (r->o.backoff_max < r->o.backoff_min) r->o.backoff_max = r->o.backoff_min;
  r->backoff = r->o.backoff_min;
  double shortest = r->o.request_timeout < r->o.connect_timeout ? r->o.request_timeout : r->o.connect_timeout;
  r->tick_ms = shortest * 1000 / 4;
  if (r->tick_ms > 100) r->tick_ms = 100;
  if (r->tick_ms < 5) r->tick_ms = 5;
  eddy_buf_init(&r->mut);
  eddy_buf_init(&r->scratch);
  uv_timer_init(loop, &r->tick);
  uv_timer_init(loop, &r->retry);
  r->tick.data = r->retry.data = r;
  r->handles = 2;
  r->state = ST_DOWN;
  r->down_since = eddy_now();
  connect_now(r);
  return r;
}

void eddy_redis_on_ready(eddy_redis_t *r, eddy_redis_ready_cb cb, void *ctx) {
  if (r->cluster) {
    eddy__cluster_on_ready(r->cluster, cb, ctx);
    return;
  }
  r->ready_cb = cb;
  r->ready_ctx = ctx;
}

int eddy_redis_ready(const eddy_redis_t *r) {
  return r->cluster ? eddy__cluster_ready(r->cluster) : r->state == ST_READY;
}

int eddy_redis_is_cluster(const eddy_redis_t *r) { return r->cluster != NULL; }

const char *eddy_redis_name(const eddy_redis_t *r) { return r->name; }

size_t eddy_redis_pending(const eddy_redis_t *r) {
  return r->cluster ? eddy__cluster_pending(r->cluster) : r->sent.n + r->lost.n + r->waiting.n;
}

void eddy_redis_stats(const eddy_redis_t *r, eddy_redis_stats_t *out) {
  if (r->cluster) eddy__cluster_stats(r->cluster, out);
  else *out = r->stats;
}

int eddy_redis_script(eddy_redis_t *r, const char *source, char *sha1) {
  if (r->cluster) return eddy__cluster_script(r->cluster, source, sha1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!EVP_Digest(source, strlen(source), md, &n, EVP_sha1(), NULL) || n != 20) return EDDY_EINVAL;
  char hex[41];
  for (unsigned i = 0; i < 20; i++) snprintf(hex + 2 * i, 3, "%02x", md[i]);
  if (sha1) memcpy(sha1, hex, 41);
  for (size_t i = 0; i < r->n_scripts; i++)
    if (strcmp(r->scripts[i].sha, hex) == 0) return 0;
  script_t *v = realloc(r->scripts, (r->n_scripts + 1) * sizeof *v);
  if (!v) return EDDY_ENOMEM;
  r->scripts = v;
  if (!(v[r->n_scripts].source = strdup(source))) return EDDY_ENOMEM;
  memcpy(v[r->n_scripts].sha, hex, 41);
  r->n_scripts++;
  /* Already connected: load it now (ordered before any EVALSHA sent later). */
  if (r->state == ST_READY) {
    const char *argv[] = {"SCRIPT", "LOAD", source};
    return eddy_redis_command(r, EDDY_REDIS_REPLAY, NULL, NULL, 3, argv, NULL);
  }
  return 0;
}

int eddy_redis_command_raw(eddy_redis_t *r, unsigned flags, eddy_redis_reply_cb cb, void *ctx,
                           const void *cmd, size_t len) {
  if (r->cluster) return eddy__cluster_command_raw(r->cluster, flags, cb, ctx, cmd, len);
  if (r->state == ST_CLOSING) return EDDY_ESTATE;
  int replay = (flags & EDDY_REDIS_REPLAY) != 0;
  if (!replay && r->state != ST_READY) return EDDY_EAGAIN;
  req_t q = {.cb = cb, .ctx = ctx, .replay = (unsigned char)replay};
  if (replay) {
    q.off = r->mut.len;
    q.len = len;
    eddy_buf_put(&r->mut, cmd, len);
    if (r->mut.err) {
      r->mut.err = 0;
      r->mut.len = q.off;
      return EDDY_ENOMEM;
    }
    if (r->state != ST_READY) return ring_push(&r->waiting, &q);
    return send_req(r, &q, (const char *)r->mut.data + q.off, len);
  }
  return send_req(r, &q, cmd, len);
}

int eddy_redis_command(eddy_redis_t *r, unsigned flags, eddy_redis_reply_cb cb, void *ctx, int argc,
                       const char *const *argv, const size_t *lens) {
  eddy_buf_clear(&r->scratch);
  eddy_resp_begin(&r->scratch, argc);
  for (int i = 0; i < argc; i++) eddy_resp_arg(&r->scratch, argv[i], lens ? lens[i] : strlen(argv[i]));
  if (r->scratch.err) return EDDY_ENOMEM;
  return eddy_redis_command_raw(r, flags, cb, ctx, r->scratch.data, r->scratch.len);
}

size_t eddy__redis_drain(eddy_redis_t *r, eddy__redis_drain_fn fn, void *arg) {
  if (r->cluster || r->state == ST_READY || r->state == ST_SETUP || r->state == ST_CLOSING) return 0;
  size_t n = 0;
  ring_t *rings[] = {&r->lost, &r->waiting};
  for (int k = 0; k < 2; k++)
    while (rings[k]->n) {
      req_t q = ring_pop(rings[k]);
      fn(arg, q.cb, q.ctx, r->mut.data + q.off, q.len);
      n++;
    }
  r->mut.len = r->mut_start = 0;
  return n;
}

void eddy__redis_owner_free(eddy_redis_t *r) {
  eddy_buf_free(&r->scratch);
  free(r);
}

static void handle_closed(uv_handle_t *h) {
  eddy_redis_t *r = h->data;
  if (--r->handles > 0) return;
  void (*closed)(void *) = r->closed;
  void *ctx = r->closed_ctx;
  for (size_t i = 0; i < r->n_scripts; i++) free(r->scripts[i].source);
  free(r->scripts);
  free(r->sent.v);
  free(r->lost.v);
  free(r->waiting.v);
  eddy_buf_free(&r->mut);
  eddy_buf_free(&r->scratch);
  free(r);
  if (closed) closed(ctx);
}

static void finish_close(eddy_redis_t *r) {
  if (r->tick_on) uv_timer_stop(&r->tick);
  r->tick_on = 0;
  uv_timer_stop(&r->retry);
  uv_close((uv_handle_t *)&r->tick, handle_closed);
  uv_close((uv_handle_t *)&r->retry, handle_closed);
}

void eddy_redis_close(eddy_redis_t *r, void (*closed)(void *ctx), void *ctx) {
  if (r->cluster) {
    eddy__cluster_close(r->cluster, closed, ctx); /* frees r too */
    return;
  }
  if (r->state == ST_CLOSING) return;
  conn_state_t was = r->state;
  r->state = ST_CLOSING;
  r->closed = closed;
  r->closed_ctx = ctx;
  uv_timer_stop(&r->retry);
  size_t undelivered = r->lost.n + r->waiting.n;
  if (undelivered)
    LOG(r, EDDY_LOG_WARN, "redis %s: closing with %zu write%s that never reached Redis", r->name,
        undelivered, undelivered == 1 ? "" : "s");
  ring_t *rings[] = {&r->lost, &r->waiting};
  for (int k = 0; k < 2; k++)
    while (rings[k]->n) {
      req_t q = ring_pop(rings[k]);
      if (q.cb) q.cb(q.ctx, NULL);
    }
  if (!r->ac) {
    finish_close(r);
  } else if (was == ST_CONNECTING) {
    redisAsyncContext *ac = r->ac;
    r->ac = NULL;
    redisAsyncFree(ac); /* not connected: no disconnect callback */
    finish_close(r);
  } else {
    /* Waits for the replies still due, then on_disconnect finishes. */
    redisAsyncDisconnect(r->ac);
  }
}

/* ------------------------------------------------------------------- sync */

int eddy__redis_auth_sync(redisContext *c, const char *url, char *errstr, size_t errstr_size) {
  char user[128], pass[256];
  if (eddy_redis_url_credentials(url, user, sizeof user, pass, sizeof pass))
    return eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "redis: user name or password too long");
  if (!pass[0]) return 0;
  const char *argv[] = {"AUTH", user[0] ? user : pass, pass};
  redisReply *rep = redisCommandArgv(c, user[0] ? 3 : 2, argv, NULL);
  int ok = rep && rep->type != REDIS_REPLY_ERROR;
  if (!ok)
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "redis %s:%d: AUTH: %s", c->tcp.host ? c->tcp.host : "?", c->tcp.port,
                rep ? rep->str : c->errstr);
  if (rep) freeReplyObject(rep);
  return ok ? 0 : EDDY_EIO;
}

redisContext *eddy_redis_connect_sync(const char *url, double timeout, char *errstr,
                                      size_t errstr_size) {
  if (eddy_redis_url_is_cluster(url)) return eddy__cluster_connect_sync(url, timeout, errstr, errstr_size);
  char host[256];
  int port, db;
  if (eddy_redis_url_parse(url, host, sizeof host, &port, &db, errstr, errstr_size)) return NULL;
  struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6)};
  redisContext *c = redisConnectWithTimeout(host, port, tv);
  if (!c || c->err) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "redis %s:%d: cannot connect: %s", host, port,
                c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  if (eddy__redis_auth_sync(c, url, errstr, errstr_size)) {
    redisFree(c);
    return NULL;
  }
  if (db) {
    redisReply *rep = redisCommand(c, "SELECT %d", db);
    int ok = rep && rep->type != REDIS_REPLY_ERROR;
    if (!ok)
      eddy_seterr(errstr, errstr_size, EDDY_EIO, "redis %s:%d: SELECT %d: %s", host, port, db,
                  rep ? rep->str : c->errstr);
    if (rep) freeReplyObject(rep);
    if (!ok) {
      redisFree(c);
      return NULL;
    }
  }
  return c;
}
