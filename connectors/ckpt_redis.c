/* ckpt_redis.c: model checkpoints in Redis per pipeline and partition,
 * written by one Lua script that refuses an offset not greater than the
 * stored one (EVALSHA, falling back to EVAL on NOSCRIPT), and read back
 * and verified on a blocking connection (restore on assignment, `eddy
 * models`). The model bytes are opaque: an eddy checkpoint blob. */
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "connectors/connectors.h"

/* KEYS: the checkpoint hash, the waiting predictions' key, the set of
 * partitions (not on a cluster: it lies in another slot and is added to
 * by its own SADD).
 * ARGV: next offset, model bytes, version, learner, time, partition,
 * label next offset (-1: none), waiting bytes, their expiry in ms (0:
 * none). Written when neither offset is behind the stored ones and one
 * is ahead (a format 1 checkpoint has label offset -1). */
static const char script[] =
    "local cur = redis.call('HMGET', KEYS[1], 'offset', 'label_offset')\n"
    "local o, lo = tonumber(ARGV[1]), tonumber(ARGV[7])\n"
    "if cur[1] then\n"
    "  local co, cl = tonumber(cur[1]), tonumber(cur[2] or '-1')\n"
    "  if co > o or cl > lo or (co == o and cl == lo) then return {0, cur[1]} end\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'offset', ARGV[1], 'model', ARGV[2], 'version', ARGV[3],\n"
    "           'learner', ARGV[4], 'time', ARGV[5], 'bytes', tostring(string.len(ARGV[2])),\n"
    "           'format', '2', 'label_offset', ARGV[7], 'waiting', tostring(string.len(ARGV[8])))\n"
    "if string.len(ARGV[8]) > 0 then\n"
    "  if tonumber(ARGV[9]) > 0 then redis.call('SET', KEYS[2], ARGV[8], 'PX', ARGV[9])\n"
    "  else redis.call('SET', KEYS[2], ARGV[8]) end\n"
    "else redis.call('DEL', KEYS[2]) end\n"
    "if KEYS[3] then redis.call('SADD', KEYS[3], ARGV[6]) end\n"
    "return {1, ARGV[1]}\n";

const char *eddy_ckpt_key(char *buf, size_t size, int cluster, const char *prefix, const char *pipeline,
                          int32_t partition) {
  if (cluster)
    snprintf(buf, size, "%s:{%s:%d}:ckpt", prefix, pipeline, (int)partition);
  else
    snprintf(buf, size, "%s:%s:ckpt:%d", prefix, pipeline, (int)partition);
  return buf;
}

/* The set of partitions with a checkpoint. */
static const char *ckpts_key(char *buf, size_t size, int cluster, const char *prefix, const char *pipeline) {
  snprintf(buf, size, cluster ? "%s:{%s}:ckpts" : "%s:%s:ckpts", prefix, pipeline);
  return buf;
}

/* The waiting predictions of a partition (in the checkpoint's slot). */
static const char *waiting_key(char *buf, size_t size, int cluster, const char *prefix, const char *pipeline,
                               int32_t partition) {
  if (cluster)
    snprintf(buf, size, "%s:{%s:%d}:waiting", prefix, pipeline, (int)partition);
  else
    snprintf(buf, size, "%s:%s:waiting:%d", prefix, pipeline, (int)partition);
  return buf;
}

/* What a write needs again for the EVAL fallback. */
typedef struct ckpt_req {
  eddy_redis_t *r;
  eddy_ckpt_cb cb;
  void *ctx;
  char key[512], wkey[512], set[512], offset[32], version[32], learner[64], time[40], partition[16];
  char loffset[32], ttl[32];
  size_t len, wlen;
  int retried, cluster;
  uint8_t model[]; /* len bytes, then wlen bytes of waiting predictions */
} ckpt_req_t;

static int send_ckpt(ckpt_req_t *q, int eval);

