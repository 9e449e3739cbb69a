/* redis_cluster.c: a small Redis Cluster client (hiredis 0.14 has none):
 * the key slot (CRC16 with hash tags), the slot map from CLUSTER SLOTS,
 * one reconnecting connection per master (redis.c's eddy_redis_t) on the
 * run's loop, MOVED and ASK redirections, and a blocking variant for the
 * command-line tools that follows redirections too. */
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "connectors/redis_int.h"

#define NSLOTS 16384
/* Quiet handles (CLI tools, tests) log their events at DEBUG only. */
#define LOG(cl, lvl, ...) eddy_log((cl)->o.quiet ? EDDY_LOG_DEBUG : (lvl), __VA_ARGS__)
#define NONE 0xffffu
#define MAX_HOPS 16
#define MAX_RETRIES 100 /* TRYAGAIN / CLUSTERDOWN, 50 ms apart: 5 s */

/* ------------------------------------------------------------------ slots */

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial 0), as the cluster
 * specification defines the key slot. */
static uint16_t crc16(const uint8_t *p, size_t n) {
  uint16_t crc = 0;
  for (size_t i = 0; i < n; i++) {
    crc ^= (uint16_t)(p[i] << 8);
    for (int k = 0; k < 8; k++) crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
  }
  return crc;
}

uint16_t eddy_redis_cluster_crc16(const void *p, size_t n) { return crc16(p, n); }

uint16_t eddy_redis_cluster_slot(const void *key, size_t len) {
  const uint8_t *k = key;
  const uint8_t *open = memchr(k, '{', len);
  if (open) {
    size_t from = (size_t)(open - k) + 1;
    const uint8_t *close = memchr(k + from, '}', len - from);
    /* Only a non-empty tag counts: "{}" hashes the whole key. */
    if (close && close > k + from) return crc16(k + from, (size_t)(close - (k + from))) & (NSLOTS - 1);
  }
  return crc16(k, len) & (NSLOTS - 1);
}

int eddy_redis_url_is_cluster(const char *url) {
  return url && strncmp(url, "redis+cluster://", 16) == 0;
}

const char *eddy_redis_key_head(char *buf, size_t size, int cluster, const char *prefix,
                                const char *pipeline, int32_t partition) {
  if (cluster)
    snprintf(buf, size, "%s:{%s:%d}", prefix, pipeline, (int)partition);
  else
    snprintf(buf, size, "%s:%s", prefix, pipeline);
  return buf;
}

/* -------------------------------------------------------------------- URL */

int eddy__cluster_url_parse(const char *url, eddy__seed_t *seeds, int *n_seeds, char *errstr,
                            size_t errstr_size) {
  *n_seeds = 0;
  char shown[600];
  eddy_redis_url_mask(url, shown, sizeof shown); /* in the messages */
  if (!eddy_redis_url_is_cluster(url))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "'%s': expected redis+cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]", shown);
  const char *p = url + 16, *at = strrchr(p, '@');
  if (at) p = at + 1;
  url = shown;
  for (;;) {
    if (*n_seeds == EDDY__CLUSTER_MAX_SEEDS)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': more than %d nodes", url, EDDY__CLUSTER_MAX_SEEDS);
    char one[300];
    const char *e = p + strcspn(p, ",/");
    if ((size_t)(e - p) >= sizeof one - 9)
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': host too long", url);
    memcpy(one, "redis://", 8);
    memcpy(one + 8, p, (size_t)(e - p));
    one[8 + (e - p)] = '\0';
    int db;
    eddy__seed_t *s = &seeds[*n_seeds];
    char why[400];
    if (eddy_redis_url_parse(one, s->host, sizeof s->host, &s->port, &db, why, sizeof why))
      return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': node '%s' is not HOST:PORT", url, one + 8);
    ++*n_seeds;
    p = e;
    if (*p != ',') break;
    p++;
  }
  /* A cluster has database 0 only. */
  if (*p && strcmp(p, "/") != 0 && strcmp(p, "/0") != 0)
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "'%s': a cluster has database 0 only", url);
  return 0;
}

/* The key of a command in RESP form (its slot decides the node), or NULL
 * for a command without one. */
