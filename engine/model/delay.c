/* delay.c: instances waiting for their label, first in first out (the
 * order River's simulate_qa reveals constant delays in), each with the
 * prediction made when it was seen. A ring of reusable slots. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/model/model.h"

typedef struct slot {
  eddy_instance_t in;
  double *pred;
  size_t pred_cap;
  int k;
  double due;
} slot_t;

struct eddy_delay {
  size_t n;        /* attributes of every instance */
  slot_t *slots;
  size_t cap, head, count;
};

eddy_delay_t *eddy_delay_new(size_t n) {
  eddy_delay_t *d = calloc(1, sizeof *d);
  if (d) d->n = n;
  return d;
}

void eddy_delay_free(eddy_delay_t *d) {
  if (!d) return;
  for (size_t i = 0; i < d->cap; i++) {
    eddy_instance_free(&d->slots[i].in);
    free(d->slots[i].pred);
  }
  free(d->slots);
  free(d);
}

/* Doubles the ring, keeping the waiting slots in order from index 0. */
static int grow(eddy_delay_t *d) {
  size_t cap = d->cap ? d->cap * 2 : 64;
  slot_t *s = calloc(cap, sizeof *s);
  if (!s) return EDDY_ENOMEM;
  for (size_t i = 0; i < d->cap; i++) s[i] = d->slots[(d->head + i) % d->cap];
  for (size_t i = d->cap; i < cap; i++)
    if (eddy_instance_init(&s[i].in, d->n)) {
      for (size_t j = d->cap; j < i; j++) eddy_instance_free(&s[j].in);
      free(s);
      return EDDY_ENOMEM;
    }
  free(d->slots);
  d->slots = s;
  d->cap = cap;
  d->head = 0;
  return 0;
}

int eddy_delay_push(eddy_delay_t *d, const eddy_instance_t *in, const double *pred, int k, double due) {
  if (in->n != d->n) return EDDY_EINVAL;
  if (d->count == d->cap) {
    int err = grow(d);
    if (err) return err;
  }
  slot_t *s = &d->slots[(d->head + d->count) % d->cap];
  if ((size_t)k > s->pred_cap) {
    double *p = realloc(s->pred, (size_t)k * sizeof *p);
    if (!p) return EDDY_ENOMEM;
    s->pred = p;
    s->pred_cap = (size_t)k;
  }
  int err = eddy_instance_copy(&s->in, in);
  if (err) return err;
  if (k > 0) memcpy(s->pred, pred, (size_t)k * sizeof *pred);
  s->k = k;
  s->due = due;
  d->count++;
  return 0;
}

const eddy_instance_t *eddy_delay_due(const eddy_delay_t *d, double now, const double **pred, int *k) {
  if (!d->count) return NULL;
  const slot_t *s = &d->slots[d->head];
  if (!isnan(now) && s->due > now) return NULL;
  *pred = s->pred;
  *k = s->k;
  return &s->in;
}

void eddy_delay_pop(eddy_delay_t *d) {
  if (!d->count) return;
  d->head = (d->head + 1) % d->cap;
  d->count--;
}

size_t eddy_delay_count(const eddy_delay_t *d) { return d->count; }
