/* ht_store.c: the node store every Hoeffding tree keeps its nodes in (the
 * classifier, the adaptive tree and the regressor): node, row, slot and
 * children pools, the tree edits on them, their checkpoint walks and
 * checks, and the describe walk. Nodes of any size, each starting with
 * eddy__ht_base_t; see "the node store" in trees.h. */
#include <stdlib.h>
#include <string.h>

#include "learners/trees/trees.h"

/* ------------------------------------------------------------ children pool */

void eddy__ht_kids_init(eddy__ht_kids_t *k) {
  memset(k, 0, sizeof *k);
  for (int i = 0; i < 32; i++) k->free_head[i] = -1;
}

void eddy__ht_kids_free_all(eddy__ht_kids_t *k) {
  free(k->v);
  eddy__ht_kids_init(k);
}

unsigned eddy__ht_log2_ceil(size_t n) {
  unsigned l = 0;
  while (((size_t)1 << l) < n) l++;
  return l;
}

int64_t eddy__ht_kids_alloc(eddy__ht_kids_t *k, unsigned log2) {
  if (log2 > 30) return EDDY_ERANGE;
  size_t n = (size_t)1 << log2;
  int32_t off = k->free_head[log2];
  if (off >= 0) {
    k->free_head[log2] = k->v[off];
  } else {
    if (k->len + n > INT32_MAX) return EDDY_ERANGE;
    if (eddy_grow((void **)&k->v, &k->cap, k->len + n, sizeof *k->v)) return EDDY_ENOMEM;
    off = (int32_t)k->len;
    k->len += n;
  }
  for (size_t i = 0; i < n; i++) k->v[off + i] = -1;
  return off;
}

void eddy__ht_kids_release(eddy__ht_kids_t *k, int32_t off, unsigned log2) {
  size_t n = (size_t)1 << log2;
  for (size_t i = 0; i < n; i++) k->v[off + i] = -1;
  k->v[off] = k->free_head[log2];
  k->free_head[log2] = off;
}

size_t eddy__ht_kids_memory(const eddy__ht_kids_t *k) { return k->cap * sizeof *k->v; }

void eddy__ht_kids_save(const eddy__ht_kids_t *k, eddy_buf_t *b) {
  eddy_buf_put_u64(b, k->len);
  for (size_t i = 0; i < k->len; i++) eddy_buf_put_u32(b, (uint32_t)k->v[i]);
  for (int i = 0; i < 32; i++) eddy_buf_put_u32(b, (uint32_t)k->free_head[i]);
}

int eddy__ht_kids_load(eddy__ht_kids_t *k, eddy_reader_t *r) {
  eddy__ht_kids_free_all(k);
  size_t n = eddy_read_count(r, 4);
  if (r->err) return r->err;
  if (n && eddy_grow((void **)&k->v, &k->cap, n, sizeof *k->v)) return EDDY_ENOMEM;
  k->len = n;
  for (size_t i = 0; i < n; i++) k->v[i] = (int32_t)eddy_read_u32(r);
  for (int i = 0; i < 32; i++) {
    k->free_head[i] = (int32_t)eddy_read_u32(r);
    if (k->free_head[i] < -1 || (k->free_head[i] >= 0 && (size_t)k->free_head[i] >= n))
      return EDDY_ECORRUPT;
  }
  return r->err;
}

/* ------------------------------------------------------------ nodes and slots */

void eddy__ht_store_init(eddy__ht_store_t *st, size_t node_size, uint32_t row_len) {
  st->node_size = (uint32_t)node_size;
  st->row_len = row_len;
  st->root = -1;
  st->free_node = -1;
  st->growth_allowed = 1;
  eddy__ht_kids_init(&st->kids);
}

void eddy__ht_store_free(eddy__ht_store_t *st) {
  free(st->nodes);
  free(st->rows);
  free(st->stats);
  free(st->slot_free);
  eddy__ht_kids_free_all(&st->kids);
  free(st->L.V);
  free(st->L.off);
  memset(st, 0, sizeof *st);
  st->root = -1;
}