static const char *resp_key(const char *cmd, size_t len, size_t *klen) {
  const char *p = cmd, *end = cmd + len, *nl;
  if (len < 4 || *p != '*' || !(nl = memchr(p, '\n', len))) return NULL;
  long argc = strtol(p + 1, NULL, 10);
  const char *arg[4];
  size_t alen[4];
  int got = 0;
  p = nl + 1;
  while (got < argc && got < 4) {
    if (p >= end || *p != '$') return NULL;
    long n = strtol(p + 1, NULL, 10);
    nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl || n < 0 || (size_t)(end - (nl + 1)) < (size_t)n + 2) return NULL;
    arg[got] = nl + 1;
    alen[got++] = (size_t)n;
    p = nl + 1 + n + 2;
  }
  if (got < 2) return NULL;
  if ((alen[0] == 4 && !strncasecmp(arg[0], "EVAL", 4)) || (alen[0] == 7 && !strncasecmp(arg[0], "EVALSHA", 7))) {
    if (got < 4 || alen[2] == 0 || (alen[2] == 1 && arg[2][0] == '0')) return NULL;
    *klen = alen[3];
    return arg[3];
  }
  if ((alen[0] == 6 && !strncasecmp(arg[0], "SCRIPT", 6)) || (alen[0] == 7 && !strncasecmp(arg[0], "CLUSTER", 7)) ||
      (alen[0] == 4 && !strncasecmp(arg[0], "PING", 4)) || (alen[0] == 4 && !strncasecmp(arg[0], "INFO", 4)))
    return NULL;
  *klen = alen[1];
  return arg[1];
}

/* The slot of a command in RESP form, or -1 (no key): for tests. */
int eddy__cluster_command_slot(const void *cmd, size_t len) {
  size_t klen = 0;
  const char *k = resp_key(cmd, len, &klen);
  return k ? eddy_redis_cluster_slot(k, klen) : -1;
}

/* A MOVED or ASK error: 1 (moved) or 2 (ask) with the slot and node. */
static int redirection(const char *s, int *slot, char *host, size_t host_size, int *port) {
  int kind = !strncmp(s, "MOVED ", 6) ? 1 : !strncmp(s, "ASK ", 4) ? 2 : 0;
  if (!kind) return 0;
  s += kind == 1 ? 6 : 4;
  char *e;
  long v = strtol(s, &e, 10);
  if (e == s || *e != ' ' || v < 0 || v >= NSLOTS) return 0;
  *slot = (int)v;
  s = e + 1;
  const char *colon = strrchr(s, ':');
  if (!colon || (size_t)(colon - s) >= host_size) return 0;
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  long pt = strtol(colon + 1, &e, 10);
  if (pt < 1 || pt > 65535) return 0;
  *port = (int)pt;
  return kind;
}

/* ---------------------------------------------------------------- cluster */

/* "redis://[USER:PASSWORD@]HOST:PORT" for one node of the cluster. */
static void node_url(char *buf, size_t size, const char *user, const char *pass, const char *host, int port) {
  const char *v6 = strchr(host, ':') ? "[" : "";
  if (pass[0])
    snprintf(buf, size, "redis://%s:%s@%s%s%s:%d", user, pass, v6, host, *v6 ? "]" : "", port);
  else
    snprintf(buf, size, "redis://%s%s%s:%d", v6, host, *v6 ? "]" : "", port);
}

typedef struct node {
  eddy__cluster_t *cl;
  char host[256];
  int port;
  eddy_redis_t *r;
  int ready, closed;
} node_t;

/* One command: kept (its bytes too) until its final reply, for a
 * redirection or a retry. Reused from a free list: no allocation per
 * command once warm. */
typedef struct creq {
  struct creq *next;
  eddy__cluster_t *cl;
  eddy_redis_reply_cb cb;
  void *ctx;
  unsigned flags;
  int slot;     /* -1: no key */
  uint16_t node;
  int counted;  /* counted in inflight[slot] */
  int hops, retries;
  eddy_buf_t cmd;
} creq_t;

typedef struct fifo {
  creq_t *head, *tail;
  size_t n;
} fifo_t;

struct eddy__cluster {
  uv_loop_t *loop;
  eddy_redis_t *owner;
  eddy_redis_options_t o;
  eddy__seed_t seeds[EDDY__CLUSTER_MAX_SEEDS];
  int n_seeds;
  char user[128], pass[256];
  node_t **nodes;
  size_t n_nodes;
  /* The map (slot -> node) and, per slot, the node its commands go to and
   * how many are on their way there: a slot's commands keep going to the
   * node of the ones in flight until they are answered (a MOVED answer
   * redirects them in order), so that a write never overtakes an earlier
   * one to the same slot when the map changes. */
  uint16_t map[NSLOTS], route[NSLOTS];
  uint32_t inflight[NSLOTS];
  int have_map, refreshing, need_refresh;
  int prefer; /* the node a MOVED named (-1: none): it knows it is a master */
  int prefer_waited;
  double last_refresh;
  fifo_t held;  /* writes issued before the map was known */
  fifo_t retry; /* TRYAGAIN / CLUSTERDOWN: sent again from the timer */
  fifo_t moving; /* taken from a master that is gone, being routed again */
  creq_t *free_list;
  uv_timer_t timer;
  int timer_on;
  char **scripts;
  size_t n_scripts;
  int ready;
  /* Closing: new commands refused, those outstanding still followed
   * (redirections too) until answered or close_deadline; shutting: the
   * nodes are being closed. */
  int closing, shutting;
  size_t outstanding; /* commands not answered yet (creq_t in use) */
  double close_deadline;
  size_t open_handles;
  eddy_redis_ready_cb ready_cb;
  void *ready_ctx;
  void (*closed)(void *ctx);
  void *closed_ctx;
  uint64_t moved, asked, refreshes;
};

