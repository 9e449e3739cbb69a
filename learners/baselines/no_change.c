/* no_change.c: the no-change baseline (MOA's NoChange): predicts the last
 * label (or value) seen. On autocorrelated streams such as Elec2 it is the
 * baseline to beat. */
#include <math.h>

#include "learners/learners.h"

typedef struct {
  double last;
  int seen;
} no_change_t;

static int no_change_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  no_change_t *s = l->state;
  s->last = x->y;
  s->seen = 1;
  return 0;
}

static int no_change_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                             size_t out_len) {
  (void)x;
  no_change_t *s = l->state;
  if (l->schema->task == EDDY_REGRESSION) {
    if (out_len < 1) return EDDY_ENOSPC;
    out[0] = s->seen ? s->last : 0.0;
    return 1;
  }
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  for (size_t c = 0; c < k; c++) out[c] = (s->seen && (size_t)s->last == c) ? 1.0 : 0.0;
  return (int)k;
}

static void no_change_reset(eddy_learner_t *l) {
  no_change_t *s = l->state;
  s->last = 0;
  s->seen = 0;
}

static int no_change_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const no_change_t *s = l->state;
  eddy_buf_put_f64(b, s->last);
  eddy_buf_put_u8(b, (uint8_t)s->seen);
  return b->err;
}

static int no_change_load(eddy_learner_t *l, eddy_reader_t *r) {
  no_change_t *s = l->state;
  double last = eddy_read_f64(r);
  uint8_t seen = eddy_read_u8(r);
  if (r->err) return r->err;
  /* A label is finite, and a class is one of the schema's (predict turns
   * it into an index). */
  if (seen > 1 || !isfinite(last)) return EDDY_ECORRUPT;
  if (l->schema->task == EDDY_CLASSIFICATION && seen &&
      !(last >= 0 && last < (double)eddy_schema_n_classes(l->schema) && last == floor(last)))
    return EDDY_ECORRUPT;
  s->last = last;
  s->seen = seen;
  return 0;
}

static size_t no_change_memory(const eddy_learner_t *l) {
  (void)l;
  return sizeof(no_change_t);
}

const eddy_learner_type_t eddy_learner_no_change = {
    .name = "no_change",
    .description = "predicts the last label (or value) seen",
    .tasks = EDDY_CLASSIFICATION | EDDY_REGRESSION,
    .state_size = sizeof(no_change_t),
    .predict = no_change_predict,
    .learn = no_change_learn,
    .reset = no_change_reset,
    .save = no_change_save,
    .load = no_change_load,
    .memory = no_change_memory,
};
