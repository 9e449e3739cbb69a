/* state_redis.c: the Redis state store ([state] store = redis://...): one
 * hash per entity (KEY_PREFIX:PIPELINE:e:ENTITY, field `s`; on a cluster
 * KEY_PREFIX:{PIPELINE:PARTITION}:e:ENTITY, one per partition), read with one
 * pipelined HGET per distinct key of a batch and written back with one
 * pipelined HSET per dirty entity, on the shared asynchronous connection.
 * Each value keeps the entity's state as of the task's last checkpoint
 * too, so that a task restarted from that checkpoint replays its records
 * against the same features (see connectors.h). Also the checkpoint
 * through the store, which moves the task to a new epoch. */
#include <hiredis/hiredis.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

#define MAGIC 0x31545345u /* "EST1" little-endian */
#define HEADER 40

typedef struct rstore {
  char *key_head; /* "PREFIX:PIPELINE:e:", or "PREFIX:{PIPELINE:P}:e:" on a cluster */
  size_t key_head_len, key_head_size;
  int cluster;
  int32_t head_partition; /* of key_head, on a cluster */
  eddy_buf_t cmd;
  uint64_t layout_mismatches;
} rstore_t;

static int rs_open(eddy_store_t *s, char *errstr, size_t errstr_size) {
  rstore_t *x = calloc(1, sizeof *x);
  if (!x) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  s->impl = x;
  size_t n = strlen(s->prefix) + strlen(s->pipeline) + 32;
  if (!(x->key_head = malloc(n))) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  x->key_head_size = n;
  x->cluster = eddy_redis_is_cluster(s->redis);
  x->key_head_len = (size_t)snprintf(x->key_head, n, "%s:%s:e:", s->prefix, s->pipeline);
  x->head_partition = INT32_MIN;
  eddy_buf_init(&x->cmd);
  return 0;
}

static void rs_close(eddy_store_t *s) {
  rstore_t *x = s->impl;
  if (!x) return;
  free(x->key_head);
  eddy_buf_free(&x->cmd);
  free(x);
  s->impl = NULL;
}

static int rs_ready(const eddy_store_t *s) { return eddy_redis_ready(s->redis); }

/* On a cluster, the keys of the batch's partition: one hash slot. */
static void set_head(const eddy_store_t *s, rstore_t *x, int32_t partition) {
  if (!x->cluster || x->head_partition == partition) return;
  eddy_redis_key_head(x->key_head, x->key_head_size - 3, 1, s->prefix, s->pipeline, partition);
  x->key_head_len = strlen(x->key_head);
  memcpy(x->key_head + x->key_head_len, ":e:", 4);
  x->key_head_len += 3;
  x->head_partition = partition;
}

static void put_key(eddy_buf_t *b, const rstore_t *x, const eddy_state_batch_t *bt, size_t i) {
  char head[32];
  size_t len = x->key_head_len + bt->key_len[i];
  int n = snprintf(head, sizeof head, "$%zu\r\n", len);
  eddy_buf_put(b, head, (size_t)n);
  eddy_buf_put(b, x->key_head, x->key_head_len);
  eddy_buf_put(b, bt->keys + bt->key_off[i], bt->key_len[i]);
  eddy_buf_put(b, "\r\n", 2);
}

static uint32_t rd_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd_u64(const uint8_t *p) { return (uint64_t)rd_u32(p) | (uint64_t)rd_u32(p + 4) << 32; }
static void rd_f64s(const uint8_t *p, double *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint64_t u = rd_u64(p + 8 * i);
    memcpy(&v[i], &u, 8);
  }
}

static void finish_fetch(eddy_state_batch_t *b) {
  b->phase = b->status ? 0 : 2;
  if (b->orphan) {
    b->phase = 0;
    eddy_state_batch_free(b);
    return;
  }
  if (b->done) b->done(b->done_ctx, b, b->status);
}