static void fifo_push(fifo_t *f, creq_t *q) {
  q->next = NULL;
  if (f->tail) f->tail->next = q;
  else f->head = q;
  f->tail = q;
  f->n++;
}

static creq_t *fifo_pop(fifo_t *f) {
  creq_t *q = f->head;
  if (!q) return NULL;
  f->head = q->next;
  if (!f->head) f->tail = NULL;
  f->n--;
  return q;
}

static void arm(eddy__cluster_t *cl, uint64_t ms);

static creq_t *creq_get(eddy__cluster_t *cl) {
  creq_t *q = cl->free_list;
  if (q) {
    cl->free_list = q->next;
  } else {
    if (!(q = calloc(1, sizeof *q))) return NULL;
    eddy_buf_init(&q->cmd);
  }
  eddy_buf_clear(&q->cmd);
  cl->outstanding++;
  q->cl = cl;
  q->counted = q->hops = q->retries = 0;
  q->slot = -1;
  return q;
}

static void creq_put(creq_t *q) {
  eddy__cluster_t *cl = q->cl;
  /* A big buffer (a checkpoint's model) is not kept for the next command. */
  if (q->cmd.cap > (1u << 20)) {
    eddy_buf_free(&q->cmd);
    eddy_buf_init(&q->cmd);
  }
  q->next = cl->free_list;
  cl->free_list = q;
  if (--cl->outstanding == 0 && cl->closing) arm(cl, 0); /* everything answered: shut */
}

static void refresh(eddy__cluster_t *cl);
static void on_creply(void *ctx, redisReply *reply);

static void update_ready(eddy__cluster_t *cl) {
  int ready = cl->have_map && !cl->closing;
  if (ready) {
    /* Every node that holds a slot is connected. */
    uint8_t seen[256] = {0};
    for (size_t i = 0; i < NSLOTS && ready; i++) {
      uint16_t n = cl->map[i];
      if (n == NONE) ready = 0;
      else if (n < 256 && seen[n]) continue;
      else if (!cl->nodes[n]->ready) ready = 0;
      else if (n < 256) seen[n] = 1;
    }
  }
  if (ready == cl->ready) return;
  cl->ready = ready;
  if (cl->ready_cb) cl->ready_cb(cl->ready_ctx, ready);
}

static void on_node_ready(void *ctx, int ready) {
  node_t *n = ctx;
  eddy__cluster_t *cl = n->cl;
  n->ready = ready;
  if (cl->shutting) return;
  if (!ready) {
    /* A master lost: a replica may take its slots. */
    cl->need_refresh = 1;
    arm(cl, 100);
  } else if (cl->need_refresh || !cl->have_map) {
    refresh(cl);
  }
  update_ready(cl);
}

/* The node at host:port, connected if new. */
static int node_get(eddy__cluster_t *cl, const char *host, int port) {
  for (size_t i = 0; i < cl->n_nodes; i++)
    if (cl->nodes[i]->port == port && !strcmp(cl->nodes[i]->host, host)) return (int)i;
  if (cl->n_nodes >= NONE - 1) return EDDY_ERANGE;
  node_t **v = realloc(cl->nodes, (cl->n_nodes + 1) * sizeof *v);
  if (!v) return EDDY_ENOMEM;
  cl->nodes = v;
  node_t *n = calloc(1, sizeof *n);
  if (!n) return EDDY_ENOMEM;
  n->cl = cl;
  snprintf(n->host, sizeof n->host, "%s", host);
  n->port = port;
  char url[700], err[512];
  node_url(url, sizeof url, cl->user, cl->pass, host, port);
  if (!(n->r = eddy_redis_new(cl->loop, url, &cl->o, err, sizeof err))) {
    LOG(cl, EDDY_LOG_ERROR, "redis cluster %s: %s", eddy_redis_name(cl->owner), err);
    free(n);
    return EDDY_EIO;
  }
  for (size_t i = 0; i < cl->n_scripts; i++) eddy_redis_script(n->r, cl->scripts[i], NULL);
  eddy_redis_on_ready(n->r, on_node_ready, n);
  cl->nodes[cl->n_nodes] = n;
  cl->open_handles++;
  return (int)cl->n_nodes++;
}