int32_t eddy__ht_store_alloc_slot(eddy__ht_store_t *st) {
  int32_t slot;
  size_t stride = st->L.stride;
  if (st->n_slot_free) {
    slot = st->slot_free[--st->n_slot_free];
  } else {
    if (st->n_slots == st->cap_slots) {
      size_t cap = st->cap_slots ? st->cap_slots * 2 : 8;
      double *sl = realloc(st->stats, cap * stride * sizeof *sl);
      if (!sl) return EDDY_ENOMEM;
      st->stats = sl;
      int32_t *fr = realloc(st->slot_free, cap * sizeof *fr);
      if (!fr) return EDDY_ENOMEM;
      st->slot_free = fr;
      st->cap_slots = cap;
    }
    slot = (int32_t)st->n_slots++;
  }
  memset(st->stats + (size_t)slot * stride, 0, stride * sizeof(double));
  return slot;
}

static void release_slot(eddy__ht_store_t *st, int32_t slot) {
  if (slot >= 0) st->slot_free[st->n_slot_free++] = slot;
}

int32_t eddy__ht_store_new_node(eddy__ht_store_t *st) {
  int32_t id;
  if (st->free_node >= 0) {
    id = st->free_node;
    st->free_node = eddy__ht_base(st, id)->kids;
  } else {
    if (st->n_nodes >= INT32_MAX) return EDDY_ERANGE;
    if (st->n_nodes == st->cap_nodes) {
      size_t cap = st->cap_nodes ? st->cap_nodes * 2 : 16;
      void *n = realloc(st->nodes, cap * st->node_size);
      if (!n) return EDDY_ENOMEM;
      st->nodes = n;
      st->cap_nodes = cap;
    }
    if (st->n_nodes == st->cap_rows) {
      size_t cap = st->cap_rows ? st->cap_rows * 2 : 16;
      double *r = realloc(st->rows, cap * st->row_len * sizeof *r);
      if (!r) return EDDY_ENOMEM;
      st->rows = r;
      st->cap_rows = cap;
    }
    id = (int32_t)st->n_nodes++;
  }
  eddy__ht_base_t *n = eddy__ht_base(st, id);
  memset(n, 0, st->node_size);
  n->kids = -1;
  n->slot = -1;
  memset(eddy__ht_row(st, id), 0, st->row_len * sizeof(double));
  return id;
}

void eddy__ht_store_free_node(eddy__ht_store_t *st, int32_t id) {
  eddy__ht_base_t *n = eddy__ht_base(st, id);
  switch (n->kind) {
  case EDDY__HT_LEAF:
    release_slot(st, n->slot);
    st->n_active--;
    break;
  case EDDY__HT_LEAF_INACTIVE: st->n_inactive--; break;
  case EDDY__HT_SPLIT:
    release_slot(st, n->slot); /* EFDT's split nodes keep their observers */
    if (n->kids >= 0) eddy__ht_kids_release(&st->kids, n->kids, n->kids_log2);
    st->n_split--;
    break;
  default: return;
  }
  st->stamp++;
  n->kind = EDDY__HT_FREE;
  n->slot = -1;
  n->kids = st->free_node;
  st->free_node = id;
}

void eddy__ht_store_free_subtree(eddy__ht_store_t *st, int32_t id, size_t alt_off) {
  if (id < 0 || eddy__ht_base(st, id)->kind == EDDY__HT_FREE) return;
  if (eddy__ht_base(st, id)->kind == EDDY__HT_SPLIT)
    for (int32_t b = 0; b < eddy__ht_base(st, id)->n_kids; b++)
      eddy__ht_store_free_subtree(st, eddy__ht_store_kid(st, id, b), alt_off);
  if (alt_off != SIZE_MAX) {
    int32_t alt, none = -1;
    memcpy(&alt, (char *)eddy__ht_base(st, id) + alt_off, sizeof alt);
    if (alt >= 0) eddy__ht_store_free_subtree(st, alt, alt_off);
    memcpy((char *)eddy__ht_base(st, id) + alt_off, &none, sizeof none);
  }
  eddy__ht_store_free_node(st, id);
}

