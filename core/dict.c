/* dict.c: online dictionary encoding of nominal values (text -> dense
 * index) with a bound and an overflow bucket; open addressing on xxHash. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define OVERFLOW_NAME "__other__"

struct eddy_dict {
  uint32_t bound;
  int allow_overflow;
  int overflow_used;
  uint32_t n;        /* real values */
  uint32_t cap;      /* names array capacity */
  char **names;      /* index -> text */
  uint64_t *hashes;  /* index -> hash */
  size_t *lens;      /* index -> length (texts may hold NUL bytes) */
  uint32_t *slots;   /* hash table of index + 1; 0 = empty */
  uint32_t n_slots;  /* power of two */
};

eddy_dict_t *eddy_dict_new(uint32_t bound, int allow_overflow) {
  eddy_dict_t *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  d->bound = bound ? bound : 1;
  d->allow_overflow = allow_overflow;
  d->n_slots = 16;
  d->slots = calloc(d->n_slots, sizeof *d->slots);
  if (!d->slots) {
    free(d);
    return NULL;
  }
  return d;
}

void eddy_dict_free(eddy_dict_t *d) {
  if (!d) return;
  for (uint32_t i = 0; i < d->n; i++) free(d->names[i]);
  free(d->names);
  free(d->hashes);
  free(d->lens);
  free(d->slots);
  free(d);
}

static int64_t lookup(const eddy_dict_t *d, const char *s, size_t len, uint64_t hash,
                      uint32_t *slot) {
  uint32_t mask = d->n_slots - 1;
  uint32_t i = (uint32_t)hash & mask;
  for (;;) {
    uint32_t v = d->slots[i];
    if (!v) {
      *slot = i;
      return EDDY_ENOENT;
    }
    uint32_t idx = v - 1;
    if (d->hashes[idx] == hash && d->lens[idx] == len && memcmp(d->names[idx], s, len) == 0)
      return idx;
    i = (i + 1) & mask;
  }
}

static int grow_table(eddy_dict_t *d) {
  uint32_t n_slots = d->n_slots * 2;
  uint32_t *slots = calloc(n_slots, sizeof *slots);
  if (!slots) return EDDY_ENOMEM;
  for (uint32_t idx = 0; idx < d->n; idx++) {
    uint32_t i = (uint32_t)d->hashes[idx] & (n_slots - 1);
    while (slots[i]) i = (i + 1) & (n_slots - 1);
    slots[i] = idx + 1;
  }
  free(d->slots);
  d->slots = slots;
  d->n_slots = n_slots;
  return 0;
}

int64_t eddy_dict_find(const eddy_dict_t *d, const char *s, size_t len, uint64_t hash) {
  uint32_t slot;
  int64_t idx = lookup(d, s, len, hash, &slot);
  if (idx >= 0) return idx;
  if (d->overflow_used) return d->bound; /* every unknown text is "other" once it exists */
  return EDDY_ENOENT;
}

int64_t eddy_dict_intern(eddy_dict_t *d, const char *s, size_t len, uint64_t hash, int *added) {
  if (added) *added = 0;
  uint32_t slot;
  int64_t idx = lookup(d, s, len, hash, &slot);
  if (idx >= 0) return idx;
  if (d->n >= d->bound) {
    if (!d->allow_overflow) return EDDY_ERANGE;
    if (!d->overflow_used && added) *added = 1;
    d->overflow_used = 1;
    return d->bound;
  }
  if (d->n == d->cap) {
    uint32_t cap = d->cap ? d->cap * 2 : 8;
    char **names = realloc(d->names, cap * sizeof *names);
    if (!names) return EDDY_ENOMEM;
    d->names = names;
    uint64_t *hashes = realloc(d->hashes, cap * sizeof *hashes);
    if (!hashes) return EDDY_ENOMEM;
    d->hashes = hashes;
    size_t *lens = realloc(d->lens, cap * sizeof *lens);
    if (!lens) return EDDY_ENOMEM;
    d->lens = lens;
    d->cap = cap;
  }
  char *copy = eddy_strndup(s, len);
  if (!copy) return EDDY_ENOMEM;
  idx = d->n++;
  d->names[idx] = copy;
  d->hashes[idx] = hash;
  d->lens[idx] = len;
  d->slots[slot] = (uint32_t)idx + 1;
  if (d->n * 2 > d->n_slots && grow_table(d)) {
    /* The value is in names[]; a failed rehash leaves the table as it was. */
    d->n--;
    d->slots[slot] = 0;
    free(copy);
    return EDDY_ENOMEM;
  }
  if (added) *added = 1;
  return idx;
}

const char *eddy_dict_name(const eddy_dict_t *d, uint32_t index) {
  if (index < d->n) return d->names[index];
  if (index == d->bound && d->overflow_used) return OVERFLOW_NAME;
  return NULL;
}

uint32_t eddy_dict_size(const eddy_dict_t *d) { return d->overflow_used ? d->bound + 1 : d->n; }

uint32_t eddy_dict_bound(const eddy_dict_t *d) { return d->bound; }

int eddy_dict_allows_overflow(const eddy_dict_t *d) { return d->allow_overflow; }

size_t eddy_dict_memory(const eddy_dict_t *d) {
  size_t m = sizeof *d + d->cap * (sizeof(char *) + sizeof(uint64_t) + sizeof(size_t)) +
             d->n_slots * sizeof(uint32_t);
  for (uint32_t i = 0; i < d->n; i++) m += d->lens[i] + 1;
  return m;
}

void eddy_dict_save(const eddy_dict_t *d, eddy_buf_t *b) {
  eddy_buf_put_u32(b, d->bound);
  eddy_buf_put_u8(b, (uint8_t)d->allow_overflow);
  eddy_buf_put_u8(b, (uint8_t)d->overflow_used);
  eddy_buf_put_u64(b, d->n);
  for (uint32_t i = 0; i < d->n; i++) eddy_buf_put_mem(b, d->names[i], d->lens[i]);
}

eddy_dict_t *eddy_dict_load(eddy_reader_t *r) {
  uint32_t bound = eddy_read_u32(r);
  int allow = eddy_read_u8(r);
  int used = eddy_read_u8(r);
  size_t n = eddy_read_count(r, 4);
  /* The overflow bucket exists only once the bound is reached: a size of
   * bound + 1 then needs bound names in the checkpoint. */
  if (r->err || n > bound || (used && (!allow || n != bound))) {
    if (!r->err) r->err = EDDY_ECORRUPT;
    return NULL;
  }
  eddy_dict_t *d = eddy_dict_new(bound, allow);
  if (!d) {
    r->err = EDDY_ENOMEM;
    return NULL;
  }
  for (size_t i = 0; i < n && !r->err; i++) {
    size_t len;
    const char *s = eddy_read_mem(r, &len);
    if (!s) break;
    int added;
    int64_t idx = eddy_dict_intern(d, s, len, eddy_hash(s, len), &added);
    if (idx != (int64_t)i || !added) r->err = idx == EDDY_ENOMEM ? EDDY_ENOMEM : EDDY_ECORRUPT;
  }
  d->overflow_used = used;
  if (r->err) {
    eddy_dict_free(d);
    return NULL;
  }
  return d;
}