/* Sends q to node n (ASKING first for an ASK redirection). */
static int send_to(eddy__cluster_t *cl, creq_t *q, int n, int asking) {
  eddy_redis_t *r = cl->nodes[n]->r;
  /* A redirected read waits for the node like a write (reads are
   * idempotent): it must not fall out of order with the writes before it. */
  unsigned flags = q->hops ? (q->flags | EDDY_REDIS_REPLAY) : q->flags;
  if (asking) {
    int err = eddy_redis_command_raw(r, flags, NULL, NULL, "*1\r\n$6\r\nASKING\r\n", 16);
    if (err) return err;
  }
  int err = eddy_redis_command_raw(r, flags, on_creply, q, q->cmd.data, q->cmd.len);
  if (!err) q->node = (uint16_t)n;
  return err;
}

/* Sends q by the map: to the node the slot's commands in flight went to. */
static int route(eddy__cluster_t *cl, creq_t *q) {
  int n;
  if (q->slot < 0) {
    n = -1;
    for (size_t i = 0; i < cl->n_nodes && n < 0; i++)
      if (cl->nodes[i]->ready) n = (int)i;
    if (n < 0) return EDDY_EAGAIN;
  } else {
    if (cl->inflight[q->slot] == 0) cl->route[q->slot] = cl->map[q->slot];
    n = cl->route[q->slot];
    if (n == NONE) return EDDY_EAGAIN;
  }
  int err = send_to(cl, q, n, 0);
  if (!err && q->slot >= 0) {
    cl->inflight[q->slot]++;
    q->counted = 1;
  }
  return err;
}

static void deliver(creq_t *q, redisReply *reply) {
  if (q->cb) q->cb(q->ctx, reply);
  creq_put(q);
}

/* Sends again what waited for the map, in order. */
static void flush_held(eddy__cluster_t *cl) {
  while (cl->held.n && !cl->shutting) {
    creq_t *q = cl->held.head;
    if (q->slot >= 0 && cl->map[q->slot] == NONE) break;
    if (route(cl, q)) break;
    fifo_pop(&cl->held);
  }
}

static void on_creply(void *ctx, redisReply *reply) {
  creq_t *q = ctx;
  eddy__cluster_t *cl = q->cl;
  if (q->counted) {
    cl->inflight[q->slot]--;
    q->counted = 0;
  }
  if (reply && reply->type == REDIS_REPLY_ERROR && !cl->shutting) {
    char host[256];
    int slot, port;
    int kind = redirection(reply->str, &slot, host, sizeof host, &port);
    if (kind && q->hops < MAX_HOPS) {
      int n = node_get(cl, host, port);
      if (n >= 0) {
        q->hops++;
        if (kind == 1) {
          /* The slot has a new owner: follow it now, and read the whole
           * map again (a failover moves many slots at once). */
          cl->moved++;
          if (cl->map[slot] != n)
            LOG(cl, EDDY_LOG_INFO, "redis cluster %s: slot %d moved to %s:%d (MOVED): following it",
                     eddy_redis_name(cl->owner), slot, host, port);
          cl->map[slot] = (uint16_t)n;
          cl->prefer = n;
          cl->need_refresh = 1;
          arm(cl, 0);
        } else {
          cl->asked++;
        }
        if (send_to(cl, q, n, kind == 2) == 0) return;
      }
    } else if ((!strncmp(reply->str, "TRYAGAIN", 8) || !strncmp(reply->str, "CLUSTERDOWN", 11)) &&
               q->retries < MAX_RETRIES) {
      q->retries++;
      fifo_push(&cl->retry, q);
      arm(cl, 50);
      return;
    }
  }
  deliver(q, reply);
}

/* The slot map from a CLUSTER SLOTS reply; 0 or a negative code. */
static int read_slots(eddy__cluster_t *cl, const redisReply *rep, const node_t *from) {
  if (rep->type != REDIS_REPLY_ARRAY) return EDDY_EPARSE;
  uint16_t map[NSLOTS];
  for (size_t i = 0; i < NSLOTS; i++) map[i] = NONE;
  for (size_t i = 0; i < rep->elements; i++) {
    const redisReply *e = rep->element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
        e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
        e->element[2]->elements < 2)
      return EDDY_EPARSE;
    long long lo = e->element[0]->integer, hi = e->element[1]->integer;
    const redisReply *m = e->element[2];
    if (lo < 0 || hi >= NSLOTS || lo > hi || m->element[0]->type != REDIS_REPLY_STRING ||
        m->element[1]->type != REDIS_REPLY_INTEGER)
      return EDDY_EPARSE;
    /* An empty or "?" endpoint: the node answering. */
    const char *host = m->element[0]->str;
    if (!*host || !strcmp(host, "?")) host = from->host;
    int n = node_get(cl, host, (int)m->element[1]->integer);
    if (n < 0) return n;
    for (long long s = lo; s <= hi; s++) map[s] = (uint16_t)n;
  }
  int changed = memcmp(cl->map, map, sizeof map) != 0, first = !cl->have_map;
  memcpy(cl->map, map, sizeof map);
  cl->have_map = 1;
  if (changed) {
    size_t masters = 0, covered = 0;
    for (size_t i = 0; i < cl->n_nodes; i++) {
      size_t k = 0;
      for (size_t s = 0; s < NSLOTS; s++) k += map[s] == i;
      masters += k > 0;
      covered += k;
    }
    LOG(cl, EDDY_LOG_INFO, "redis cluster %s: %s (from %s:%d): %zu masters, %zu of %d slots served",
             eddy_redis_name(cl->owner), first ? "slot map read" : "the slot map changed", from->host,
             from->port, masters, covered, NSLOTS);
  }
  return 0;
}