static void on_ckpt(void *ctx, redisReply *reply) {
  ckpt_req_t *q = ctx;
  int status = EDDY_EIO;
  int64_t stored = -1;
  if (reply && reply->type == REDIS_REPLY_ERROR && !q->retried &&
      strncasecmp(reply->str, "NOSCRIPT", 8) == 0) {
    /* The script cache was flushed under us: send the script itself. */
    q->retried = 1;
    if (send_ckpt(q, 1) == 0) return;
  }
  if (!reply) {
    eddy_log(EDDY_LOG_ERROR, "checkpoint %s: not written (connection closed)", q->key);
  } else if (reply->type == REDIS_REPLY_ERROR) {
    eddy_log(EDDY_LOG_ERROR, "checkpoint %s: Redis refused it: %s", q->key, reply->str);
  } else if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
             reply->element[0]->type == REDIS_REPLY_INTEGER) {
    const redisReply *o = reply->element[1];
    if (o->type == REDIS_REPLY_STRING) eddy_parse_int(o->str, &stored);
    status = reply->element[0]->integer == 1 ? 0 : EDDY_ESTATE;
  }
  if (q->cb) q->cb(q->ctx, status, stored);
  free(q);
}

static int send_ckpt(ckpt_req_t *q, int eval) {
  char sha[41];
  int err = eddy_redis_script(q->r, script, sha);
  if (err) return err;
  /* On a cluster, without the set (KEYS[3]): two keys of one slot. */
  int k = q->cluster ? 2 : 3;
  const char *argv[] = {eval ? "EVAL" : "EVALSHA", eval ? script : sha, k == 2 ? "2" : "3", q->key, q->wkey,
                        q->set, q->offset, (const char *)q->model, q->version, q->learner, q->time,
                        q->partition, q->loffset, (const char *)q->model + q->len, q->ttl};
  size_t lens[15];
  for (int i = 0; i < 15; i++) lens[i] = i == 7 ? q->len : i == 13 ? q->wlen : strlen(argv[i]);
  if (k == 2) {
    memmove(&argv[5], &argv[6], 9 * sizeof argv[0]);
    memmove(&lens[5], &lens[6], 9 * sizeof lens[0]);
  }
  return eddy_redis_command(q->r, EDDY_REDIS_REPLAY, on_ckpt, q, 12 + k, argv, lens);
}

int eddy_ckpt_write(eddy_redis_t *r, const char *prefix, const char *pipeline, int32_t partition,
                    int64_t next_offset, uint64_t version, const char *learner, const void *model,
                    size_t len, eddy_ckpt_cb cb, void *ctx) {
  return eddy_ckpt_write_labels(r, prefix, pipeline, partition, next_offset, version, learner, model, len, NULL,
                                cb, ctx);
}

int eddy_ckpt_write_labels(eddy_redis_t *r, const char *prefix, const char *pipeline, int32_t partition,
                           int64_t next_offset, uint64_t version, const char *learner, const void *model,
                           size_t len, const eddy_ckpt_labels_t *labels, eddy_ckpt_cb cb, void *ctx) {
  size_t wlen = labels && labels->waiting ? labels->waiting_len : 0;
  ckpt_req_t *q = malloc(sizeof *q + len + wlen + 1);
  if (!q) return EDDY_ENOMEM;
  q->r = r;
  q->cb = cb;
  q->ctx = ctx;
  q->len = len;
  q->wlen = wlen;
  q->retried = 0;
  q->cluster = eddy_redis_is_cluster(r);
  eddy_ckpt_key(q->key, sizeof q->key, q->cluster, prefix, pipeline, partition);
  waiting_key(q->wkey, sizeof q->wkey, q->cluster, prefix, pipeline, partition);
  ckpts_key(q->set, sizeof q->set, q->cluster, prefix, pipeline);
  snprintf(q->offset, sizeof q->offset, "%lld", (long long)next_offset);
  snprintf(q->version, sizeof q->version, "%llu", (unsigned long long)version);
  snprintf(q->learner, sizeof q->learner, "%s", learner ? learner : "");
  snprintf(q->time, sizeof q->time, "%.3f", eddy_wallclock());
  snprintf(q->partition, sizeof q->partition, "%d", (int)partition);
  snprintf(q->loffset, sizeof q->loffset, "%lld", (long long)(labels ? labels->offset : -1));
  snprintf(q->ttl, sizeof q->ttl, "%lld", (long long)(labels && labels->ttl_ms > 0 ? labels->ttl_ms : 0));
  if (len) memcpy(q->model, model, len);
  if (wlen) memcpy(q->model + len, labels->waiting, wlen);
  int err = send_ckpt(q, 0);
  if (err) {
    free(q);
    return err;
  }
  /* The set's own write, after the checkpoint's (at least once; it is
   * only a list: a partition's checkpoint is read by its key). */
  if (q->cluster) {
    const char *argv[] = {"SADD", q->set, q->partition};
    err = eddy_redis_command(r, EDDY_REDIS_REPLAY, NULL, NULL, 3, argv, NULL);
  }
  return err;
}

