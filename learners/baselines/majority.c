/* majority.c: the majority-class baseline (MOA's MajorityClass): predicts
 * the weighted class distribution seen so far; for regression, the mean. */
#include <stdlib.h>
#include <string.h>

#include "learners/learners.h"

typedef struct {
  double *counts; /* weight seen per class */
  size_t cap;
  size_t n;       /* classes with a slot */
  double sum_w;   /* regression: total weight and weighted mean */
  double mean;
} majority_t;

static int majority_learn(eddy_learner_t *l, const eddy_instance_t *x) {
  majority_t *m = l->state;
  if (l->schema->task == EDDY_REGRESSION) {
    m->sum_w += x->weight;
    if (m->sum_w > 0) m->mean += x->weight * (x->y - m->mean) / m->sum_w;
    return 0;
  }
  size_t c = (size_t)x->y;
  if (c >= m->n) {
    if (eddy_grow((void **)&m->counts, &m->cap, c + 1, sizeof *m->counts)) return EDDY_ENOMEM;
    m->n = c + 1;
  }
  m->counts[c] += x->weight;
  return 0;
}

static int majority_predict(eddy_learner_t *l, const eddy_instance_t *x, double *out,
                            size_t out_len) {
  (void)x;
  majority_t *m = l->state;
  if (l->schema->task == EDDY_REGRESSION) {
    if (out_len < 1) return EDDY_ENOSPC;
    out[0] = m->mean;
    return 1;
  }
  size_t k = eddy_schema_n_classes(l->schema);
  if (out_len < k) return EDDY_ENOSPC;
  double total = 0;
  for (size_t c = 0; c < m->n; c++) total += m->counts[c];
  for (size_t c = 0; c < k; c++)
    out[c] = (c < m->n && total > 0) ? m->counts[c] / total : 0.0;
  return (int)k;
}

static void majority_reset(eddy_learner_t *l) {
  majority_t *m = l->state;
  if (m->counts) memset(m->counts, 0, m->cap * sizeof *m->counts);
  m->n = 0;
  m->sum_w = m->mean = 0;
}

static int majority_save(const eddy_learner_t *l, eddy_buf_t *b) {
  const majority_t *m = l->state;
  eddy_buf_put_u64(b, m->n);
  eddy_buf_put_f64s(b, m->counts, m->n);
  eddy_buf_put_f64(b, m->sum_w);
  eddy_buf_put_f64(b, m->mean);
  return b->err;
}

static int majority_load(eddy_learner_t *l, eddy_reader_t *r) {
  majority_t *m = l->state;
  size_t n = eddy_read_count(r, 8);
  if (r->err) return r->err;
  if (n && eddy_grow((void **)&m->counts, &m->cap, n, sizeof *m->counts)) return EDDY_ENOMEM;
  m->n = n;
  eddy_read_f64s(r, m->counts, n);
  m->sum_w = eddy_read_f64(r);
  m->mean = eddy_read_f64(r);
  return r->err;
}

static size_t majority_memory(const eddy_learner_t *l) {
  const majority_t *m = l->state;
  return sizeof *m + m->cap * sizeof *m->counts;
}

static void majority_destroy(eddy_learner_t *l) {
  majority_t *m = l->state;
  free(m->counts);
}

/* {"family": "baseline", "class_weights": {CLASS: w}} or {"mean", "weight"}. */
static int majority_export(const eddy_learner_t *l, eddy_buf_t *b) {
  const majority_t *m = l->state;
  if (l->schema->task == EDDY_REGRESSION) {
    eddy_buf_printf(b, "{\"family\":\"baseline\",\"mean\":");
    eddy_json_double(b, m->mean);
    eddy_buf_printf(b, ",\"weight\":");
    eddy_json_double(b, m->sum_w);
    eddy_buf_put_u8(b, '}');
    return b->err;
  }
  eddy_buf_printf(b, "{\"family\":\"baseline\",\"class_weights\":{");
  for (size_t c = 0; c < m->n; c++) {
    const char *name = eddy_dict_name(l->schema->target.dict, (uint32_t)c);
    if (c) eddy_buf_put_u8(b, ',');
    eddy_json_string(b, name ? name : "", name ? strlen(name) : 0);
    eddy_buf_put_u8(b, ':');
    eddy_json_double(b, m->counts[c]);
  }
  eddy_buf_printf(b, "}}");
  return b->err;
}

const eddy_learner_type_t eddy_learner_majority = {
    .name = "majority",
    .description = "majority class (classification) or mean (regression) baseline",
    .tasks = EDDY_CLASSIFICATION | EDDY_REGRESSION,
    .options = NULL,
    .params_size = 0,
    .state_size = sizeof(majority_t),
    .predict = majority_predict,
    .learn = majority_learn,
    .reset = majority_reset,
    .save = majority_save,
    .load = majority_load,
    .memory = majority_memory,
    .destroy = majority_destroy,
    .export_json = majority_export,
};
