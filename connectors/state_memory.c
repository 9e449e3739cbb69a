/* state_memory.c: the in-process state store ([state] store = memory):
 * at most max_entities entities in a table allocated once (open
 * addressing on the key hash, backward-shift deletion), the least recently
 * seen evicted first. Fetch and write complete synchronously and, once
 * the table is warm, allocate nothing (a key buffer grows only for a key
 * longer than the one it held). Same aggregates and semantics as Redis:
 * only the place of the doubles differs. */
#include <stdlib.h>
#include <string.h>

#include "connectors/connectors.h"

#define NIL UINT32_MAX

typedef struct entry {
  uint64_t hash;
  uint32_t prev, next; /* recency list: head is the most recently seen */
  uint32_t key_len, key_cap;
  char *key;
} entry_t;

typedef struct mem {
  size_t cap, n, slots;
  entry_t *e;
  double *states;     /* cap x slots */
  uint32_t *index;    /* entry + 1, 0 empty */
  size_t index_size;
  uint32_t head, tail;
} mem_t;

static int mem_open(eddy_store_t *s, char *errstr, size_t errstr_size) {
  mem_t *m = calloc(1, sizeof *m);
  if (!m) return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
  if (s->max_entities < 1 || s->max_entities >= (int64_t)NIL / 2) {
    free(m);
    return eddy_seterr(errstr, errstr_size, EDDY_ERANGE, "max_entities %lld out of range",
                       (long long)s->max_entities);
  }
  m->cap = (size_t)s->max_entities;
  m->slots = s->aggs->n_slots;
  m->index_size = 16;
  while (m->index_size < m->cap * 2) m->index_size *= 2;
  /* calloc maps large zeroed areas lazily: pages are touched as entities come. */
  m->e = calloc(m->cap, sizeof *m->e);
  m->states = calloc(m->cap * m->slots, sizeof *m->states);
  m->index = calloc(m->index_size, sizeof *m->index);
  m->head = m->tail = NIL;
  s->impl = m;
  if (!m->e || !m->states || !m->index)
    return eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory for %zu entities", m->cap);
  return 0;
}

static void mem_close(eddy_store_t *s) {
  mem_t *m = s->impl;
  if (!m) return;
  for (size_t i = 0; m->e && i < m->n; i++) free(m->e[i].key);
  free(m->e);
  free(m->states);
  free(m->index);
  free(m);
  s->impl = NULL;
}

static int mem_ready(const eddy_store_t *s) {
  (void)s;
  return 1;
}

/* The index slot holding key, or the empty slot where it would go. */
static size_t find_slot(const mem_t *m, uint64_t h, const char *key, size_t len, uint32_t *entry) {
  size_t mask = m->index_size - 1;
  for (size_t s = (size_t)h & mask;; s = (s + 1) & mask) {
    uint32_t v = m->index[s];
    if (!v) {
      *entry = NIL;
      return s;
    }
    const entry_t *e = &m->e[v - 1];
    if (e->hash == h && e->key_len == len && memcmp(e->key, key, len) == 0) {
      *entry = v - 1;
      return s;
    }
  }
}

static void unlink_entry(mem_t *m, uint32_t i) {
  entry_t *e = &m->e[i];
  if (e->prev != NIL) m->e[e->prev].next = e->next; else m->head = e->next;
  if (e->next != NIL) m->e[e->next].prev = e->prev; else m->tail = e->prev;
}

static void push_front(mem_t *m, uint32_t i) {
  entry_t *e = &m->e[i];
  e->prev = NIL;
  e->next = m->head;
  if (m->head != NIL) m->e[m->head].prev = i;
  m->head = i;
  if (m->tail == NIL) m->tail = i;
}

static void touch(mem_t *m, uint32_t i) {
  if (m->head == i) return;
  unlink_entry(m, i);
  push_front(m, i);
}

/* Removes the index slot s (linear probing: later entries of the run move
 * back so that no lookup stops early). */
static void index_delete(mem_t *m, size_t s) {
  size_t mask = m->index_size - 1, i = s, j = s;
  for (;;) {
    j = (j + 1) & mask;
    uint32_t v = m->index[j];
    if (!v) break;
    size_t home = (size_t)m->e[v - 1].hash & mask;
    /* v may move to i when its home is not in (i, j] (cyclically). */
    int between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      m->index[i] = v;
      i = j;
    }
  }
  m->index[i] = 0;
}

static int mem_fetch(eddy_store_t *s, eddy_state_batch_t *b, eddy_store_cb done, void *ctx) {
  mem_t *m = s->impl;
  size_t bytes = m->slots * sizeof(double);
  for (size_t i = 0; i < b->n; i++) {
    uint32_t e;
    find_slot(m, b->hash[i], b->keys + b->key_off[i], b->key_len[i], &e);
    double *st = eddy_state_batch_state(b, i);
    if (e == NIL) {
      eddy_aggs_reset(s->aggs, st);
    } else {
      memcpy(st, m->states + (size_t)e * m->slots, bytes);
      touch(m, e);
    }
    b->dirty[i] = 0;
  }
  b->phase = 2;
  if (done) done(ctx, b, 0);
  return 0;
}

static int mem_write(eddy_store_t *s, eddy_state_batch_t *b) {
  mem_t *m = s->impl;
  size_t bytes = m->slots * sizeof(double);
  for (size_t i = 0; i < b->n; i++) {
    if (!b->dirty[i]) continue;
    const char *key = b->keys + b->key_off[i];
    uint32_t len = b->key_len[i], e;
    size_t slot = find_slot(m, b->hash[i], key, len, &e);
    if (e == NIL) {
      if (m->n < m->cap) {
        e = (uint32_t)m->n++;
      } else {
        /* Full: the least recently seen entity makes room. */
        e = m->tail;
        uint32_t victim;
        size_t vs = find_slot(m, m->e[e].hash, m->e[e].key, m->e[e].key_len, &victim);
        index_delete(m, vs);
        unlink_entry(m, e);
        slot = find_slot(m, b->hash[i], key, len, &victim); /* the deletion may have moved it */
      }
      entry_t *x = &m->e[e];
      if (x->key_cap < len) {
        char *k = realloc(x->key, len ? len : 1);
        if (!k) return EDDY_ENOMEM;
        x->key = k;
        x->key_cap = len;
      }
      memcpy(x->key, key, len);
      x->key_len = len;
      x->hash = b->hash[i];
      m->index[slot] = e + 1;
      push_front(m, e);
    } else {
      touch(m, e);
    }
    memcpy(m->states + (size_t)e * m->slots, eddy_state_batch_state(b, i), bytes);
    b->dirty[i] = 0;
  }
  return 0;
}

size_t eddy_store_memory_count(const eddy_store_t *s) {
  return s->type == &eddy_store_memory ? ((const mem_t *)s->impl)->n : 0;
}

const eddy_store_type_t eddy_store_memory = {
    .name = "memory",
    .open = mem_open,
    .fetch = mem_fetch,
    .write = mem_write,
    .ready = mem_ready,
    .close = mem_close,
};