/* A format 2 checkpoint's waiting predictions (bytes long): gone when
 * Redis expired them, refused when they do not verify. */
static int read_waiting(redisContext *c, const char *prefix, const char *pipeline, eddy_ckpt_t *out, size_t bytes,
                        char *errstr, size_t errstr_size) {
  char key[512], why[512];
  waiting_key(key, sizeof key, eddy_redis_sync_is_cluster(c), prefix, pipeline, out->partition);
  redisReply *rep = eddy_redis_sync_command(c, "GET %s", key);
  if (!rep) return eddy_seterr(errstr, errstr_size, EDDY_EIO, "checkpoint %s: %s: %s", out->key, key, c->errstr);
  int err = 0;
  if (rep->type == REDIS_REPLY_NIL) {
    out->waiting_gone = 1;
  } else if (rep->type != REDIS_REPLY_STRING) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "checkpoint %s: %s: %s", out->key, key,
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "not a string");
  } else if (rep->len != bytes || eddy_ckpt_verify(rep->str, rep->len, why, sizeof why)) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s refused: its waiting predictions %s %s",
                      out->key, key, rep->len != bytes ? "are not the ones it names (length)" : why);
  } else if (!(out->waiting = malloc(rep->len))) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  } else {
    memcpy(out->waiting, rep->str, rep->len);
    out->waiting_len = rep->len;
  }
  freeReplyObject(rep);
  return err;
}

void eddy_ckpt_clear(eddy_ckpt_t *ck) {
  free(ck->model);
  free(ck->waiting);
  memset(ck, 0, sizeof *ck);
}