int32_t eddy__ht_store_new_leaf(eddy__ht_store_t *st, int32_t id, int32_t depth) {
  int32_t slot = eddy__ht_store_alloc_slot(st);
  eddy__ht_base_t *n = eddy__ht_base(st, id);
  if (slot < 0) {
    n->kind = EDDY__HT_LEAF_INACTIVE;
    st->n_inactive++;
    eddy__ht_store_free_node(st, id);
    return slot;
  }
  n->kind = EDDY__HT_LEAF;
  n->slot = slot;
  n->depth = depth;
  st->n_active++;
  return id;
}

int eddy__ht_store_deactivate(eddy__ht_store_t *st, int32_t id) {
  eddy__ht_base_t *n = eddy__ht_base(st, id);
  if (n->kind != EDDY__HT_LEAF) return 0;
  release_slot(st, n->slot);
  st->stamp++;
  n->slot = -1;
  n->kind = EDDY__HT_LEAF_INACTIVE;
  n->obs_init = 0;
  st->n_active--;
  st->n_inactive++;
  return 1;
}

int eddy__ht_store_set_child(eddy__ht_store_t *st, int32_t parent, int branch, int32_t id) {
  st->stamp++;
  if (parent < 0) {
    st->root = id;
    return 0;
  }
  eddy__ht_base_t *p = eddy__ht_base(st, parent);
  if (p->kids < 0 || branch >= (1 << p->kids_log2)) {
    unsigned lg = eddy__ht_log2_ceil((size_t)branch + 1);
    int64_t off = eddy__ht_kids_alloc(&st->kids, lg);
    if (off < 0) return (int)off;
    if (p->kids >= 0) {
      memcpy(st->kids.v + off, st->kids.v + p->kids, ((size_t)1 << p->kids_log2) * sizeof(int32_t));
      eddy__ht_kids_release(&st->kids, p->kids, p->kids_log2);
    }
    p->kids = (int32_t)off;
    p->kids_log2 = (uint8_t)lg;
  }
  st->kids.v[p->kids + branch] = id;
  if (branch >= p->n_kids) p->n_kids = branch + 1;
  return 0;
}

int32_t eddy__ht_store_at(const eddy__ht_store_t *st, int32_t parent, int branch) {
  return parent < 0 ? st->root : eddy__ht_store_kid(st, parent, branch);
}

/* ------------------------------------------------------------ splitting */

void eddy__ht_best_two(const eddy__ht_cand_t *c, size_t n, int java_order, int *best, int *second) {
  int b = -1, s = -1;
  for (size_t i = 0; i < n; i++) {
    if (b < 0 || (java_order ? eddy__ht_java_compare(c[i].merit, c[b].merit) >= 0
                             : !(c[i].merit < c[b].merit))) {
      s = b;
      b = (int)i;
    } else if (s < 0 || (java_order ? eddy__ht_java_compare(c[i].merit, c[s].merit) >= 0
                                    : !(c[i].merit < c[s].merit))) {
      s = (int)i;
    }
  }
  *best = b;
  *second = s;
}

int eddy__ht_store_split_node(eddy__ht_store_t *st, int32_t sid, int32_t leaf,
                              const eddy__ht_cand_t *cand) {
  eddy__ht_base_t *sn = eddy__ht_base(st, sid);
  sn->kind = EDDY__HT_SPLIT;
  sn->test = (uint8_t)cand->test;
  sn->attr = cand->attr;
  sn->value = cand->value;
  sn->depth = eddy__ht_base(st, leaf)->depth;
  memcpy(eddy__ht_row(st, sid), eddy__ht_row(st, leaf), st->row_len * sizeof(double));
  st->n_split++;
  unsigned lg = eddy__ht_log2_ceil(cand->n_branches);
  int64_t off = eddy__ht_kids_alloc(&st->kids, lg);
  if (off < 0) return (int)off;
  sn->kids = (int32_t)off;
  sn->kids_log2 = (uint8_t)lg;
  sn->n_kids = (int32_t)cand->n_branches;
  return 0;
}

