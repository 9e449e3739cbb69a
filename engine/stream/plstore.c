/* plstore.c: the model stores of `eddy run` ([state] store). `memory`
 * keeps the aggregates in a bounded in-process table and the models in
 * the tasks only. `redis://...` keeps both in Redis on one asynchronous
 * connection per pipeline (connectors/redis.c: reconnects with backoff,
 * replays writes, says when it is away): the entities' aggregates
 * (connectors/state_redis.c), a checkpoint per partition written by one
 * Lua script (connectors/ckpt_redis.c) and the stream of alerts. A
 * blocking connection reads checkpoints at assignment: the rebalance
 * callback gives the partitions' start offsets to rd_kafka_assign and
 * cannot wait for the loop. */
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/stream/stream.h"

/* ---------------------------------------------------------------- memory */

static int mem_open(eddy_plstore_t *s, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = eddy_pipeline_conf(s->pl);
  if (!s->aggs->n) return 0;
  s->entities = eddy_store_new(c, s->aggs, NULL, errstr, errstr_size);
  return s->entities ? 0 : EDDY_EINVAL;
}

static void mem_close(eddy_plstore_t *s) {
  eddy_store_free(s->entities);
  s->entities = NULL;
}

const eddy_plstore_type_t eddy_plstore_memory = {
    .name = "memory",
    .open = mem_open,
    .close = mem_close,
};

/* ----------------------------------------------------------------- Redis */

typedef struct rps {
  const eddy_pipeline_conf_t *conf;
  eddy_redis_t *redis;
  redisContext *sync;   /* for restores; made when first needed */
  double restore_logged; /* when a failed restore was last logged */
  uint64_t alert_errors;
} rps_t;

typedef struct ckreq {
  eddy_pipeline_t *pl;
  int32_t partition;
  int64_t offset, label_offset;
  int kind;
} ckreq_t;

static const char *prefix_of(const eddy_pipeline_conf_t *c) {
  return c->state.key_prefix && *c->state.key_prefix ? c->state.key_prefix : "eddy";
}

static int rps_open(eddy_plstore_t *s, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = eddy_pipeline_conf(s->pl);
  const eddy_kv_t *w = eddy_conf_where(c, "state", "store");
  const char *file = w && w->file ? w->file : c->file;
  int line = w ? w->line : c->line;
  char host[256], why[512];
  int port, db;
  if (eddy_redis_url_parse(c->state.store, host, sizeof host, &port, &db, why, sizeof why))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "%s:%d: [state] key 'store': %s", file, line, why);
  /* Checkpoints and entity states are kept per partition number: one
   * topic, so that a partition number names one stream. */
  const char *t = c->source.topics ? c->source.topics : "";
  while (*t == ' ' || *t == '\t') t++;
  if (*t == '^' || strchr(t, ','))
    return eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                       "%s:%d: [source] topics '%s': with [state] store = redis://, a pipeline reads one "
                       "topic (checkpoints are kept per partition); use one pipeline per topic",
                       c->file, c->line, c->source.topics);
  rps_t *x = calloc(1, sizeof *x);
  if (!x) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  x->conf = c;
  s->impl = x;
  return 0;
}

static void rps_on_ready(void *ctx, int ready) {
  eddy_plstore_t *s = ctx;
  eddy__pipeline_store_ready(s->pl, ready);
}

/* An error reply that means the credentials were refused, or are wanted. */
static int auth_refused(const char *msg) {
  return msg && (strstr(msg, "WRONGPASS") || strstr(msg, "NOAUTH") || strstr(msg, "NOPERM") ||
                 strstr(msg, "invalid password") || strstr(msg, "invalid username-password"));
}

/* Credentials Redis refuses (or none where it wants some) are a clear error
 * at start, not the retry loop of a connection that is not usable; a server
 * that cannot be reached yet is waited for, as always. */
static int auth_check(const char *url, char *errstr, size_t errstr_size) {
  char why[700];
  redisContext *c = eddy_redis_connect_sync(url, 2.0, why, sizeof why);
  if (!c) {
    return auth_refused(why) ? eddy_seterr(errstr, errstr_size, EDDY_EACCES, "authentication failed: %s", why) : 0;
  }
  redisReply *r = eddy_redis_sync_command(c, "PING");
  int refused = r && r->type == REDIS_REPLY_ERROR && auth_refused(r->str);
  if (refused)
    eddy_seterr(errstr, errstr_size, EDDY_EACCES, "authentication failed: redis %s: %s (the server wants a "
                "password: redis://[USER]:PASSWORD@HOST)", c->tcp.host ? c->tcp.host : "?", r->str);
  if (r) freeReplyObject(r);
  eddy_redis_sync_free(c);
  return refused ? EDDY_EACCES : 0;
}