/* The reply for entity i of the batch. */
static void on_fetch(void *ctx, redisReply *reply) {
  const struct eddy_state_ref *ref = ctx;
  eddy_state_batch_t *b = ref->b;
  size_t i = ref->i;
  b->answered++;
  b->replies--;
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    if (!b->status) {
      b->status = EDDY_EIO;
      if (reply) eddy_log(EDDY_LOG_ERROR, "state store: HGET refused: %s", reply->str);
    }
  } else if (!b->orphan && !b->status) {
    const eddy_aggs_t *a = b->aggs;
    size_t n = a->n_slots;
    double *state = eddy_state_batch_state(b, i), *base = b->base + i * n;
    const uint8_t *p = (const uint8_t *)reply->str;
    int usable = reply->type == REDIS_REPLY_STRING && reply->len == HEADER + 16 * n &&
                 rd_u32(p) == MAGIC && rd_u32(p + 4) == n && rd_u64(p + 8) == a->layout;
    if (reply->type == REDIS_REPLY_STRING && !usable) {
      rstore_t *x = b->store->impl;
      if (x->layout_mismatches++ == 0)
        eddy_log(EDDY_LOG_WARN,
                 "state store %s:%s: an entity's state was written with other aggregates or is "
                 "damaged; such entities start afresh",
                 b->store->prefix, b->store->pipeline);
    }
    if (!usable) {
      eddy_aggs_reset(a, state);
      memcpy(base, state, n * sizeof *base);
    } else {
      int32_t part = (int32_t)rd_u32(p + 16);
      uint64_t inc = rd_u64(p + 24);
      int64_t epoch = (int64_t)rd_u64(p + 32);
      if (inc == b->incarnation && epoch == b->epoch) {
        /* Written by this task in this epoch: carry on, keep its base. */
        rd_f64s(p + HEADER, state, n);
        rd_f64s(p + HEADER + 8 * n, base, n);
      } else {
        /* Another incarnation (or an earlier epoch of this one): what this
         * task must see is the state as of its restored checkpoint. */
        int from_base = inc != b->incarnation && part == b->partition && epoch >= b->restored;
        if (from_base && epoch > b->restored && b->stale_epochs++ == 0)
          eddy_log(EDDY_LOG_WARN,
                   "state store %s:%s partition %d: entity state from epoch %lld, after the "
                   "restored checkpoint (%lld): a checkpoint was lost; using the oldest state kept",
                   b->store->prefix, b->store->pipeline, (int)b->partition, (long long)epoch,
                   (long long)b->restored);
        rd_f64s(p + HEADER + (from_base ? 8 * n : 0), state, n);
        memcpy(base, state, n * sizeof *base);
      }
    }
    b->dirty[i] = 0;
  }
  if (b->replies == 0) finish_fetch(b);
}

static int rs_fetch(eddy_store_t *s, eddy_state_batch_t *b, eddy_store_cb done, void *ctx) {
  if (!eddy_redis_ready(s->redis)) return EDDY_EAGAIN;
  rstore_t *x = s->impl;
  b->store = s;
  b->done = done;
  b->done_ctx = ctx;
  b->status = 0;
  b->replies = 0;
  b->answered = 0;
  if (b->n == 0) {
    b->phase = 2;
    if (done) done(ctx, b, 0);
    return 0;
  }
  b->phase = 1;
  set_head(s, x, b->partition);
  for (size_t i = 0; i < b->n; i++) {
    eddy_buf_clear(&x->cmd);
    eddy_buf_put(&x->cmd, "*3\r\n$4\r\nHGET\r\n", 14);
    put_key(&x->cmd, x, b, i);
    eddy_buf_put(&x->cmd, "$1\r\ns\r\n", 7);
    b->refs[i] = (struct eddy_state_ref){b, i};
    int err = x->cmd.err ? EDDY_ENOMEM
                         : eddy_redis_command_raw(s->redis, 0, on_fetch, &b->refs[i], x->cmd.data, x->cmd.len);
    if (err) {
      /* Nothing sent: fail now; some sent: their replies end the fetch,
       * with this error. */
      b->status = err;
      if (i == 0) {
        b->phase = 0;
        return err;
      }
      break;
    }
    b->replies++;
  }
  return 0;
}

