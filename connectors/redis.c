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
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <uv.h>

#include "connectors/connectors.h"

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
  uv_loop_t *loop;
  char host[256];
  int port, db;
  char user[128], password[256]; /* AUTH at every connection (password empty: none) */
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

/* %XX escapes decoded (a password may hold ':', '@' or '/'). */
static int pct_decode(const char *s, size_t n, char *out, size_t size) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    int c = (unsigned char)s[i];
    if (c == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) && isxdigit((unsigned char)s[i + 2])) {
      char hex[3] = {s[i + 1], s[i + 2], 0};
      c = (int)strtol(hex, NULL, 16);
      i += 2;
    }
    if (k + 1 >= size) return EDDY_ENOSPC;
    out[k++] = (char)c;
  }
  out[k] = '\0';
  return 0;
}

const char *eddy_redis_url_redact(const char *url, char *buf, size_t size) {
  const char *at = NULL, *p = url && !strncmp(url, "redis://", 8) ? url + 8 : NULL;
  for (const char *q = p; q && *q && *q != '/'; q++)
    if (*q == '@') at = q;
  const char *colon = at ? memchr(p, ':', (size_t)(at - p)) : NULL;
  if (!colon) {
    snprintf(buf, size, "%s", url ? url : "");
  } else {
    snprintf(buf, size, "%.*s:***%s", (int)(colon - url), url, at);
  }
  return buf;
}

int eddy_redis_url_split(const char *url, eddy_redis_url_t *u, char *errstr, size_t errstr_size) {
  char shown[512];
  eddy_redis_url_redact(url, shown, sizeof shown);
  memset(u, 0, sizeof *u);
  const char *p = url;
  if (strncmp(p, "redis://", 8) != 0)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': expected redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]",
                       shown);
  p += 8;
  /* USER[:PASSWORD]@ (the last '@' before the path: a password may hold one) */
  const char *at = NULL;
  for (const char *q = p; *q && *q != '/'; q++)
    if (*q == '@') at = q;
  if (at) {
    const char *colon = memchr(p, ':', (size_t)(at - p));
    const char *ue = colon ? colon : at;
    if (pct_decode(p, (size_t)(ue - p), u->user, sizeof u->user) ||
        (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u->password, sizeof u->password)))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': user or password too long", shown);
    if (colon && !u->password[0])
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': empty password", shown);
    p = at + 1;
  }
  const char *hs = p, *he;
  if (*p == '[') {
    hs = ++p;
    he = strchr(p, ']');
    if (!he) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': unclosed [", shown);
    p = he + 1;
  } else {
    while (*p && *p != ':' && *p != '/') p++;
    he = p;
  }
  if (he == hs || (size_t)(he - hs) >= sizeof u->host)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': no host", shown);
  memcpy(u->host, hs, (size_t)(he - hs));
  u->host[he - hs] = '\0';
  u->port = 6379;
  u->db = 0;
  int64_t v;
  char num[32];
  if (*p == ':') {
    const char *s = ++p;
    while (*p && *p != '/') p++;
    if ((size_t)(p - s) >= sizeof num) return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': bad port", shown);
    memcpy(num, s, (size_t)(p - s));
    num[p - s] = '\0';
    if (eddy_parse_int(num, &v) || v < 1 || v > 65535)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': bad port '%s'", shown, num);
    u->port = (int)v;
  }
  if (*p == '/' && p[1]) {
    if (eddy_parse_int(p + 1, &v) || v < 0 || v > 1000000)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': bad database number '%s'", shown, p + 1);
    u->db = (int)v;
  } else if (*p && strcmp(p, "/") != 0) {
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': expected redis://[USER[:PASSWORD]@]HOST[:PORT][/DB]",
                       shown);
  }
  return 0;
}

int eddy_redis_url_parse(const char *url, char *host, size_t host_size, int *port, int *db,
                         char *errstr, size_t errstr_size) {
  eddy_redis_url_t u;
  int err = eddy_redis_url_split(url, &u, errstr, errstr_size);
  if (err) return err;
  if (strlen(u.host) >= host_size) return eddy_seterr(errstr, errstr_size, EDDY_ENOSPC, "host name too long");
  snprintf(host, host_size, "%s", u.host);
  *port = u.port;
  *db = u.db;
  return 0;
}

int eddy_redis_url_of(const eddy_pipeline_conf_t *c, eddy_redis_url_t *u, char *errstr, size_t errstr_size) {
  char why[600];
  const eddy_kv_t *w = eddy_conf_where(c, "state", "store");
  if (eddy_redis_url_split(c->state.store ? c->state.store : "", u, why, sizeof why))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [state] key 'store': %s",
                       w && w->file ? w->file : c->file, w ? w->line : c->line, why);
  if (!c->state.password_file || !*c->state.password_file) return 0;
  w = eddy_conf_where(c, "state", "password_file");
  const char *file = w && w->file ? w->file : c->file;
  int line = w ? w->line : c->line;
  if (u->password[0])
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "%s:%d: [state] key 'password_file': the store URL has a password already", file, line);
  FILE *f = fopen(c->state.password_file, "r");
  if (!f)
    return eddy_seterr(errstr, errstr_size, EDDY_EIO, "%s:%d: [state] key 'password_file': '%s': %s", file, line,
                       c->state.password_file, strerror(errno));
  char buf[sizeof u->password + 2];
  int ok = fgets(buf, sizeof buf, f) != NULL;
  fclose(f);
  size_t n = ok ? strcspn(buf, "\r\n") : 0;
  buf[n] = '\0';
  if (!n || n >= sizeof u->password)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [state] key 'password_file': '%s': %s", file, line,
                       c->state.password_file, n ? "first line too long" : "no password on its first line");
  memcpy(u->password, buf, n + 1);
  memset(buf, 0, sizeof buf);
  return 0;
}