/* ------------------------------------------------------------ memory */

size_t eddy__ht_store_capacity(const eddy__ht_store_t *st) {
  return st->cap_nodes * st->node_size + st->cap_rows * st->row_len * sizeof(double) +
         st->cap_slots * (st->L.stride * sizeof(double) + sizeof(int32_t)) +
         eddy__ht_kids_memory(&st->kids);
}

size_t eddy__ht_store_node_bytes(const eddy__ht_store_t *st, int32_t id) {
  size_t b = st->node_size + st->row_len * sizeof(double);
  if (eddy__ht_base(st, id)->slot >= 0) b += st->L.stride * sizeof(double);
  return b;
}

size_t eddy__ht_store_live_bytes(const eddy__ht_store_t *st, size_t total,
                                 size_t (*extra)(const void *node)) {
  size_t m = total - eddy__ht_store_capacity(st);
  for (size_t i = 0; i < st->n_nodes; i++) {
    const eddy__ht_base_t *n = eddy__ht_base(st, (int32_t)i);
    if (n->kind == EDDY__HT_FREE) continue;
    m += eddy__ht_store_node_bytes(st, (int32_t)i);
    if (extra) m += extra(n);
    if (n->kind == EDDY__HT_SPLIT) m += ((size_t)1 << n->kids_log2) * sizeof(int32_t);
  }
  return m;
}

/* ------------------------------------------------------------ checkpoints */

void eddy__ht_base_save(const eddy__ht_base_t *n, const uint8_t *mid, size_t n_mid, eddy_buf_t *b) {
  eddy_buf_put_u8(b, n->kind);
  eddy_buf_put_u8(b, n->test);
  eddy_buf_put_u8(b, n->kids_log2);
  for (size_t i = 0; i < n_mid; i++) eddy_buf_put_u8(b, mid[i]);
  eddy_buf_put_u32(b, (uint32_t)n->attr);
  eddy_buf_put_f64(b, n->value);
  eddy_buf_put_u32(b, (uint32_t)n->kids);
  eddy_buf_put_u32(b, (uint32_t)n->n_kids);
  eddy_buf_put_u32(b, (uint32_t)n->slot);
  eddy_buf_put_u32(b, (uint32_t)n->depth);
}

void eddy__ht_base_load(eddy__ht_base_t *n, uint8_t *mid, size_t n_mid, eddy_reader_t *r) {
  n->kind = eddy_read_u8(r);
  n->test = eddy_read_u8(r);
  n->kids_log2 = eddy_read_u8(r);
  for (size_t i = 0; i < n_mid; i++) mid[i] = eddy_read_u8(r);
  n->attr = (int32_t)eddy_read_u32(r);
  n->value = eddy_read_f64(r);
  n->kids = (int32_t)eddy_read_u32(r);
  n->n_kids = (int32_t)eddy_read_u32(r);
  n->slot = (int32_t)eddy_read_u32(r);
  n->depth = (int32_t)eddy_read_u32(r);
}

void eddy__ht_store_save_pools(const eddy__ht_store_t *st, eddy_buf_t *b) {
  eddy_buf_put_u32(b, (uint32_t)st->free_node);
  eddy_buf_put_u64(b, st->n_slots);
  eddy_buf_put_f64s(b, st->stats, st->n_slots * st->L.stride);
  eddy_buf_put_u64(b, st->n_slot_free);
  for (size_t i = 0; i < st->n_slot_free; i++) eddy_buf_put_u32(b, (uint32_t)st->slot_free[i]);
  eddy__ht_kids_save(&st->kids, b);
  eddy_buf_put_u32(b, (uint32_t)st->root);
  eddy_buf_put_u64(b, st->n_split);
  eddy_buf_put_u64(b, st->n_active);
  eddy_buf_put_u64(b, st->n_inactive);
  eddy_buf_put_u8(b, (uint8_t)st->growth_allowed);
  eddy_buf_put_f64(b, st->weight_seen);
}