static void take_one(void *arg, eddy_redis_reply_cb cb, void *ctx, const void *cmd, size_t len) {
  (void)cmd;
  (void)len;
  eddy__cluster_t *cl = arg;
  if (cb != on_creply) return; /* an ASKING: the map decides again */
  creq_t *q = ctx;
  if (q->counted) {
    cl->inflight[q->slot]--;
    q->counted = 0;
  }
  fifo_push(&cl->moving, q);
}

/* Writes waiting for a master that is down and no longer holds any slot
 * go to the slots' new masters, in their order. */
static void take_over(eddy__cluster_t *cl) {
  for (size_t i = 0; i < cl->n_nodes; i++) {
    node_t *n = cl->nodes[i];
    if (n->ready || !eddy_redis_pending(n->r)) continue;
    int holds = 0;
    for (size_t s = 0; s < NSLOTS && !holds; s++) holds = cl->map[s] == i;
    if (holds) continue;
    size_t k = eddy__redis_drain(n->r, take_one, cl);
    if (k)
      LOG(cl, EDDY_LOG_WARN, "redis cluster %s: %s:%d is down and serves no slot any more: %zu write%s "
               "waiting for it sent to the slots' new masters", eddy_redis_name(cl->owner), n->host, n->port,
               k, k == 1 ? "" : "s");
  }
  creq_t *q;
  while ((q = fifo_pop(&cl->moving))) {
    int err = route(cl, q);
    if (err) {
      if (err == EDDY_EAGAIN) {
        fifo_push(&cl->retry, q);
        arm(cl, 50);
      } else {
        deliver(q, NULL);
      }
    }
  }
}

/* Some slot's master is not connected. */
static int degraded(const eddy__cluster_t *cl) {
  for (size_t s = 0; s < NSLOTS; s++)
    if (cl->map[s] == NONE || !cl->nodes[cl->map[s]]->ready) return 1;
  return 0;
}

typedef struct slots_req {
  eddy__cluster_t *cl;
  node_t *from;
} slots_req_t;

static void on_slots(void *ctx, redisReply *reply) {
  slots_req_t *sr = ctx;
  eddy__cluster_t *cl = sr->cl;
  node_t *from = sr->from;
  free(sr);
  cl->refreshing = 0;
  if (cl->shutting) return;
  int err = reply ? read_slots(cl, reply, from) : EDDY_EIO;
  if (err) {
    LOG(cl, EDDY_LOG_WARN, "redis cluster %s: CLUSTER SLOTS from %s:%d: %s", eddy_redis_name(cl->owner),
             from->host, from->port,
             reply && reply->type == REDIS_REPLY_ERROR ? reply->str : eddy_strerror(err));
    cl->need_refresh = 1;
    arm(cl, 200);
    return;
  }
  cl->refreshes++;
  take_over(cl);
  flush_held(cl);
  update_ready(cl);
  /* A master is away: ask again until a replica has taken its place. */
  if (degraded(cl)) {
    cl->need_refresh = 1;
    arm(cl, 500);
  }
}

/* Asks a connected node for the slot map. */
static void refresh(eddy__cluster_t *cl) {
  if (cl->refreshing || cl->shutting) return;
  node_t *from = NULL;
  /* After a MOVED, the node it named: the others may not have heard of
   * the failover yet and would give the old map back. */
  if (cl->prefer >= 0 && (size_t)cl->prefer < cl->n_nodes) {
    if (cl->nodes[cl->prefer]->ready) {
      from = cl->nodes[cl->prefer];
    } else if (!cl->prefer_waited) {
      /* Connecting: its ready callback asks, or the timer, once. */
      cl->prefer_waited = 1;
      arm(cl, 300);
      return;
    }
  }
  cl->prefer = -1;
  cl->prefer_waited = 0;
  for (size_t i = 0; i < cl->n_nodes && !from; i++)
    if (cl->nodes[i]->ready) from = cl->nodes[i];
  if (!from) return; /* a node's ready callback asks again */
  slots_req_t *sr = malloc(sizeof *sr);
  if (!sr) return;
  *sr = (slots_req_t){cl, from};
  const char *argv[] = {"CLUSTER", "SLOTS"};
  if (eddy_redis_command(from->r, 0, on_slots, sr, 2, argv, NULL)) {
    free(sr);
    arm(cl, 200);
    return;
  }
  cl->refreshing = 1;
  cl->need_refresh = 0;
  cl->last_refresh = eddy_now();
}