/* An error reply that means the credentials were refused (or missing). */
static int auth_refused(const char *msg) {
  return msg && (!strncmp(msg, "WRONGPASS", 9) || !strncmp(msg, "NOAUTH", 6) || !strncmp(msg, "NOPERM", 6) ||
                 strstr(msg, "invalid password") || strstr(msg, "invalid username-password"));
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
  if (r->password[0] && r->user[0]) send_setup(r, 3, (const char *[]){"AUTH", r->user, r->password});
  else if (r->password[0]) send_setup(r, 2, (const char *[]){"AUTH", r->password});
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
  eddy_redis_url_t u;
  if (eddy_redis_url_split(url, &u, errstr, errstr_size)) return NULL;
  eddy_redis_t *r = eddy_redis_new_url(loop, &u, o, errstr, errstr_size);
  memset(&u, 0, sizeof u);
  return r;
}

eddy_redis_t *eddy_redis_new_url(uv_loop_t *loop, const eddy_redis_url_t *u, const eddy_redis_options_t *o,
                                 char *errstr, size_t errstr_size) {
  eddy_redis_t *r = calloc(1, sizeof *r);
  if (!r) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  snprintf(r->host, sizeof r->host, "%s", u->host);
  r->port = u->port;
  r->db = u->db;
  snprintf(r->user, sizeof r->user, "%s", u->user);
  snprintf(r->password, sizeof r->password, "%s", u->password);
  snprintf(r->name, sizeof r->name, "%s:%d/%d", r->host, r->port, r->db);
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
  r->ready_cb = cb;
  r->ready_ctx = ctx;
}

int eddy_redis_ready(const eddy_redis_t *r) { return r->state == ST_READY; }

const char *eddy_redis_name(const eddy_redis_t *r) { return r->name; }

size_t eddy_redis_pending(const eddy_redis_t *r) { return r->sent.n + r->lost.n + r->waiting.n; }

void eddy_redis_stats(const eddy_redis_t *r, eddy_redis_stats_t *out) { *out = r->stats; }

int eddy_redis_script(eddy_redis_t *r, const char *source, char *sha1) {
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

redisContext *eddy_redis_connect_sync(const char *url, double timeout, char *errstr,
                                      size_t errstr_size) {
  eddy_redis_url_t u;
  if (eddy_redis_url_split(url, &u, errstr, errstr_size)) return NULL;
  redisContext *c = eddy_redis_connect_sync_url(&u, timeout, NULL, errstr, errstr_size);
  memset(&u, 0, sizeof u);
  return c;
}

/* One setup command of a blocking connection; 0, or the error (refused
 * credentials: EDDY_EACCES). */
static int sync_setup(redisContext *c, const eddy_redis_url_t *u, int argc, const char **argv, char *errstr,
                      size_t errstr_size) {
  redisReply *rep = redisCommandArgv(c, argc, argv, NULL);
  int err = 0;
  if (!rep || rep->type == REDIS_REPLY_ERROR) {
    const char *msg = rep ? rep->str : c->errstr;
    err = rep && auth_refused(msg) ? EDDY_EACCES : EDDY_EIO;
    if (err == EDDY_EACCES)
      eddy_seterr(errstr, errstr_size, err, "redis %s:%d: authentication failed%s%s%s: %s", u->host, u->port,
                  u->user[0] ? " (user " : "", u->user, u->user[0] ? ")" : "",
                  u->password[0] ? msg : "the server wants a password: redis://USER:PASSWORD@HOST or [state] password_file");
    else
      eddy_seterr(errstr, errstr_size, err, "redis %s:%d: %s: %s", u->host, u->port, argv[0], msg);
  }
  if (rep) freeReplyObject(rep);
  return err;
}

redisContext *eddy_redis_connect_sync_url(const eddy_redis_url_t *u, double timeout, int *code, char *errstr,
                                          size_t errstr_size) {
  int dummy;
  if (!code) code = &dummy;
  *code = EDDY_EIO;
  struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6)};
  redisContext *c = redisConnectWithTimeout(u->host, u->port, tv);
  if (!c || c->err) {
    eddy_seterr(errstr, errstr_size, EDDY_EIO, "redis %s:%d: cannot connect: %s", u->host, u->port,
                c ? c->errstr : "out of memory");
    if (c) redisFree(c);
    return NULL;
  }
  redisSetTimeout(c, tv);
  char db[16];
  snprintf(db, sizeof db, "%d", u->db);
  int err = 0;
  if (u->password[0] && u->user[0]) err = sync_setup(c, u, 3, (const char *[]){"AUTH", u->user, u->password}, errstr, errstr_size);
  else if (u->password[0]) err = sync_setup(c, u, 2, (const char *[]){"AUTH", u->password}, errstr, errstr_size);
  if (!err && u->db) err = sync_setup(c, u, 2, (const char *[]){"SELECT", db}, errstr, errstr_size);
  /* A server that wants a password refuses the first command without one. */
  if (!err && !u->password[0]) err = sync_setup(c, u, 1, (const char *[]){"PING"}, errstr, errstr_size);
  if (err) {
    *code = err;
    redisFree(c);
    return NULL;
  }
  *code = 0;
  return c;
}

redisContext *eddy_redis_connect_conf(const eddy_pipeline_conf_t *c, double timeout, int *code, char *errstr,
                                      size_t errstr_size) {
  eddy_redis_url_t u;
  if (code) *code = EDDY_EINVAL;
  int err = eddy_redis_url_of(c, &u, errstr, errstr_size);
  redisContext *rc = err ? NULL : eddy_redis_connect_sync_url(&u, timeout, code, errstr, errstr_size);
  memset(&u, 0, sizeof u);
  return rc;
}