int eddy__ht_store_load_pools(eddy__ht_store_t *st, eddy_reader_t *r) {
  size_t stride = st->L.stride;
  st->free_node = (int32_t)eddy_read_u32(r);
  size_t ns = eddy_read_count(r, 8 * (stride ? stride : 1));
  if (r->err) return r->err;
  if (ns) {
    double *sl = realloc(st->stats, ns * stride * sizeof *sl);
    int32_t *fr = realloc(st->slot_free, ns * sizeof *fr);
    if (sl) st->stats = sl;
    if (fr) st->slot_free = fr;
    if (!sl || !fr) return EDDY_ENOMEM;
    st->cap_slots = ns;
  }
  st->n_slots = ns;
  eddy_read_f64s(r, st->stats, ns * stride);
  st->n_slot_free = eddy_read_count(r, 4);
  if (r->err) return r->err;
  if (st->n_slot_free > ns) return EDDY_ECORRUPT;
  for (size_t i = 0; i < st->n_slot_free; i++) {
    st->slot_free[i] = (int32_t)eddy_read_u32(r);
    if (st->slot_free[i] < 0 || (size_t)st->slot_free[i] >= ns) return EDDY_ECORRUPT;
  }
  int err = eddy__ht_kids_load(&st->kids, r);
  if (err) return err;
  st->root = (int32_t)eddy_read_u32(r);
  st->n_split = eddy_read_u64(r);
  st->n_active = eddy_read_u64(r);
  st->n_inactive = eddy_read_u64(r);
  st->growth_allowed = eddy_read_u8(r);
  st->weight_seen = eddy_read_f64(r);
  return r->err;
}

static int valid_id(const eddy__ht_store_t *st, int32_t id) {
  return id == -1 || (id >= 0 && (size_t)id < st->n_nodes);
}

/* Every reference of a node inside its pool, and split tests that fit. */
static int check_refs(const eddy__ht_store_t *st, const eddy_schema_t *s) {
  if (!valid_id(st, st->root) || !valid_id(st, st->free_node)) return EDDY_ECORRUPT;
  for (size_t i = 0; i < st->n_nodes; i++) {
    const eddy__ht_base_t *nd = eddy__ht_base(st, (int32_t)i);
    if (nd->kind == EDDY__HT_FREE) {
      if (!valid_id(st, nd->kids)) return EDDY_ECORRUPT;
      continue;
    }
    if (nd->kind == EDDY__HT_LEAF && (nd->slot < 0 || (size_t)nd->slot >= st->n_slots))
      return EDDY_ECORRUPT;
    if (nd->kind == EDDY__HT_LEAF_INACTIVE && nd->slot != -1) return EDDY_ECORRUPT;
    if (nd->kind == EDDY__HT_SPLIT && !(nd->slot == -1 || (nd->slot >= 0 && (size_t)nd->slot < st->n_slots)))
      return EDDY_ECORRUPT;
    if (nd->kind != EDDY__HT_SPLIT) continue;
    if (nd->attr < 0 || (size_t)nd->attr >= s->n_attrs || nd->test > EDDY__HT_TEST_NOM_MULTI ||
        nd->kids_log2 > 30 || nd->kids < 0 ||
        (size_t)nd->kids + ((size_t)1 << nd->kids_log2) > st->kids.len || nd->n_kids < 0 ||
        nd->n_kids > (1 << nd->kids_log2))
      return EDDY_ECORRUPT;
    if ((nd->test == EDDY__HT_TEST_NUM_LE) != (s->attrs[nd->attr].kind == EDDY_NUMERIC) ||
        (nd->test == EDDY__HT_TEST_NOM_EQ && !(nd->value >= 0 && nd->value < 2147483648.0)))
      return EDDY_ECORRUPT;
    for (int32_t b = 0; b < nd->n_kids; b++)
      if (!valid_id(st, st->kids.v[nd->kids + b])) return EDDY_ECORRUPT;
  }
  return 0;
}

