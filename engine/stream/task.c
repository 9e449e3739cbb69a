/* task.c: a partition's task (its model replica and counters) and the
 * commit watermark that makes delivery at-least-once: an offset is
 * committed only when every output of every record before it has been
 * reported delivered. */
#include <stdlib.h>
#include <string.h>

#include "engine/stream/stream.h"

/* ------------------------------------------------------------- watermark */

int eddy_wm_init(eddy_watermark_t *w, size_t capacity) {
  memset(w, 0, sizeof *w);
  size_t cap = 16;
  while (cap < capacity) cap *= 2;
  w->v = calloc(cap, sizeof *w->v);
  if (!w->v) return EDDY_ENOMEM;
  w->mask = cap - 1;
  w->next = -1;
  w->committed = -1;
  return 0;
}

void eddy_wm_free(eddy_watermark_t *w) {
  free(w->v);
  w->v = NULL;
}

/* Doubles the ring, keeping the open records at their sequence numbers. */
static int grow(eddy_watermark_t *w) {
  size_t cap = (size_t)w->mask + 1, ncap = cap * 2;
  eddy_wm_entry_t *v = calloc(ncap, sizeof *v);
  if (!v) return EDDY_ENOMEM;
  for (uint64_t s = w->head; s < w->tail; s++) v[s & (ncap - 1)] = w->v[s & w->mask];
  free(w->v);
  w->v = v;
  w->mask = ncap - 1;
  return 0;
}

int eddy_wm_begin(eddy_watermark_t *w, int64_t offset, int64_t ts_ms, uint64_t *seq) {
  if (w->tail - w->head > w->mask) {
    int err = grow(w);
    if (err) return err;
  }
  eddy_wm_entry_t *e = &w->v[w->tail & w->mask];
  e->offset = offset;
  e->ts_ms = ts_ms;
  e->pending = 1; /* the guard */
  *seq = w->tail++;
  w->next = offset + 1;
  return 0;
}

void eddy_wm_add(eddy_watermark_t *w, uint64_t seq) {
  if (seq >= w->head && seq < w->tail) w->v[seq & w->mask].pending++;
}

int eddy_wm_done(eddy_watermark_t *w, uint64_t seq) {
  if (seq < w->head || seq >= w->tail) return EDDY_ENOENT;
  eddy_wm_entry_t *e = &w->v[seq & w->mask];
  if (e->pending == 0) return EDDY_ENOENT;
  if (--e->pending) return 0;
  /* Complete records at the head leave; later ones wait behind an open one. */
  while (w->head < w->tail && w->v[w->head & w->mask].pending == 0) w->head++;
  return 1;
}

uint64_t eddy_wm_seq(const eddy_watermark_t *w, uint32_t low) {
  uint64_t s = w->head + (uint32_t)(low - (uint32_t)w->head);
  return s < w->tail ? s : UINT64_MAX;
}

int64_t eddy_wm_committable(const eddy_watermark_t *w) {
  if (w->head < w->tail) return w->v[w->head & w->mask].offset;
  return w->next;
}

void eddy_wm_reset(eddy_watermark_t *w) {
  w->head = w->tail;
  w->next = -1;
}

/* ------------------------------------------------------------------ tasks */

eddy_ptask_t *eddy_ptask_new(eddy_pipeline_t *pl, const char *topic, int32_t partition,
                           const eddy_fields_t *fields, char *errstr, size_t errstr_size) {
  const eddy_pipeline_conf_t *c = eddy_pipeline_conf(pl);
  eddy_ptask_t *t = calloc(1, sizeof *t);
  if (!t || !(t->topic = strdup(topic)) || eddy_wm_init(&t->wm, 1024)) {
    if (t) free(t->topic);
    free(t);
    eddy_seterr(errstr, errstr_size, EDDY_ENOMEM, "out of memory");
    return NULL;
  }
  t->pl = pl;
  t->expect = -1;
  t->partition = partition;
  t->replica = eddy_replica_new(c, fields, (size_t)c->pipeline.window, errstr, errstr_size);
  if (!t->replica) {
    eddy_ptask_free(t);
    return NULL;
  }
  t->replica->partition = partition;
  return t;
}

void eddy_ptask_retire(eddy_ptask_t *t) {
  if (t->replica) {
    eddy_metrics_t m;
    eddy_evaluator_windowed(t->replica->eval, &m);
    t->last_accuracy = m.accuracy;
  }
  eddy_replica_free(t->replica);
  t->replica = NULL;
  t->retired = 1;
}

void eddy_ptask_free(eddy_ptask_t *t) {
  if (!t) return;
  eddy_replica_free(t->replica);
  eddy_wm_free(&t->wm);
  eddy_waiting_free(t->waiting);
  free(t->buf); /* its messages were destroyed by the pipeline */
  free(t->topic);
  free(t);
}
