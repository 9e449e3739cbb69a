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

/* KEYS: the checkpoint hash, the set of partitions (not on a cluster: it
 * lies in another slot and is added to by its own SADD).
 * ARGV: next offset, model bytes, version, learner, time, partition. */
static const char script[] =
    "local cur = redis.call('HGET', KEYS[1], 'offset')\n"
    "if cur and tonumber(cur) >= tonumber(ARGV[1]) then return {0, cur} end\n"
    "redis.call('HSET', KEYS[1], 'offset', ARGV[1], 'model', ARGV[2], 'version', ARGV[3],\n"
    "           'learner', ARGV[4], 'time', ARGV[5], 'bytes', tostring(string.len(ARGV[2])))\n"
    "if KEYS[2] then redis.call('SADD', KEYS[2], ARGV[6]) end\n"
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

/* What a write needs again for the EVAL fallback. */
typedef struct ckpt_req {
  eddy_redis_t *r;
  eddy_ckpt_cb cb;
  void *ctx;
  char key[512], set[512], offset[32], version[32], learner[64], time[40], partition[16];
  size_t len;
  int retried, cluster;
  uint8_t model[]; /* len bytes */
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
  /* On a cluster, without the set (KEYS[2]): one key, one slot. */
  int k = q->cluster ? 1 : 2;
  const char *argv[] = {eval ? "EVAL" : "EVALSHA", eval ? script : sha, k == 1 ? "1" : "2", q->key,
                        q->set, q->offset, (const char *)q->model, q->version, q->learner, q->time,
                        q->partition};
  size_t lens[11];
  for (int i = 0; i < 11; i++) lens[i] = i == 6 ? q->len : strlen(argv[i]);
  if (k == 1) {
    memmove(&argv[4], &argv[5], 6 * sizeof argv[0]);
    memmove(&lens[4], &lens[5], 6 * sizeof lens[0]);
  }
  return eddy_redis_command(q->r, EDDY_REDIS_REPLAY, on_ckpt, q, 9 + k, argv, lens);
}

int eddy_ckpt_write(eddy_redis_t *r, const char *prefix, const char *pipeline, int32_t partition,
                    int64_t next_offset, uint64_t version, const char *learner, const void *model,
                    size_t len, eddy_ckpt_cb cb, void *ctx) {
  ckpt_req_t *q = malloc(sizeof *q + len);
  if (!q) return EDDY_ENOMEM;
  q->r = r;
  q->cb = cb;
  q->ctx = ctx;
  q->len = len;
  q->retried = 0;
  q->cluster = eddy_redis_is_cluster(r);
  eddy_ckpt_key(q->key, sizeof q->key, q->cluster, prefix, pipeline, partition);
  ckpts_key(q->set, sizeof q->set, q->cluster, prefix, pipeline);
  snprintf(q->offset, sizeof q->offset, "%lld", (long long)next_offset);
  snprintf(q->version, sizeof q->version, "%llu", (unsigned long long)version);
  snprintf(q->learner, sizeof q->learner, "%s", learner ? learner : "");
  snprintf(q->time, sizeof q->time, "%.3f", eddy_wallclock());
  snprintf(q->partition, sizeof q->partition, "%d", (int)partition);
  if (len) memcpy(q->model, model, len);
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

void eddy_ckpt_clear(eddy_ckpt_t *ck) {
  free(ck->model);
  memset(ck, 0, sizeof *ck);
}

int eddy_ckpt_read_sync(redisContext *c, const char *prefix, const char *pipeline,
                        int32_t partition, eddy_ckpt_t *out, char *errstr, size_t errstr_size) {
  memset(out, 0, sizeof *out);
  eddy_ckpt_key(out->key, sizeof out->key, eddy_redis_sync_is_cluster(c), prefix, pipeline, partition);
  snprintf(out->pipeline, sizeof out->pipeline, "%s", pipeline);
  out->partition = partition;
  out->offset = -1;
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
      }
    }
    if (!err && (!have_model || !have_offset))
      err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s: incomplete (no %s)",
                        out->key, have_model ? "offset" : "model");
    char why[512];
    if (!err && eddy_ckpt_verify(out->model, out->model_len, why, sizeof why))
      err = eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "checkpoint %s refused: %s", out->key, why);
  }
  freeReplyObject(rep);
  if (err) {
    free(out->model);
    out->model = NULL;
    out->model_len = 0;
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