typedef struct {
  uint8_t *seen, *slot_used, *kid_used;
  int32_t *stack;
  size_t counts[4];
  size_t slots; /* slots held by live nodes */
} walk_t;

/* Pushes a child or alternate id (-1: none); 1 when it is out of range. */
static int push(const eddy__ht_store_t *st, walk_t *w, size_t *top, int32_t c) {
  if (c == -1) return 0;
  if (c < -1 || (size_t)c >= st->n_nodes || *top >= st->n_nodes) return 1;
  w->stack[(*top)++] = c;
  return 0;
}

/* The root's subtree: each node once, live, its slot and children block
 * its own. 1 when it is not so. */
static int walk_tree(const eddy__ht_store_t *st, size_t alt_off, walk_t *w) {
  size_t top = 0;
  if (push(st, w, &top, st->root)) return 1;
  while (top) {
    int32_t id = w->stack[--top];
    if (w->seen[id]) return 1; /* a cycle, or a node with two parents */
    w->seen[id] = 1;
    const eddy__ht_base_t *n = eddy__ht_base(st, id);
    if (n->kind == EDDY__HT_FREE || n->kind > EDDY__HT_LEAF_INACTIVE) return 1;
    w->counts[n->kind]++;
    if (n->kind == EDDY__HT_LEAF || n->slot >= 0) { /* EFDT: splits may hold one */
      if (n->slot < 0 || (size_t)n->slot >= st->n_slots || w->slot_used[n->slot]) return 1;
      w->slot_used[n->slot] = 1;
      w->slots++;
    }
    if (alt_off != SIZE_MAX) {
      int32_t alt;
      memcpy(&alt, (const char *)n + alt_off, sizeof alt);
      if (push(st, w, &top, alt)) return 1;
    }
    if (n->kind != EDDY__HT_SPLIT) continue;
    for (size_t j = 0; j < ((size_t)1 << n->kids_log2); j++) {
      if (w->kid_used[n->kids + j]) return 1; /* blocks overlap */
      w->kid_used[n->kids + j] = 1;
    }
    for (int32_t b = 0; b < n->n_kids; b++)
      if (push(st, w, &top, st->kids.v[n->kids + b])) return 1;
  }
  return 0;
}

/* The free lists: only free nodes, each once, and with the live ones all;
 * free slots each once and none in use; free children blocks inside the
 * pool and apart from those in use. 1 when it is not so. */
static int walk_free(const eddy__ht_store_t *st, walk_t *w) {
  for (int32_t id = st->free_node; id >= 0; id = eddy__ht_base(st, id)->kids) {
    if ((size_t)id >= st->n_nodes || w->seen[id] || eddy__ht_base(st, id)->kind != EDDY__HT_FREE)
      return 1;
    w->seen[id] = 1;
  }
  for (size_t i = 0; i < st->n_nodes; i++)
    if (!w->seen[i]) return 1; /* unreachable live node */
  for (size_t i = 0; i < st->n_slot_free; i++) {
    int32_t sl = st->slot_free[i];
    if (sl < 0 || (size_t)sl >= st->n_slots || w->slot_used[sl]) return 1;
    w->slot_used[sl] = 1;
  }
  if (w->slots + st->n_slot_free != st->n_slots) return 1;
  const eddy__ht_kids_t *k = &st->kids;
  for (unsigned lg = 0; lg < 32; lg++) {
    size_t steps = 0, cap = (size_t)1 << (lg > 30 ? 30 : lg);
    for (int32_t off = k->free_head[lg]; off >= 0; off = k->v[off]) {
      if (lg > 30 || (size_t)off + cap > k->len || ++steps > k->len) return 1;
      for (size_t j = 0; j < cap; j++) {
        if (w->kid_used[off + j]) return 1;
        w->kid_used[off + j] = 1;
      }
    }
  }
  return 0;
}