static void shut(eddy__cluster_t *cl);

static void timer_cb(uv_timer_t *t) {
  eddy__cluster_t *cl = t->data;
  cl->timer_on = 0;
  if (cl->shutting) return;
  if (cl->closing && (cl->outstanding == 0 || eddy_now() > cl->close_deadline)) {
    shut(cl);
    return;
  }
  /* The retries, in their order. */
  size_t n = cl->retry.n;
  while (n--) {
    creq_t *q = fifo_pop(&cl->retry);
    int err = route(cl, q);
    if (err == EDDY_EAGAIN && (q->flags & EDDY_REDIS_REPLAY)) {
      fifo_push(&cl->retry, q);
    } else if (err) {
      deliver(q, NULL);
    }
  }
  if (cl->need_refresh) {
    /* At most ten a second. */
    double wait = cl->last_refresh + 0.1 - eddy_now();
    if (wait > 0) arm(cl, (uint64_t)(wait * 1000) + 1);
    else refresh(cl);
  }
  if (cl->retry.n) arm(cl, 50);
  if (cl->closing) arm(cl, 100); /* until answered or the deadline */
}

static void arm(eddy__cluster_t *cl, uint64_t ms) {
  if (cl->timer_on || cl->shutting) return;
  cl->timer_on = 1;
  uv_timer_start(&cl->timer, timer_cb, ms, 0);
}

/* -------------------------------------------------------------- interface */

eddy__cluster_t *eddy__cluster_new(uv_loop_t *loop, eddy_redis_t *owner, const char *url,
                                   const eddy_redis_options_t *o, char *errstr, size_t errstr_size) {
  eddy__cluster_t *cl = calloc(1, sizeof *cl);
  if (!cl) {
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  if (eddy__cluster_url_parse(url, cl->seeds, &cl->n_seeds, errstr, errstr_size)) {
    free(cl);
    return NULL;
  }
  if (eddy_redis_url_credentials(url, cl->user, sizeof cl->user, cl->pass, sizeof cl->pass)) {
    eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "redis cluster: user name or password too long");
    free(cl);
    return NULL;
  }
  cl->loop = loop;
  cl->owner = owner;
  cl->prefer = -1;
  if (o) cl->o = *o;
  for (size_t i = 0; i < NSLOTS; i++) cl->map[i] = cl->route[i] = NONE;
  uv_timer_init(loop, &cl->timer);
  cl->timer.data = cl;
  cl->open_handles = 1;
  for (int i = 0; i < cl->n_seeds; i++) {
    int n = node_get(cl, cl->seeds[i].host, cl->seeds[i].port);
    if (n < 0) eddy_seterr(errstr, errstr_size, n, "redis cluster: cannot start a connection");
  }
  return cl;
}

void eddy__cluster_on_ready(eddy__cluster_t *cl, eddy_redis_ready_cb cb, void *ctx) {
  cl->ready_cb = cb;
  cl->ready_ctx = ctx;
}

int eddy__cluster_ready(const eddy__cluster_t *cl) { return cl->ready; }

int eddy__cluster_script(eddy__cluster_t *cl, const char *source, char *sha1) {
  char sha[41];
  int known = 0;
  for (size_t i = 0; i < cl->n_scripts && !known; i++) known = !strcmp(cl->scripts[i], source);
  if (!known) {
    char **v = realloc(cl->scripts, (cl->n_scripts + 1) * sizeof *v);
    if (!v) return EDDY_ENOMEM;
    cl->scripts = v;
    if (!(v[cl->n_scripts] = strdup(source))) return EDDY_ENOMEM;
    cl->n_scripts++;
  }
  for (size_t i = 0; i < cl->n_nodes; i++) {
    int err = eddy_redis_script(cl->nodes[i]->r, source, sha);
    if (err) return err;
  }
  if (sha1) {
    if (!cl->n_nodes) return EDDY_ESTATE;
    memcpy(sha1, sha, 41);
  }
  return 0;
}

