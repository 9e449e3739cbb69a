/* waiting.c: predictions waiting for their label by record id ([source]
 * label_topic): a chained hash table over entries allocated as first
 * used, a recency list (head: the latest prediction) for eviction and
 * the ttl, tombstones of joined ids to tell a second label apart, and a
 * second list of those past the ttl, kept another ttl to tell a late
 * label apart from an unknown id. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/dict.h"
#include "engine/model/model.h"

#define NIL UINT32_MAX

enum { FREE = 0, WAITING, JOINED, EXPIRED };

typedef struct entry {
  uint64_t hash;
  uint32_t chain;      /* next entry of its bucket */
  uint32_t prev, next; /* recency list */
  int state;
  int grave;           /* on the list of expired ones */
  /* One block per entry, grown as needed and reused by the next id in
   * this slot: x and h (n each), pred (k), missing (n), then the id's
   * bytes. One allocation (not five) and one place in memory. */
  void *blob;
  size_t blob_cap;
  char *id;
  size_t id_len;
  eddy_instance_t in;  /* x, h, missing point into blob */
  double *pred;
  int k;
  double t_ms;
} entry_t;

struct eddy_waiting {
  size_t n, max, used; /* attributes; most entries; entries ever used */
  double ttl_ms;
  entry_t *e;
  uint32_t *bucket;
  size_t mask, max_mask;          /* buckets - 1, now and at most */
  size_t in_table;                /* entries in the hash table (not free) */
  uint32_t head[2], tail[2];      /* [0]: in time, [1]: past the ttl (graves) */
  uint32_t free_list;             /* free entries chain through `chain` */
  eddy_waiting_stats_t st;
};

const char *eddy_wait_status_name(eddy_wait_status_t s) {
  switch (s) {
  case EDDY_WAIT_JOINED: return "joined";
  case EDDY_WAIT_UNKNOWN: return "unknown id";
  case EDDY_WAIT_EXPIRED: return "expired";
  default: return "label already joined";
  }
}

eddy_waiting_t *eddy_waiting_new(size_t n, size_t max, double ttl_ms) {
  if (!max || max >= NIL / 2) return NULL;
  eddy_waiting_t *w = calloc(1, sizeof *w);
  if (!w) return NULL;
  w->n = n;
  w->max = max;
  w->ttl_ms = ttl_ms;
  size_t nb = 16;
  while (nb < max) nb *= 2;
  w->max_mask = nb - 1;
  /* The buckets grow with the entries (a table sized for max_waiting from
   * the start spreads a few ids over megabytes: a cache and TLB miss a
   * lookup). */
  if (nb > 1024) nb = 1024;
  w->mask = nb - 1;
  /* calloc maps large zeroed areas lazily: pages are touched as ids come. */
  w->e = calloc(max, sizeof *w->e);
  w->bucket = malloc(nb * sizeof *w->bucket);
  if (!w->e || !w->bucket) {
    eddy_waiting_free(w);
    return NULL;
  }
  memset(w->bucket, 0xff, nb * sizeof *w->bucket);
  w->head[0] = w->tail[0] = w->head[1] = w->tail[1] = w->free_list = NIL;
  return w;
}

void eddy_waiting_free(eddy_waiting_t *w) {
  if (!w) return;
  for (size_t i = 0; w->e && i < w->used; i++) free(w->e[i].blob);
  free(w->e);
  free(w->bucket);
  free(w);
}

const eddy_waiting_stats_t *eddy_waiting_stats(const eddy_waiting_t *w) { return &w->st; }

static uint32_t find(const eddy_waiting_t *w, const void *id, size_t len, uint64_t h) {
  for (uint32_t i = w->bucket[h & w->mask]; i != NIL; i = w->e[i].chain) {
    const entry_t *e = &w->e[i];
    if (e->hash == h && e->id_len == len && memcmp(e->id, id, len) == 0) return i;
  }
  return NIL;
}

/* Twice the buckets, the entries in the table rechained; on failure the
 * table keeps its size (longer chains, still correct). */
static void grow_buckets(eddy_waiting_t *w) {
  size_t nb = (w->mask + 1) * 2;
  uint32_t *b = malloc(nb * sizeof *b);
  if (!b) return;
  memset(b, 0xff, nb * sizeof *b);
  for (size_t i = 0; i < w->used; i++) {
    entry_t *e = &w->e[i];
    if (e->state == FREE) continue;
    e->chain = b[e->hash & (nb - 1)];
    b[e->hash & (nb - 1)] = (uint32_t)i;
  }
  free(w->bucket);
  w->bucket = b;
  w->mask = nb - 1;
}