int eddy__ht_store_check(const eddy__ht_store_t *st, const eddy_schema_t *s, size_t alt_off) {
  int err = check_refs(st, s);
  if (err) return err;
  size_t n = st->n_nodes;
  walk_t w = {calloc(n ? n : 1, 1), calloc(st->n_slots ? st->n_slots : 1, 1),
              calloc(st->kids.len ? st->kids.len : 1, 1), malloc((n ? n : 1) * sizeof(int32_t)),
              {0, 0, 0, 0}};
  int bad = !w.seen || !w.slot_used || !w.kid_used || !w.stack;
  if (!bad) bad = walk_tree(st, alt_off, &w) || walk_free(st, &w);
  if (!bad && (w.counts[EDDY__HT_SPLIT] != st->n_split || w.counts[EDDY__HT_LEAF] != st->n_active ||
               w.counts[EDDY__HT_LEAF_INACTIVE] != st->n_inactive))
    bad = 1;
  free(w.seen);
  free(w.slot_used);
  free(w.kid_used);
  free(w.stack);
  return bad ? EDDY_ECORRUPT : 0;
}

/* ------------------------------------------------------------ describe */

void eddy__ht_store_shape(const eddy__ht_store_t *st, size_t *depth, size_t *nodes, size_t *leaves,
                          size_t *inactive) {
  *depth = *nodes = *leaves = *inactive = 0;
  if (st->root < 0) return;
  /* iterative DFS over the main tree with depths */
  size_t cap = st->n_nodes + 1, top = 0;
  int32_t *stack = malloc(cap * 2 * sizeof *stack);
  if (!stack) return;
  stack[top++] = st->root;
  stack[top++] = 0;
  while (top) {
    int32_t d = stack[--top], id = stack[--top];
    const eddy__ht_base_t *n = eddy__ht_base(st, id);
    (*nodes)++;
    if ((size_t)d > *depth) *depth = (size_t)d;
    if (n->kind != EDDY__HT_SPLIT) {
      (*leaves)++;
      *inactive += n->kind == EDDY__HT_LEAF_INACTIVE;
      continue;
    }
    for (int32_t b = 0; b < n->n_kids; b++) {
      int32_t c = eddy__ht_store_kid(st, id, b);
      if (c >= 0 && top + 2 <= cap * 2) {
        stack[top++] = c;
        stack[top++] = d + 1;
      }
    }
  }
  free(stack);
}

/* Weight at the leaves reachable through a node (MOA's
 * getObservedClassDistributionAtLeavesReachableThroughThisNode): what went
 * down that branch. */
static double reach_weight(const eddy__ht_store_t *st, const eddy__ht_describe_ops_t *ops,
                           const void *tree, int32_t id) {
  const eddy__ht_base_t *n = eddy__ht_base(st, id);
  if (n->kind != EDDY__HT_SPLIT) return ops->weight(tree, id);
  double w = 0.0;
  for (int32_t b = 0; b < n->n_kids; b++) {
    int32_t c = eddy__ht_store_kid(st, id, b);
    if (c >= 0) w += reach_weight(st, ops, tree, c);
  }
  return w;
}

void eddy__ht_describe_node(const eddy__ht_store_t *st, const eddy__ht_describe_ops_t *ops,
                            const void *tree, int32_t id, int indent, FILE *out) {
  const eddy__ht_base_t *n = eddy__ht_base(st, id);
  if (n->kind != EDDY__HT_SPLIT) {
    fprintf(out, "%*s", indent, "");
    ops->leaf(tree, id, out);
    fputc('\n', out);
    return;
  }
  if (ops->split) ops->split(tree, id, indent, out);
  for (int32_t b = 0; b < n->n_kids; b++) {
    int32_t c = eddy__ht_store_kid(st, id, b);
    if (c < 0) continue;
    char cond[256], w[32];
    ops->cond(tree, id, b, cond, sizeof cond);
    eddy__ht_fmt_value(w, sizeof w, reach_weight(st, ops, tree, c));
    fprintf(out, "%*sif %s (n=%s)\n", indent, "", cond, w);
    eddy__ht_describe_node(st, ops, tree, c, indent + 2, out);
  }
}