int eddy__cluster_command_raw(eddy__cluster_t *cl, unsigned flags, eddy_redis_reply_cb cb, void *ctx,
                              const void *cmd, size_t len) {
  if (cl->closing) return EDDY_ESTATE;
  int replay = (flags & EDDY_REDIS_REPLAY) != 0;
  if (!replay && !cl->ready) return EDDY_EAGAIN;
  creq_t *q = creq_get(cl);
  if (!q) return EDDY_ENOMEM;
  q->cb = cb;
  q->ctx = ctx;
  q->flags = flags;
  eddy_buf_put(&q->cmd, cmd, len);
  if (q->cmd.err) {
    creq_put(q);
    return EDDY_ENOMEM;
  }
  size_t klen = 0;
  const char *key = resp_key(cmd, len, &klen);
  q->slot = key ? eddy_redis_cluster_slot(key, klen) : -1;
  /* Behind writes that wait for the map: keep their order. */
  if (replay && (cl->held.n || (q->slot >= 0 && cl->map[q->slot] == NONE) || (q->slot < 0 && !cl->ready))) {
    fifo_push(&cl->held, q);
    return 0;
  }
  int err = route(cl, q);
  if (err) creq_put(q);
  return err;
}

size_t eddy__cluster_pending(const eddy__cluster_t *cl) {
  size_t n = cl->held.n + cl->retry.n;
  for (size_t i = 0; i < cl->n_nodes; i++) n += eddy_redis_pending(cl->nodes[i]->r);
  return n;
}

void eddy__cluster_stats(const eddy__cluster_t *cl, eddy_redis_stats_t *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < cl->n_nodes; i++) {
    eddy_redis_stats_t s;
    eddy_redis_stats(cl->nodes[i]->r, &s);
    out->connects += s.connects;
    out->disconnects += s.disconnects;
    out->timeouts += s.timeouts;
    out->failed_attempts += s.failed_attempts;
    out->replayed += s.replayed;
  }
}

static void cluster_free(eddy__cluster_t *cl) {
  void (*closed)(void *) = cl->closed;
  void *ctx = cl->closed_ctx;
  for (size_t i = 0; i < cl->n_nodes; i++) free(cl->nodes[i]);
  free(cl->nodes);
  while (cl->free_list) {
    creq_t *q = cl->free_list;
    cl->free_list = q->next;
    eddy_buf_free(&q->cmd);
    free(q);
  }
  for (size_t i = 0; i < cl->n_scripts; i++) free(cl->scripts[i]);
  free(cl->scripts);
  eddy__redis_owner_free(cl->owner);
  free(cl);
  if (closed) closed(ctx);
}

static void one_closed(eddy__cluster_t *cl) {
  if (--cl->open_handles == 0) cluster_free(cl);
}

static void node_closed(void *ctx) {
  node_t *n = ctx;
  n->closed = 1;
  one_closed(n->cl);
}

static void timer_closed(uv_handle_t *h) { one_closed(h->data); }

/* Every command answered (or the deadline passed): the nodes close. */
static void shut(eddy__cluster_t *cl) {
  cl->shutting = 1;
  size_t lost = cl->held.n + cl->retry.n + cl->moving.n;
  if (lost)
    LOG(cl, EDDY_LOG_WARN, "redis cluster %s: closing with %zu write%s that never reached Redis",
        eddy_redis_name(cl->owner), lost, lost == 1 ? "" : "s");
  fifo_t *fs[] = {&cl->held, &cl->retry, &cl->moving};
  for (int k = 0; k < 3; k++) {
    creq_t *q;
    while ((q = fifo_pop(fs[k]))) deliver(q, NULL);
  }
  uv_timer_stop(&cl->timer);
  uv_close((uv_handle_t *)&cl->timer, timer_closed);
  /* Nodes answer what is still in flight (past the deadline), then close. */
  size_t n = cl->n_nodes;
  for (size_t i = 0; i < n; i++) {
    eddy_redis_on_ready(cl->nodes[i]->r, NULL, NULL);
    eddy_redis_close(cl->nodes[i]->r, node_closed, cl->nodes[i]);
  }
}

void eddy__cluster_close(eddy__cluster_t *cl, void (*closed)(void *ctx), void *ctx) {
  if (cl->closing) return;
  cl->closing = 1;
  cl->closed = closed;
  cl->closed_ctx = ctx;
  /* What is on its way is still answered, redirections followed. */
  cl->close_deadline = eddy_now() + (cl->o.request_timeout > 0 ? cl->o.request_timeout : 10);
  arm(cl, 0);
}

/* ------------------------------------------------------------------- sync */

/* Blocking connections made from a cluster URL: redisContext has no
 * user data in hiredis 0.14, so they are remembered here. */
typedef struct sync_entry {
  const redisContext *c;
  char user[128], pass[256]; /* for the nodes a redirection names */
  struct sync_entry *next;
} sync_entry_t;

static pthread_mutex_t sync_lock = PTHREAD_MUTEX_INITIALIZER;
static sync_entry_t *sync_list;