static void on_write(void *ctx, redisReply *reply) {
  eddy_store_t *s = ctx;
  if (reply && reply->type == REDIS_REPLY_ERROR && s->write_errors++ == 0)
    eddy_log(EDDY_LOG_ERROR, "state store %s:%s: Redis refused a write: %s", s->prefix, s->pipeline,
             reply->str);
}

static void put_u32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static int rs_write(eddy_store_t *s, eddy_state_batch_t *b) {
  rstore_t *x = s->impl;
  const eddy_aggs_t *a = b->aggs;
  size_t n = a->n_slots, vlen = HEADER + 16 * n;
  set_head(s, x, b->partition);
  for (size_t i = 0; i < b->n; i++) {
    if (!b->dirty[i]) continue;
    eddy_buf_clear(&x->cmd);
    eddy_buf_put(&x->cmd, "*4\r\n$4\r\nHSET\r\n", 14);
    put_key(&x->cmd, x, b, i);
    eddy_buf_put(&x->cmd, "$1\r\ns\r\n", 7);
    char head[32];
    int hn = snprintf(head, sizeof head, "$%zu\r\n", vlen);
    eddy_buf_put(&x->cmd, head, (size_t)hn);
    if (eddy_buf_reserve(&x->cmd, vlen + 2)) return EDDY_ENOMEM;
    uint8_t *p = x->cmd.data + x->cmd.len;
    put_u32(p, MAGIC);
    put_u32(p + 4, (uint32_t)n);
    put_u64(p + 8, a->layout);
    put_u32(p + 16, (uint32_t)b->partition);
    put_u32(p + 20, 0);
    put_u64(p + 24, b->incarnation);
    put_u64(p + 32, (uint64_t)b->epoch);
    const double *cur = eddy_state_batch_state(b, i), *base = b->base + i * n;
    for (size_t j = 0; j < n; j++) {
      uint64_t u;
      memcpy(&u, &cur[j], 8);
      put_u64(p + HEADER + 8 * j, u);
      memcpy(&u, &base[j], 8);
      put_u64(p + HEADER + 8 * (n + j), u);
    }
    x->cmd.len += vlen;
    eddy_buf_put(&x->cmd, "\r\n", 2);
    if (x->cmd.err) return EDDY_ENOMEM;
    int err = eddy_redis_command_raw(s->redis, EDDY_REDIS_REPLAY, on_write, s, x->cmd.data, x->cmd.len);
    if (err) return err;
    b->dirty[i] = 0;
  }
  return 0;
}

int eddy_store_checkpoint(eddy_store_t *s, eddy_state_batch_t *b, int64_t next_offset,
                          uint64_t version, const char *learner, const void *model, size_t len,
                          const eddy_ckpt_labels_t *labels, eddy_ckpt_cb cb, void *ctx) {
  if (s->type != &eddy_store_redis) return EDDY_ENOTSUP;
  if (b && b->phase != 0) return EDDY_ESTATE;
  int err = eddy_ckpt_write_labels(s->redis, s->prefix, s->pipeline, b ? b->partition : -1, next_offset,
                                   version, learner, model, len, labels, cb, ctx);
  /* Writes from now on belong to the new epoch: the state they replace is
   * the one this checkpoint covers. */
  if (!err && b) b->epoch = next_offset;
  return err;
}

const eddy_store_type_t eddy_store_redis = {
    .name = "redis",
    .open = rs_open,
    .fetch = rs_fetch,
    .write = rs_write,
    .ready = rs_ready,
    .close = rs_close,
};