static void unlink_lru(eddy_waiting_t *w, uint32_t i) {
  entry_t *e = &w->e[i];
  int g = e->grave;
  if (e->prev != NIL) w->e[e->prev].next = e->next;
  else w->head[g] = e->next;
  if (e->next != NIL) w->e[e->next].prev = e->prev;
  else w->tail[g] = e->prev;
  e->prev = e->next = NIL;
}

static void push_head(eddy_waiting_t *w, uint32_t i, int g) {
  entry_t *e = &w->e[i];
  e->grave = g;
  e->prev = NIL;
  e->next = w->head[g];
  if (w->head[g] != NIL) w->e[w->head[g]].prev = i;
  w->head[g] = i;
  if (w->tail[g] == NIL) w->tail[g] = i;
}

/* Takes entry i out of the table and onto the free list. */
static void drop(eddy_waiting_t *w, uint32_t i) {
  entry_t *e = &w->e[i];
  uint32_t *p = &w->bucket[e->hash & w->mask];
  while (*p != i) p = &w->e[*p].chain;
  *p = e->chain;
  unlink_lru(w, i);
  if (e->state == WAITING) w->st.waiting--;
  w->in_table--;
  e->state = FREE;
  e->chain = w->free_list;
  w->free_list = i;
}

static int expired(const eddy_waiting_t *w, const entry_t *e, double now_ms) {
  return w->ttl_ms > 0 && now_ms - e->t_ms > w->ttl_ms;
}

/* Entry i past the ttl: a waiting prediction is dropped (counted) and
 * its id kept on the graves' list, as a tombstone is. */
static void bury(eddy_waiting_t *w, uint32_t i) {
  entry_t *e = &w->e[i];
  if (e->state == WAITING) {
    w->st.expired++;
    w->st.waiting--;
    e->state = EXPIRED;
  }
  unlink_lru(w, i);
  push_head(w, i, 1);
}

size_t eddy_waiting_expire(eddy_waiting_t *w, double now_ms) {
  uint64_t before = w->st.expired;
  while (w->tail[0] != NIL && expired(w, &w->e[w->tail[0]], now_ms)) bury(w, w->tail[0]);
  /* Graves are kept another ttl: a label later than that is an unknown id. */
  while (w->tail[1] != NIL && now_ms - w->e[w->tail[1]].t_ms > 2 * w->ttl_ms) drop(w, w->tail[1]);
  return (size_t)(w->st.expired - before);
}

/* A free entry: a dropped one, a never used one, else the oldest grave,
 * else the least recent. */
static uint32_t take_slot(eddy_waiting_t *w) {
  if (w->free_list != NIL) {
    uint32_t i = w->free_list;
    w->free_list = w->e[i].chain;
    return i;
  }
  if (w->used < w->max) return (uint32_t)w->used++;
  uint32_t i = w->tail[1] != NIL ? w->tail[1] : w->tail[0];
  if (w->e[i].state == WAITING) w->st.evicted++;
  drop(w, i);
  w->free_list = w->e[i].chain;
  return i;
}

int eddy_waiting_put(eddy_waiting_t *w, const void *id, size_t id_len, const eddy_instance_t *in,
                     const double *pred, int k, double t_ms) {
  if (in->n != w->n || k < 0) return EDDY_EINVAL;
  uint64_t h = eddy_hash(id, id_len);
  uint32_t i = find(w, id, id_len, h);
  if (i != NIL) {
    /* The same id predicted again: the latest prediction waits. */
    if (w->e[i].state == WAITING) w->st.replaced++;
    drop(w, i);
  }
  i = take_slot(w);
  entry_t *e = &w->e[i];
  size_t n = w->n, need = (2 * n + (size_t)k) * sizeof(double) + n + id_len;
  if (need > e->blob_cap) {
    size_t cap = need + 32; /* room for a longer id or another class next time */
    void *p = realloc(e->blob, cap);
    if (!p) goto nomem;
    e->blob = p;
    e->blob_cap = cap;
  }
  double *d = e->blob;
  e->in.n = n;
  e->in.x = d;
  e->in.h = (uint64_t *)(d + n);
  e->pred = d + 2 * n;
  e->in.missing = (uint8_t *)(d + 2 * n + k);
  e->id = (char *)e->in.missing + n;
  eddy_instance_copy(&e->in, in); /* the same n: checked above */
  if (id_len) memcpy(e->id, id, id_len);
  e->id_len = id_len;
  if (k) memcpy(e->pred, pred, (size_t)k * sizeof *pred);
  e->k = k;
  e->t_ms = t_ms;
  e->hash = h;
  e->state = WAITING;
  e->chain = w->bucket[h & w->mask];
  w->bucket[h & w->mask] = i;
  push_head(w, i, 0);
  w->st.waiting++;
  if (++w->in_table > w->mask + 1 && w->mask < w->max_mask) grow_buckets(w);
  return 0;
nomem:
  e->chain = w->free_list;
  w->free_list = i;
  return EDDY_ENOMEM;
}