redisContext *eddy__cluster_connect_sync(const char *url, double timeout, char *errstr, size_t errstr_size) {
  eddy__seed_t seeds[EDDY__CLUSTER_MAX_SEEDS];
  int n;
  if (eddy__cluster_url_parse(url, seeds, &n, errstr, errstr_size)) return NULL;
  struct timeval tv = {(time_t)timeout, (suseconds_t)((timeout - (double)(time_t)timeout) * 1e6)};
  redisContext *c = NULL;
  for (int i = 0; i < n && !c; i++) {
    c = redisConnectWithTimeout(seeds[i].host, seeds[i].port, tv);
    if (c && c->err) {
      eddy_seterr(errstr, errstr_size, EDDY_EIO, "redis %s:%d: cannot connect: %s", seeds[i].host,
                  seeds[i].port, c->errstr);
      redisFree(c);
      c = NULL;
    } else if (c && eddy__redis_auth_sync(c, url, errstr, errstr_size)) {
      redisFree(c);
      return NULL; /* the same credentials everywhere: no use trying the next */
    } else if (!c) {
      eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    }
  }
  if (!c) return NULL;
  redisSetTimeout(c, tv);
  sync_entry_t *e = malloc(sizeof *e);
  if (!e) {
    redisFree(c);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  e->c = c;
  eddy_redis_url_credentials(url, e->user, sizeof e->user, e->pass, sizeof e->pass);
  pthread_mutex_lock(&sync_lock);
  e->next = sync_list;
  sync_list = e;
  pthread_mutex_unlock(&sync_lock);
  return c;
}

/* The entry of c (a copy), or 0 when c is not a cluster's. */
static int sync_entry(const redisContext *c, sync_entry_t *out) {
  pthread_mutex_lock(&sync_lock);
  sync_entry_t *e = sync_list;
  while (e && e->c != c) e = e->next;
  if (e && out) *out = *e;
  pthread_mutex_unlock(&sync_lock);
  return e != NULL;
}

int eddy_redis_sync_is_cluster(const redisContext *c) { return sync_entry(c, NULL); }

void eddy_redis_sync_free(redisContext *c) {
  if (!c) return;
  pthread_mutex_lock(&sync_lock);
  for (sync_entry_t **p = &sync_list; *p; p = &(*p)->next)
    if ((*p)->c == c) {
      sync_entry_t *e = *p;
      *p = e->next;
      free(e);
      break;
    }
  pthread_mutex_unlock(&sync_lock);
  redisFree(c);
}

static redisReply *sync_roundtrip(redisContext *c, const char *cmd, size_t len, int asking) {
  if (asking) redisAppendFormattedCommand(c, "*1\r\n$6\r\nASKING\r\n", 16);
  redisAppendFormattedCommand(c, cmd, len);
  void *rep = NULL;
  if (asking) {
    if (redisGetReply(c, &rep) != REDIS_OK) return NULL;
    freeReplyObject(rep);
    rep = NULL;
  }
  if (redisGetReply(c, &rep) != REDIS_OK) return NULL;
  return rep;
}

/* Sends a command in RESP form on c; a MOVED or ASK answer is followed on
 * a connection of its own to the node named (the tools make few calls). */
static redisReply *sync_formatted(redisContext *c, const char *cmd, size_t len) {
  redisReply *rep = sync_roundtrip(c, cmd, len, 0);
  sync_entry_t e;
  if (!rep || !sync_entry(c, &e)) return rep;
  struct timeval tv = c->timeout ? *c->timeout : (struct timeval){2, 0};
  for (int hop = 0; hop < 5 && rep && rep->type == REDIS_REPLY_ERROR; hop++) {
    char host[256];
    int slot, port;
    int kind = redirection(rep->str, &slot, host, sizeof host, &port);
    if (!kind) break;
    redisContext *o = redisConnectWithTimeout(host, port, tv);
    if (!o || o->err) {
      if (o) redisFree(o);
      break; /* the redirection is the answer */
    }
    redisSetTimeout(o, tv);
    char url[700], why[256];
    node_url(url, sizeof url, e.user, e.pass, host, port);
    if (eddy__redis_auth_sync(o, url, why, sizeof why)) {
      redisFree(o);
      break;
    }
    redisReply *next = sync_roundtrip(o, cmd, len, kind == 2);
    redisFree(o);
    if (!next) break;
    freeReplyObject(rep);
    rep = next;
  }
  return rep;
}

redisReply *eddy_redis_sync_command(redisContext *c, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *cmd = NULL;
  int len = redisvFormatCommand(&cmd, fmt, ap);
  va_end(ap);
  if (len < 0) return NULL;
  redisReply *rep = sync_formatted(c, cmd, (size_t)len);
  free(cmd);
  return rep;
}

redisReply *eddy_redis_sync_argv(redisContext *c, int argc, const char **argv, const size_t *lens) {
  char *cmd = NULL;
  int len = redisFormatCommandArgv(&cmd, argc, argv, lens);
  if (len < 0) return NULL;
  redisReply *rep = sync_formatted(c, cmd, (size_t)len);
  free(cmd);
  return rep;
}
