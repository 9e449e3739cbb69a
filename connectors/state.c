/* state.c: what every state store shares: the batch of entities of one
 * task (distinct keys copied into an arena, working copies of their
 * aggregate state, the task's checkpoint epoch) and the choice of a
 * backend from [state] store. */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "connectors/connectors.h"

static uint64_t new_incarnation(void) {
  uint64_t v = 0;
  if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v || v == 0) {
    /* No entropy source: time and address still differ between starts. */
    double t[2] = {eddy_wallclock(), eddy_now()};
    v = eddy_hash_mix(eddy_hash(t, sizeof t), (uint64_t)(uintptr_t)&v) | 1;
  }
  return v;
}

eddy_state_batch_t *eddy_state_batch_new(const eddy_aggs_t *aggs, int32_t partition) {
  eddy_state_batch_t *b = calloc(1, sizeof *b);
  if (!b) return NULL;
  b->aggs = aggs;
  b->partition = partition;
  b->incarnation = new_incarnation();
  b->epoch = -1;
  b->restored = -1;
  return b;
}

void eddy_state_batch_restore(eddy_state_batch_t *b, int64_t next_offset) {
  b->incarnation = new_incarnation();
  b->epoch = next_offset;
  b->restored = next_offset;
}

void eddy_state_batch_free(eddy_state_batch_t *b) {
  if (!b) return;
  if (b->phase == 1) {
    b->orphan = 1; /* the store frees it when the fetch ends */
    return;
  }
  free(b->state);
  free(b->base);
  free(b->dirty);
  free(b->hash);
  free(b->key_off);
  free(b->key_len);
  free(b->keys);
  free(b->table);
  free(b->refs);
  free(b);
}

int eddy_state_batch_clear(eddy_state_batch_t *b) {
  if (b->phase == 1) return EDDY_ESTATE;
  if (b->n) memset(b->table, 0, b->table_size * sizeof *b->table);
  b->n = 0;
  b->keys_len = 0;
  b->phase = 0;
  return 0;
}

static int grow_entities(eddy_state_batch_t *b) {
  size_t cap = b->cap ? b->cap * 2 : 256, slots = b->aggs->n_slots;
  double *state = realloc(b->state, cap * slots * sizeof *state);
  if (state) b->state = state;
  double *base = realloc(b->base, cap * slots * sizeof *base);
  if (base) b->base = base;
  uint8_t *dirty = realloc(b->dirty, cap);
  if (dirty) b->dirty = dirty;
  uint64_t *hash = realloc(b->hash, cap * sizeof *hash);
  if (hash) b->hash = hash;
  size_t *off = realloc(b->key_off, cap * sizeof *off);
  if (off) b->key_off = off;
  uint32_t *len = realloc(b->key_len, cap * sizeof *len);
  if (len) b->key_len = len;
  struct eddy_state_ref *refs = realloc(b->refs, cap * sizeof *refs);
  if (refs) b->refs = refs;
  if (!state || !base || !dirty || !hash || !off || !len || !refs) return EDDY_ENOMEM;
  /* The lookup table stays at most half full. */
  size_t size = 16;
  while (size < cap * 2) size *= 2;
  uint32_t *t = calloc(size, sizeof *t);
  if (!t) return EDDY_ENOMEM;
  for (size_t i = 0; i < b->n; i++) {
    size_t h = (size_t)b->hash[i] & (size - 1);
    while (t[h]) h = (h + 1) & (size - 1);
    t[h] = (uint32_t)i + 1;
  }
  free(b->table);
  b->table = t;
  b->table_size = size;
  b->cap = cap;
  return 0;
}