eddy_wait_status_t eddy_waiting_take(eddy_waiting_t *w, const void *id, size_t id_len, double t_ms,
                                     eddy_instance_t **in, const double **pred, int *k, double *t_pred) {
  uint32_t i = find(w, id, id_len, eddy_hash(id, id_len));
  if (i == NIL) return EDDY_WAIT_UNKNOWN;
  entry_t *e = &w->e[i];
  if (e->state == JOINED) return EDDY_WAIT_DUPLICATE;
  if (e->state == EXPIRED) return EDDY_WAIT_EXPIRED;
  if (expired(w, e, t_ms)) {
    bury(w, i);
    return EDDY_WAIT_EXPIRED;
  }
  /* A tombstone stays where the prediction was in the recency order: it
   * goes with the ttl or an eviction, as the prediction would have. */
  e->state = JOINED;
  w->st.waiting--;
  *in = &e->in;
  *pred = e->pred;
  *k = e->k;
  *t_pred = e->t_ms;
  return EDDY_WAIT_JOINED;
}

/* ------------------------------------------------------------ save, load */

/* Entries of list g from its tail (the oldest) to its head: loading them
 * in this order, each pushed at the head, rebuilds the list. */
static void save_list(const eddy_waiting_t *w, int g, eddy_buf_t *b) {
  for (uint32_t i = w->tail[g]; i != NIL; i = w->e[i].prev) {
    const entry_t *e = &w->e[i];
    eddy_buf_put_u8(b, (uint8_t)e->state);
    eddy_buf_put_u8(b, (uint8_t)g);
    eddy_buf_put_f64(b, e->t_ms);
    eddy_buf_put_mem(b, e->id, e->id_len);
    if (e->state != WAITING) continue; /* a tombstone or a grave: its id and time alone */
    eddy_buf_put_u32(b, (uint32_t)e->k);
    eddy_buf_put_f64s(b, e->pred, (size_t)e->k);
    eddy_buf_put_f64s(b, e->in.x, w->n);
    for (size_t j = 0; j < w->n; j++) eddy_buf_put_u64(b, e->in.h[j]);
    eddy_buf_put(b, e->in.missing, w->n);
    eddy_buf_put_f64(b, e->in.y);
    eddy_buf_put_u8(b, (uint8_t)e->in.has_y);
    eddy_buf_put_f64(b, e->in.weight);
  }
}

int eddy_waiting_save(const eddy_waiting_t *w, int64_t in_offset, int64_t label_offset, eddy_buf_t *b) {
  uint64_t count = 0;
  for (int g = 0; g < 2; g++)
    for (uint32_t i = w->head[g]; i != NIL; i = w->e[i].next) count++;
  eddy_ckpt_begin(b);
  size_t mark = eddy_ckpt_section_begin(b, EDDY_SECTION_WAITING);
  eddy_buf_put_i64(b, in_offset);
  eddy_buf_put_i64(b, label_offset);
  eddy_buf_put_u64(b, w->n);
  eddy_buf_put_u64(b, count);
  save_list(w, 1, b); /* graves first: take_slot reuses them first, either way */
  save_list(w, 0, b);
  eddy_ckpt_section_end(b, mark);
  return eddy_ckpt_finish(b);
}

void eddy_waiting_clear(eddy_waiting_t *w) {
  for (size_t i = 0; i < w->used; i++) {
    free(w->e[i].blob);
    memset(&w->e[i], 0, sizeof w->e[i]);
  }
  w->used = w->in_table = 0;
  memset(w->bucket, 0xff, (w->mask + 1) * sizeof *w->bucket);
  w->head[0] = w->tail[0] = w->head[1] = w->tail[1] = w->free_list = NIL;
  memset(&w->st, 0, sizeof w->st);
}

/* Entry e's block for k predictions and an id of id_len bytes (the
 * layout eddy_waiting_put makes). */