int eddy_ckpt_read_sync(redisContext *c, const char *prefix, const char *pipeline,
                        int32_t partition, eddy_ckpt_t *out, char *errstr, size_t errstr_size) {
  memset(out, 0, sizeof *out);
  eddy_ckpt_key(out->key, sizeof out->key, eddy_redis_sync_is_cluster(c), prefix, pipeline, partition);
  snprintf(out->pipeline, sizeof out->pipeline, "%s", pipeline);
  out->partition = partition;
  out->offset = -1;
  out->label_offset = -1;
  out->format = 1;
  redisReply *rep = eddy_redis_sync_command(c, "HGETALL %s", out->key);
  if (!rep)
    return eddy_seterr(errstr, errstr_size, EDDY_EIO, "checkpoint %s: %s", out->key, c->errstr);
  int err = 0;
  if (rep->type != REDIS_REPLY_ARRAY) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "checkpoint %s: %s", out->key,
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "not a hash");
  } else if (rep->elements == 0) {
    err = eddy_seterr(errstr, errstr_size, EDDY_ENOENT, "checkpoint %s: none", out->key);
  } else {
    int have_model = 0, have_offset = 0;
    int64_t waiting_bytes = 0;
    for (size_t i = 0; i + 1 < rep->elements && !err; i += 2) {
      const redisReply *k = rep->element[i], *v = rep->element[i + 1];
      if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
      int64_t n;
      if (strcmp(k->str, "model") == 0) {
        out->model = malloc(v->len ? v->len : 1);
        if (!out->model) err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
        else memcpy(out->model, v->str, v->len);
        out->model_len = v->len;
        have_model = 1;
      } else if (strcmp(k->str, "offset") == 0) {
        if (eddy_parse_int(v->str, &n) || n < 0)
          err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: bad offset '%s'",
                            out->key, v->str);
        out->offset = n;
        have_offset = 1;
      } else if (strcmp(k->str, "version") == 0) {
        if (!eddy_parse_int(v->str, &n)) out->version = (uint64_t)n;
      } else if (strcmp(k->str, "learner") == 0) {
        snprintf(out->learner, sizeof out->learner, "%s", v->str);
      } else if (strcmp(k->str, "time") == 0) {
        eddy_parse_double(v->str, &out->time);
      } else if (strcmp(k->str, "format") == 0) {
        if (eddy_parse_int(v->str, &n) || n < 1)
          err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: bad format '%s'", out->key, v->str);
        else if (n > EDDY_CKPT_FORMAT)
          err = eddy_seterr(errstr, errstr_size, EDDY_EVERSION, "checkpoint %s: format %s, written by a newer "
                            "eddy (this one reads up to %d)", out->key, v->str, EDDY_CKPT_FORMAT);
        else out->format = (int)n;
      } else if (strcmp(k->str, "label_offset") == 0) {
        if (eddy_parse_int(v->str, &n) || n < -1)
          err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: bad label_offset '%s'",
                            out->key, v->str);
        out->label_offset = n;
      } else if (strcmp(k->str, "waiting") == 0) {
        if (eddy_parse_int(v->str, &waiting_bytes) || waiting_bytes < 0)
          err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: bad waiting '%s'", out->key,
                            v->str);
      }
    }
    if (!err && (!have_model || !have_offset))
      err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: incomplete (no %s)",
                        out->key, have_model ? "offset" : "model");
    char why[512];
    if (!err && eddy_ckpt_verify(out->model, out->model_len, why, sizeof why))
      err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s refused: %s", out->key, why);
    if (!err && out->format < 2 && (out->label_offset != -1 || waiting_bytes))
      err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: format 1 with label fields", out->key);
    if (!err && waiting_bytes) err = read_waiting(c, prefix, pipeline, out, (size_t)waiting_bytes, errstr, errstr_size);
  }
  freeReplyObject(rep);
  if (err) {
    free(out->model);
    free(out->waiting);
    out->model = NULL;
    out->waiting = NULL;
    out->model_len = out->waiting_len = 0;
  }
  return err;
}

static int cmp_i32(const void *a, const void *b) {
  int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
  return (x > y) - (x < y);
}

int eddy_ckpt_partitions_sync(redisContext *c, const char *prefix, const char *pipeline,
                              int32_t **parts, char *errstr, size_t errstr_size) {
  *parts = NULL;
  char set[512];
  ckpts_key(set, sizeof set, eddy_redis_sync_is_cluster(c), prefix, pipeline);
  redisReply *rep = eddy_redis_sync_command(c, "SMEMBERS %s", set);
  if (!rep) return eddy_seterr(errstr, errstr_size, EDDY_EIO, "%s: %s", set, c->errstr);
  int n = 0, err = 0;
  if (rep->type != REDIS_REPLY_ARRAY) {
    err = eddy_seterr(errstr, errstr_size, EDDY_EIO, "%s: %s", set,
                      rep->type == REDIS_REPLY_ERROR ? rep->str : "not a set");
  } else if (rep->elements) {
    *parts = malloc(rep->elements * sizeof **parts);
    if (!*parts) err = eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    for (size_t i = 0; !err && i < rep->elements; i++) {
      int64_t v;
      if (rep->element[i]->type == REDIS_REPLY_STRING && !eddy_parse_int(rep->element[i]->str, &v))
        (*parts)[n++] = (int32_t)v;
    }
    if (!err) qsort(*parts, (size_t)n, sizeof **parts, cmp_i32);
  }
  freeReplyObject(rep);
  if (err) {
    free(*parts);
    *parts = NULL;
    return err;
  }
  return n;
}