int64_t eddy_state_batch_add(eddy_state_batch_t *b, const char *key, size_t len) {
  if (b->phase == 1) return EDDY_ESTATE;
  if (len > UINT32_MAX) return EDDY_ERANGE;
  uint64_t h = eddy_hash(key, len);
  if (b->table_size) {
    size_t mask = b->table_size - 1;
    for (size_t s = (size_t)h & mask; b->table[s]; s = (s + 1) & mask) {
      uint32_t i = b->table[s] - 1;
      if (b->hash[i] == h && b->key_len[i] == len && memcmp(b->keys + b->key_off[i], key, len) == 0)
        return i;
    }
  }
  if (b->n == b->cap) {
    int err = grow_entities(b);
    if (err) return err;
  }
  if (b->keys_len + len > b->keys_cap) {
    size_t cap = b->keys_cap ? b->keys_cap : 4096;
    while (cap < b->keys_len + len) cap *= 2;
    char *k = realloc(b->keys, cap);
    if (!k) return EDDY_ENOMEM;
    b->keys = k;
    b->keys_cap = cap;
  }
  size_t i = b->n++;
  memcpy(b->keys + b->keys_len, key, len);
  b->key_off[i] = b->keys_len;
  b->key_len[i] = (uint32_t)len;
  b->keys_len += len;
  b->hash[i] = h;
  b->dirty[i] = 0;
  size_t mask = b->table_size - 1, s = (size_t)h & mask;
  while (b->table[s]) s = (s + 1) & mask;
  b->table[s] = (uint32_t)i + 1;
  eddy_aggs_reset(b->aggs, eddy_state_batch_state(b, i));
  return (int64_t)i;
}

void eddy_state_batch_join(eddy_state_batch_t *b, size_t i, eddy_record_t *r, double t_ms) {
  eddy_aggs_join(b->aggs, eddy_state_batch_state(b, i), r, t_ms);
}

void eddy_state_batch_update(eddy_state_batch_t *b, size_t i, const eddy_record_t *r, double t_ms) {
  eddy_aggs_update(b->aggs, eddy_state_batch_state(b, i), r, t_ms);
  b->dirty[i] = 1;
}

/* ----------------------------------------------------------------- store */

int eddy_store_is_redis(const eddy_pipeline_conf_t *c) {
  return c->state.store && (strncmp(c->state.store, "redis://", 8) == 0 || eddy_redis_url_is_cluster(c->state.store));
}

eddy_store_t *eddy_store_new(const eddy_pipeline_conf_t *c, const eddy_aggs_t *aggs,
                             eddy_redis_t *redis, char *errstr, size_t errstr_size) {
  const char *url = c->state.store ? c->state.store : "memory";
  const eddy_store_type_t *type = NULL;
  if (strcmp(url, "memory") == 0)
    type = &eddy_store_memory;
  else if (eddy_store_is_redis(c))
    type = &eddy_store_redis;
  if (!type) {
    const eddy_kv_t *w = eddy_conf_where(c, "state", "store");
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL,
                "%s:%d: [state] key 'store': '%s' is neither memory, redis://HOST:PORT/DB nor redis+cluster://HOST:PORT[,HOST:PORT...]",
                w && w->file ? w->file : c->file, w ? w->line : c->line, url);
    return NULL;
  }
  if ((type == &eddy_store_redis) != (redis != NULL)) {
    char shown[600];
    eddy_seterr(errstr, errstr_size, EDDY_EINVAL, "store %s: %s", eddy_redis_url_mask(url, shown, sizeof shown),
                redis ? "a memory store takes no Redis connection" : "needs a Redis connection");
    return NULL;
  }
  eddy_store_t *s = calloc(1, sizeof *s);
  if (!s || !(s->pipeline = strdup(c->pipeline.name)) ||
      !(s->prefix = strdup(c->state.key_prefix ? c->state.key_prefix : "eddy"))) {
    eddy_store_free(s);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  s->type = type;
  s->aggs = aggs;
  s->redis = redis;
  s->max_entities = c->state.max_entities;
  if (type->open(s, errstr, errstr_size)) {
    s->type = NULL;
    eddy_store_free(s);
    return NULL;
  }
  return s;
}

void eddy_store_free(eddy_store_t *s) {
  if (!s) return;
  if (s->type) s->type->close(s);
  free(s->pipeline);
  free(s->prefix);
  free(s);
}

int eddy_store_fetch(eddy_store_t *s, eddy_state_batch_t *b, eddy_store_cb done, void *ctx) {
  if (b->phase == 1) return EDDY_ESTATE;
  return s->type->fetch(s, b, done, ctx);
}

int eddy_store_write(eddy_store_t *s, eddy_state_batch_t *b) {
  if (b->phase == 1) return EDDY_ESTATE;
  int err = s->type->write(s, b);
  if (!err) b->phase = 0;
  return err;
}

int eddy_store_ready(const eddy_store_t *s) { return s->type->ready(s); }