static int entry_block(eddy_waiting_t *w, entry_t *e, size_t k, size_t id_len) {
  size_t n = w->n, need = (2 * n + k) * sizeof(double) + n + id_len;
  if (!(e->blob = malloc(need ? need : 1))) return EDDY_ENOMEM;
  e->blob_cap = need;
  double *d = e->blob;
  e->in.n = n;
  e->in.x = d;
  e->in.h = (uint64_t *)(d + n);
  e->pred = d + 2 * n;
  e->in.missing = (uint8_t *)(d + 2 * n + k);
  e->id = (char *)e->in.missing + n;
  e->k = (int)k;
  return 0;
}

static int load_entry(eddy_waiting_t *w, eddy_reader_t *r) {
  uint32_t i = (uint32_t)w->used++;
  entry_t *e = &w->e[i];
  e->state = eddy_read_u8(r);
  int g = eddy_read_u8(r);
  e->t_ms = eddy_read_f64(r);
  size_t id_len = 0;
  const void *id = eddy_read_mem(r, &id_len);
  /* As save writes them: graves (joined or expired, never waiting) first,
   * then the others (never expired). */
  if (r->err || (e->state != WAITING && e->state != JOINED && e->state != EXPIRED) || g > 1 ||
      (e->state == EXPIRED) != (g == 1 && e->state != JOINED) || (g == 1 && w->head[0] != NIL) ||
      e->t_ms != e->t_ms)
    return EDDY_ECORRUPT;
  uint32_t k = 0;
  if (e->state == WAITING) {
    k = eddy_read_u32(r);
    if (r->err || k > (r->len - r->pos) / 8) return EDDY_ECORRUPT;
  }
  if (entry_block(w, e, k, id_len)) return EDDY_ENOMEM;
  if (id_len) memcpy(e->id, id, id_len);
  e->id_len = id_len;
  if (e->state == WAITING) {
    eddy_read_f64s(r, e->pred, k);
    eddy_read_f64s(r, e->in.x, w->n);
    for (size_t j = 0; j < w->n; j++) e->in.h[j] = eddy_read_u64(r);
    eddy_read(r, e->in.missing, w->n);
    e->in.y = eddy_read_f64(r);
    e->in.has_y = eddy_read_u8(r);
    e->in.weight = eddy_read_f64(r);
    if (r->err) return EDDY_ECORRUPT;
  }
  e->hash = eddy_hash(e->id, id_len);
  if (find(w, e->id, id_len, e->hash) != NIL) return EDDY_ECORRUPT; /* an id twice */
  e->chain = w->bucket[e->hash & w->mask];
  w->bucket[e->hash & w->mask] = i;
  push_head(w, i, g);
  if (e->state == WAITING) w->st.waiting++;
  if (++w->in_table > w->mask + 1 && w->mask < w->max_mask) grow_buckets(w);
  return 0;
}

int eddy_waiting_load(eddy_waiting_t *w, const void *p, size_t len, int64_t in_offset, int64_t label_offset,
                      char *errstr, size_t errstr_size) {
  if (w->used) return eddy_seterr(errstr, errstr_size, EDDY_ESTATE, "the waiting set is not empty");
  char why[256];
  eddy_reader_t r;
  if (eddy_ckpt_verify(p, len, why, sizeof why))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "waiting predictions: %s", why);
  if (eddy_ckpt_section(p, len, EDDY_SECTION_WAITING, 0, &r))
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "waiting predictions: no WAIT section");
  int64_t io = eddy_read_i64(&r), lo = eddy_read_i64(&r);
  uint64_t n = eddy_read_u64(&r), count = eddy_read_u64(&r);
  if (r.err || io != in_offset || lo != label_offset)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "waiting predictions stand at offsets %" PRId64
                       " and %" PRId64 ", their checkpoint at %" PRId64 " and %" PRId64 ": not the same step",
                       io, lo, in_offset, label_offset);
  if (n != w->n || count > w->max)
    return eddy_seterr(errstr, errstr_size, EDDY_ECORRUPT, "waiting predictions: %" PRIu64 " entries of %" PRIu64
                       " attributes, where %zu of %zu are held", count, n, w->max, w->n);
  int err = 0;
  for (uint64_t c = 0; c < count && !err; c++) err = load_entry(w, &r);
  if (!err && r.pos != r.len) err = EDDY_ECORRUPT;
  if (err) {
    eddy_waiting_clear(w);
    return eddy_seterr(errstr, errstr_size, err, "waiting predictions: %s",
                       err == EDDY_ENOMEM ? "out of memory" : "bad entry");
  }
  return 0;
}