static int rps_start(eddy_plstore_t *s, uv_loop_t *loop, char *errstr, size_t errstr_size) {
  rps_t *x = s->impl;
  eddy_redis_options_t o = {.connect_timeout = 2, .request_timeout = 10, .backoff_min = 0.1,
                            .backoff_max = 5};
  int err = auth_check(x->conf->state.store, errstr, errstr_size);
  if (err) return err;
  x->redis = eddy_redis_new(loop, x->conf->state.store, &o, errstr, errstr_size);
  if (!x->redis) return EDDY_EIO;
  eddy_redis_on_ready(x->redis, rps_on_ready, s);
  if (s->aggs->n && !(s->entities = eddy_store_new(x->conf, s->aggs, x->redis, errstr, errstr_size))) {
    eddy_redis_on_ready(x->redis, NULL, NULL);
    eddy_redis_close(x->redis, NULL, NULL);
    x->redis = NULL;
    return EDDY_EINVAL;
  }
  return 0;
}

static void rps_closed(void *ctx) {
  eddy_plstore_t *s = ctx;
  rps_t *x = s->impl;
  x->redis = NULL;
  eddy__pipeline_store_closed(s->pl);
}

static void rps_stop(eddy_plstore_t *s) {
  rps_t *x = s->impl;
  if (!x->redis) return;
  eddy_redis_on_ready(x->redis, NULL, NULL);
  eddy_redis_close(x->redis, rps_closed, s);
}

static void rps_close(eddy_plstore_t *s) {
  rps_t *x = s->impl;
  eddy_store_free(s->entities);
  s->entities = NULL;
  if (!x) return;
  if (x->sync) eddy_redis_sync_free(x->sync);
  free(x);
  s->impl = NULL;
}

static int rps_ready(const eddy_plstore_t *s) {
  const rps_t *x = s->impl;
  return x->redis && eddy_redis_ready(x->redis);
}

/* Keeps a refused checkpoint for inspection under KEY:refused, so that
 * the partition's next checkpoints (from a fresh model, at offsets the
 * refused one may be past) are written. */
static void set_aside(rps_t *x, const char *key) {
  char aside[600];
  snprintf(aside, sizeof aside, "%s:refused", key);
  redisReply *r = eddy_redis_sync_command(x->sync, "RENAME %s %s", key, aside);
  if (r && r->type != REDIS_REPLY_ERROR)
    eddy_log(EDDY_LOG_WARN, "pipeline %s: the refused checkpoint is kept as %s", x->conf->pipeline.name, aside);
  else
    eddy_log(EDDY_LOG_WARN, "pipeline %s: cannot rename %s: %s", x->conf->pipeline.name, key,
             r ? r->str : x->sync->errstr);
  if (r) freeReplyObject(r);
}

/* [source] label_topic: the predictions that waited for their labels at
 * the checkpoint (its format 2 fields); the label partition is read from
 * the checkpoint's label offset (pipeline_labels.c). */
static int restore_waiting(rps_t *x, eddy_ptask_t *t, const eddy_ckpt_t *ck, char *why, size_t why_size) {
  if (!t->waiting) return 0;
  if (ck->waiting_gone)
    eddy_log(EDDY_LOG_WARN, "pipeline %s: %s [%d]: the predictions waiting for their labels at checkpoint %s "
             "expired in Redis (2 x [source] label_ttl of wall clock after it): their labels are unknown ids",
             x->conf->pipeline.name, t->topic, (int)t->partition, ck->key);
  if (!ck->waiting) return 0;
  return eddy_waiting_load(t->waiting, ck->waiting, ck->waiting_len, ck->offset, ck->label_offset, why, why_size);
}

static int rps_restore(eddy_plstore_t *s, eddy_ptask_t *t, int64_t *offset) {
  rps_t *x = s->impl;
  const eddy_pipeline_conf_t *c = x->conf;
  const char *name = c->pipeline.name;
  char err[1600];
  eddy_ckpt_t ck;
  int e = EDDY_EIO;
  /* A connection kept from an earlier assignment may have been closed
   * (Redis restarted): one more try on a new one. */
  for (int attempt = 0; attempt < 2 && e == EDDY_EIO; attempt++) {
    if (!x->sync && !(x->sync = eddy_redis_connect_sync(c->state.store, 2.0, err, sizeof err))) break;
    e = eddy_ckpt_read_sync(x->sync, prefix_of(c), name, t->partition, &ck, err, sizeof err);
    if (e == EDDY_EIO && x->sync->err) {
      eddy_redis_sync_free(x->sync);
      x->sync = NULL;
    } else {
      break;
    }
  }
  /* Not connected, or an error from Redis that passes (LOADING while it
   * reads its AOF at a restart, BUSY): the assignment waits. A key of
   * another type is refused below. */
  if (!x->sync || (e == EDDY_EIO && !strstr(err, "WRONGTYPE"))) {
    double now = eddy_now();
    if (now - x->restore_logged >= 30) {
      eddy_log(EDDY_LOG_WARN, "pipeline %s: %s [%d]: cannot read its checkpoint: %s (trying again every "
               "second)", name, t->topic, (int)t->partition, err);
      x->restore_logged = now;
    }
    return EDDY_EAGAIN;
  }
  x->restore_logged = 0;
  if (e == 0) {
    char why[512];
    if ((e = restore_waiting(x, t, &ck, why, sizeof why))) {
      snprintf(err, sizeof err, "checkpoint %s refused: %s", ck.key, why);
    } else if ((e = eddy_replica_load(t->replica, ck.model, ck.model_len, why, sizeof why))) {
      snprintf(err, sizeof err, "checkpoint %s refused: %s", ck.key, why);
      if (t->waiting) eddy_waiting_clear(t->waiting);
    } else {
      *offset = ck.offset;
      t->ckpt_offset = ck.offset;
      t->label_ckpt = t->label_acked = ck.label_offset;
      if (t->store) eddy_state_batch_restore(t->store, ck.offset);
      eddy_log(EDDY_LOG_INFO,
               "pipeline %s: %s [%d]: model restored from %s (%s, version %" PRIu64 ", %zu bytes): "
               "consuming from offset %" PRId64,
               name, t->topic, (int)t->partition, ck.key, ck.learner, t->replica->version, ck.model_len,
               ck.offset);
      eddy_ckpt_clear(&ck);
      return 0;
    }
  }
  char key[512];
  eddy_ckpt_key(key, sizeof key, eddy_redis_url_is_cluster(c->state.store), prefix_of(c), name, t->partition);
  if (e == EDDY_ENOENT) {
    eddy_log(EDDY_LOG_INFO, "pipeline %s: %s [%d]: no checkpoint (%s): a fresh model from the group's "
             "committed offset", name, t->topic, (int)t->partition, key);
  } else {
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: %s; %s [%d] starts from the group's committed offset with a "
             "fresh model", name, err, t->topic, (int)t->partition);
    set_aside(x, key);
  }
  eddy_ckpt_clear(&ck);
  t->ckpt_offset = -1;
  t->label_ckpt = t->label_acked = -1;
  if (t->store) eddy_state_batch_restore(t->store, -1);
  return 0;
}

static void rps_checkpointed(void *ctx, int status, int64_t stored) {
  ckreq_t *q = ctx;
  eddy__pipeline_checkpointed(q->pl, q->partition, q->offset, q->label_offset, q->kind, status, stored);
  free(q);
}

static int rps_checkpoint(eddy_plstore_t *s, eddy_ptask_t *t, int64_t next_offset, const void *model,
                          size_t len, const eddy_ckpt_labels_t *labels, int kind) {
  rps_t *x = s->impl;
  if (!x->redis) return EDDY_ESTATE;
  ckreq_t *q = malloc(sizeof *q);
  if (!q) return EDDY_ENOMEM;
  *q = (ckreq_t){s->pl, t->partition, next_offset, labels ? labels->offset : -1, kind};
  const char *learner = x->conf->model.learner;
  uint64_t version = t->replica ? t->replica->version : 0;
  int err;
  /* Through the entity store between batches: the entities' epoch moves
   * with it (a task restored from it replays against the same features).
   * A batch fetched and dropped (a revocation) wrote nothing: then the
   * checkpoint alone. */
  if (s->entities && t->store && t->store->phase == 0)
    err = eddy_store_checkpoint(s->entities, t->store, next_offset, version, learner, model, len, labels,
                                rps_checkpointed, q);
  else
    err = eddy_ckpt_write_labels(x->redis, prefix_of(x->conf), x->conf->pipeline.name, t->partition,
                                 next_offset, version, learner, model, len, labels, rps_checkpointed, q);
  if (err) free(q);
  return err;
}

static void rps_alert(eddy_plstore_t *s, const eddy_alert_t *a) {
  rps_t *x = s->impl;
  if (!x->redis) return;
  int err = eddy_alert_xadd(x->redis, prefix_of(x->conf), x->conf->sink.alerts_maxlen, a);
  if (err && x->alert_errors++ == 0)
    eddy_log(EDDY_LOG_ERROR, "pipeline %s: cannot add an alert to Redis: %s", x->conf->pipeline.name,
             eddy_strerror(err));
}

const eddy_plstore_type_t eddy_plstore_redis = {
    .name = "redis",
    .open = rps_open,
    .start = rps_start,
    .stop = rps_stop,
    .close = rps_close,
    .restore = rps_restore,
    .checkpoint = rps_checkpoint,
    .alert = rps_alert,
    .ready = rps_ready,
};
